//! Robust at the edges (issue #12): function URL events lambda_http panicked on, a job id that
//! cannot be an `Idempotency-Key`, sync mode within the invocation's deadline, and the worker's
//! timeout check at cold start rather than on every batch.

use std::time::Duration;

use hookrelay_e2e::{
    function_url::event_for,
    github_signature,
    stack::{DEV_ALGO_API_KEY, DEV_WEBHOOK_SECRET},
    util, FunctionUrl, FunctionUrlConfig, GithubDelivery, Stack, StackOptions,
};
use serde_json::{json, Value};

use crate::{options, start, GITHUB_ROUTE, GITHUB_SECRET};

/// The worker's warning when the call timeout does not fit the function timeout.
const DOES_NOT_FIT: &str = "does not fit the function timeout";

/// A GitHub-signed function URL event for `/hooks/github` with `body`.
fn signed_event(body: &str) -> Value {
    let signature = github_signature(GITHUB_SECRET, body.as_bytes());
    event_for(
        "POST",
        "/hooks/github",
        &[
            ("content-type", "application/json"),
            ("x-github-event", "ping"),
            ("x-github-delivery", &uuid::Uuid::new_v4().to_string()),
            ("x-hub-signature-256", &signature),
        ],
        body.as_bytes(),
    )
}

