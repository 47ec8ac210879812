//! Moving dead-lettered jobs back to the jobs queue once their cause is fixed. The body is the
//! envelope exactly as it was queued, so the replay is unchanged; the worker's `hookrelay-*`
//! failure attributes are dropped on the way.

use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};

use crate::wire::dead_letter::ATTRIBUTE_PREFIX;

/// A redrive that stopped: what was moved is moved (and gone from the source), nothing is lost.
#[derive(Debug, thiserror::Error)]
#[error("redrive failed after moving {moved} message(s): {reason}")]
pub struct RedriveError {
    /// How many messages were moved before it stopped.
    pub moved: usize,
    /// Why it stopped (the SQS error).
    pub reason: String,
}

/// Moves every message from `from` to `to` (send, then delete: at least once, never lost), up to
/// `limit` messages. Returns how many were moved.
pub async fn redrive(client: &aws_sdk_sqs::Client, from: &str, to: &str, limit: usize) -> Result<usize, RedriveError> {
    let fifo_target = to.ends_with(".fifo");
    let mut moved = 0;
    while moved < limit {
        let batch = client
            .receive_message()
            .queue_url(from)
            .max_number_of_messages(10.min(limit - moved) as i32)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .send()
            .await
            .map_err(|e| RedriveError {
                moved,
                reason: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?;
        let messages = batch.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in messages {
            let fail = |e: String| RedriveError { moved, reason: e };
            let mut send = client
                .send_message()
                .queue_url(to)
                .message_body(message.body().unwrap_or_default());
            for (name, value) in message.message_attributes().into_iter().flatten() {
                if !name.starts_with(ATTRIBUTE_PREFIX) {
                    send = send.message_attributes(name, MessageAttributeValue::clone(value));
                }
            }
            if fifo_target {
                let group = message
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId))
                    .cloned()
                    .unwrap_or_else(|| "redrive".to_owned());
                let dedup = message.message_id().unwrap_or_default().to_owned();
                send = send.message_group_id(group).message_deduplication_id(dedup);
            }
            send.send()
                .await
                .map_err(|e| fail(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
            client
                .delete_message()
                .queue_url(from)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .map_err(|e| fail(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))?;
            moved += 1;
        }
    }
    Ok(moved)
}
