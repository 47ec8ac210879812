//! Result delivery: a route with `callback = { url, secret }` gets each job's outcome POSTed to a
//! local recording server, signed per Standard Webhooks; the signatures are checked by the
//! `standardwebhooks` library from PyPI (the project venv: `$HOOKRELAY_PYTHON`, else
//! `<workspace>/.venv/bin/python`; a missing one fails the test). A callback endpoint that
//! answers 503 gets the callback again from a follow-up job, while the algorithm is called once.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use hookrelay_e2e::{util::workspace_root, CannedReply, GithubDelivery, RecordedRequest, RecordingServer, Stack};
use serde_json::{json, Value};

use crate::{
    config,
    config_errors::{assert_names_key, start_failing_with},
    start, ALGO_KEY, GITHUB_SECRET,
};

/// `CALLBACK_SECRET` of the functions: a Standard Webhooks key (`whsec_` + base64 of 32 bytes).
const CALLBACK_SECRET: &str = "whsec_aG9va3JlbGF5IGUyZSBjYWxsYmFjayBzaWduaW5nISE=";
/// Another key: signatures must not verify with it.
const OTHER_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const CALLBACK_PATH: &str = "/results";

/// The stack of these tests: the GitHub route with a callback to `endpoint`, a call timeout that
/// fits the 30 s invocation, short backoffs.
fn options(endpoint: &RecordingServer) -> hookrelay_e2e::StackOptions {
    let route = format!(
        r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
callback = {{ url = "{}{CALLBACK_PATH}", secret = "env:CALLBACK_SECRET" }}
"#,
        endpoint.url()
    );
    let config = config(&route)
        .replace("timeout_secs = 30", "timeout_secs = 10")
        .replace(
            "concurrency = 10",
            "concurrency = 10\nretry_base_secs = 1\nretry_max_secs = 2",
        );
    hookrelay_e2e::StackOptions::new(&config)
        .env("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
        .env("ALGO_API_KEY", ALGO_KEY)
        .env("CALLBACK_SECRET", CALLBACK_SECRET)
        .visibility_timeout(2)
        .max_receive_count(10)
}

/// Queues a GitHub delivery of `body`; the job id and the delivery id.
async fn send(s: &Stack, body: &str) -> (String, String) {
    let delivery = GithubDelivery::json(GITHUB_SECRET, body);
    let reply = delivery.send(&s.http, &s.url("/hooks/github")).await;
    let id = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned));
    match (reply.status, id) {
        (200, Some(id)) => (id, delivery.delivery_id),
        _ => s.fail(&format!("webhook not queued: {reply}")).await,
    }
}

fn python() -> PathBuf {
    match std::env::var_os("HOOKRELAY_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join(".venv/bin/python"),
    }
}

