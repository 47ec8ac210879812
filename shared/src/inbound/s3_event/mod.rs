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

mod direct;
mod error;
mod eventbridge;
mod fields;
mod key;
mod object;
mod via_sqs;

#[cfg(test)]
mod tests;

use serde_json::Value;

use direct::{is_test_event, parse_s3_record};
use eventbridge::{eventbridge_source, parse_eventbridge, EventBridgeSource};
use fields::{describe_keys, json_kind};
use via_sqs::{is_sqs_record, parse_sqs_record};

pub use error::S3EventError;
pub use eventbridge::EVENTBRIDGE_KEYS_ARE_URL_ENCODED;
pub use key::decode_key;
pub use object::S3Object;
pub use via_sqs::SqsDelivery;

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
