//! The worker handler: each SQS record is one job, delivered to its target concurrently (bounded).
//! The answer lists exactly the records that failed, so SQS retries those and only those.

use std::{collections::HashMap, sync::Arc, time::Instant};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use shared::{
    algorithm::{CallError, JobTarget},
    envelope::Envelope,
};
use tokio::{sync::Semaphore, task::JoinSet};
use tracing::{error, info, warn};

pub struct Worker<T> {
    target: Arc<T>,
    concurrency: usize,
}

/// Why one record failed; it stays on the queue (and reaches the DLQ after maxReceiveCount).
#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error("{0}")]
    Envelope(#[from] shared::envelope::EnvelopeError),
    #[error("{0}")]
    Call(#[from] CallError),
}

impl<T: JobTarget + 'static> Worker<T> {
    pub fn new(target: T, concurrency: usize) -> Self {
        Worker {
            target: Arc::new(target),
            concurrency: concurrency.max(1),
        }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let permits = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let mut message_ids = HashMap::with_capacity(event.records.len());
        for record in event.records {
            // An empty id, if ever reported, makes Lambda retry the whole batch: safe, never lossy.
            let message_id = record.message_id.clone().unwrap_or_default();
            let target = Arc::clone(&self.target);
            let permits = Arc::clone(&permits);
            let handle = tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                process(target.as_ref(), record).await
            });
            message_ids.insert(handle.id(), message_id);
        }

        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next_with_id().await {
            let (task_id, succeeded) = match joined {
                Ok((task_id, outcome)) => (task_id, outcome),
                Err(join_error) => {
                    // A panic fails this record only; the rest of the batch carries on.
                    error!(error = %join_error, "record handler panicked");
                    (join_error.id(), false)
                }
            };
            if !succeeded {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_ids.remove(&task_id).unwrap_or_default();
                failures.push(failure);
            }
        }
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        response
    }
}

async fn process<T: JobTarget>(target: &T, record: SqsMessage) -> bool {
    let message_id = record.message_id.as_deref().unwrap_or("");
    let attempt = record
        .attributes
        .get("ApproximateReceiveCount")
        .map(String::as_str)
        .unwrap_or("1");
    let envelope = match Envelope::from_json(record.body.as_deref().unwrap_or("")) {
        Ok(envelope) => envelope,
        Err(e) => {
            error!(message_id, attempt, error = %RecordError::from(e), "rejected queue message");
            return false;
        }
    };
    let started = Instant::now();
    let outcome = target.deliver(&envelope).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let delivery_id = envelope.delivery_id.as_deref().unwrap_or("");
    match outcome {
        Ok(delivered) => {
            info!(route = %envelope.route, id = %envelope.id, delivery_id, message_id, attempt,
                  status = delivered.status, duration_ms, algorithm = %envelope.target.algorithm, "delivered");
            true
        }
        Err(e) => {
            warn!(route = %envelope.route, id = %envelope.id, delivery_id, message_id, attempt,
                  status = e.status(), duration_ms, algorithm = %envelope.target.algorithm,
                  error = %RecordError::from(e), "delivery failed");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    };

    use shared::{
        algorithm::Delivered,
        config::AlgorithmPath,
        envelope::{Payload, Source, Target},
    };

    use super::*;

    /// A target that fails inputs containing "fail", panics on "panic", and tracks concurrency.
    #[derive(Default)]
    struct ScriptedTarget {
        delivered: Mutex<Vec<String>>,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
    }

    impl JobTarget for ScriptedTarget {
        async fn deliver(&self, envelope: &Envelope) -> Result<Delivered, CallError> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            let input = String::from_utf8(envelope.payload.to_bytes().unwrap()).unwrap();
            if input.contains("panic") {
                panic!("scripted panic");
            }
            if input.contains("fail") {
                return Err(CallError::Algorithm("scripted failure".into()));
            }
            self.delivered.lock().unwrap().push(input);
            Ok(Delivered {
                status: 200,
                result: "ok".into(),
                metadata: serde_json::Value::Null,
            })
        }
    }

    fn envelope(input: &str) -> String {
        Envelope {
            v: 1,
            id: format!("job-{input}"),
            source: Source::Webhook,
            route: "/hooks/x".into(),
            received_at: chrono::Utc::now(),
            delivery_id: None,
            content_type: None,
            target: Target {
                algorithm: AlgorithmPath::parse("k", "demo/Hello").unwrap(),
            },
            payload: Payload::Text(input.into()),
            s3: None,
        }
        .to_json()
    }

    fn event(bodies: &[(&str, String)]) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = bodies
            .iter()
            .map(|(id, body)| {
                let mut m = SqsMessage::default();
                m.message_id = Some((*id).into());
                m.body = Some(body.clone());
                m
            })
            .collect();
        event
    }

    fn failed_ids(response: &SqsBatchResponse) -> Vec<String> {
        let mut ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        ids.sort();
        ids
    }

    #[tokio::test]
    async fn reports_exactly_the_failed_records() {
        let worker = Worker::new(ScriptedTarget::default(), 4);
        let response = worker
            .handle(event(&[
                ("m1", envelope("a")),
                ("m2", envelope("please fail")),
                ("m3", envelope("b")),
                ("m4", "not an envelope".into()),
                ("m5", envelope("panic now")),
                ("m6", envelope("c").replace("\"v\":1", "\"v\":9")),
            ]))
            .await;
        assert_eq!(failed_ids(&response), ["m2", "m4", "m5", "m6"]);
        let mut delivered = worker.target.delivered.lock().unwrap().clone();
        delivered.sort();
        assert_eq!(delivered, ["a", "b"]);
    }

    #[tokio::test]
    async fn concurrency_is_bounded() {
        let worker = Worker::new(ScriptedTarget::default(), 3);
        let records: Vec<_> = (0..20).map(|i| (format!("m{i}"), envelope(&format!("x{i}")))).collect();
        let borrowed: Vec<_> = records.iter().map(|(id, b)| (id.as_str(), b.clone())).collect();
        let response = worker.handle(event(&borrowed)).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(worker.target.delivered.lock().unwrap().len(), 20);
        let max = worker.target.max_in_flight.load(Ordering::SeqCst);
        assert!((2..=3).contains(&max), "max in flight was {max}");
    }

    #[tokio::test]
    async fn an_empty_batch_succeeds() {
        let worker = Worker::new(ScriptedTarget::default(), 3);
        assert!(worker.handle(SqsEvent::default()).await.batch_item_failures.is_empty());
    }
}
