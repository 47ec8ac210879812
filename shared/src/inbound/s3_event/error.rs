//! What can go wrong turning an S3 event into objects.

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
