//! (g) Worker faults: a permanent failure (a 400 from the algorithm, an envelope this worker
//! cannot read) is dead-lettered after ONE attempt, with the reason in message attributes, and
//! deleted from the jobs queue; a transient one (503) comes back with a growing receive count
//! (after a backoff set with ChangeMessageVisibility) until the algorithm recovers, and is then
//! delivered, never dead-lettered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use aws_sdk_sqs::types::Message;
use hookrelay_e2e::{Failure, GithubDelivery, Stack, StackOptions};

use crate::{config, start, ALGO_KEY, GITHUB_ROUTE, GITHUB_SECRET};

/// The default config with a call timeout that fits the functions' 30 s invocation timeout (the
/// worker never starts a call that could outlive its invocation).
fn options() -> StackOptions {
    StackOptions::new(&config(GITHUB_ROUTE).replace("timeout_secs = 30", "timeout_secs = 10"))
        .env("GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)
        .env("ALGO_API_KEY", ALGO_KEY)
        .visibility_timeout(2)
}

/// Every message now in the DLQ (left visible), once there are at least `n`.
async fn dead_letters(s: &Stack, n: usize) -> Vec<Message> {
    s.wait_for(&format!("{n} message(s) in the DLQ"), || async {
        let messages = s.moto.receive(&s.dlq.url, 0, 0).await.ok()?;
        (messages.len() >= n).then_some(messages)
    })
    .await
}

/// The string value of each message attribute.
fn attributes(message: &Message) -> HashMap<String, String> {
    message
        .message_attributes()
        .map(|attrs| {
            attrs
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Problems with a dead letter's attributes: reason containing `error`, `status`, `route`,
/// one attempt, and a failure time.
fn check_dead_letter(message: &Message, error: &str, status: Option<&str>, route: &str) -> Vec<String> {
    let attrs = attributes(message);
    let mut problems = Vec::new();
    if !attrs.get("hookrelay-error").is_some_and(|e| e.contains(error)) {
        problems.push(format!("hookrelay-error should contain {error:?}"));
    }
    if attrs.get("hookrelay-status").map(String::as_str) != status {
        problems.push(format!("hookrelay-status should be {status:?}"));
    }
    if attrs.get("hookrelay-route").map(String::as_str) != Some(route) {
        problems.push(format!("hookrelay-route should be {route:?}"));
    }
    if attrs.get("hookrelay-attempts").map(String::as_str) != Some("1") {
        problems.push("hookrelay-attempts should be 1".into());
    }
    if attrs
        .get("hookrelay-failed-at")
        .is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_err())
    {
        problems.push("hookrelay-failed-at should be an RFC 3339 time".into());
    }
    if problems.is_empty() {
        return problems;
    }
    vec![format!(
        "dead letter {:?}: {} (attributes {attrs:?})",
        message.message_id(),
        problems.join("; ")
    )]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_is_dead_lettered_after_one_attempt_with_the_reason() {
    let s = start(options()).await;
    s.algorithm.fail_when(
        |r| r.body_text().contains("indigestible"),
        Failure::AlgorithmError("cannot digest this".into()),
    );
    let body = r#"{"n":1,"indigestible":true}"#;
    let reply = GithubDelivery::json(GITHUB_SECRET, body)
        .send(&s.http, &s.url("/hooks/github"))
        .await;
    if reply.status != 200 {
        s.fail(&format!("webhook not queued: {reply}")).await;
    }

    let dead = dead_letters(&s, 1).await;
    // Deleted from the jobs queue: nothing can deliver it again, so every count below is final.
    s.wait_queue_empty(&s.jobs).await;

    let source = s.worker_source();
    let invocations = source.invocations();
    let Some(record) = invocations
        .iter()
        .flat_map(|i| &i.records)
        .find(|r| r.body.contains("indigestible"))
    else {
        s.fail("the worker never received the job").await
    };
    let mut problems = Vec::new();
    let deliveries = source.deliveries_of(&record.message_id);
    if deliveries.len() != 1 || deliveries[0].receive_count != 1 {
        problems.push(format!(
            "expected exactly one attempt, got receive counts {:?}",
            deliveries.iter().map(|d| d.receive_count).collect::<Vec<_>>()
        ));
    }
    if invocations
        .iter()
        .any(|i| i.reported_failures().contains(&record.message_id))
    {
        problems.push("a dead-lettered job must not be reported in batchItemFailures".into());
    }
    let calls = s.algorithm.requests_with_body(body.as_bytes()).len();
    if calls != 1 {
        problems.push(format!("the algorithm was called {calls} times (expected once)"));
    }
    if dead.len() != 1 || dead[0].body() != Some(record.body.as_str()) {
        problems.push("the DLQ must hold exactly the original message body".into());
    }
    problems.extend(check_dead_letter(&dead[0], "400", Some("400"), "/hooks/github"));
    let output = s.worker.output();
    if !output.contains("dead-lettered") {
        problems.push("the worker's log line must say dead-lettered".into());
    }
    if output.contains("indigestible") {
        problems.push("the worker logged the payload".into());
    }
    if !problems.is_empty() {
        s.fail(&problems.join("\n")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_with_backoff_then_delivered_once_the_algorithm_recovers() {
    const FAILURES: usize = 2;
    let s = start(options().max_receive_count(10)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    s.algorithm.fail_when(
        move |r| r.body_text().contains("flaky") && counter.fetch_add(1, Ordering::SeqCst) < FAILURES,
        Failure::Status(503, "overloaded, try again".into()),
    );
    let body = r#"{"n":2,"flaky":true}"#;
    let reply = GithubDelivery::json(GITHUB_SECRET, body)
        .send(&s.http, &s.url("/hooks/github"))
        .await;
    if reply.status != 200 {
        s.fail(&format!("webhook not queued: {reply}")).await;
    }

    let source = s.worker_source();
    let message_id = s
        .wait_for("the job to be delivered and deleted", || async {
            source
                .invocations()
                .iter()
                .flat_map(|i| i.deleted.iter().map(move |id| (i, id)))
                .find(|(i, id)| {
                    i.records
                        .iter()
                        .any(|r| &r.message_id == *id && r.body.contains("flaky"))
                })
                .map(|(_, id)| id.clone())
        })
        .await;
    s.wait_queue_empty(&s.jobs).await;

    let mut problems = Vec::new();
    let counts: Vec<u32> = source
        .deliveries_of(&message_id)
        .iter()
        .map(|d| d.receive_count)
        .collect();
    let expected: Vec<u32> = (1..=FAILURES as u32 + 1).collect();
    if counts != expected {
        problems.push(format!("receive counts {counts:?}, expected {expected:?}"));
    }
    for invocation in source.invocations() {
        let Some(attempt) = invocation.records.iter().find(|r| r.message_id == message_id) else {
            continue;
        };
        let reported = invocation.reported_failures().contains(&message_id);
        let should_fail = (attempt.receive_count as usize) <= FAILURES;
        if reported != should_fail {
            problems.push(format!(
                "attempt {} reported failed: {reported} (expected {should_fail})",
                attempt.receive_count
            ));
        }
    }
    let n = s.algorithm.requests_with_body(body.as_bytes()).len();
    if n != FAILURES + 1 {
        problems.push(format!(
            "the algorithm was called {n} times (expected {})",
            FAILURES + 1
        ));
    }
    if !s.dlq_is_empty().await {
        problems.push("a transient failure must not be dead-lettered".into());
    }
    // The backoff was applied (the log line says so only once ChangeMessageVisibility succeeded).
    let retries = s.worker.output().matches("retry in ").count();
    if retries != FAILURES {
        problems.push(format!("{retries} \"retry in\" log lines (expected {FAILURES})"));
    }
    if !problems.is_empty() {
        s.fail(&problems.join("\n")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_envelopes_are_dead_lettered_at_once() {
    let s = start(options()).await;
    let future = serde_json::json!({
        "v": 2,
        "id": "job-from-the-future",
        "route": "/hooks/github",
        "payload": {"text": "{}"},
        "shiny_new_field": true,
    })
    .to_string();
    let garbage = "this is not an envelope";
    let future_id = s.moto.send_message(&s.jobs.url, &future).await;
    let garbage_id = s.moto.send_message(&s.jobs.url, garbage).await;

    let dead = dead_letters(&s, 2).await;
    s.wait_queue_empty(&s.jobs).await;

    let mut problems = Vec::new();
    let source = s.worker_source();
    for id in [&future_id, &garbage_id] {
        let counts: Vec<u32> = source.deliveries_of(id).iter().map(|d| d.receive_count).collect();
        if counts != [1] {
            problems.push(format!("{id}: receive counts {counts:?}, expected exactly one attempt"));
        }
        if source.invocations().iter().any(|i| i.reported_failures().contains(id)) {
            problems.push(format!("{id}: a dead-lettered message must not be reported failed"));
        }
    }
    if !s.algorithm.requests().is_empty() {
        problems.push("an unreadable envelope must never reach the algorithm".into());
    }
    match dead.iter().find(|m| m.body() == Some(future.as_str())) {
        Some(m) => problems.extend(check_dead_letter(
            m,
            "unsupported envelope version 2",
            None,
            "/hooks/github",
        )),
        None => problems.push("the unknown-version envelope is not in the DLQ unchanged".into()),
    }
    match dead.iter().find(|m| m.body() == Some(garbage)) {
        Some(m) => {
            let attrs = attributes(m);
            if !attrs
                .get("hookrelay-error")
                .is_some_and(|e| e.contains("not a hookrelay envelope"))
                || attrs.contains_key("hookrelay-route")
                || attrs.get("hookrelay-attempts").map(String::as_str) != Some("1")
            {
                problems.push(format!("garbage dead letter has attributes {attrs:?}"));
            }
        }
        None => problems.push("the garbage message is not in the DLQ unchanged".into()),
    }
    if !problems.is_empty() {
        s.fail(&problems.join("\n")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_refuses_to_start_without_a_dead_letter_queue() {
    // `start_failing_with` sets no HOOKRELAY_DLQ_URL.
    let config = config(GITHUB_ROUTE).replace("${ALGO_URL}", "http://127.0.0.1:9");
    let failed = crate::config_errors::start_failing_with("worker", &config, &[]).await;
    crate::config_errors::assert_names_key(&failed, "worker", "HOOKRELAY_DLQ_URL");
}
