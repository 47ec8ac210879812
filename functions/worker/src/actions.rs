//! What the worker does to a record besides delivering it: hide it for a while before its next
//! attempt (`ChangeMessageVisibility`), dead-letter it (`SendMessage` to the DLQ), or queue a
//! follow-up job (a callback to retry) on the queue it came from (`SendMessage`). The handler
//! depends on the [`RecordActions`] port only; [`SqsActions`] is the SQS adapter, and
//! `memory::MemoryActions` the in-memory one of the unit tests.

use std::{collections::HashMap, future::Future, sync::Mutex, time::Duration};

use aws_sdk_sqs::{error::DisplayErrorContext, types::MessageAttributeValue};
pub use hookrelay::wire::dead_letter::DeadLetter;
use hookrelay::wire::envelope::Envelope;

/// The queue a record came from and its handle, as the event gave them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordRef {
    pub message_id: String,
    pub receipt_handle: Option<String>,
    /// `eventSourceARN`: `arn:aws:sqs:<region>:<account>:<name>`.
    pub queue_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ActionError(pub String);

/// What the handler may do to a record besides delivering it.
pub trait RecordActions: Send + Sync {
    /// Hide the record for `delay` before its next attempt (it is reported failed as well).
    fn retry_later(&self, record: &RecordRef, delay: Duration) -> impl Future<Output = Result<(), ActionError>> + Send;

    /// Put the job on the dead-letter queue; `Ok` only once SQS has accepted it.
    fn dead_letter(&self, letter: &DeadLetter) -> impl Future<Output = Result<(), ActionError>> + Send;

    /// Delete the record from its queue now (after dead-lettering it): if the batch outlived the
    /// visibility timeout, waiting for the event source's delete would hand the job out again.
    fn delete(&self, _record: &RecordRef) -> impl Future<Output = Result<(), ActionError>> + Send {
        async { Ok(()) }
    }

    /// Put a follow-up job on the queue `record` came from (FIFO: in `group_id`, or the job's
    /// route); `Ok` only once SQS has accepted it.
    fn enqueue(
        &self,
        record: &RecordRef,
        job: &Envelope,
        group_id: Option<&str>,
    ) -> impl Future<Output = Result<(), ActionError>> + Send;
}

/// The SQS adapter, built once at cold start.
#[derive(Debug)]
pub struct SqsActions {
    client: aws_sdk_sqs::Client,
    dlq_url: String,
    /// `HOOKRELAY_QUEUE_URL`: the jobs queue, used for its own records without a lookup.
    queue_url: Option<String>,
    /// Queue URLs found with `GetQueueUrl`, by queue ARN, for the life of the process.
    urls: Mutex<HashMap<String, String>>,
}

impl SqsActions {
    pub fn new(client: aws_sdk_sqs::Client, dlq_url: String, queue_url: Option<String>) -> Self {
        SqsActions {
            client,
            dlq_url,
            queue_url: queue_url.filter(|url| !url.is_empty()),
            urls: Mutex::new(HashMap::new()),
        }
    }

    /// The URL of the queue a record came from: `HOOKRELAY_QUEUE_URL` when it names that queue
    /// (or the record has no ARN), else `GetQueueUrl` for the ARN's queue, cached.
    async fn queue_url_for(&self, arn: Option<&str>) -> Result<String, ActionError> {
        let queue = arn.and_then(QueueArn::parse);
        if let Some(url) = &self.queue_url {
            if queue.as_ref().is_none_or(|q| url_names_queue(url, q.name)) {
                return Ok(url.clone());
            }
        }
        let (Some(arn), Some(queue)) = (arn, queue) else {
            return Err(ActionError(format!(
                "no queue URL: eventSourceARN {arn:?} is not an SQS queue ARN and HOOKRELAY_QUEUE_URL is not set"
            )));
        };
        if let Some(url) = self.urls.lock().unwrap_or_else(|e| e.into_inner()).get(arn) {
            return Ok(url.clone());
        }
        let output = self
            .client
            .get_queue_url()
            .queue_name(queue.name)
            .queue_owner_aws_account_id(queue.account)
            .send()
            .await
            .map_err(|e| ActionError(format!("GetQueueUrl {}: {}", queue.name, DisplayErrorContext(e))))?;
        let url = output
            .queue_url
            .ok_or_else(|| ActionError(format!("GetQueueUrl {}: no URL in the answer", queue.name)))?;
        self.urls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(arn.to_owned(), url.clone());
        Ok(url)
    }
}

