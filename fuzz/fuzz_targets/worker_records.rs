//! SQS records and envelopes in the worker: `Envelope::from_json` on any message body, and the
//! worker handler's record decoding over a batch (an `SqsEvent` as Lambda sends it, or one
//! record carrying the input as its body), with the target, callbacks and SQS actions in memory.
//!
//! Invariants: an envelope that parses round-trips (serialised again, it parses back equal); the
//! batch answer names only records of the batch; a record whose body is no envelope is never
//! acknowledged silently (it is dead-lettered or reported as a failure); every envelope the
//! target receives round-trips.
#![no_main]

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use hookrelay::{
    config::Config,
    delivery::call::{CallError, Delivered},
    delivery::callback::memory::MemoryCallbacks,
    delivery::retry::RetryPolicy,
    delivery::targets::JobTarget,
    wire::envelope::Envelope,
};
use worker::{
    actions::{ActionError, DeadLetter, RecordActions, RecordRef},
    handler::{CallTimeouts, Settings, Worker},
};

/// Answers every job at once, after checking that what it received round-trips.
struct CheckingTarget;

impl JobTarget for CheckingTarget {
    async fn deliver(&self, envelope: &Envelope) -> Result<Delivered, CallError> {
        hookrelay_fuzz::envelope::assert_round_trips(envelope);
        Ok(Delivered {
            status: 200,
            result: "ok".into(),
            metadata: serde_json::Value::Null,
        })
    }
}

/// The worker's SQS actions in memory: what was dead-lettered, by message id.
#[derive(Clone, Default)]
struct RecordingActions(Arc<Mutex<Vec<String>>>);

impl RecordActions for RecordingActions {
    async fn retry_later(&self, _record: &RecordRef, _delay: Duration) -> Result<(), ActionError> {
        Ok(())
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), ActionError> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(letter.message_id.clone());
        Ok(())
    }

    async fn enqueue(&self, _record: &RecordRef, job: &Envelope, _group_id: Option<&str>) -> Result<(), ActionError> {
        hookrelay_fuzz::envelope::assert_round_trips(job);
        Ok(())
    }
}

fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let config =
            Config::from_toml("[downstream]\ntimeout_secs = 5\n").unwrap_or_else(|e| panic!("worker fuzz config: {e}"));
        Settings {
            concurrency: 2,
            retry: RetryPolicy::default(),
            call_timeouts: CallTimeouts::from_config(&config),
        }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(envelope) = Envelope::from_json(&text) {
        hookrelay_fuzz::envelope::assert_round_trips(&envelope);
    }
    let event = serde_json::from_slice::<SqsEvent>(data).unwrap_or_else(|_| {
        let mut record = SqsMessage::default();
        record.message_id = Some("m-1".into());
        record.receipt_handle = Some("rh-1".into());
        record.body = Some(text.into_owned());
        let mut event = SqsEvent::default();
        event.records = vec![record];
        event
    });
    let ids: HashSet<String> = event
        .records
        .iter()
        .map(|r| r.message_id.clone().unwrap_or_default())
        .collect();
    let unreadable: Vec<String> = event
        .records
        .iter()
        .filter(|r| Envelope::from_json(r.body.as_deref().unwrap_or_default()).is_err())
        .map(|r| r.message_id.clone().unwrap_or_default())
        .collect();
    let actions = RecordingActions::default();
    let worker = Worker::new(
        CheckingTarget,
        MemoryCallbacks::for_routes(&["/hooks/callback"]),
        actions.clone(),
        settings().clone(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let answer = hookrelay_fuzz::block_on(worker.handle(event, deadline));
    let failed: HashSet<String> = answer
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    for id in &failed {
        assert!(ids.contains(id), "failure {id:?} names no record of the batch");
    }
    let dead: HashSet<String> = actions
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .cloned()
        .collect();
    for id in &unreadable {
        assert!(
            failed.contains(id) || dead.contains(id),
            "record {id:?} holds no envelope but was acknowledged without being dead-lettered"
        );
    }
});
