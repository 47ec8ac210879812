//! The s3-relay handler: every object-created record becomes one queued job, whichever way the
//! event arrived (direct S3 notification, S3 → SQS, EventBridge).
//!
//! Failure semantics follow the trigger: for SQS, the messages whose objects could not all be
//! queued are reported in `batchItemFailures`; for direct and EventBridge (async) invocations the
//! invocation fails so Lambda retries it. Job ids are derived from the object event, so a retry
//! re-sends the same ids (at-least-once, never silently new jobs).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse};
use hookrelay::{
    config::S3Rule,
    inbound::s3_event::{parse_invocation, S3Invocation, S3Object},
    queue::{JobQueue, MessageKeys},
    wire::envelope::Envelope,
};
use serde_json::{json, Value};
use tracing::{info, warn};

pub struct S3Relay<Q> {
    queue: Q,
    /// `[[s3.rule]]` in order, then the `[s3]` default; the first match decides.
    rules: Vec<S3Rule>,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("{failed} of {total} S3 records could not be queued; failing the invocation so it is retried")]
    Incomplete { failed: usize, total: usize },
    #[error("{0}")]
    Event(#[from] hookrelay::inbound::s3_event::S3EventError),
}

impl From<RelayError> for lambda_runtime::Diagnostic {
    fn from(error: RelayError) -> Self {
        let error_type = match error {
            RelayError::Incomplete { .. } => "HookrelayS3RecordsNotQueued",
            RelayError::Event(_) => "HookrelayUnrecognisedEvent",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

impl<Q: JobQueue> S3Relay<Q> {
    pub fn new(queue: Q, rules: Vec<S3Rule>) -> Self {
        S3Relay { queue, rules }
    }

    pub async fn handle(&self, event: Value) -> Result<Value, RelayError> {
        match parse_invocation(&event)? {
            S3Invocation::Direct(records) => self.relay_all(records).await,
            S3Invocation::EventBridge(record) => match record {
                Ok(None) => Ok(json!({ "queued": 0 })),
                Ok(Some(object)) => self.relay_all(vec![Ok(object)]).await,
                Err(e) => self.relay_all(vec![Err(e)]).await,
            },
            S3Invocation::ViaSqs(deliveries) => {
                let mut response = SqsBatchResponse::default();
                for delivery in deliveries {
                    let queued = match delivery.objects {
                        Ok(objects) => self.queue_each(objects.iter()).await == objects.len(),
                        Err(e) => {
                            warn!(message_id = %delivery.message_id, error = %e, "unusable S3 notification");
                            false
                        }
                    };
                    if !queued {
                        let mut failure = BatchItemFailure::default();
                        failure.item_identifier = delivery.message_id;
                        response.batch_item_failures.push(failure);
                    }
                }
                Ok(serde_json::to_value(response).expect("a batch response always serialises"))
            }
        }
    }

    async fn relay_all(
        &self,
        records: Vec<Result<S3Object, hookrelay::inbound::s3_event::S3EventError>>,
    ) -> Result<Value, RelayError> {
        let total = records.len();
        let mut objects = Vec::with_capacity(total);
        for record in records {
            match record {
                Ok(object) => objects.push(object),
                Err(e) => warn!(error = %e, "unusable S3 record"),
            }
        }
        let queued = self.queue_each(objects.iter()).await;
        if queued < total {
            return Err(RelayError::Incomplete {
                failed: total - queued,
                total,
            });
        }
        Ok(json!({ "queued": queued }))
    }

    /// Queues each object, returning how many were handled (queued, or matched by no rule).
    async fn queue_each(&self, objects: impl Iterator<Item = &S3Object>) -> usize {
        let mut queued = 0;
        for object in objects {
            let Some(rule) = self.rules.iter().find(|r| r.matches(&object.bucket, &object.key)) else {
                info!(bucket = %object.bucket, "no S3 rule matches the object; skipped");
                queued += 1;
                continue;
            };
            let envelope = Envelope::for_s3_object(object, &rule.target, rule.input, chrono::Utc::now());
            let keys = MessageKeys {
                group: object.bucket.clone(),
                dedup: envelope.id.clone(),
            };
            match self.queue.enqueue(&envelope, &keys).await {
                Ok(message_id) => {
                    info!(id = %envelope.id, message_id = %message_id, bucket = %object.bucket, "queued S3 object");
                    queued += 1;
                }
                Err(e) => {
                    warn!(id = %envelope.id, bucket = %object.bucket, error = %e, "could not queue S3 object")
                }
            }
        }
        queued
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use hookrelay::queue::memory::MemoryQueue;

    use super::*;

    fn relay() -> S3Relay<MemoryQueue> {
        relay_with("[s3]\nalgorithm = \"demo/Hello/0.1.0\"")
    }

    fn relay_with(config: &str) -> S3Relay<MemoryQueue> {
        let config = hookrelay::config::Config::from_toml(config).unwrap();
        S3Relay::new(MemoryQueue::default(), config.s3.unwrap().rules)
    }

    fn s3_record(key: &str) -> Value {
        json!({
            "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "eventTime": "2026-11-23T10:00:00.000Z",
            "s3": { "bucket": { "name": "uploads" }, "object": { "key": key, "size": 12 } }
        })
    }

    fn inputs(queue: &MemoryQueue) -> Vec<String> {
        queue
            .taken()
            .iter()
            .map(|e| String::from_utf8(e.payload.to_bytes().unwrap()).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn every_direct_record_becomes_a_job_with_the_decoded_key() {
        let relay = relay();
        let event = json!({ "Records": [s3_record("my+photo%281%29.jpg"), s3_record("docs%2Fa%2Bb.txt")] });
        assert_eq!(relay.handle(event).await.unwrap(), json!({ "queued": 2 }));
        assert_eq!(inputs(&relay.queue), ["\"my photo(1).jpg\"", "\"docs/a+b.txt\""]);
        let s3 = relay.queue.taken()[0].s3.clone().unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.key.as_str(), s3.size),
            ("uploads", "my photo(1).jpg", Some(12))
        );
    }

    #[tokio::test]
    async fn via_sqs_reports_only_the_messages_that_failed() {
        let relay = relay();
        let body = |key: &str| json!({ "Records": [s3_record(key)] }).to_string();
        let event = json!({ "Records": [
            { "eventSource": "aws:sqs", "messageId": "ok-1", "body": body("a.jpg") },
            { "eventSource": "aws:sqs", "messageId": "bad-1", "body": "test" },
            { "eventSource": "aws:sqs", "messageId": "ok-2", "body": body("b.jpg") },
        ]});
        let response = relay.handle(event).await.unwrap();
        assert_eq!(
            response,
            json!({ "batchItemFailures": [{ "itemIdentifier": "bad-1" }] })
        );
        assert_eq!(inputs(&relay.queue), ["\"a.jpg\"", "\"b.jpg\""]);
    }

    #[tokio::test]
    async fn eventbridge_object_created_is_relayed() {
        let relay = relay();
        let event = json!({ "source": "aws.s3", "detail-type": "Object Created", "time": "2026-11-23T10:00:00Z",
            "detail": { "bucket": { "name": "uploads" }, "object": { "key": "my+photo%281%29.jpg", "size": 3 } } });
        relay.handle(event).await.unwrap();
        assert_eq!(inputs(&relay.queue), ["\"my photo(1).jpg\""]);
    }

    #[tokio::test]
    async fn a_queue_outage_fails_the_invocation_or_the_sqs_message() {
        let relay = relay();
        relay.queue.unavailable.store(true, Ordering::SeqCst);
        let direct = json!({ "Records": [s3_record("a.jpg")] });
        assert!(matches!(
            relay.handle(direct.clone()).await,
            Err(RelayError::Incomplete { failed: 1, total: 1 })
        ));
        let via_sqs =
            json!({ "Records": [{ "eventSource": "aws:sqs", "messageId": "m1", "body": direct.to_string() }] });
        assert_eq!(
            relay.handle(via_sqs).await.unwrap(),
            json!({ "batchItemFailures": [{ "itemIdentifier": "m1" }] })
        );
    }

    #[tokio::test]
    async fn test_events_and_unknown_shapes() {
        let relay = relay();
        let test_event = json!({ "Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "uploads" });
        let via_sqs =
            json!({ "Records": [{ "eventSource": "aws:sqs", "messageId": "m1", "body": test_event.to_string() }] });
        assert_eq!(relay.handle(via_sqs).await.unwrap(), json!({ "batchItemFailures": [] }));
        assert!(relay.handle(json!({ "hello": "world" })).await.is_err());
        assert!(relay.queue.taken().is_empty());
    }

    #[tokio::test]
    async fn a_retried_event_keeps_its_job_ids() {
        let relay = relay();
        let event = json!({ "Records": [s3_record("a.jpg")] });
        relay.handle(event.clone()).await.unwrap();
        relay.handle(event).await.unwrap();
        let ids: Vec<_> = relay.queue.taken().into_iter().map(|e| e.id).collect();
        assert_eq!(ids[0], ids[1]);
    }

    #[tokio::test]
    async fn rules_route_objects_and_shape_their_input() {
        let relay = relay_with(
            r#"
            [[s3.rule]]
            prefix = "uploads/"
            suffix = ".jpg"
            algorithm = "demo/Resize/1.0"
            input = "uri"
            [[s3.rule]]
            bucket = "uploads"
            suffix = ".csv"
            algorithm = "demo/Csv"
            input = "record"
            "#,
        );
        let event = json!({ "Records": [s3_record("uploads/a.jpg"), s3_record("b.csv"), s3_record("c.txt")] });
        assert_eq!(relay.handle(event).await.unwrap(), json!({ "queued": 3 }));
        let jobs = relay.queue.taken();
        assert_eq!(jobs.len(), 2, "c.txt matches no rule and is skipped");
        assert_eq!(jobs[0].target.algorithm.as_ref().unwrap().as_str(), "demo/Resize/1.0");
        assert_eq!(jobs[0].payload.to_bytes().unwrap(), b"\"s3://uploads/uploads/a.jpg\"");
        assert_eq!(jobs[1].target.algorithm.as_ref().unwrap().as_str(), "demo/Csv");
        let record: Value = serde_json::from_slice(&jobs[1].payload.to_bytes().unwrap()).unwrap();
        assert_eq!(
            (
                record["bucket"].as_str(),
                record["key"].as_str(),
                record["size"].as_u64()
            ),
            (Some("uploads"), Some("b.csv"), Some(12))
        );
    }
}
