//! Lenient parsing of the three ways an S3 "object created" event reaches the `s3-relay` Lambda.
//!
//! 1. **Direct S3 notification** (S3 → Lambda): `{"Records": [{"eventName", "s3": {...}}, ...]}`,
//!    as in the S3 User Guide, "Event message structure" (`notification-content-structure`).
//! 2. **Via SQS** (S3 → SQS → Lambda, optionally S3 → SNS → SQS): an SQS batch
//!    `{"Records": [{"eventSource": "aws:sqs", "messageId", "body"}, ...]}` whose every `body` is its
//!    own S3 notification (several `Records`, or the `s3:TestEvent`). A body may also be an SNS
//!    notification whose `Message` is the S3 JSON (SNS → SQS without raw delivery), or an EventBridge
//!    event (EventBridge rule → SQS target). Errors are per SQS message, so the caller can report that
//!    `messageId` as a batch item failure while the other messages proceed.
//! 3. **EventBridge** (S3 → EventBridge → Lambda): `{"source": "aws.s3", "detail-type": "Object
//!    Created", "detail": {"bucket": {"name"}, "object": {"key", ...}}}`, as in the S3 User Guide,
//!    "EventBridge event message structure" (`ev-events`).
//!
//! # Leniency
//! Only the bucket name and the object key are required; every other field is optional and its
//! absence (or an unusable value, e.g. a non-numeric `size`) never drops a record. Real senders and
//! the moto test server omit fields `aws_lambda_events` marks required (moto sends no `eTag`,
//! `sequencer`, `userIdentity`, … in some records, and `eTag` instead of `etag` plus a numeric `time`
//! in EventBridge events), so this module reads `serde_json::Value`s instead of those types. Unknown
//! fields are ignored, as the S3 docs ask ("Applications should ignore new fields").
//!
//! # Which events yield objects
//! hookrelay relays *created* objects only. Records whose event name is present and is not an
//! object-created one (`ObjectRemoved:*`, `ObjectRestore:*`, `LifecycleTransition`, EventBridge
//! `Object Deleted`, …) are **skipped, not errors**: a bucket may reasonably send them to the same
//! destination, and failing on them would only make SQS redeliver them until they reach the DLQ. A
//! record with *no* event name is kept (absence must not drop a record). The `s3:TestEvent` S3 sends
//! when a notification configuration is saved yields zero objects.
//!
//! A record that should yield an object but lacks its bucket name or key is an **error for that
//! record**, never silently dropped: in [`S3Invocation::Direct`] each record has its own `Result`;
//! in [`S3Invocation::ViaSqs`] the whole SQS message fails (its other objects will be relayed again
//! when SQS redelivers it, under the same [`S3Object::job_id`]).
//!
//! # Object keys
//! See [`decode_key`] for the decoding rules and [`EVENTBRIDGE_KEYS_ARE_URL_ENCODED`] for why
//! EventBridge keys are decoded the same way as notification keys.

use std::borrow::Cow;

use serde_json::{Map, Value};
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

/// A parsed Lambda invocation payload.
#[derive(Debug)]
pub enum S3Invocation {
    /// S3 → Lambda: one entry per object-created record, in order (skipped records are absent).
    Direct(Vec<Result<S3Object, S3EventError>>),
    /// S3 → SQS → Lambda: one entry per SQS message, in order.
    ViaSqs(Vec<SqsDelivery>),
    /// S3 → EventBridge → Lambda. `Ok(None)`: a well-formed event that is not `Object Created`
    /// (skipped).
    EventBridge(Result<Option<S3Object>, S3EventError>),
}

/// One SQS message of an [`S3Invocation::ViaSqs`] batch.
#[derive(Debug)]
pub struct SqsDelivery {
    /// The SQS `messageId`, to report in `batchItemFailures` if `objects` is an error. Empty when the
    /// record has none; `objects` is then an error, and reporting an empty id makes Lambda retry the
    /// whole batch, which is the safe outcome for a batch it cannot identify.
    pub message_id: String,
    /// The created objects this message carries (possibly none: test event, skipped event names).
    pub objects: Result<Vec<S3Object>, S3EventError>,
}

