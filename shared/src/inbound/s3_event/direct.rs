//! Shape 1, the direct S3 notification (S3 → Lambda): its records, also found inside SQS bodies.

use serde_json::{Map, Value};

use super::error::S3EventError;
use super::fields::{opt_etag, opt_string, opt_time, opt_u64, required_str};
use super::key::decode_key;
use super::object::S3Object;

/// One record of an S3 notification. `Ok(None)`: not an object-created record (skipped).
pub(super) fn parse_s3_record(record: &Value) -> Result<Option<S3Object>, S3EventError> {
    if !record.is_object() {
        return Err(S3EventError::WrongType("Records[]"));
    }
    let event_name = opt_string(record.get("eventName"));
    if let Some(name) = &event_name {
        if !is_object_created(name.strip_prefix("s3:").unwrap_or(name)) {
            return Ok(None);
        }
    }
    let s3 = record.get("s3");
    let object = s3.and_then(|s| s.get("object"));
    let bucket = required_str(
        s3.and_then(|s| s.get("bucket")).and_then(|b| b.get("name")),
        "s3.bucket.name",
    )?;
    let key = decode_key(required_str(object.and_then(|o| o.get("key")), "s3.object.key")?)?;
    let field = |name: &str| object.and_then(|o| o.get(name));
    Ok(Some(S3Object {
        bucket: bucket.to_owned(),
        key,
        size: opt_u64(field("size")),
        etag: opt_etag(field("eTag").or_else(|| field("etag"))),
        sequencer: opt_string(field("sequencer")),
        version_id: opt_string(field("versionId").or_else(|| field("version-id"))),
        event_time: opt_time(record.get("eventTime")),
        event_name,
        region: opt_string(record.get("awsRegion")),
    }))
}

/// `ObjectCreated:Put`, `ObjectCreated:Post`, `ObjectCreated:Copy`,
/// `ObjectCreated:CompleteMultipartUpload` (and any future `ObjectCreated:*`).
fn is_object_created(event_name: &str) -> bool {
    event_name == "ObjectCreated" || event_name.starts_with("ObjectCreated:")
}

/// `{"Service": "Amazon S3", "Event": "s3:TestEvent", ...}`, sent when a configuration is saved.
pub(super) fn is_test_event(obj: &Map<String, Value>) -> bool {
    obj.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}
