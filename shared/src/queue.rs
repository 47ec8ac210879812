//! The job queue port and its SQS adapter.

use std::future::Future;

use crate::{config::SQS_MAX_MESSAGE_BYTES, envelope::Envelope};

pub const QUEUE_URL_ENV: &str = "HOOKRELAY_QUEUE_URL";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The message would exceed what SQS accepts.
    #[error("message of {0} bytes exceeds the queue's limit")]
    TooLarge(usize),
    /// The queue could not take the message now; the sender should retry.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// Where jobs go. `enqueue` returns only once the message is durably accepted.
pub trait JobQueue: Send + Sync {
    /// Returns the queue's message id.
    fn enqueue(&self, envelope: &Envelope) -> impl Future<Output = Result<String, QueueError>> + Send;
}

#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsJobQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsJobQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, envelope: &Envelope) -> Result<String, QueueError> {
        let body = envelope.to_json();
        if body.len() > SQS_MAX_MESSAGE_BYTES {
            return Err(QueueError::TooLarge(body.len()));
        }
        let output = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| QueueError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(output.message_id.unwrap_or_default())
    }
}

/// An in-memory queue for unit tests of the handlers.
pub mod memory {
    use std::sync::Mutex;

    use super::*;

    #[derive(Debug, Default)]
    pub struct MemoryQueue {
        pub messages: Mutex<Vec<Envelope>>,
        /// When set, every enqueue fails as if SQS were down.
        pub unavailable: std::sync::atomic::AtomicBool,
    }

    impl MemoryQueue {
        pub fn taken(&self) -> Vec<Envelope> {
            self.messages.lock().unwrap().clone()
        }
    }

    impl JobQueue for MemoryQueue {
        async fn enqueue(&self, envelope: &Envelope) -> Result<String, QueueError> {
            if self.unavailable.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(QueueError::Unavailable("memory queue switched off".into()));
            }
            let mut messages = self.messages.lock().unwrap();
            messages.push(envelope.clone());
            Ok(format!("m-{}", messages.len()))
        }
    }
}