/// For each request, whether `standardwebhooks.Webhook(secret).verify(body, headers)` accepts it.
/// Panics (never skips) when the venv or the library is missing.
fn verify_with_standardwebhooks(secret: &str, requests: &[RecordedRequest]) -> Vec<bool> {
    const SCRIPT: &str = r#"
import json, sys
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
given = json.load(sys.stdin)
webhook = Webhook(given["secret"])
verdicts = []
for message in given["messages"]:
    try:
        webhook.verify(message["body"], message["headers"])
        verdicts.append(True)
    except WebhookVerificationError:
        verdicts.append(False)
print(json.dumps(verdicts))
"#;
    let python = python();
    assert!(
        python.exists(),
        "{} is missing: run `make venv` (requirements-dev.txt has standardwebhooks) or set HOOKRELAY_PYTHON; \
         this test never skips",
        python.display()
    );
    let messages: Vec<Value> = requests
        .iter()
        .map(|r| {
            let headers: serde_json::Map<String, Value> =
                r.headers.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            json!({"body": r.body_text(), "headers": headers})
        })
        .collect();
    let input = json!({"secret": secret, "messages": messages});
    let mut child = Command::new(&python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write the verifier's input");
    let out = child.wait_with_output().expect("verifier output");
    assert!(
        out.status.success(),
        "the standardwebhooks verifier failed ({}); is standardwebhooks installed in the venv?\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verifier output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Problems with one callback request: method, path, content type, `webhook-id`, body.
fn check_callback(request: &RecordedRequest, expected: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if request.method != "POST" || request.path != CALLBACK_PATH {
        problems.push(format!("callback sent as {} {}", request.method, request.path));
    }
    if !request
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("application/json"))
    {
        problems.push(format!("callback content-type {:?}", request.header("content-type")));
    }
    if request.header("webhook-id") != expected["id"].as_str() {
        problems.push(format!(
            "webhook-id {:?}, expected the job id {}",
            request.header("webhook-id"),
            expected["id"]
        ));
    }
    if !request
        .header("webhook-signature")
        .is_some_and(|s| s.starts_with("v1,"))
    {
        problems.push(format!("webhook-signature {:?}", request.header("webhook-signature")));
    }
    let body: Option<Value> = serde_json::from_slice(&request.body).ok();
    if body.as_ref() != Some(expected) {
        problems.push(format!("callback body {}, expected {expected}", request.body_text()));
    }
    problems
}

async fn fail_on(s: &Stack, endpoint: &RecordingServer, problems: &[String]) {
    if !problems.is_empty() {
        s.fail(&format!(
            "{}\n--- callback endpoint: {}",
            problems.join("\n"),
            endpoint.summary()
        ))
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_arrives_at_the_callback_url_signed_per_standard_webhooks() {
    let endpoint = RecordingServer::start().await;
    let s = start(options(&endpoint)).await;
    let body = r#""callback world""#;
    let (id, delivery_id) = send(&s, body).await;

    let requests = s
        .wait_for("the callback", || async {
            let requests = endpoint.requests();
            (!requests.is_empty()).then_some(requests)
        })
        .await;
    s.wait_queue_empty(&s.jobs).await;

    let expected = json!({
        "id": id,
        "route": "/hooks/github",
        "delivery_id": delivery_id,
        "status": "succeeded",
        "result": "Hello callback world",
        "metadata": {"content_type": "text"},
    });
    let mut problems = Vec::new();
    // The demo algorithm's metadata also has a duration: compare without it.
    let mut got = requests.clone();
    for request in &mut got {
        if let Ok(mut value) = serde_json::from_slice::<Value>(&request.body) {
            if let Some(metadata) = value["metadata"].as_object_mut() {
                metadata.remove("duration");
            }
            request.body = value.to_string().into();
        }
    }
    if requests.len() != 1 {
        problems.push(format!("{} callbacks, expected exactly one", requests.len()));
    }
    problems.extend(check_callback(&got[0], &expected));
    let verdicts = verify_with_standardwebhooks(CALLBACK_SECRET, &requests[..1]);
    if verdicts != [true] {
        problems.push("standardwebhooks refused the callback's signature".into());
    }
    if verify_with_standardwebhooks(OTHER_SECRET, &requests[..1]) != [false] {
        problems.push("standardwebhooks accepted the callback with another key".into());
    }
    let mut tampered = requests[0].clone();
    tampered.body = tampered.body_text().replace("Hello", "Hallo").into();
    if verify_with_standardwebhooks(CALLBACK_SECRET, &[tampered]) != [false] {
        problems.push("standardwebhooks accepted a tampered callback body".into());
    }
    let calls = s.algorithm.requests_with_body(body.as_bytes()).len();
    if calls != 1 {
        problems.push(format!("the algorithm was called {calls} times (expected once)"));
    }
    let output = s.worker.output();
    if !output.contains("callback sent") {
        problems.push("the worker's log must say `callback sent`".into());
    }
    let key = CALLBACK_SECRET.trim_start_matches("whsec_");
    if output.contains(key) || output.contains("callback world") {
        problems.push("the worker logged the callback secret or the payload".into());
    }
    if !s.dlq_is_empty().await {
        problems.push("nothing may be dead-lettered".into());
    }
    fail_on(&s, &endpoint, &problems).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_answered_503_is_retried_by_a_follow_up_job_and_the_algorithm_is_called_once() {
    const FAILURES: usize = 2;
    let endpoint = RecordingServer::start().await;
    endpoint.reply_with(CannedReply {
        status: 503,
        content_type: "text/plain".into(),
        body: "busy".into(),
    });
    let s = start(options(&endpoint)).await;
    let body = r#""flaky receiver""#;
    let (id, _) = send(&s, body).await;

    // The first attempt (right after the algorithm answered) and the follow-up job's first one.
    s.wait_for(&format!("{FAILURES} callback attempts"), || async {
        (endpoint.requests().len() >= FAILURES).then_some(())
    })
    .await;
    let failed = endpoint.requests().len();
    endpoint.reply_with(CannedReply::default());
    s.wait_for("the callback to be retried once the receiver recovers", || async {
        (endpoint.requests().len() > failed).then_some(())
    })
    .await;
    s.wait_queue_empty(&s.jobs).await;

    let mut problems = Vec::new();
    let requests = endpoint.requests();
    let calls = s.algorithm.requests_with_body(body.as_bytes()).len();
    if calls != 1 {
        problems.push(format!(
            "the algorithm was called {calls} times (expected exactly once)"
        ));
    }
    // Every attempt is the same message (same webhook-id and body), each validly signed.
    let first: Option<Value> = serde_json::from_slice(&requests[0].body).ok();
    match &first {
        Some(value) if value["id"] == json!(id) && value["status"] == "succeeded" => {
            for request in &requests {
                problems.extend(check_callback(request, value));
            }
        }
        _ => problems.push(format!("first callback body {}", requests[0].body_text())),
    }
    let verdicts = verify_with_standardwebhooks(CALLBACK_SECRET, &requests);
    if verdicts.iter().any(|ok| !ok) {
        problems.push(format!("standardwebhooks verdicts per attempt: {verdicts:?}"));
    }
    // The follow-up job went through the queue: received by the worker, then deleted.
    let source = s.worker_source();
    let invocations = source.invocations();
    let followups: Vec<_> = invocations
        .iter()
        .flat_map(|i| &i.records)
        .filter(|r| r.body.contains(r#""source":"callback""#))
        .collect();
    match followups.first() {
        None => problems.push("no follow-up callback job reached the worker".into()),
        Some(record) => {
            let attempts = source.deliveries_of(&record.message_id).len();
            if attempts + 1 != requests.len() {
                problems.push(format!(
                    "the follow-up job was received {attempts} times for {} callback requests",
                    requests.len()
                ));
            }
            if !invocations.iter().any(|i| i.deleted.contains(&record.message_id)) {
                problems.push("the follow-up job was never deleted".into());
            }
            let payload = serde_json::from_str::<Value>(&record.body)
                .ok()
                .and_then(|envelope| envelope["payload"]["text"].as_str().map(str::to_owned));
            if payload.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()) != first {
                problems.push(format!(
                    "the follow-up job must carry the callback body as its payload: {}",
                    record.body
                ));
            }
        }
    }
    // The original job was done at once: never reported failed.
    let original = invocations
        .iter()
        .flat_map(|i| &i.records)
        .find(|r| r.body.contains(r#""source":"webhook""#));
    match original {
        Some(record)
            if invocations
                .iter()
                .any(|i| i.reported_failures().contains(&record.message_id)) =>
        {
            problems.push("the original job must not come back for a callback failure".into())
        }
        Some(_) => {}
        None => problems.push("the worker never received the original job".into()),
    }
    if !s.dlq_is_empty().await {
        problems.push("a transient callback failure must not be dead-lettered".into());
    }
    if !s.worker.output().contains("callback queued for retry") {
        problems.push("the worker's log must say `callback queued for retry`".into());
    }
    fail_on(&s, &endpoint, &problems).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_secret_that_is_not_a_whsec_key_fails_the_workers_cold_start() {
    let route = r#"
[[route]]
path = "/hooks/github"
verify = "github"
secrets = ["env:GITHUB_WEBHOOK_SECRET"]
algorithm = "demo/Hello/0.1.0"
callback = { url = "http://127.0.0.1:9/results", secret = "env:CALLBACK_SECRET" }
"#;
    let config = config(route).replace("${ALGO_URL}", "http://127.0.0.1:9");
    let env = [
        ("HOOKRELAY_DLQ_URL", "http://127.0.0.1:9/123456789012/hookrelay-dlq"),
        ("CALLBACK_SECRET", "not-a-standard-webhooks-key"),
    ];
    let failed = start_failing_with("worker", &config, &env).await;
    assert_names_key(&failed, "worker", "route[0].callback.secret");
    assert!(
        !failed.init.body.contains("not-a-standard-webhooks-key")
            && !failed.process.report().contains("not-a-standard-webhooks-key"),
        "the secret leaked\n{}",
        failed.process.report()
    );
}