impl RecordActions for SqsActions {
    async fn retry_later(&self, record: &RecordRef, delay: Duration) -> Result<(), ActionError> {
        let receipt_handle = record
            .receipt_handle
            .as_deref()
            .ok_or_else(|| ActionError("the record has no receipt handle".into()))?;
        let queue_url = self.queue_url_for(record.queue_arn.as_deref()).await?;
        let seconds = delay
            .min(hookrelay::delivery::retry_after::SQS_MAX_VISIBILITY)
            .as_secs() as i32;
        self.client
            .change_message_visibility()
            .queue_url(queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| ActionError(format!("ChangeMessageVisibility: {}", DisplayErrorContext(e))))?;
        Ok(())
    }

    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), ActionError> {
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(&letter.body);
        for (name, data_type, value) in letter.attributes() {
            let attribute = MessageAttributeValue::builder()
                .data_type(data_type)
                .string_value(value)
                .build()
                .map_err(|e| ActionError(format!("message attribute {name}: {e}")))?;
            request = request.message_attributes(name, attribute);
        }
        if self.dlq_url.ends_with(".fifo") {
            // A FIFO DLQ needs a group (the original's keeps related jobs in order) and a
            // de-duplication id (the original's message id: a repeated dead-lettering is dropped).
            request = request
                .message_group_id(letter.group_id.as_deref().unwrap_or("hookrelay-dead-letters"))
                .message_deduplication_id(hookrelay::queue::dedup_id(&letter.message_id));
        }
        request
            .send()
            .await
            .map_err(|e| ActionError(format!("SendMessage to the DLQ: {}", DisplayErrorContext(e))))?;
        Ok(())
    }

    async fn delete(&self, record: &RecordRef) -> Result<(), ActionError> {
        let Some(receipt_handle) = &record.receipt_handle else {
            return Ok(());
        };
        let queue_url = self.queue_url_for(record.queue_arn.as_deref()).await?;
        self.client
            .delete_message()
            .queue_url(&queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| ActionError(format!("DeleteMessage: {}", DisplayErrorContext(e))))?;
        Ok(())
    }

    async fn enqueue(&self, record: &RecordRef, job: &Envelope, group_id: Option<&str>) -> Result<(), ActionError> {
        let queue_url = self.queue_url_for(record.queue_arn.as_deref()).await?;
        let body = job.to_json();
        if body.len() > hookrelay::config::SQS_MAX_MESSAGE_BYTES {
            return Err(ActionError(format!(
                "the follow-up job of {} bytes exceeds the queue's limit",
                body.len()
            )));
        }
        let mut request = self.client.send_message().queue_url(&queue_url).message_body(body);
        if queue_url.ends_with(".fifo") {
            // A repeat of the same follow-up (the job's record handled twice) is dropped.
            request = request
                .message_group_id(group_id.unwrap_or(&job.route))
                .message_deduplication_id(hookrelay::queue::dedup_id(&format!("{:?}:{}", job.source, job.id)));
        }
        request
            .send()
            .await
            .map_err(|e| ActionError(format!("SendMessage to the jobs queue: {}", DisplayErrorContext(e))))?;
        Ok(())
    }
}

/// The parts of `arn:<partition>:sqs:<region>:<account>:<name>` a queue lookup needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct QueueArn<'a> {
    account: &'a str,
    name: &'a str,
}

impl<'a> QueueArn<'a> {
    fn parse(arn: &'a str) -> Option<QueueArn<'a>> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _partition, "sqs", _region, account, name] if !account.is_empty() && !name.is_empty() => {
                Some(QueueArn { account, name })
            }
            _ => None,
        }
    }
}

/// Whether a queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`) is queue `name`.
fn url_names_queue(url: &str, name: &str) -> bool {
    url.trim_end_matches('/').rsplit('/').next() == Some(name)
}

/// An in-memory adapter for the handler's unit tests.
#[cfg(test)]
pub mod memory {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[derive(Debug, Default)]
    pub struct MemoryActions {
        /// (message id, delay) of every visibility change.
        pub retries: Mutex<Vec<(String, Duration)>>,
        pub dead_letters: Mutex<Vec<DeadLetter>>,
        /// When set, every dead-lettering fails as if SQS were down.
        pub dlq_down: AtomicBool,
        /// When set, every visibility change fails.
        pub visibility_down: AtomicBool,
        /// (message id of the record, job) of every follow-up job queued.
        pub queued: Mutex<Vec<(String, Envelope)>>,
        /// When set, every follow-up job fails to be queued.
        pub queue_down: AtomicBool,
    }

