//! The jobs queue: the [`JobQueue`] port the ingress and the s3-relay depend on, its SQS adapter
//! ([`sqs::SqsJobQueue`]) and, for tests, an in-memory one (`memory`, feature `test-util`).

use std::future::Future;

use crate::{config::ConfigError, wire::envelope::Envelope};

#[cfg(any(test, feature = "test-util"))]
pub mod memory;
pub mod sqs;

pub use sqs::SqsJobQueue;

/// The jobs queue's URL (ingress and s3-relay send to it; the worker reads it for follow-ups).
pub const QUEUE_URL_ENV: &str = "HOOKRELAY_QUEUE_URL";

/// The queue URL in the environment variable `name` (required), checked at cold start: a typo
/// would otherwise fail every webhook later with a 503.
pub fn queue_url_from_env(name: &str) -> Result<String, ConfigError> {
    optional_queue_url_from_env(name)?.ok_or_else(|| ConfigError::new(name, "environment variable is not set"))
}

/// [`queue_url_from_env`] for a queue that may be left unset (or empty).
pub fn optional_queue_url_from_env(name: &str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(url) if url.is_empty() => Ok(None),
        Ok(url) => check_queue_url(name, &url).map(|()| Some(url)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::new(name, "is not valid UTF-8")),
    }
}

/// An SQS queue URL: `http(s)://<host>/<account id>/<queue name>`, as `GetQueueUrl` returns it
/// (and as emulators such as moto shape theirs).
pub fn check_queue_url(name: &str, url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url).ok();
    let segments: Option<Vec<&str>> = parsed.as_ref().and_then(|u| u.path_segments()).map(Iterator::collect);
    let well_formed = parsed.as_ref().is_some_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host().is_some()
            && u.username().is_empty()
            && u.password().is_none()
            && u.query().is_none()
            && u.fragment().is_none()
    }) && matches!(segments.as_deref(), Some([account, queue]) if is_account_id(account) && is_queue_name(queue));
    match well_formed {
        true => Ok(()),
        false => Err(ConfigError::new(
            name,
            "must be an SQS queue URL, `https://sqs.<region>.amazonaws.com/<account id>/<queue name>`",
        )),
    }
}

fn is_account_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// SQS queue names: up to 80 letters, digits, `-` and `_`, a FIFO queue's ending in `.fifo`.
fn is_queue_name(name: &str) -> bool {
    let stem = name.strip_suffix(".fifo").unwrap_or(name);
    name.len() <= 80
        && !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Why a job was not queued: either way the caller has not acknowledged anything.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The message would exceed what SQS accepts.
    #[error("message of {0} bytes exceeds the queue's limit")]
    TooLarge(usize),
    /// The queue could not take the message now; the sender should retry.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// How a message is keyed on a FIFO queue (ignored by standard queues).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageKeys {
    /// `MessageGroupId`: messages of a group are delivered in order.
    pub group: String,
    /// `MessageDeduplicationId`: SQS drops a repeat within five minutes.
    pub dedup: String,
}

/// Where jobs go. `enqueue` returns only once the message is durably accepted.
pub trait JobQueue: Send + Sync {
    /// Returns the queue's message id.
    fn enqueue(
        &self,
        envelope: &Envelope,
        keys: &MessageKeys,
    ) -> impl Future<Output = Result<String, QueueError>> + Send;

    /// FIFO queues de-duplicate by themselves (by [`MessageKeys::dedup`]).
    fn is_fifo(&self) -> bool {
        false
    }
}

/// A FIFO de-duplication id for a key: SQS allows 128 characters, so long keys are hashed.
pub fn dedup_id(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// A job id derived from a key (UUID-shaped), so that a repeated delivery keeps its job id.
pub fn stable_job_id(key: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::new_v8(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_are_checked() {
        for good in [
            "https://sqs.eu-west-1.amazonaws.com/123456789012/hookrelay-jobs",
            "https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo",
            "http://127.0.0.1:5000/123456789012/hookrelay_jobs",
        ] {
            assert_eq!(check_queue_url(QUEUE_URL_ENV, good), Ok(()), "{good}");
        }
        for bad in [
            "not a url",
            "sqs.eu-west-1.amazonaws.com/123456789012/jobs",
            "ftp://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
            "https://sqs.eu-west-1.amazonaws.com/jobs",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs/more",
            "https://sqs.eu-west-1.amazonaws.com/acct/jobs",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs?x=1",
            "https://sqs.eu-west-1.amazonaws.com/123456789012/a%20b",
            "https://u:p@sqs.eu-west-1.amazonaws.com/123456789012/jobs",
        ] {
            let e = check_queue_url(QUEUE_URL_ENV, bad).unwrap_err();
            assert_eq!(e.key, QUEUE_URL_ENV, "{bad}");
        }
        let long = format!("https://sqs.eu-west-1.amazonaws.com/1/{}", "q".repeat(81));
        assert!(check_queue_url(QUEUE_URL_ENV, &long).is_err());
    }

    #[test]
    fn derived_ids_are_stable_and_fit_sqs() {
        let id = stable_job_id("/hooks/github#d-1");
        assert_eq!(id, stable_job_id("/hooks/github#d-1"));
        assert_ne!(id, stable_job_id("/hooks/github#d-2"));
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        let dedup = dedup_id(&"x".repeat(500));
        assert!(dedup.len() <= 128 && dedup.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
