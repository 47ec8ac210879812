//! What becomes of each outcome of a delivery: deleted, retried after the backoff, dead-lettered.

use super::support::*;

#[tokio::test]
async fn delivered_records_are_not_reported() {
    let w = worker();
    let response = w.handle(jobs(&["a", "b"]), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty());
    assert_eq!(w.target.delivered.lock().unwrap().len(), 2);
    assert!(w.actions.retries().is_empty() && w.actions.dead_letters().is_empty());
}

#[tokio::test]
async fn permanent_failures_are_dead_lettered_at_once_and_not_reported() {
    let w = worker();
    let mut records = vec![record("m-400", &envelope_json("status:400"), 3)];
    records.push(record("m-404", &envelope_json("status:404"), 1));
    records.push(record("m-algo", &envelope_json("algorithm-error"), 1));
    let response = w.handle(event(records), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    assert!(w.actions.retries().is_empty());
    let letters = w.actions.dead_letters();
    let ids: Vec<_> = letters.iter().map(|l| l.message_id.as_str()).collect();
    assert_eq!(ids, ["m-400", "m-404", "m-algo"]);

    let first = &letters[0];
    assert!(first.body.contains(r#""id":"job-status:400""#), "{}", first.body);
    assert_eq!(first.status, Some(400));
    assert_eq!(first.route.as_deref(), Some("/hooks/x"));
    assert_eq!(first.attempts, 3);
    assert!(first.error.contains("400"), "{}", first.error);
    assert!((chrono::Utc::now() - first.failed_at).num_seconds().abs() < 60);
    assert_eq!(letters[2].status, None);
    assert!(letters[2].error.contains("scripted failure"), "{}", letters[2].error);
    assert_eq!(w.target.calls.load(Ordering::SeqCst), 3, "one attempt each");
}

#[tokio::test]
async fn the_dead_letter_carries_the_original_body_unchanged() {
    let w = worker();
    let body = envelope_json("status:422");
    w.handle(event(vec![record("m1", &body, 1)]), in_a_minute()).await;
    assert_eq!(w.actions.dead_letters()[0].body, body);
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_without_a_call() {
    let w = worker();
    let mut unknown_version: serde_json::Value = serde_json::from_str(&envelope_json("a")).unwrap();
    unknown_version["v"] = 9.into();
    let mut bad_base64: serde_json::Value = serde_json::from_str(&envelope_json("a")).unwrap();
    bad_base64["payload"] = serde_json::json!({"base64": "!!"});
    let records = vec![
        record("m1-garbage", "not an envelope", 1),
        record("m2-version", &unknown_version.to_string(), 1),
        record("m3-empty", "", 1),
        record("m4-base64", &bad_base64.to_string(), 1),
    ];
    let response = w.handle(event(records), in_a_minute()).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    let letters = w.actions.dead_letters();
    assert_eq!(letters.len(), 4);
    assert!(
        letters[0].error.contains("not a hookrelay envelope"),
        "{}",
        letters[0].error
    );
    assert_eq!(letters[0].route, None);
    assert!(
        letters[1].error.contains("unsupported envelope version 9"),
        "{}",
        letters[1].error
    );
    assert_eq!(
        letters[1].route.as_deref(),
        Some("/hooks/x"),
        "best effort from the JSON"
    );
    assert_eq!(letters[1].body, unknown_version.to_string());
    assert!(letters[3].error.contains("base64"), "{}", letters[3].error);
    // Only the bad-base64 job reached the target (whose client refuses it as a bad job).
    assert_eq!(w.target.calls.load(Ordering::SeqCst), 1);
    assert!(w.target.delivered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn transient_failures_are_reported_and_hidden_for_the_backoff() {
    let w = worker();
    let inputs = [
        "status:500",
        "status:503",
        "status:429",
        "status:408",
        "timeout",
        "connection",
        "unreadable",
    ];
    let receive_count = 4;
    let records = inputs
        .iter()
        .map(|input| record(&format!("m-{input}"), &envelope_json(input), receive_count))
        .collect();
    let response = w.handle(event(records), in_a_minute()).await;
    let mut expected: Vec<String> = inputs.iter().map(|i| format!("m-{i}")).collect();
    expected.sort();
    assert_eq!(failed_ids(&response), expected);
    assert!(w.actions.dead_letters().is_empty());
    let retries = w.actions.retries();
    assert_eq!(retries.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(), expected);
    let ceiling = RetryPolicy::default().backoff_ceiling(receive_count);
    assert_eq!(ceiling, Duration::from_secs(16));
    for (id, delay) in retries {
        assert!(delay <= ceiling, "{id}: {delay:?}");
    }
}

#[tokio::test]
async fn retry_after_from_the_target_is_honoured() {
    let w = worker();
    let response = w
        .handle(jobs(&["retry-after:120", "retry-after:999999"]), in_a_minute())
        .await;
    assert_eq!(failed_ids(&response).len(), 2);
    assert_eq!(
        w.actions.retries(),
        [
            ("m-retry-after:120".to_owned(), Duration::from_secs(120)),
            (
                "m-retry-after:999999".to_owned(),
                hookrelay::delivery::retry_after::SQS_MAX_VISIBILITY
            ),
        ]
    );
}

#[tokio::test]
async fn a_failed_visibility_change_still_reports_the_record() {
    let w = worker();
    w.actions.visibility_down.store(true, Ordering::SeqCst);
    let response = w.handle(jobs(&["status:503"]), in_a_minute()).await;
    assert_eq!(failed_ids(&response), ["m-status:503"]);
}

#[tokio::test]
async fn a_failed_dlq_send_reports_the_record_so_it_is_not_lost() {
    let w = worker();
    w.actions.dlq_down.store(true, Ordering::SeqCst);
    let mut records = jobs(&["status:400", "ok"]).records;
    records.push(record("m-poison", "{}", 1));
    let response = w.handle(event(records), in_a_minute()).await;
    assert_eq!(failed_ids(&response), ["m-poison", "m-status:400"]);
    assert!(w.actions.dead_letters().is_empty() && w.actions.retries().is_empty());
}
