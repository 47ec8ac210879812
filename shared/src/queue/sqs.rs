//! The SQS adapter of [`JobQueue`]: one `SendMessage` per job, FIFO keys when the queue is FIFO.

use super::{JobQueue, MessageKeys, QueueError};
use crate::{config::SQS_MAX_MESSAGE_BYTES, wire::envelope::Envelope};

/// The jobs queue on SQS.
#[derive(Debug, Clone)]
pub struct SqsJobQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsJobQueue {
    /// The queue at `queue_url` (FIFO when it ends in `.fifo`).
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        SqsJobQueue {
            client,
            queue_url: queue_url.into(),
        }
    }
}

impl JobQueue for SqsJobQueue {
    async fn enqueue(&self, envelope: &Envelope, keys: &MessageKeys) -> Result<String, QueueError> {
        let body = envelope.to_json();
        if body.len() > SQS_MAX_MESSAGE_BYTES {
            return Err(QueueError::TooLarge(body.len()));
        }
        let mut request = self.client.send_message().queue_url(&self.queue_url).message_body(body);
        if self.is_fifo() {
            request = request
                .message_group_id(&keys.group)
                .message_deduplication_id(&keys.dedup);
        }
        let output = request
            .send()
            .await
            .map_err(|e| QueueError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
        Ok(output.message_id.unwrap_or_default())
    }

    fn is_fifo(&self) -> bool {
        self.queue_url.ends_with(".fifo")
    }
}
