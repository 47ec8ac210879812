//! The invocation deadline: what does not start, what is cut short, when the answer is sent.

use super::support::*;

#[tokio::test(start_paused = true)]
async fn records_that_cannot_finish_before_the_deadline_are_not_started() {
    // One at a time, 4 s each, 10 s call timeout, 15 s left: the first starts (10 + 2 fit),
    // the others would have 11 s left when their turn comes, so they do not start.
    let w = Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::default(),
        MemoryActions::default(),
        settings(1, 10),
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    let response = w.handle(jobs(&["sleep:4", "sleep:4.0", "sleep:4.00"]), deadline).await;
    assert_eq!(w.target.calls.load(Ordering::SeqCst), 1);
    assert_eq!(failed_ids(&response).len(), 2, "{response:?}");
    assert!(!failed_ids(&response).contains(&format!("m-{}", w.target.delivered.lock().unwrap()[0])));
    assert!(
        w.actions.retries().is_empty(),
        "unstarted records keep their visibility"
    );
    assert!(w.actions.dead_letters().is_empty());
}

#[tokio::test(start_paused = true)]
async fn nothing_starts_past_the_deadline_not_even_dead_lettering() {
    let w = worker();
    let mut records = jobs(&["ok"]).records;
    records.push(record("m-poison", "not an envelope", 1));
    let response = w.handle(event(records), Instant::now() + Duration::from_secs(1)).await;
    assert_eq!(failed_ids(&response), ["m-ok", "m-poison"]);
    assert_eq!(w.target.calls.load(Ordering::SeqCst), 0);
    assert!(w.actions.dead_letters().is_empty() && w.actions.retries().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_timeout_longer_than_the_invocation_still_lets_jobs_be_tried() {
    // timeout_secs 60 can never fit a 20 s invocation: calls get the time left instead.
    let w = Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::default(),
        MemoryActions::default(),
        settings(4, 60),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let response = w.handle(jobs(&["ok", "sleep:30"]), deadline).await;
    assert_eq!(failed_ids(&response), ["m-sleep:30"]);
    assert_eq!(*w.target.delivered.lock().unwrap(), ["ok"]);
    let retries = w.actions.retries();
    assert_eq!(retries.len(), 1, "cut short as a timeout: transient");
    assert!(Instant::now() <= deadline);
}

#[tokio::test(start_paused = true)]
async fn the_answer_is_sent_before_the_deadline_even_if_sqs_stalls() {
    #[derive(Default)]
    struct StalledActions;
    impl RecordActions for StalledActions {
        async fn retry_later(&self, _: &RecordRef, _: Duration) -> Result<(), crate::actions::ActionError> {
            std::future::pending().await
        }
        async fn dead_letter(&self, _: &DeadLetter) -> Result<(), crate::actions::ActionError> {
            std::future::pending().await
        }
        async fn enqueue(
            &self,
            _: &RecordRef,
            _: &Envelope,
            _: Option<&str>,
        ) -> Result<(), crate::actions::ActionError> {
            std::future::pending().await
        }
    }
    let w = Worker::new(
        ScriptedTarget::default(),
        MemoryCallbacks::default(),
        StalledActions,
        settings(4, 10),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let response = w.handle(jobs(&["ok", "status:503", "status:400"]), deadline).await;
    assert_eq!(failed_ids(&response), ["m-status:400", "m-status:503"]);
    assert!(Instant::now() <= deadline - ANSWER_MARGIN);
}