/// Invokes the ingress with a raw event; the function URL response (status, JSON body).
async fn invoke(s: &Stack, event: Value) -> (u64, Value) {
    match s.ingress_api.invoke(event, Duration::from_secs(30)).await {
        Ok(answer) => {
            let status = answer["statusCode"].as_u64().unwrap_or_default();
            let body = answer["body"]
                .as_str()
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            (status, body)
        }
        Err(e) => s.fail(&format!("the ingress did not answer the event: {e}")).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_events_lambda_http_panicked_on_are_answered() {
    // No worker polling: what the ingress queues stays in the queue, countable.
    let s = start(options(GITHUB_ROUTE).worker_source_paused()).await;
    let mut problems = Vec::new();

    // Lenient: the meaning is plain, so these are queued like any signed webhook.
    let mut lenient = Vec::new();
    for query in ["a=\"b\"", "q=<a b>\u{7f}"] {
        let mut event = signed_event(r#"{"n":1}"#);
        event["rawQueryString"] = json!(query);
        lenient.push((format!("rawQueryString {query:?}"), event));
    }
    let mut bad_host = signed_event(r#"{"n":2}"#);
    bad_host["headers"]["host"] = json!("[::1");
    lenient.push(("host \"[::1\"".into(), bad_host));
    for (what, event) in lenient {
        let (status, body) = invoke(&s, event).await;
        if status != 200 || body["status"] != "queued" {
            problems.push(format!("{what}: expected 200 queued, got {status} {body}"));
        }
    }
    // A raw path that is no URL path is just a path no route has.
    let mut bad_path = signed_event("{}");
    bad_path["rawPath"] = json!(":99999/x");
    let answer = invoke(&s, bad_path).await;
    if answer != (404, json!({"error": "unknown route"})) {
        problems.push(format!(
            "rawPath \":99999/x\": expected 404 unknown route, got {answer:?}"
        ));
    }
    // Cannot be interpreted: a terse 400, nothing queued.
    let mut not_base64 = signed_event("{}");
    not_base64["body"] = json!("{this is not base64}");
    not_base64["isBase64Encoded"] = json!(true);
    let answer = invoke(&s, not_base64).await;
    if answer != (400, json!({"error": "body is not valid base64"})) {
        problems.push(format!("invalid base64 body: expected 400, got {answer:?}"));
    }

    // Not a function URL event at all (only a direct invoke): an invocation error, and the
    // process carries on.
    match s
        .ingress_api
        .invoke(json!({"hello": "world"}), Duration::from_secs(30))
        .await
    {
        Err(hookrelay_e2e::InvokeError::Function { .. }) => {}
        other => problems.push(format!("a non-event: expected a function error, got {other:?}")),
    }

    let queued = s.moto.queue_counts(&s.jobs.url).await.map(|c| c.total());
    if queued != Ok(3) {
        problems.push(format!("expected the 3 lenient requests queued, found {queued:?}"));
    }
    let log = s.ingress.logs().text();
    if log.contains("panicked") || !s.ingress.is_running() {
        problems.push("the ingress panicked or exited".into());
    }
    if !problems.is_empty() {
        s.fail(&problems.join("\n")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_id_that_cannot_be_an_idempotency_key_is_dead_lettered_at_once() {
    let s = start(options(GITHUB_ROUTE).worker_source_paused().visibility_timeout(2)).await;
    let delivery = GithubDelivery::json(GITHUB_SECRET, r#"{"forged":true}"#);
    let reply = delivery.send(&s.http, &s.url("/hooks/github")).await;
    assert_eq!(reply.status, 200, "{reply}");
    // The real envelope, with a NUL in its id (as only a forged message could have).
    let messages = s.moto.receive(&s.jobs.url, 5, 30).await.unwrap_or_default();
    let [message] = messages.as_slice() else {
        s.fail(&format!("expected the one queued job, got {}", messages.len()))
            .await
    };
    let mut envelope: Value = serde_json::from_str(message.body().unwrap_or_default()).unwrap_or_default();
    envelope["id"] = json!("forged\u{0}id");
    if let Err(e) = s
        .moto
        .sqs()
        .delete_message()
        .queue_url(&s.jobs.url)
        .receipt_handle(message.receipt_handle().unwrap_or_default())
        .send()
        .await
    {
        s.fail(&format!("DeleteMessage: {e}")).await;
    }
    let forged_id = s.moto.send_message(&s.jobs.url, &envelope.to_string()).await;

    let mut s = s;
    s.start_worker_source();
    let dead = s
        .wait_for("the forged job in the DLQ", || async {
            let messages = s.moto.receive(&s.dlq.url, 0, 0).await.ok()?;
            messages.into_iter().next()
        })
        .await;
    let error = dead
        .message_attributes()
        .and_then(|a| a.get("hookrelay-error"))
        .and_then(|v| v.string_value())
        .unwrap_or_default()
        .to_owned();
    let receives: Vec<u32> = s
        .worker_source()
        .deliveries_of(&forged_id)
        .iter()
        .map(|d| d.receive_count)
        .collect();
    if !error.contains("Idempotency-Key") || receives != [1] || !s.algorithm.requests().is_empty() {
        s.fail(&format!(
            "expected a permanent failure on the first attempt; hookrelay-error {error:?}, receive counts \
             {receives:?}, algorithm calls {}",
            s.algorithm.requests().len()
        ))
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_mode_answers_504_before_a_short_function_timeout() {
    // deadline_secs unset (25 s), a 3 s function timeout, a target that takes 20 s.
    let route = r#"
[[route]]
path = "/hooks/sync"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
mode = "sync"
"#;
    let s = start(options(route)).await;
    s.algorithm.delay_when(|_| true, Duration::from_secs(20));
    let short = FunctionUrl::start(
        s.ingress_api.clone(),
        FunctionUrlConfig {
            bind: util::any_loopback(),
            invoke_timeout: Duration::from_secs(3),
        },
    )
    .await;
    let delivery = GithubDelivery::json(GITHUB_SECRET, r#""world""#);
    let reply = delivery.send(&s.http, &format!("{}/hooks/sync", short.url())).await;
    if reply.status != 504 || reply.json() != json!({"error": "target timed out"}) {
        s.fail(&format!("expected 504 target timed out, got {reply}")).await;
    }
}

/// Sends a signed webhook and waits until the worker has delivered it and its message is gone.
async fn deliver(s: &Stack, secret: &str, body: &str) {
    let reply = GithubDelivery::json(secret, body)
        .send(&s.http, &s.url("/hooks/github"))
        .await;
    if reply.status != 200 {
        s.fail(&format!("expected 200, got {reply}")).await;
    }
    s.wait_for("the webhook to reach the algorithm", || async {
        s.algorithm.requests_with_body(body.as_bytes()).into_iter().next()
    })
    .await;
    s.wait_queue_empty(&s.jobs).await;
}

fn warnings(s: &Stack) -> usize {
    s.worker
        .logs()
        .text()
        .lines()
        .filter(|l| l.contains(DOES_NOT_FIT))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_timeout_that_does_not_fit_is_warned_about_once() {
    // The e2e config's timeout_secs = 30 in a 30 s function: it does not fit the 2 s margin.
    let s = start(options(GITHUB_ROUTE)).await;
    deliver(&s, GITHUB_SECRET, r#"{"batch":1}"#).await;
    deliver(&s, GITHUB_SECRET, r#"{"batch":2}"#).await;
    let batches = s
        .worker_source()
        .invocations()
        .iter()
        .filter(|i| !i.records.is_empty())
        .count();
    if batches < 2 || warnings(&s) != 1 {
        s.fail(&format!(
            "expected one warning over {batches} batches (at least 2), got {}",
            warnings(&s)
        ))
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_dev_config_does_not_trip_its_own_check() {
    let config = std::fs::read_to_string(util::workspace_root().join("dev/hookrelay.toml"))
        .unwrap_or_else(|e| panic!("dev/hookrelay.toml: {e}"));
    let s = start(StackOptions::dev(&config)).await;
    deliver(&s, DEV_WEBHOOK_SECRET, r#"{"zen":"Keep it logically awesome."}"#).await;
    let key = s.algorithm.requests()[0].header("authorization").map(str::to_owned);
    if warnings(&s) != 0 || key.as_deref() != Some(&format!("Simple {DEV_ALGO_API_KEY}")) {
        s.fail(&format!(
            "expected no timeout warning from make dev's setup and its API key; got {} warning(s), key {key:?}",
            warnings(&s)
        ))
        .await;
    }
}
