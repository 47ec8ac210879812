//! Shape 2, the SQS batch (S3 → SQS → Lambda, optionally through SNS or EventBridge): one result
//! per SQS message.

use serde_json::{Map, Value};

use super::direct::{is_test_event, parse_s3_record};
use super::error::S3EventError;
use super::eventbridge::{eventbridge_source, parse_eventbridge, EventBridgeSource};
use super::fields::{describe_keys, json_kind};
use super::object::S3Object;

/// One SQS message of an [`S3Invocation::ViaSqs`](super::S3Invocation::ViaSqs) batch.
#[derive(Debug)]
pub struct SqsDelivery {
    /// The SQS `messageId`, to report in `batchItemFailures` if `objects` is an error. Empty when the
    /// record has none; `objects` is then an error, and reporting an empty id makes Lambda retry the
    /// whole batch, which is the safe outcome for a batch it cannot identify.
    pub message_id: String,
    /// The created objects this message carries (possibly none: test event, skipped event names).
    pub objects: Result<Vec<S3Object>, S3EventError>,
}

/// A record of an SQS batch: `eventSource` says so, or (sources that omit it) it has a `body` and
/// no `s3`.
pub(super) fn is_sqs_record(record: &Value) -> bool {
    match record.get("eventSource").and_then(Value::as_str) {
        Some(source) => source == "aws:sqs",
        None => record.get("body").is_some() && record.get("s3").is_none(),
    }
}

/// One SQS record: its `messageId` and the objects its `body` carries, or why they cannot be read.
pub(super) fn parse_sqs_record(record: &Value) -> SqsDelivery {
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

/// The `Message` of an SNS notification (`{"Type": "Notification", "TopicArn", "Message", ...}`).
fn sns_message(obj: &Map<String, Value>) -> Option<&str> {
    let message = obj.get("Message")?.as_str()?;
    let is_sns = obj.get("Type").and_then(Value::as_str) == Some("Notification") || obj.contains_key("TopicArn");
    is_sns.then_some(message)
}
