//! Named targets end to end: a generic HTTP endpoint and a second algorithm API get the job with
//! their own method, headers, credentials and options, and their secrets stay out of the logs.
//! (Conventions of the route tests: `routes.rs`.)

use std::collections::BTreeSet;

use hookrelay_e2e::{AlgorithmServer, RecordingServer};

use crate::routes::{fail_on, github, options, queued_id, GITHUB_SECRETS, NOTIFY_KEY, OTHER_KEY};
use crate::{start, ALGO_KEY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_targets_get_the_job_with_their_headers_and_options() {
    let endpoint = RecordingServer::start().await;
    let other = AlgorithmServer::start().await;
    let body = format!(
        r#"
[targets.notify]
type = "http"
url = "{endpoint}/notify"
method = "PUT"
headers = {{ "x-api-key" = "env:NOTIFY_KEY", "x-static" = "abc" }}
timeout_secs = 10

[targets.other-algo]
type = "algorithm"
base_url = "{other}"
api_key = "env:OTHER_KEY"

[[route]]
path = "/hooks/notify"
verify = "github"
{GITHUB_SECRETS}
target = "notify"

[[route]]
path = "/hooks/other"
verify = "github"
{GITHUB_SECRETS}
target = "other-algo"
algorithm = "demo/Other/2.0"
options = {{ timeout = 30, stdout = false, output = "raw" }}
"#,
        endpoint = endpoint.url(),
        other = other.url(),
    );
    let s = start(options(&body, None)).await;
    let servers = || {
        format!(
            "--- notify endpoint: {}--- other-algo: {}",
            endpoint.summary(),
            other.summary()
        )
    };
    let mut problems = Vec::new();

    let notify_body = r#"{"action":"completed","check_run":{"id":7,"conclusion":"success"}}"#;
    let r = github("check_run", notify_body)
        .send(&s.http, &s.url("/hooks/notify"))
        .await;
    let notify_id = queued_id("route to the http target", &r, &mut problems);
    let other_body = r#""to the other algorithm""#;
    let r = github("push", other_body).send(&s.http, &s.url("/hooks/other")).await;
    let other_id = queued_id("route to the other algorithm API", &r, &mut problems);
    fail_on(&s, &problems, &servers()).await;

    s.wait_for("the http target and the other algorithm to be called", || async {
        (!endpoint.requests().is_empty() && !other.requests().is_empty()).then_some(())
    })
    .await;
    s.wait_queue_empty(&s.jobs).await;

    // The generic HTTP endpoint: configured method and path, the body as sent, literal and
    // secret headers, the job id as Idempotency-Key, the sender's content type.
    let got = endpoint.requests();
    match got.as_slice() {
        [req] => {
            let mut check = |what: &str, ok: bool, detail: String| {
                if !ok {
                    problems.push(format!("http target: {what}: {detail}"));
                }
            };
            check("method", req.method == "PUT", format!("{} (expected PUT)", req.method));
            check(
                "path",
                req.path == "/notify",
                format!("{} (expected /notify)", req.path),
            );
            check(
                "body",
                req.body.as_ref() == notify_body.as_bytes(),
                format!("{} (expected {notify_body})", req.body_text()),
            );
            check(
                "x-api-key (secret header)",
                req.header("x-api-key") == Some(NOTIFY_KEY),
                format!(
                    "{:?} (expected the NOTIFY_KEY value)",
                    req.header("x-api-key").map(|_| "<other value>")
                ),
            );
            check(
                "x-static (literal header)",
                req.header("x-static") == Some("abc"),
                format!("{:?}", req.header("x-static")),
            );
            check(
                "Idempotency-Key",
                notify_id.is_some() && req.header("idempotency-key") == notify_id.as_deref(),
                format!(
                    "{:?} (expected the job id {notify_id:?})",
                    req.header("idempotency-key")
                ),
            );
            check(
                "Content-Type",
                req.header("content-type")
                    .is_some_and(|c| c.starts_with("application/json")),
                format!("{:?}", req.header("content-type")),
            );
            check(
                "no algorithm credentials",
                req.header("authorization").is_none(),
                "the downstream's Authorization header was sent to the http target".into(),
            );
        }
        other => problems.push(format!(
            "http target: expected exactly one request, got {}",
            other.len()
        )),
    }

    // The second algorithm API: its own key, the route's algorithm and options.
    let got = other.requests();
    match got.as_slice() {
        [req] => {
            if req.method != "POST" || req.path != "/v1/algo/demo/Other/2.0" {
                problems.push(format!(
                    "other-algo: {} {} (expected POST /v1/algo/demo/Other/2.0)",
                    req.method, req.path
                ));
            }
            let query: BTreeSet<&str> = req.query.as_deref().unwrap_or("").split('&').collect();
            for pair in ["timeout=30", "stdout=false", "output=raw"] {
                if !query.contains(pair) {
                    problems.push(format!("other-algo: query {:?} lacks {pair}", req.query));
                }
            }
            if req.header("authorization") != Some(format!("Simple {OTHER_KEY}").as_str()) {
                problems.push(format!(
                    "other-algo: authorization is not `Simple <OTHER_KEY>` ({})",
                    if req.header("authorization") == Some(format!("Simple {ALGO_KEY}").as_str()) {
                        "the downstream's key was sent"
                    } else {
                        "missing or other"
                    }
                ));
            }
            if other_id.is_none() || req.header("idempotency-key") != other_id.as_deref() {
                problems.push(format!(
                    "other-algo: Idempotency-Key {:?} (expected the job id {other_id:?})",
                    req.header("idempotency-key")
                ));
            }
            if req.body.as_ref() != other_body.as_bytes() {
                problems.push(format!("other-algo: body {} (expected {other_body})", req.body_text()));
            }
        }
        other => problems.push(format!("other-algo: expected exactly one request, got {}", other.len())),
    }
    if !s.algorithm.requests().is_empty() {
        problems.push("the default downstream algorithm was called for jobs of named targets".into());
    }
    for (name, output) in [("worker", s.worker.output()), ("ingress", s.ingress.output())] {
        if output.contains(NOTIFY_KEY) || output.contains(OTHER_KEY) {
            problems.push(format!("a target secret appears in the {name}'s logs"));
        }
    }
    assert!(s.dlq_is_empty().await, "{}", s.diagnostics().await);
    fail_on(&s, &problems, &servers()).await;
}
