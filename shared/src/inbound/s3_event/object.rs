//! The created S3 object every event shape yields, and its deterministic job id.

use sha2::{Digest, Sha256};

/// One created S3 object, as reported by any of the three event shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    /// The bucket name (never empty).
    pub bucket: String,
    /// The real object key, already URL-decoded (never empty).
    pub key: String,
    /// Object size in bytes.
    pub size: Option<u64>,
    /// The ETag, without surrounding quotes.
    pub etag: Option<String>,
    /// S3's per-key ordering token (hex string); present for PUTs and DELETEs on real S3.
    pub sequencer: Option<String>,
    /// The version id, for versioning-enabled buckets.
    pub version_id: Option<String>,
    /// Notification `eventTime` or EventBridge `time`, as sent (ISO-8601); a numeric Unix time (moto's
    /// EventBridge events) is rendered as RFC 3339 with milliseconds.
    pub event_time: Option<String>,
    /// Notification `eventName` (e.g. `ObjectCreated:Put`) or EventBridge `detail-type`
    /// (`Object Created`).
    pub event_name: Option<String>,
    /// Notification `awsRegion` or EventBridge `region`.
    pub region: Option<String>,
}

impl S3Object {
    /// A deterministic job id, so a redelivered or retried S3 event keeps the same id.
    ///
    /// SHA-256 over the bucket, the decoded key, the version id and one "revision" marker: the
    /// sequencer, else the ETag, else the event time (moto's minimal records carry neither of the
    /// first two; a redelivered event repeats all three). Each field is length-prefixed and tagged,
    /// so no two different inputs share a pre-image. The first 16 bytes are formatted as a UUID
    /// (8-4-4-4-12 lowercase hex) with the RFC 9562 version 8 ("custom") and variant bits set, so
    /// the id also parses as a valid UUID.
    #[must_use]
    pub fn job_id(&self) -> String {
        let revision = match (&self.sequencer, &self.etag, &self.event_time) {
            (Some(sequencer), _, _) => Some((1u8, sequencer)),
            (None, Some(etag), _) => Some((2u8, etag)),
            (None, None, Some(time)) => Some((3u8, time)),
            (None, None, None) => None,
        };
        let mut hasher = Sha256::new();
        hasher.update(b"hookrelay/s3-job-id/v1");
        let mut field = |tag: u8, value: Option<&str>| match value {
            Some(value) => {
                hasher.update([tag]);
                hasher.update((value.len() as u64).to_be_bytes());
                hasher.update(value.as_bytes());
            }
            None => hasher.update([0u8]),
        };
        field(1, Some(&self.bucket));
        field(1, Some(&self.key));
        field(1, self.version_id.as_deref());
        match revision {
            Some((tag, value)) => field(tag, Some(value)),
            None => field(0, None),
        }
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Uuid::new_v8(bytes).to_string()
    }
}
