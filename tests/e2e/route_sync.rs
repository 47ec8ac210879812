//! Sync mode end to end: the ingress answers with the algorithm's result (or its error, or a 504
//! past `deadline_secs`) and queues nothing. (Conventions of the route tests: `routes.rs`.)

use std::time::Duration;

use serde_json::json;

use crate::routes::{fail_on, github, is_json, options, queued_total, reply_json, GITHUB_SECRETS};
use crate::{assert_algorithm_call, start};

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