/// Why an invocation, an SQS message or a record could not be turned into objects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3EventError {
    /// The invocation payload is none of the three shapes.
    #[error(
        "unrecognised S3 invocation ({0}); expected an S3 notification (Records[].s3), \
         an SQS batch of them (Records[].body) or an EventBridge event with source aws.s3"
    )]
    UnknownShape(String),
    /// An SQS message body (or the SNS `Message` inside it) is not something this module relays.
    #[error(
        "unrecognised SQS message body ({0}); expected an S3 notification (Records[].s3), \
         the s3:TestEvent, an SNS notification wrapping one, or an EventBridge aws.s3 event"
    )]
    UnknownBody(String),
    /// An SQS message body (or the SNS `Message` inside it) is not JSON.
    #[error("SQS message body is not JSON: {0}")]
    BodyNotJson(String),
    /// A required field is absent, null or empty.
    #[error("missing or empty field `{0}`")]
    MissingField(&'static str),
    /// A required field is present with the wrong JSON type.
    #[error("field `{0}` has the wrong type")]
    WrongType(&'static str),
    /// The key's percent-escapes do not decode to UTF-8 (S3 keys are UTF-8).
    #[error("object key {0:?} does not decode to UTF-8")]
    KeyNotUtf8(String),
}

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

/// Decodes an object key as it appears in S3 event notifications.
///
/// S3 encodes keys as `application/x-www-form-urlencoded` (per the S3 docs quoted on
/// [`EVENTBRIDGE_KEYS_ARE_URL_ENCODED`]): `+` is a space and `%XX` is a byte, so `+` is replaced
/// *before* percent-decoding (`a%2Bb` → `a+b`, `my+photo%281%29.jpg` → `my photo(1).jpg`). Never
/// panics. On malformed input:
/// * a `%` not followed by two hex digits (`%ZZ`, a trailing `%`) is kept literally, as the WHATWG
///   form-urlencoded parser and Python's `unquote_plus` do: S3 never produces one, so the sender did
///   not encode that `%`, and keeping it is the only reading that loses nothing;
/// * escapes that decode to invalid UTF-8 (`%FF`, a truncated `%C3`) are an error for that record:
///   S3 keys are UTF-8, so no real object has that key, and a lossy U+FFFD substitution could
///   silently map two different inputs onto one key (and one job id).
///
/// # Errors
/// [`S3EventError::KeyNotUtf8`] when the decoded bytes are not UTF-8.
pub fn decode_key(raw: &str) -> Result<String, S3EventError> {
    let spaced: Cow<'_, str> = if raw.contains('+') {
        Cow::Owned(raw.replace('+', " "))
    } else {
        Cow::Borrowed(raw)
    };
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| S3EventError::KeyNotUtf8(raw.to_owned()))
}

/// Recognises and parses one Lambda invocation payload (see the module docs for the shapes).
///
/// Only an unrecognisable payload is an `Err`; per-record and per-message problems are reported
/// inside the returned [`S3Invocation`].
///
/// # Errors
/// [`S3EventError::UnknownShape`], naming what was found, when `event` is none of the shapes.
pub fn parse_invocation(event: &Value) -> Result<S3Invocation, S3EventError> {
    let Some(obj) = event.as_object() else {
        return Err(S3EventError::UnknownShape(format!(
            "top-level JSON is {}",
            json_kind(event)
        )));
    };
    if let Some(records) = obj.get("Records") {
        let Some(records) = records.as_array() else {
            return Err(S3EventError::UnknownShape(format!(
                "`Records` is {}",
                json_kind(records)
            )));
        };
        if records.iter().any(is_sqs_record) {
            return Ok(S3Invocation::ViaSqs(records.iter().map(parse_sqs_record).collect()));
        }
        if !records.is_empty() && !records.iter().any(|r| r.get("s3").is_some()) {
            return Err(S3EventError::UnknownShape(
                "`Records` entries have neither `s3` nor `body`".to_owned(),
            ));
        }
        return Ok(S3Invocation::Direct(
            records.iter().filter_map(|r| parse_s3_record(r).transpose()).collect(),
        ));
    }
    if is_test_event(obj) {
        return Ok(S3Invocation::Direct(Vec::new()));
    }
    match eventbridge_source(obj) {
        EventBridgeSource::S3 => Ok(S3Invocation::EventBridge(parse_eventbridge(obj))),
        EventBridgeSource::Other(found) => Err(S3EventError::UnknownShape(found)),
        EventBridgeSource::NotEventBridge => Err(S3EventError::UnknownShape(describe_keys(obj))),
    }
}

/// A record of an SQS batch: `eventSource` says so, or (sources that omit it) it has a `body` and
/// no `s3`.
fn is_sqs_record(record: &Value) -> bool {
    match record.get("eventSource").and_then(Value::as_str) {
        Some(source) => source == "aws:sqs",
        None => record.get("body").is_some() && record.get("s3").is_none(),
    }
}

