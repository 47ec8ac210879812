//! Routes that decide, end to end through the real binaries: filters, input mapping, named
//! targets (a generic HTTP endpoint and a second algorithm API), S3 rules, sync mode, de-duplication
//! (FIFO queue, and standard queue + DynamoDB ledger) and custom acknowledgements.
//!
//! Where "nothing was queued" is asserted, the worker's event source is paused, so whatever the
//! ingress queued stays visible in the queue; the same observation is then shown to see a queued
//! job (so the check can fail). Counts of algorithm calls are taken after the jobs queue is empty:
//! once every message is deleted nothing can deliver again, so the count is final.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{KeyInit, Mac};
use hookrelay_e2e::{
    webhook::{read_reply, Reply},
    AlgoRequest, AlgorithmServer, GithubDelivery, RecordingServer, Stack, StackOptions,
};
use serde_json::{json, Value};

use crate::{assert_algorithm_call, start, ALGORITHM, ALGORITHM_PATH, ALGO_KEY, GITHUB_SECRET};

/// `CAL_SECRET` of the functions (Cal.com route).
const CAL_SECRET: &str = "e2e-cal-routes-secret-7c1d";
/// `NOTIFY_KEY`: a secret header value of the generic HTTP target.
const NOTIFY_KEY: &str = "e2e-notify-key-3f9a61";
/// `OTHER_KEY`: the API key of the second algorithm API.
const OTHER_KEY: &str = "sim-e2e-other-algorithm-key";

/// The routes' secrets, as `secrets = [...]` of a GitHub-verified route.
const GITHUB_SECRETS: &str = r#"secrets = ["env:GITHUB_WEBHOOK_SECRET"]"#;

/// A full config: `[downstream]` (the demo algorithm), `body` (targets and routes), the `[s3]`
/// table (`s3`, or the default catch-all), `[worker]`.
fn config(body: &str, s3: Option<&str>) -> String {
    let s3 = s3.unwrap_or("[s3]\nalgorithm = \"demo/Hello/0.1.0\"\n");
    format!(
        r#"
[downstream]
base_url = "${{ALGO_URL}}"
api_key = "env:ALGO_API_KEY"
timeout_secs = 30

{body}

{s3}

[worker]
concurrency = 10
"#
    )
}

