//! The batch as a whole: panics isolated, the partial-batch response, bounded concurrency.

use super::support::*;

#[tokio::test]
async fn a_panic_fails_only_its_record() {
    let w = worker();
    let response = w.handle(jobs(&["a", "panic", "b"]), in_a_minute()).await;
    assert_eq!(failed_ids(&response), ["m-panic"]);
    assert!(w.actions.retries().is_empty() && w.actions.dead_letters().is_empty());
    assert_eq!(w.target.delivered.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_mixed_batch_reports_exactly_the_records_that_must_come_back() {
    let w = worker();
    let mut records = jobs(&["a", "status:400", "status:503", "panic", "b"]).records;
    records.push(record("m-garbage", "not an envelope", 1));
    let response = w.handle(event(records), in_a_minute()).await;
    assert_eq!(failed_ids(&response), ["m-panic", "m-status:503"]);
    let letters: Vec<_> = w.actions.dead_letters().into_iter().map(|l| l.message_id).collect();
    assert_eq!(letters, ["m-garbage", "m-status:400"]);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let w = Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::default(),
        MemoryActions::default(),
        settings(3, 30),
    );
    let inputs: Vec<String> = (0..20).map(|i| format!("x{i}")).collect();
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let response = w.handle(jobs(&inputs), in_a_minute()).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(w.target.delivered.lock().unwrap().len(), 20);
    let max = w.target.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "max in flight was {max}");
}

#[tokio::test]
async fn an_empty_batch_succeeds() {
    assert!(worker()
        .handle(SqsEvent::default(), in_a_minute())
        .await
        .batch_item_failures
        .is_empty());
}