fn parse_sqs_record(record: &Value) -> SqsDelivery {
    let message_id = record
        .get("messageId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let objects = if message_id.is_empty() {
        Err(S3EventError::MissingField("messageId"))
    } else {
        match record.get("body") {
            None | Some(Value::Null) => Err(S3EventError::MissingField("body")),
            Some(Value::String(body)) => parse_body(body, true),
            Some(_) => Err(S3EventError::WrongType("body")),
        }
    };
    SqsDelivery { message_id, objects }
}

/// Parses an SQS body: an S3 notification, the test event, an EventBridge event or, when
/// `allow_sns`, an SNS notification wrapping one of those (unwrapped once).
fn parse_body(body: &str, allow_sns: bool) -> Result<Vec<S3Object>, S3EventError> {
    let value: Value = serde_json::from_str(body).map_err(|e| S3EventError::BodyNotJson(e.to_string()))?;
    let Some(obj) = value.as_object() else {
        return Err(S3EventError::UnknownBody(format!("JSON {}", json_kind(&value))));
    };
    if let Some(records) = obj.get("Records") {
        let Some(records) = records.as_array() else {
            return Err(S3EventError::UnknownBody(format!(
                "`Records` is {}",
                json_kind(records)
            )));
        };
        let mut objects = Vec::with_capacity(records.len());
        for record in records {
            objects.extend(parse_s3_record(record)?);
        }
        return Ok(objects);
    }
    if is_test_event(obj) {
        return Ok(Vec::new());
    }
    if let Some(message) = sns_message(obj) {
        return if allow_sns {
            parse_body(message, false)
        } else {
            Err(S3EventError::UnknownBody(
                "SNS notification nested in an SNS notification".to_owned(),
            ))
        };
    }
    match eventbridge_source(obj) {
        EventBridgeSource::S3 => Ok(parse_eventbridge(obj)?.into_iter().collect()),
        EventBridgeSource::Other(found) => Err(S3EventError::UnknownBody(found)),
        EventBridgeSource::NotEventBridge => Err(S3EventError::UnknownBody(describe_keys(obj))),
    }
}

