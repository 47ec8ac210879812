//! The three S3 event shapes (direct notification, via SQS (and SNS), EventBridge) through
//! shared/src/inbound/s3_event/ and the s3-relay handler, with the queue in memory.
//!
//! Invariants: parsing never panics; every queued envelope round-trips; relaying the same event
//! twice queues the same job ids (a retried event never makes new jobs); the SQS batch answer
//! names only message ids of the batch; every decoded object has a bucket and a key.
#![no_main]

use std::{collections::HashSet, sync::OnceLock};

use hookrelay::{
    config::Config,
    inbound::s3_event::{decode_key, parse_invocation, S3Invocation},
};
use hookrelay_fuzz::harness::{RecordingQueue, SharedQueue};
use s3_relay::handler::S3Relay;
use serde_json::Value;

const CONFIG: &str = r#"
[s3]
algorithm = "demo/Hello/0.1.0"

[[s3.rule]]
prefix = "uploads/"
suffix = ".jpg"
algorithm = "vision/Thumbnail/1.0.0"
input = "uri"

[[s3.rule]]
suffix = ".csv"
algorithm = "acme/CsvImport/0.9.0"
input = "record"
"#;

fn relay() -> &'static (S3Relay<SharedQueue>, SharedQueue) {
    static RELAY: OnceLock<(S3Relay<SharedQueue>, SharedQueue)> = OnceLock::new();
    RELAY.get_or_init(|| {
        let config = Config::from_toml(CONFIG).unwrap_or_else(|e| panic!("s3 fuzz config: {e}"));
        let queue = SharedQueue::default();
        let rules = config.s3.expect("an [s3] section").rules;
        (S3Relay::new(queue.clone(), rules), queue)
    })
}

fn queued_ids(queue: &RecordingQueue) -> Vec<String> {
    queue
        .take()
        .iter()
        .map(|envelope| {
            hookrelay_fuzz::envelope::assert_round_trips(envelope);
            envelope.id.clone()
        })
        .collect()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_key(text);
    }
    let Ok(event) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(invocation) = parse_invocation(&event) {
        let objects: Vec<_> = match &invocation {
            S3Invocation::Direct(records) => records.iter().flatten().collect(),
            S3Invocation::ViaSqs(deliveries) => deliveries.iter().flat_map(|d| d.objects.iter().flatten()).collect(),
            S3Invocation::EventBridge(record) => record.iter().flatten().collect(),
        };
        for object in objects {
            assert!(!object.bucket.is_empty() && !object.key.is_empty(), "{object:?}");
        }
    }
    let (relay, queue) = relay();
    let first = hookrelay_fuzz::block_on(relay.handle(event.clone()));
    let first_ids = queued_ids(&queue.0);
    let second = hookrelay_fuzz::block_on(relay.handle(event.clone()));
    let second_ids = queued_ids(&queue.0);
    assert_eq!(first_ids, second_ids, "a retried event queued other job ids");
    assert_eq!(first.is_ok(), second.is_ok());
    if let Ok(answer) = first {
        if let Some(failures) = answer.get("batchItemFailures").and_then(Value::as_array) {
            let ids: HashSet<&str> = event["Records"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("messageId").and_then(Value::as_str))
                .collect();
            for failure in failures {
                let id = failure["itemIdentifier"].as_str().unwrap_or_default();
                assert!(
                    id.is_empty() || ids.contains(id),
                    "failure {id:?} names no message of the batch"
                );
            }
        }
    }
});