/// Stack options for `config(body, s3)` with every secret the routes and targets use.
fn options(body: &str, s3: Option<&str>) -> StackOptions {
    StackOptions::new(&config(body, s3))
        .env("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
        .env("ALGO_API_KEY", ALGO_KEY)
        .env("CAL_SECRET", CAL_SECRET)
        .env("NOTIFY_KEY", NOTIFY_KEY)
        .env("OTHER_KEY", OTHER_KEY)
}

/// A GitHub delivery of `event` with a JSON body, signed with the functions' secret.
fn github(event: &str, body: &str) -> GithubDelivery {
    GithubDelivery {
        event: event.into(),
        ..GithubDelivery::json(GITHUB_SECRET, body)
    }
}

/// POST a Cal.com-signed JSON body (`X-Cal-Signature-256: <hex HMAC-SHA256>`).
async fn send_cal(s: &Stack, path: &str, body: &str, secret: &str) -> Reply {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let resp = s
        .http
        .post(s.url(path))
        .header("content-type", "application/json")
        .header("x-cal-signature-256", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
    read_reply(resp).await
}

fn reply_json(reply: &Reply) -> Option<Value> {
    serde_json::from_str(&reply.body).ok()
}

fn is_json(reply: &Reply) -> bool {
    reply
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
}

/// `200 {"id": <non-empty>, "status": "queued"}` → the id; else a problem is recorded.
fn queued_id(what: &str, reply: &Reply, problems: &mut Vec<String>) -> Option<String> {
    let v = reply_json(reply).unwrap_or(Value::Null);
    let id = v["id"].as_str().filter(|id| !id.is_empty()).map(str::to_string);
    if reply.status != 200 || v["status"] != json!("queued") || id.is_none() || !is_json(reply) {
        problems.push(format!(
            "{what}: expected 200 application/json {{\"id\": ..., \"status\": \"queued\"}}, got {reply}"
        ));
        return None;
    }
    id
}

/// The reply must be `200 {"status": "filtered"}`.
fn expect_filtered(what: &str, reply: &Reply, problems: &mut Vec<String>) {
    if reply.status != 200 || reply_json(reply) != Some(json!({"status": "filtered"})) || !is_json(reply) {
        problems.push(format!(
            "{what}: expected 200 application/json {{\"status\": \"filtered\"}}, got {reply}"
        ));
    }
}

async fn fail_on(s: &Stack, problems: &[String], extra: &str) {
    if !problems.is_empty() {
        s.fail(&format!(
            "{} problem(s):\n  - {}\n{extra}",
            problems.len(),
            problems.join("\n  - ")
        ))
        .await;
    }
}

/// Total messages in the jobs queue (visible, in flight, delayed).
async fn queued_total(s: &Stack) -> u64 {
    s.moto
        .queue_counts(&s.jobs.url)
        .await
        .unwrap_or_else(|e| panic!("GetQueueAttributes: {e}"))
        .total()
}

/// Wait until the demo algorithm got at least `n` calls and the jobs queue is empty; returns
/// every call (final: nothing is left to deliver).
async fn settled_calls(s: &Stack, n: usize) -> Vec<AlgoRequest> {
    s.wait_for(&format!("{n} algorithm call(s)"), || async {
        (s.algorithm.requests().len() >= n).then_some(())
    })
    .await;
    s.wait_queue_empty(&s.jobs).await;
    s.algorithm.requests()
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---- 1. filters ------------------------------------------------------------------------------

const FILTER_ROUTES: &str = r#"
[[route]]
path = "/hooks/cal"
verify = "cal"
secrets = ["env:CAL_SECRET"]
algorithm = "demo/Hello/0.1.0"
filter = { body = { triggerEvent = ["BOOKING_CREATED", "BOOKING_RESCHEDULED"] } }

[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
filter = { headers = { "x-github-event" = ["push"] }, body = { ref = ["refs/heads/main"] } }
"#;

fn cal_booking(trigger: &str, uid: &str) -> String {
    json!({
        "triggerEvent": trigger,
        "createdAt": "2026-11-23T15:00:00.000Z",
        "payload": {"uid": uid, "title": "30 min meeting", "startTime": "2026-11-24T09:00:00Z"},
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_answer_filtered_and_queue_only_matching_events() {
    let mut s = start(options(FILTER_ROUTES, None).worker_source_paused()).await;
    let mut problems = Vec::new();

    // Events the filters reject: answered `filtered`, never queued.
    let cancelled = cal_booking("BOOKING_CANCELLED", "b-1");
    let r = send_cal(&s, "/hooks/cal", &cancelled, CAL_SECRET).await;
    expect_filtered("signed Cal.com BOOKING_CANCELLED", &r, &mut problems);
    let push_dev = json!({"ref": "refs/heads/dev", "after": "a1b2"}).to_string();
    let r = github("push", &push_dev).send(&s.http, &s.url("/hooks/github")).await;
    expect_filtered("GitHub push to refs/heads/dev", &r, &mut problems);
    let ping_main = json!({"ref": "refs/heads/main", "zen": "Keep it logically awesome."}).to_string();
    let r = github("ping", &ping_main).send(&s.http, &s.url("/hooks/github")).await;
    expect_filtered("GitHub ping (event not push) with ref main", &r, &mut problems);

    // Verification comes first: a forged event is refused, whatever the filter would say.
    let r = send_cal(&s, "/hooks/cal", &cancelled, "not-the-secret").await;
    if r.status != 401 {
        problems.push(format!("Cal.com event with a wrong signature: expected 401, got {r}"));
    }
    let created = cal_booking("BOOKING_CREATED", "b-2");
    let r = send_cal(&s, "/hooks/cal", &created, "not-the-secret").await;
    if r.status != 401 {
        problems.push(format!("forged BOOKING_CREATED: expected 401, got {r}"));
    }

    let total = queued_total(&s).await;
    if total != 0 {
        problems.push(format!(
            "filtered or refused events were queued: {total} message(s) in the queue"
        ));
    }

    // Events the filters accept are queued (the same observation sees them).
    let rescheduled = cal_booking("BOOKING_RESCHEDULED", "b-3");
    let push_main = json!({"ref": "refs/heads/main", "after": "c3d4"}).to_string();
    let r = send_cal(&s, "/hooks/cal", &created, CAL_SECRET).await;
    queued_id("signed BOOKING_CREATED", &r, &mut problems);
    let r = send_cal(&s, "/hooks/cal", &rescheduled, CAL_SECRET).await;
    queued_id("signed BOOKING_RESCHEDULED", &r, &mut problems);
    let r = github("push", &push_main).send(&s.http, &s.url("/hooks/github")).await;
    queued_id("GitHub push to refs/heads/main", &r, &mut problems);
    let total = queued_total(&s).await;
    if total != 3 {
        problems.push(format!("expected the 3 accepted events in the queue, found {total}"));
    }
    fail_on(&s, &problems, "").await;

    // The worker delivers exactly the accepted events; the algorithm never sees a filtered one.
    s.start_worker_source();
    let calls = settled_calls(&s, 3).await;
    let got: BTreeSet<String> = calls.iter().map(AlgoRequest::body_text).collect();
    let want: BTreeSet<String> = [created, rescheduled, push_main].into_iter().collect();
    if got != want || calls.len() != 3 {
        problems.push(format!(
            "the algorithm got {} call(s) with bodies {got:?}; expected exactly {want:?}",
            calls.len()
        ));
    }
    for forbidden in [&cancelled, &push_dev, &ping_main] {
        if !s.algorithm.requests_with_body(forbidden.as_bytes()).is_empty() {
            problems.push(format!("a filtered event reached the algorithm: {forbidden}"));
        }
    }
    fail_on(&s, &problems, "").await;
}

// ---- 2. input mapping ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_mapping_shapes_what_the_algorithm_receives() {
    let routes = format!(
        r#"
[[route]]
path = "/hooks/pointer"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
input = "/payload"

[[route]]
path = "/hooks/template"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
input = {{ repo = "/repository/full_name", stars = "/repository/stars", event = "header:x-github-event", delivery = "delivery_id", who = "query:who", method = "method", path = "path", missing = "/nope" }}
"#
    );
    let s = start(options(&routes, None)).await;
    let mut problems = Vec::new();

    // A pointer: the value at /payload, as JSON.
    let pointer_body = r#"{"payload":{"a":1,"b":[true,null],"s":"x\"y"},"other":"not sent"}"#;
    let r = github("push", pointer_body)
        .send(&s.http, &s.url("/hooks/pointer"))
        .await;
    let pointer_id = queued_id("pointer route", &r, &mut problems);

    // A template: pointers, a header, the delivery id, a query parameter, method and path.
    let template_body = r#"{"repository":{"full_name":"octo/hello","stars":42},"sender":{"login":"octocat"}}"#;
    let d = github("push", template_body);
    let r = d
        .send(&s.http, &format!("{}?who=alice%20b", s.url("/hooks/template")))
        .await;
    let template_id = queued_id("template route", &r, &mut problems);

    // Input mapping needs a JSON body: 422, nothing queued.
    let not_json = github("push", "this is not json").content_type("text/plain");
    let r = not_json.send(&s.http, &s.url("/hooks/pointer")).await;
    let error = reply_json(&r).and_then(|v| v["error"].as_str().map(str::to_string));
    if r.status != 422 || error.is_none_or(|e| e.is_empty()) {
        problems.push(format!(
            "non-JSON body on an input-mapped route: expected 422 {{\"error\": ...}}, got {r}"
        ));
    }
    fail_on(&s, &problems, "").await;

    let calls = settled_calls(&s, 2).await;
    if calls.len() != 2 {
        problems.push(format!(
            "expected 2 algorithm calls (the 422 queues nothing), got {}",
            calls.len()
        ));
    }
    let by_key = |id: &Option<String>| {
        calls
            .iter()
            .find(|c| c.header("idempotency-key") == id.as_deref())
            .cloned()
    };
    match by_key(&pointer_id) {
        Some(call) => {
            assert_algorithm_call(&s, &call, "application/json").await;
            let want = json!({"a": 1, "b": [true, null], "s": "x\"y"});
            if call.body_json() != Some(want.clone()) {
                problems.push(format!(
                    "pointer input: algorithm got {}, expected {want}",
                    call.body_text()
                ));
            }
        }
        None => problems.push("the pointer route's job never reached the algorithm".into()),
    }
    match by_key(&template_id) {
        Some(call) => {
            assert_algorithm_call(&s, &call, "application/json").await;
            let want = json!({
                "repo": "octo/hello",
                "stars": 42,
                "event": "push",
                "delivery": d.delivery_id,
                "who": "alice b",
                "method": "POST",
                "path": "/hooks/template",
                "missing": null,
            });
            if call.body_json() != Some(want.clone()) {
                problems.push(format!(
                    "template input: algorithm got {}, expected {want}",
                    call.body_text()
                ));
            }
        }
        None => problems.push("the template route's job never reached the algorithm".into()),
    }
    fail_on(&s, &problems, "").await;
}

// ---- 3. named targets: a generic HTTP endpoint and a second algorithm API ----------------------

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

// ---- 4. S3 rules -----------------------------------------------------------------------------

fn s3_record(bucket: &str, key: &str, size: u64, sequencer: &str) -> Value {
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-23T15:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "hookrelay-uploads",
            "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": key, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": sequencer},
        },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_rules_send_objects_to_their_algorithms() {
    let opts = StackOptions::new("");
    let bucket = opts.bucket.clone();
    let s3 = format!(
        r#"
[s3]
algorithm = "demo/Hello/0.1.0"

# Same prefix as the csv rule, other bucket: must not match.
[[s3.rule]]
bucket = "some-other-bucket"
prefix = "data/"
algorithm = "demo/Wrong/0.0.1"

[[s3.rule]]
prefix = "uploads/"
suffix = ".jpg"
algorithm = "demo/Resize/1.0"
input = "uri"

[[s3.rule]]
bucket = "{bucket}"
prefix = "data/"
suffix = ".csv"
algorithm = "demo/Csv/2.1"
input = "record"
"#
    );
    let body = format!(
        "[[route]]\npath = \"/hooks/github\"\nverify = \"github\"\n{GITHUB_SECRETS}\nalgorithm = \"{ALGORITHM}\"\n"
    );
    let s = start(options(&body, Some(&s3))).await;
    let event = json!({"Records": [
        s3_record(&bucket, "uploads/a.jpg", 2048, "0055AED6DCD90281E5"),
        s3_record(&bucket, "data/b.csv", 12, "0055AED6DCD90281E6"),
        s3_record(&bucket, "other/c.txt", 5, "0055AED6DCD90281E7"),
    ]});
    if let Err(e) = s.s3_relay_api.invoke(event, Duration::from_secs(30)).await {
        s.fail(&format!("s3-relay failed the S3 event: {e}")).await;
    }
    let calls = settled_calls(&s, 3).await;
    let mut problems = Vec::new();
    let to = |path: &str| calls.iter().filter(|c| c.path == path).cloned().collect::<Vec<_>>();

    match to("/v1/algo/demo/Resize/1.0").as_slice() {
        [call] => {
            let want = format!("\"s3://{bucket}/uploads/a.jpg\"");
            if call.body_text() != want {
                problems.push(format!(
                    "uploads/a.jpg: Resize got {} (expected {want})",
                    call.body_text()
                ));
            }
        }
        other => problems.push(format!(
            "uploads/a.jpg: Resize was called {} time(s), expected once",
            other.len()
        )),
    }
    match to("/v1/algo/demo/Csv/2.1").as_slice() {
        [call] => {
            let record = call.body_json().unwrap_or(Value::Null);
            if record["bucket"] != json!(bucket) || record["key"] != json!("data/b.csv") || record["size"] != json!(12)
            {
                problems.push(format!(
                    "data/b.csv: Csv got {} (expected a record with bucket {bucket}, key data/b.csv, size 12)",
                    call.body_text()
                ));
            }
            if !call
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json"))
            {
                problems.push(format!("data/b.csv: content-type {:?}", call.header("content-type")));
            }
        }
        other => problems.push(format!(
            "data/b.csv: Csv was called {} time(s), expected once",
            other.len()
        )),
    }
    match to(ALGORITHM_PATH).as_slice() {
        [call] => {
            if call.body_text() != "\"other/c.txt\"" {
                problems.push(format!(
                    "other/c.txt: the catch-all got {} (expected \"other/c.txt\")",
                    call.body_text()
                ));
            }
        }
        other => problems.push(format!(
            "other/c.txt: the [s3] catch-all was called {} time(s), expected once",
            other.len()
        )),
    }
    if calls.len() != 3 {
        problems.push(format!("expected 3 algorithm calls, got {}", calls.len()));
    }
    if !to("/v1/algo/demo/Wrong/0.0.1").is_empty() {
        problems.push("a rule for another bucket matched".into());
    }
    fail_on(&s, &problems, "").await;
}

// ---- 5. sync mode ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_mode_answers_with_the_result_and_queues_nothing() {
    let routes = format!(
        r#"
[[route]]
path = "/hooks/sync"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
mode = "sync"
deadline_secs = 25

[[route]]
path = "/hooks/sync-slow"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Slow/0.1.0"
mode = "sync"
deadline_secs = 1
"#
    );
    // Paused worker: anything the ingress queued would stay in the queue.
    let s = start(options(&routes, None).worker_source_paused()).await;
    s.algorithm.fail_when(
        |r| r.body_text().contains("explode"),
        hookrelay_e2e::Failure::AlgorithmError("boom".into()),
    );
    // Far beyond the route's 1 s deadline: the 504 cannot depend on the machine's speed. (The
    // gateway's own 30 s invoke timeout would answer 502, so a missing deadline still fails.)
    s.algorithm.delay_when(|r| r.name == "Slow", Duration::from_secs(120));
    let mut problems = Vec::new();

    // The algorithm's result is the answer: text → text/plain.
    let r = github("push", r#""world""#).send(&s.http, &s.url("/hooks/sync")).await;
    if r.status != 200
        || r.body != "Hello world"
        || !r.header("content-type").is_some_and(|c| c.starts_with("text/plain"))
    {
        problems.push(format!(
            "sync success: expected 200 text/plain \"Hello world\", got {r}"
        ));
    }
    match s.algorithm.requests_with_body(br#""world""#).as_slice() {
        [call] => assert_algorithm_call(&s, call, "application/json").await,
        other => problems.push(format!(
            "sync success: the algorithm was called {} time(s)",
            other.len()
        )),
    }

    // The algorithm fails: 502 {"error": ...}.
    let r = github("push", r#""please explode""#)
        .send(&s.http, &s.url("/hooks/sync"))
        .await;
    let error = reply_json(&r).and_then(|v| v["error"].as_str().map(str::to_string));
    if r.status != 502 || error.is_none_or(|e| e.is_empty()) || !is_json(&r) {
        problems.push(format!(
            "sync, algorithm error: expected 502 {{\"error\": ...}}, got {r}"
        ));
    }

    // The algorithm is slower than deadline_secs: 504 {"error": "target timed out"}.
    let r = github("push", r#""take your time""#)
        .send(&s.http, &s.url("/hooks/sync-slow"))
        .await;
    if r.status != 504 || reply_json(&r) != Some(json!({"error": "target timed out"})) {
        problems.push(format!(
            "sync, slow algorithm: expected 504 {{\"error\": \"target timed out\"}}, got {r}"
        ));
    }
    if !s.algorithm.requests().iter().any(|c| c.name == "Slow") {
        problems.push("sync, slow algorithm: the slow algorithm was never called (the 504 has another cause)".into());
    }

    // Sync mode queues nothing.
    let total = queued_total(&s).await;
    if total != 0 {
        problems.push(format!("sync mode queued {total} message(s)"));
    }
    fail_on(&s, &problems, "").await;
}

// ---- 6. de-duplication -----------------------------------------------------------------------

const DEDUP_ROUTE: &str = r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
message_group = "/repository/full_name"
"#;

/// Send `d` three times: the first answer must be `queued`, the others `repeat_status` with the
/// first id. Returns the first id. (A FIFO queue drops repeats itself and the ingress cannot tell,
/// so there repeats answer `queued` with the same id, derived from the delivery id.)
async fn send_three_times(
    s: &Stack,
    d: &GithubDelivery,
    repeat_status: &str,
    problems: &mut Vec<String>,
) -> Option<String> {
    let url = s.url("/hooks/github");
    let first = d.send(&s.http, &url).await;
    let id = queued_id("first delivery", &first, problems);
    for attempt in 2..=3 {
        let r = d.send(&s.http, &url).await;
        let want = json!({"id": id, "status": repeat_status});
        if r.status != 200 || reply_json(&r) != Some(want.clone()) {
            problems.push(format!(
                "repeat #{attempt} of delivery {}: expected 200 {want}, got {r}",
                d.delivery_id
            ));
        }
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_queue_deduplicates_a_repeated_delivery() {
    // Paused worker while sending: moto drops a repeated MessageDeduplicationId only while the
    // first message is still in the queue (real SQS remembers it for five minutes either way).
    let mut s = start(options(DEDUP_ROUTE, None).fifo_jobs_queue().worker_source_paused()).await;
    assert!(s.jobs.url.ends_with(".fifo"), "{}", s.jobs.url);
    let mut problems = Vec::new();

    let body = r#"{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"}}"#;
    let a = github("push", body);
    let id_a = send_three_times(&s, &a, "queued", &mut problems).await;
    // Same body, another delivery: a different job.
    let b = github("push", body);
    let r = b.send(&s.http, &s.url("/hooks/github")).await;
    let id_b = queued_id("another delivery with the same body", &r, &mut problems);

    let total = queued_total(&s).await;
    if total != 2 {
        problems.push(format!(
            "expected 2 messages in the FIFO queue (one per delivery id), found {total}"
        ));
    }
    // The FIFO keys: the message group from /repository/full_name, a de-duplication id per delivery.
    let peeked = s.moto.receive(&s.jobs.url, 1, 0).await.unwrap_or_default();
    let mut dedup_ids = BTreeSet::new();
    for m in &peeked {
        use aws_sdk_sqs::types::MessageSystemAttributeName as A;
        let attr = |k: A| m.attributes().and_then(|a| a.get(&k)).cloned();
        if attr(A::MessageGroupId).as_deref() != Some("octo/hello") {
            problems.push(format!(
                "MessageGroupId {:?} (expected \"octo/hello\")",
                attr(A::MessageGroupId)
            ));
        }
        match attr(A::MessageDeduplicationId) {
            Some(d) if !d.is_empty() && d.len() <= 128 => {
                dedup_ids.insert(d);
            }
            other => problems.push(format!(
                "MessageDeduplicationId {other:?} (expected 1..=128 characters)"
            )),
        }
    }
    if peeked.is_empty() {
        problems.push("could not receive a message from the FIFO queue to check its keys".into());
    }
    fail_on(&s, &problems, "").await;

    s.start_worker_source();
    let calls = settled_calls(&s, 2).await;
    let keys: BTreeSet<Option<&str>> = calls.iter().map(|c| c.header("idempotency-key")).collect();
    let want: BTreeSet<Option<&str>> = [id_a.as_deref(), id_b.as_deref()].into_iter().collect();
    if calls.len() != 2 || keys != want {
        problems.push(format!(
            "expected one algorithm call per delivery (job ids {want:?}), got {} with Idempotency-Keys {keys:?}",
            calls.len()
        ));
    }
    assert!(s.dlq_is_empty().await, "{}", s.diagnostics().await);
    fail_on(&s, &problems, "").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_queue_deduplicates_through_the_dynamodb_ledger() {
    const TABLE: &str = "hookrelay-dedup";
    let routes = format!(
        r#"{DEDUP_ROUTE}
[[route]]
path = "/hooks/nodedup"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
dedup_window_secs = 0
"#
    );
    let s = start(options(&routes, None).dedup_table(TABLE)).await;
    assert!(!s.jobs.url.ends_with(".fifo"));
    let mut problems = Vec::new();

    let before = epoch_secs();
    let body = r#"{"ref":"refs/heads/main","repository":{"full_name":"octo/hello"}}"#;
    let a = github("push", body);
    let id_a = send_three_times(&s, &a, "duplicate", &mut problems).await;
    let b = github("push", body);
    let r = b.send(&s.http, &s.url("/hooks/github")).await;
    let id_b = queued_id("another delivery with the same body", &r, &mut problems);
    let after = epoch_secs();

    // dedup_window_secs = 0: the same delivery twice is two jobs.
    let c = github("push", r#"{"ref":"refs/heads/main","window":0}"#);
    let mut no_window_ids = BTreeSet::new();
    for attempt in 1..=2 {
        let r = c.send(&s.http, &s.url("/hooks/nodedup")).await;
        if let Some(id) = queued_id(&format!("dedup_window_secs = 0, send #{attempt}"), &r, &mut problems) {
            no_window_ids.insert(id);
        }
    }
    if no_window_ids.len() != 2 {
        problems.push(format!(
            "dedup_window_secs = 0 must queue both sends as two jobs, got ids {no_window_ids:?}"
        ));
    }

    let calls = settled_calls(&s, 4).await;
    let a_calls: Vec<_> = calls
        .iter()
        .filter(|c| c.body.as_ref() == body.as_bytes())
        .map(|c| c.header("idempotency-key").map(str::to_string))
        .collect();
    let mut want = vec![id_a.clone(), id_b.clone()];
    let mut got = a_calls.clone();
    want.sort();
    got.sort();
    if got != want {
        problems.push(format!(
            "deliveries A (sent 3 times) and B: expected one algorithm call each (job ids {want:?}), got Idempotency-Keys {got:?}"
        ));
    }
    if calls.len() != 4 {
        problems.push(format!(
            "expected 4 algorithm calls in all (A, B and 2 without window), got {}",
            calls.len()
        ));
    }

    // The ledger: one item per deduplicated delivery, remembering the job id until now + window.
    let items = s
        .moto
        .dedup_items(TABLE)
        .await
        .unwrap_or_else(|e| panic!("Scan {TABLE}: {e}"));
    for (d, id) in [(&a, &id_a), (&b, &id_b)] {
        let mine: Vec<_> = items.iter().filter(|i| i.pk.contains(&d.delivery_id)).collect();
        match mine.as_slice() {
            [item] => {
                if !item.pk.contains("/hooks/github") {
                    problems.push(format!("ledger key {:?} does not name the route", item.pk));
                }
                if item.job_id != *id {
                    problems.push(format!("ledger job_id {:?} (expected {id:?})", item.job_id));
                }
                let window = 300;
                if !item
                    .expires_at
                    .is_some_and(|e| (before + window..=after + window + 1).contains(&e))
                {
                    problems.push(format!(
                        "ledger expires_at {:?} (expected received time + {window} s, within [{}, {}])",
                        item.expires_at,
                        before + window,
                        after + window + 1
                    ));
                }
            }
            other => problems.push(format!(
                "expected one ledger item for delivery {}, found {}",
                d.delivery_id,
                other.len()
            )),
        }
    }
    if items.iter().any(|i| i.pk.contains(&c.delivery_id)) {
        problems.push("a route with dedup_window_secs = 0 wrote to the ledger".into());
    }
    assert!(s.dlq_is_empty().await, "{}", s.diagnostics().await);
    fail_on(&s, &problems, "").await;
}

// ---- 7. custom acknowledgement ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_ack_answers_queued_and_duplicate_requests() {
    let routes = format!(
        r#"
[[route]]
path = "/hooks/acked"
verify = "github"
{GITHUB_SECRETS}
algorithm = "demo/Hello/0.1.0"
filter = {{ headers = {{ "x-github-event" = ["push"] }} }}
ack = {{ status = 202, body = "ok", content_type = "text/plain" }}
"#
    );
    let s = start(options(&routes, None).dedup_table("hookrelay-dedup")).await;
    let mut problems = Vec::new();
    let url = s.url("/hooks/acked");
    let expect_ack = |what: &str, r: &Reply, problems: &mut Vec<String>| {
        if r.status != 202 || r.body != "ok" || r.header("content-type") != Some("text/plain") {
            problems.push(format!("{what}: expected 202 text/plain \"ok\", got {r}"));
        }
    };

    let body = r#"{"ref":"refs/heads/main","after":"e5f6"}"#;
    let d = github("push", body);
    let r = d.send(&s.http, &url).await;
    expect_ack("queued request", &r, &mut problems);
    let r = d.send(&s.http, &url).await;
    expect_ack("repeated delivery (duplicate)", &r, &mut problems);

    // The ack is for accepted requests only: refusals and filtered events keep their answers.
    let forged = GithubDelivery {
        secret: "not-the-secret".into(),
        ..github("push", body)
    };
    let r = forged.send(&s.http, &url).await;
    if r.status != 401 || !is_json(&r) {
        problems.push(format!("forged request: expected 401 application/json, got {r}"));
    }
    let r = github("ping", body).send(&s.http, &url).await;
    expect_filtered("filtered event on an acked route", &r, &mut problems);

    let calls = settled_calls(&s, 1).await;
    if calls.len() != 1 || calls[0].body.as_ref() != body.as_bytes() {
        problems.push(format!(
            "expected exactly one algorithm call with the pushed body, got {}",
            calls.len()
        ));
    }
    fail_on(&s, &problems, "").await;
}