/// `{"Service": "Amazon S3", "Event": "s3:TestEvent", ...}`, sent when a configuration is saved.
fn is_test_event(obj: &Map<String, Value>) -> bool {
    obj.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

/// The `Message` of an SNS notification (`{"Type": "Notification", "TopicArn", "Message", ...}`).
fn sns_message(obj: &Map<String, Value>) -> Option<&str> {
    let message = obj.get("Message")?.as_str()?;
    let is_sns = obj.get("Type").and_then(Value::as_str) == Some("Notification") || obj.contains_key("TopicArn");
    is_sns.then_some(message)
}

enum EventBridgeSource {
    S3,
    Other(String),
    NotEventBridge,
}

fn eventbridge_source(obj: &Map<String, Value>) -> EventBridgeSource {
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

/// One record of an S3 notification. `Ok(None)`: not an object-created record (skipped).
fn parse_s3_record(record: &Value) -> Result<Option<S3Object>, S3EventError> {
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

/// An EventBridge event already recognised as `aws.s3`. `Ok(None)`: not `Object Created`.
fn parse_eventbridge(obj: &Map<String, Value>) -> Result<Option<S3Object>, S3EventError> {
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

fn required_str<'a>(value: Option<&'a Value>, name: &'static str) -> Result<&'a str, S3EventError> {
    match value {
        None | Some(Value::Null) => Err(S3EventError::MissingField(name)),
        Some(Value::String(s)) if s.is_empty() => Err(S3EventError::MissingField(name)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(S3EventError::WrongType(name)),
    }
}

/// A non-empty string; anything else (absent, null, empty, other types) is `None`.
fn opt_string(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn opt_etag(value: Option<&Value>) -> Option<String> {
    let etag = value.and_then(Value::as_str)?.trim_matches('"');
    (!etag.is_empty()).then(|| etag.to_owned())
}

/// A byte count sent as an integer, an integral float or a decimal string.
fn opt_u64(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            // Exactly representable integers only (2^53).
            (f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0).then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An ISO-8601 string as sent, or a Unix time in seconds (moto's EventBridge `time`) as RFC 3339.
fn opt_time(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => {
            let millis = match n.as_i64() {
                Some(secs) => secs.checked_mul(1000)?,
                None => {
                    let secs = n.as_f64()?;
                    if !secs.is_finite() {
                        return None;
                    }
                    // Saturating float-to-int cast; out-of-range values are rejected below.
                    (secs * 1000.0).round() as i64
                }
            };
            let time = chrono::DateTime::from_timestamp_millis(millis)?;
            Some(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        _ => None,
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short description of an unrecognised object for error messages (its first few keys).
fn describe_keys(obj: &Map<String, Value>) -> String {
    if obj.is_empty() {
        return "an empty object".to_owned();
    }
    let mut keys: Vec<&str> = obj.keys().take(6).map(String::as_str).collect();
    if obj.len() > keys.len() {
        keys.push("…");
    }
    format!("an object with keys {}", keys.join(", "))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// S3 User Guide, "Event message structure", "Example message when an object is created using a
    /// PUT request" (verbatim).
    const DOCS_PUT_EVENT: &str = r#"{
       "Records":[
          {
             "eventVersion":"2.1",
             "eventSource":"aws:s3",
             "awsRegion":"us-west-2",
             "eventTime":"1970-01-01T00:00:00.000Z",
             "eventName":"ObjectCreated:Put",
             "userIdentity":{
                "principalId":"AIDAJDPLRKLG7UEXAMPLE"
             },
             "requestParameters":{
                "sourceIPAddress":"127.0.0.1"
             },
             "responseElements":{
                "x-amz-request-id":"C3D13FE58DE4C810",
                "x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
             },
             "s3":{
                "s3SchemaVersion":"1.0",
                "configurationId":"testConfigRule",
                "bucket":{
                   "name":"mybucket",
                   "ownerIdentity":{
                      "principalId":"A3NL1KOZZKExample"
                   },
                   "arn":"arn:aws:s3:::mybucket"
                },
                "object":{
                   "key":"HappyFace.jpg",
                   "size":1024,
                   "eTag":"d41d8cd98f00b204e9800998ecf8427e",
                   "versionId":"096fKKXTRTtl3on89fVO.nfljtsv6qko",
                   "sequencer":"0055AED6DCD90281E5"
                }
             }
          }
       ]
    }"#;

    /// S3 User Guide, "Event message structure", "Amazon S3 test message" (verbatim).
    const DOCS_TEST_EVENT: &str = r#"{
       "Service":"Amazon S3",
       "Event":"s3:TestEvent",
       "Time":"2014-10-13T15:57:02.089Z",
       "Bucket":"bucketname",
       "RequestId":"5582815E1AEA5ADF",
       "HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"
    }"#;

    /// S3 User Guide, "EventBridge event message structure", "Object created" (verbatim).
    const DOCS_EVENTBRIDGE_CREATED: &str = r#"{
      "version": "0",
      "id": "17793124-05d4-b198-2fde-7ededc63b103",
      "detail-type": "Object Created",
      "source": "aws.s3",
      "account": "111122223333",
      "time": "2021-11-12T00:00:00Z",
      "region": "ca-central-1",
      "resources": [
        "arn:aws:s3:::amzn-s3-demo-bucket1"
      ],
      "detail": {
        "version": "0",
        "bucket": {
          "name": "amzn-s3-demo-bucket1"
        },
        "object": {
          "key": "example-key",
          "size": 5,
          "etag": "b1946ac92492d2347c6235b4d2611184",
          "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
          "sequencer": "617f08299329d189"
        },
        "request-id": "N4N7GDK58NMKJ12R",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "PutObject"
      }
    }"#;

    /// S3 User Guide, "EventBridge event message structure", "Object deleted (using DeleteObject)"
    /// (verbatim).
    const DOCS_EVENTBRIDGE_DELETED: &str = r#"{
      "version": "0",
      "id": "2ee9cc15-d022-99ea-1fb8-1b1bac4850f9",
      "detail-type": "Object Deleted",
      "source": "aws.s3",
      "account": "111122223333",
      "time": "2021-11-12T00:00:00Z",
      "region": "ca-central-1",
      "resources": [
        "arn:aws:s3:::amzn-s3-demo-bucket1"
      ],
      "detail": {
        "version": "0",
        "bucket": {
          "name": "amzn-s3-demo-bucket1"
        },
        "object": {
          "key": "example-key",
          "etag": "d41d8cd98f00b204e9800998ecf8427e",
          "version-id": "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF",
          "sequencer": "617f0837b476e463"
        },
        "request-id": "0BH729840619AG5K",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "DeleteObject",
        "deletion-type": "Delete Marker Created"
      }
    }"#;

    /// Lambda Developer Guide, "Using AWS Lambda with Amazon SQS", "Example Amazon SQS Message Event"
    /// record (verbatim but for the body, substituted per test).
    fn docs_sqs_record(message_id: &str, body: &str) -> Value {
        json!({
            "messageId": message_id,
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185"
            },
            "messageAttributes": {},
            "md5OfBody": "098f6bcd4621d373cade4e832627b4f6",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2"
        })
    }

    /// What moto sends: no eventSource/userIdentity/requestParameters/responseElements, no eTag,
    /// sequencer or versionId.
    fn moto_minimal(bucket: &str, key: &str) -> Value {
        json!({
            "eventName": "ObjectCreated:Put",
            "eventTime": "2026-11-23T15:00:00.123Z",
            "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 12}}
        })
    }

    fn parse(text: &str) -> S3Invocation {
        parse_invocation(&serde_json::from_str(text).unwrap()).unwrap()
    }

    fn direct(inv: S3Invocation) -> Vec<Result<S3Object, S3EventError>> {
        match inv {
            S3Invocation::Direct(records) => records,
            other => panic!("expected Direct, got {other:?}"),
        }
    }

    fn via_sqs(inv: S3Invocation) -> Vec<SqsDelivery> {
        match inv {
            S3Invocation::ViaSqs(deliveries) => deliveries,
            other => panic!("expected ViaSqs, got {other:?}"),
        }
    }

    fn eventbridge(inv: S3Invocation) -> Result<Option<S3Object>, S3EventError> {
        match inv {
            S3Invocation::EventBridge(result) => result,
            other => panic!("expected EventBridge, got {other:?}"),
        }
    }

    fn docs_put_object() -> S3Object {
        S3Object {
            bucket: "mybucket".into(),
            key: "HappyFace.jpg".into(),
            size: Some(1024),
            etag: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
            sequencer: Some("0055AED6DCD90281E5".into()),
            version_id: Some("096fKKXTRTtl3on89fVO.nfljtsv6qko".into()),
            event_time: Some("1970-01-01T00:00:00.000Z".into()),
            event_name: Some("ObjectCreated:Put".into()),
            region: Some("us-west-2".into()),
        }
    }

    #[test]
    fn docs_direct_put_event() {
        assert_eq!(direct(parse(DOCS_PUT_EVENT)), vec![Ok(docs_put_object())]);
    }

    #[test]
    fn docs_test_event_yields_nothing_directly_and_via_sqs() {
        assert!(direct(parse(DOCS_TEST_EVENT)).is_empty());
        let batch = json!({"Records": [docs_sqs_record("m-1", DOCS_TEST_EVENT)]});
        let deliveries = via_sqs(parse_invocation(&batch).unwrap());
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].message_id, "m-1");
        assert_eq!(deliveries[0].objects, Ok(vec![]));
    }

    #[test]
    fn docs_eventbridge_object_created() {
        let object = eventbridge(parse(DOCS_EVENTBRIDGE_CREATED)).unwrap().unwrap();
        assert_eq!(
            object,
            S3Object {
                bucket: "amzn-s3-demo-bucket1".into(),
                key: "example-key".into(),
                size: Some(5),
                etag: Some("b1946ac92492d2347c6235b4d2611184".into()),
                sequencer: Some("617f08299329d189".into()),
                version_id: Some("IYV3p45BT0ac8hjHg1houSdS1a.Mro8e".into()),
                event_time: Some("2021-11-12T00:00:00Z".into()),
                event_name: Some("Object Created".into()),
                region: Some("ca-central-1".into()),
            }
        );
    }

    #[test]
    fn docs_eventbridge_object_deleted_is_skipped() {
        assert_eq!(eventbridge(parse(DOCS_EVENTBRIDGE_DELETED)), Ok(None));
    }

    #[test]
    fn eventbridge_key_is_decoded() {
        let mut event: Value = serde_json::from_str(DOCS_EVENTBRIDGE_CREATED).unwrap();
        event["detail"]["object"]["key"] = json!("in/my+photo%281%29.jpg");
        let object = eventbridge(parse_invocation(&event).unwrap()).unwrap().unwrap();
        assert_eq!(object.key, "in/my photo(1).jpg");
    }

    #[test]
    fn moto_style_eventbridge_event() {
        // moto: `eTag` instead of `etag`, numeric Unix `time`, raw key, `reason` "ObjectCreated".
        let event = json!({
            "version": "0", "id": "x", "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": 1_700_000_000.5, "region": "us-east-1",
            "resources": ["arn:aws:s3:::b"],
            "detail": {"version": "0", "bucket": {"name": "b"},
                       "object": {"key": "my photo(1).jpg", "size": 3, "eTag": "abc",
                                  "version-id": null, "sequencer": "617f08299329d189"},
                       "reason": "ObjectCreated"}
        });
        let object = eventbridge(parse_invocation(&event).unwrap()).unwrap().unwrap();
        assert_eq!(object.key, "my photo(1).jpg");
        assert_eq!(object.etag.as_deref(), Some("abc"));
        assert_eq!(object.version_id, None);
        assert_eq!(object.event_time.as_deref(), Some("2023-11-14T22:13:20.500Z"));
    }

    #[test]
    fn eventbridge_missing_key_is_an_error() {
        let mut event: Value = serde_json::from_str(DOCS_EVENTBRIDGE_CREATED).unwrap();
        event["detail"]["object"].as_object_mut().unwrap().remove("key");
        assert_eq!(
            eventbridge(parse_invocation(&event).unwrap()),
            Err(S3EventError::MissingField("detail.object.key"))
        );
    }

    #[test]
    fn moto_minimal_record_parses() {
        let event = json!({"Records": [moto_minimal("bkt", "uploads%2Fmy+photo%281%29.jpg")]});
        let records = direct(parse_invocation(&event).unwrap());
        assert_eq!(
            records,
            vec![Ok(S3Object {
                bucket: "bkt".into(),
                key: "uploads/my photo(1).jpg".into(),
                size: Some(12),
                etag: None,
                sequencer: None,
                version_id: None,
                event_time: Some("2026-11-23T15:00:00.123Z".into()),
                event_name: Some("ObjectCreated:Put".into()),
                region: None,
            })]
        );
    }

    #[test]
    fn every_record_is_parsed_and_non_created_ones_are_skipped() {
        let mut removed = moto_minimal("bkt", "gone.txt");
        removed["eventName"] = json!("ObjectRemoved:Delete");
        let mut no_name = moto_minimal("bkt", "c.txt");
        no_name.as_object_mut().unwrap().remove("eventName");
        let mut minio_style = moto_minimal("bkt", "d.txt");
        minio_style["eventName"] = json!("s3:ObjectCreated:CompleteMultipartUpload");
        let event = json!({"Records": [
            moto_minimal("bkt", "a.txt"), removed, moto_minimal("bkt", "b.txt"), no_name, minio_style
        ]});
        let keys: Vec<String> = direct(parse_invocation(&event).unwrap())
            .into_iter()
            .map(|r| r.unwrap().key)
            .collect();
        assert_eq!(keys, ["a.txt", "b.txt", "c.txt", "d.txt"]);
    }

    #[test]
    fn record_missing_bucket_or_key_is_an_error_for_that_record_only() {
        let mut no_key = moto_minimal("bkt", "x");
        no_key["s3"]["object"].as_object_mut().unwrap().remove("key");
        let mut no_bucket = moto_minimal("", "y");
        no_bucket["s3"]["bucket"]["name"] = json!("");
        let mut numeric_key = moto_minimal("bkt", "z");
        numeric_key["s3"]["object"]["key"] = json!(7);
        let event = json!({"Records": [
            no_key, moto_minimal("bkt", "ok.txt"), no_bucket, numeric_key, "junk"
        ]});
        let records = direct(parse_invocation(&event).unwrap());
        assert_eq!(records.len(), 5);
        assert_eq!(records[0], Err(S3EventError::MissingField("s3.object.key")));
        assert_eq!(records[1].as_ref().unwrap().key, "ok.txt");
        assert_eq!(records[2], Err(S3EventError::MissingField("s3.bucket.name")));
        assert_eq!(records[3], Err(S3EventError::WrongType("s3.object.key")));
        assert_eq!(records[4], Err(S3EventError::WrongType("Records[]")));
    }

    #[test]
    fn odd_optional_fields_do_not_drop_the_record() {
        let mut record = moto_minimal("bkt", "k");
        record["s3"]["object"]["size"] = json!("not a number");
        record["s3"]["object"]["eTag"] = json!("\"abc\"");
        record["s3"]["object"]["sequencer"] = json!(42);
        record["s3"]["object"]["versionId"] = json!(null);
        record["eventTime"] = json!({"weird": true});
        record["unknownField"] = json!([1, 2, 3]);
        let object = direct(parse_invocation(&json!({"Records": [record]})).unwrap())
            .pop()
            .unwrap()
            .unwrap();
        assert_eq!(object.size, None);
        assert_eq!(object.etag.as_deref(), Some("abc"));
        assert_eq!(object.sequencer, None);
        assert_eq!(object.event_time, None);
    }

    #[test]
    fn size_accepts_integral_float_and_string() {
        assert_eq!(opt_u64(Some(&json!(1024.0))), Some(1024));
        assert_eq!(opt_u64(Some(&json!("2048"))), Some(2048));
        assert_eq!(opt_u64(Some(&json!(1.5))), None);
        assert_eq!(opt_u64(Some(&json!(-1))), None);
    }

    #[test]
    fn sqs_with_malformed_body_among_good_ones() {
        let two_records = json!({"Records": [moto_minimal("bkt", "a.txt"), moto_minimal("bkt", "b+c.txt")]});
        let mut missing_key = moto_minimal("bkt", "x");
        missing_key["s3"]["object"].as_object_mut().unwrap().remove("key");
        let batch = json!({"Records": [
            docs_sqs_record("m-1", DOCS_PUT_EVENT),
            // The Lambda docs' own sample body: not JSON.
            docs_sqs_record("m-2", "test"),
            docs_sqs_record("m-3", &two_records.to_string()),
            docs_sqs_record("m-4", &json!({"Records": [moto_minimal("bkt", "ok"), missing_key]}).to_string()),
            docs_sqs_record("m-5", r#"{"hello": "world"}"#),
            docs_sqs_record("m-6", DOCS_EVENTBRIDGE_CREATED),
        ]});
        let deliveries = via_sqs(parse_invocation(&batch).unwrap());
        let ids: Vec<&str> = deliveries.iter().map(|d| d.message_id.as_str()).collect();
        assert_eq!(ids, ["m-1", "m-2", "m-3", "m-4", "m-5", "m-6"]);
        assert_eq!(deliveries[0].objects, Ok(vec![docs_put_object()]));
        assert!(matches!(deliveries[1].objects, Err(S3EventError::BodyNotJson(_))));
        let keys: Vec<&str> = deliveries[2]
            .objects
            .as_ref()
            .unwrap()
            .iter()
            .map(|o| o.key.as_str())
            .collect();
        assert_eq!(keys, ["a.txt", "b c.txt"]);
        assert_eq!(deliveries[3].objects, Err(S3EventError::MissingField("s3.object.key")));
        assert!(matches!(deliveries[4].objects, Err(S3EventError::UnknownBody(_))));
        assert_eq!(deliveries[5].objects.as_ref().unwrap()[0].key, "example-key");
    }

    #[test]
    fn sqs_record_without_message_id_or_body() {
        let mut no_id = docs_sqs_record("", DOCS_PUT_EVENT);
        no_id.as_object_mut().unwrap().remove("messageId");
        let mut no_body = docs_sqs_record("m-2", "");
        no_body.as_object_mut().unwrap().remove("body");
        let deliveries = via_sqs(parse_invocation(&json!({"Records": [no_id, no_body]})).unwrap());
        assert_eq!(deliveries[0].message_id, "");
        assert_eq!(deliveries[0].objects, Err(S3EventError::MissingField("messageId")));
        assert_eq!(deliveries[1].objects, Err(S3EventError::MissingField("body")));
    }

    #[test]
    fn sns_wrapped_body() {
        let sns = json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
            "Subject": "Amazon S3 Notification",
            "Message": DOCS_PUT_EVENT,
            "Timestamp": "2012-05-02T00:54:06.655Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-west-2.amazonaws.com/cert.pem",
            "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe"
        });
        let sns_test = json!({"Type": "Notification", "TopicArn": "arn:x", "Message": DOCS_TEST_EVENT});
        let sns_garbage = json!({"Type": "Notification", "TopicArn": "arn:x", "Message": "nope"});
        let batch = json!({"Records": [
            docs_sqs_record("m-1", &sns.to_string()),
            docs_sqs_record("m-2", &sns_test.to_string()),
            docs_sqs_record("m-3", &sns_garbage.to_string()),
        ]});
        let deliveries = via_sqs(parse_invocation(&batch).unwrap());
        assert_eq!(deliveries[0].objects, Ok(vec![docs_put_object()]));
        assert_eq!(deliveries[1].objects, Ok(vec![]));
        assert!(matches!(deliveries[2].objects, Err(S3EventError::BodyNotJson(_))));
    }

    #[test]
    fn unknown_shapes_are_errors_naming_the_expected_shapes() {
        for event in [
            json!([1, 2]),
            json!({"hello": "world"}),
            json!({"Records": "nope"}),
            json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]}),
            json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}),
        ] {
            let err = parse_invocation(&event).unwrap_err();
            assert!(matches!(err, S3EventError::UnknownShape(_)), "{event}: {err:?}");
            assert!(err.to_string().contains("expected an S3 notification"), "{err}");
        }
        assert!(direct(parse_invocation(&json!({"Records": []})).unwrap()).is_empty());
    }

    #[test]
    fn key_decoding() {
        let ok = |raw: &str| decode_key(raw).unwrap();
        assert_eq!(ok("my+photo%281%29.jpg"), "my photo(1).jpg");
        assert_eq!(ok("a%2Bb"), "a+b");
        assert_eq!(ok("a+%2B+b"), "a + b");
        assert_eq!(ok("dir%2Fsub%2Ffile.txt"), "dir/sub/file.txt");
        assert_eq!(ok("dir/sub/file.txt"), "dir/sub/file.txt");
        assert_eq!(ok("caf%C3%A9.txt"), "café.txt");
        assert_eq!(ok("%E2%82%AC%F0%9F%93%B7"), "€📷");
        assert_eq!(ok("x%3Dy%26z%3A1"), "x=y&z:1");
        assert_eq!(ok("plain"), "plain");
        // Invalid escapes are kept literally.
        assert_eq!(ok("100%ZZ"), "100%ZZ");
        assert_eq!(ok("trailing%"), "trailing%");
        assert_eq!(ok("trailing%4"), "trailing%4");
        assert_eq!(ok("%%41"), "%A");
        // Escapes that are not UTF-8 are an error, never a panic or a lossy guess.
        assert_eq!(decode_key("bad%FF"), Err(S3EventError::KeyNotUtf8("bad%FF".into())));
        assert!(decode_key("truncated%C3").is_err());
        assert!(decode_key("%C3%28").is_err());
    }

    #[test]
    fn non_utf8_key_is_an_error_for_that_record() {
        let event = json!({"Records": [moto_minimal("bkt", "bad%FF"), moto_minimal("bkt", "ok")]});
        let records = direct(parse_invocation(&event).unwrap());
        assert!(matches!(records[0], Err(S3EventError::KeyNotUtf8(_))));
        assert!(records[1].is_ok());
    }

    #[test]
    fn job_id_is_stable_and_uuid_shaped() {
        let object = docs_put_object();
        let id = object.job_id();
        assert_eq!(id, object.clone().job_id());
        // The same event parsed again (a redelivery) keeps the id.
        let again = direct(parse(DOCS_PUT_EVENT)).pop().unwrap().unwrap();
        assert_eq!(again.job_id(), id);
        // Fields outside the identity do not matter.
        let mut other_meta = object.clone();
        other_meta.region = None;
        other_meta.size = Some(1);
        assert_eq!(other_meta.job_id(), id);

        let bytes: Vec<&str> = id.split('-').collect();
        assert_eq!(bytes.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
        assert!(id
            .chars()
            .all(|c| c == '-' || (c.is_ascii_hexdigit() && !c.is_ascii_uppercase())));
        assert_eq!(&id[14..15], "8", "version 8");
        assert!("89ab".contains(&id[19..20]), "RFC 9562 variant");
    }

    #[test]
    fn job_id_differs_when_identity_differs() {
        let base = docs_put_object();
        let variants = [
            S3Object {
                bucket: "otherbucket".into(),
                ..base.clone()
            },
            S3Object {
                key: "HappyFace.jpeg".into(),
                ..base.clone()
            },
            S3Object {
                version_id: None,
                ..base.clone()
            },
            S3Object {
                sequencer: Some("0055AED6DCD90281E6".into()),
                ..base.clone()
            },
            // Field boundaries are unambiguous.
            S3Object {
                bucket: "mybucketH".into(),
                key: "appyFace.jpg".into(),
                ..base.clone()
            },
        ];
        let mut ids: Vec<String> = variants.iter().map(S3Object::job_id).collect();
        ids.push(base.job_id());
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");

        // Without a sequencer the ETag, then the event time, tells two uploads apart.
        let moto = |time: &str, etag: Option<&str>| S3Object {
            etag: etag.map(str::to_owned),
            sequencer: None,
            version_id: None,
            event_time: Some(time.to_owned()),
            ..base.clone()
        };
        assert_ne!(moto("t1", None).job_id(), moto("t2", None).job_id());
        assert_ne!(moto("t1", Some("e1")).job_id(), moto("t1", Some("e2")).job_id());
        assert_eq!(moto("t1", Some("e1")).job_id(), moto("t2", Some("e1")).job_id());
    }
}