    impl MemoryActions {
        pub fn retries(&self) -> Vec<(String, Duration)> {
            let mut retries = self.retries.lock().unwrap().clone();
            retries.sort();
            retries
        }

        pub fn dead_letters(&self) -> Vec<DeadLetter> {
            let mut letters = self.dead_letters.lock().unwrap().clone();
            letters.sort_by(|a, b| a.message_id.cmp(&b.message_id));
            letters
        }

        pub fn queued(&self) -> Vec<(String, Envelope)> {
            let mut queued = self.queued.lock().unwrap().clone();
            queued.sort_by(|a, b| a.0.cmp(&b.0));
            queued
        }
    }

    impl RecordActions for MemoryActions {
        async fn retry_later(&self, record: &RecordRef, delay: Duration) -> Result<(), ActionError> {
            if self.visibility_down.load(Ordering::SeqCst) {
                return Err(ActionError("visibility switched off".into()));
            }
            self.retries.lock().unwrap().push((record.message_id.clone(), delay));
            Ok(())
        }

        async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), ActionError> {
            if self.dlq_down.load(Ordering::SeqCst) {
                return Err(ActionError("DLQ switched off".into()));
            }
            self.dead_letters.lock().unwrap().push(letter.clone());
            Ok(())
        }

        async fn enqueue(
            &self,
            record: &RecordRef,
            job: &Envelope,
            _group_id: Option<&str>,
        ) -> Result<(), ActionError> {
            if self.queue_down.load(Ordering::SeqCst) {
                return Err(ActionError("jobs queue switched off".into()));
            }
            self.queued
                .lock()
                .unwrap()
                .push((record.message_id.clone(), job.clone()));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_arns_are_parsed() {
        assert_eq!(
            QueueArn::parse("arn:aws:sqs:eu-west-1:123456789012:hookrelay-jobs"),
            Some(QueueArn {
                account: "123456789012",
                name: "hookrelay-jobs"
            })
        );
        assert_eq!(
            QueueArn::parse("arn:aws-cn:sqs:cn-north-1:123456789012:jobs.fifo").map(|q| q.name),
            Some("jobs.fifo")
        );
        for bad in [
            "",
            "arn:aws:sns:eu-west-1:123456789012:topic",
            "arn:aws:sqs:eu-west-1:123456789012",
            "arn:aws:sqs:eu-west-1::name",
            "arn:aws:sqs:eu-west-1:123456789012:",
            "arn:aws:sqs:eu-west-1:1:a:b",
        ] {
            assert_eq!(QueueArn::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn queue_urls_are_matched_by_name() {
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookrelay-jobs";
        assert!(url_names_queue(url, "hookrelay-jobs"));
        assert!(url_names_queue(&format!("{url}/"), "hookrelay-jobs"));
        assert!(!url_names_queue(url, "hookrelay-jobs-2"));
        assert!(!url_names_queue(url, "jobs"));
    }

    #[tokio::test]
    async fn the_configured_queue_url_serves_its_own_queue_without_a_lookup() {
        let sdk = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
            .build();
        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/hookrelay-jobs";
        let actions = SqsActions::new(aws_sdk_sqs::Client::from_conf(sdk), "dlq".into(), Some(url.into()));
        let arn = "arn:aws:sqs:eu-west-1:123456789012:hookrelay-jobs";
        assert_eq!(actions.queue_url_for(Some(arn)).await.unwrap(), url);
        assert_eq!(actions.queue_url_for(None).await.unwrap(), url);
        // Another queue's record is looked up instead (here it fails: no credentials, no network).
        actions.urls.lock().unwrap().insert(
            "arn:aws:sqs:eu-west-1:123456789012:other".into(),
            "https://sqs.eu-west-1.amazonaws.com/123456789012/other".into(),
        );
        assert_eq!(
            actions
                .queue_url_for(Some("arn:aws:sqs:eu-west-1:123456789012:other"))
                .await
                .unwrap(),
            "https://sqs.eu-west-1.amazonaws.com/123456789012/other",
            "cached per ARN"
        );
        let none = SqsActions::new(actions.client.clone(), "dlq".into(), None);
        assert!(none.queue_url_for(Some("not an arn")).await.is_err());
    }
}
