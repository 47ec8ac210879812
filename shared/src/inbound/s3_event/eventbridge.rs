//! Shape 3, the EventBridge event (S3 → EventBridge → Lambda, or EventBridge → SQS → Lambda).

use serde_json::{Map, Value};

use super::error::S3EventError;
use super::fields::{opt_etag, opt_string, opt_time, opt_u64, required_str};
use super::key::decode_key;
use super::object::S3Object;

/// Whether the `detail.object.key` of an EventBridge event is URL-encoded like notification keys.
///
/// What the AWS docs say: the S3 User Guide's "Event message structure" page (direct, SQS and SNS
/// notifications) states "The object key name value is URL encoded. For example, "red flower.jpg"
/// becomes "red+flower.jpg" (Amazon S3 returns "application/x-www-form-urlencoded" as the content
/// type in the response)". Its "EventBridge event message structure" page (`ev-events`, section
/// "Event message detail field") says nothing about encoding, and its only samples use
/// `"key": "example-key"`, which reads the same either way; so the docs do not settle it.
///
/// Decision: decode EventBridge keys exactly like notification keys, because
/// * both payloads are produced by S3 from the same object key, and the consumers maintained by AWS
///   teams decode EventBridge keys: Powertools for AWS Lambda (Python)
///   `S3EventBridgeNotificationObject.key` returns `unquote_plus(self["key"])`, and OpenSearch Data
///   Prepper (whose S3 source was integration-tested against S3 → EventBridge → SQS) reads
///   `detail.object.key` through `SdkHttpUtils.urlDecode`;
/// * the two possible mistakes are not equally costly. If keys were raw and we decode, only keys
///   containing `+` or a valid `%XX` escape come out wrong. If keys were encoded and we did not
///   decode, every key with a space, parenthesis, non-ASCII character … would point at an object
///   that does not exist.
///
/// Caveat: moto (5.x) puts the *raw* key in its EventBridge events (and form-encodes it only in
/// Lambda/SQS/SNS notifications), so tests through moto's EventBridge path must avoid `+` and `%`
/// in keys. Flip this constant if AWS ever documents raw EventBridge keys.
pub const EVENTBRIDGE_KEYS_ARE_URL_ENCODED: bool = true;

/// Whether an object is an EventBridge event, and from which source.
pub(super) enum EventBridgeSource {
    /// `source` is `aws.s3`, or absent with a `detail-type` (a sender that omits the source).
    S3,
    /// An EventBridge event from another source; the text names it for the error.
    Other(String),
    /// No `detail` object: not an EventBridge event at all.
    NotEventBridge,
}

/// Recognises an EventBridge event by its `detail` object and reads its `source`.
pub(super) fn eventbridge_source(obj: &Map<String, Value>) -> EventBridgeSource {
    if !obj.get("detail").is_some_and(Value::is_object) {
        return EventBridgeSource::NotEventBridge;
    }
    match obj.get("source").and_then(Value::as_str) {
        Some("aws.s3") => EventBridgeSource::S3,
        Some(other) => EventBridgeSource::Other(format!("EventBridge event from source `{other}`")),
        None if obj.contains_key("detail-type") => EventBridgeSource::S3,
        None => EventBridgeSource::NotEventBridge,
    }
}

/// An EventBridge event already recognised as `aws.s3`. `Ok(None)`: not `Object Created`.
pub(super) fn parse_eventbridge(obj: &Map<String, Value>) -> Result<Option<S3Object>, S3EventError> {
    let detail_type = opt_string(obj.get("detail-type"));
    if detail_type.as_deref().is_some_and(|t| t != "Object Created") {
        return Ok(None);
    }
    let detail = obj.get("detail");
    let object = detail.and_then(|d| d.get("object"));
    let bucket = required_str(
        detail.and_then(|d| d.get("bucket")).and_then(|b| b.get("name")),
        "detail.bucket.name",
    )?;
    let raw_key = required_str(object.and_then(|o| o.get("key")), "detail.object.key")?;
    let key = if EVENTBRIDGE_KEYS_ARE_URL_ENCODED {
        decode_key(raw_key)?
    } else {
        raw_key.to_owned()
    };
    let field = |name: &str| object.and_then(|o| o.get(name));
    Ok(Some(S3Object {
        bucket: bucket.to_owned(),
        key,
        size: opt_u64(field("size")),
        etag: opt_etag(field("etag").or_else(|| field("eTag"))),
        sequencer: opt_string(field("sequencer")),
        version_id: opt_string(field("version-id").or_else(|| field("versionId"))),
        event_time: opt_time(obj.get("time")),
        event_name: detail_type,
        region: opt_string(obj.get("region")),
    }))
}
