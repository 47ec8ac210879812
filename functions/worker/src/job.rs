//! One SQS record as read before any attempt (its envelope, or why there is none, and the
//! identifiers for the log line and the dead letter), what became of it, and its log lines.

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsMessage};
use hookrelay::{
    delivery::retry::Class,
    wire::envelope::{Envelope, EnvelopeError, Source},
};
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::actions::RecordRef;

/// One record and what is known about it before any attempt.
pub(crate) struct Job {
    pub(crate) record: RecordRef,
    pub(crate) body: String,
    pub(crate) group_id: Option<String>,
    /// `ApproximateReceiveCount`: 1 on the first attempt.
    pub(crate) attempt: u32,
    pub(crate) envelope: Result<Envelope, EnvelopeError>,
    /// From the envelope, or best effort from the JSON of one that cannot be read.
    pub(crate) route: Option<String>,
    pub(crate) id: Option<String>,
    pub(crate) delivery_id: Option<String>,
    /// The envelope's `source` (`webhook`, `s3`, `callback`), when readable.
    pub(crate) source: Option<&'static str>,
}

impl Job {
    pub(crate) fn from_record(record: SqsMessage) -> Job {
        let attempt = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|count| count.parse().ok())
            .unwrap_or(1);
        let group_id = record.attributes.get("MessageGroupId").cloned();
        let body = record.body.unwrap_or_default();
        let envelope = Envelope::from_json(&body);
        let source = envelope.as_ref().ok().map(|e| match e.source {
            Source::Webhook => "webhook",
            Source::S3 => "s3",
            Source::Callback => "callback",
        });
        let (route, id, delivery_id) = match &envelope {
            Ok(e) => (Some(e.route.clone()), Some(e.id.clone()), e.delivery_id.clone()),
            Err(_) => loose_fields(&body),
        };
        Job {
            record: RecordRef {
                // An empty id, if ever reported, makes Lambda retry the whole batch: safe, never lossy.
                message_id: record.message_id.unwrap_or_default(),
                receipt_handle: record.receipt_handle,
                queue_arn: record.event_source_arn,
            },
            body,
            group_id,
            attempt,
            envelope,
            route,
            id,
            delivery_id,
            source,
        }
    }

    pub(crate) fn failure(&self) -> BatchItemFailure {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = self.record.message_id.clone();
        failure
    }

    /// The one log line of a record: identifiers, outcome, decision, duration; never the payload.
    pub(crate) fn log(&self, status: Option<u16>, failure: Option<&Failure>, decision: Decision, started: Instant) {
        let duration_ms = started.elapsed().as_millis() as u64;
        let (route, id, delivery_id) = (self.route.as_deref(), self.id.as_deref(), self.delivery_id.as_deref());
        let message_id = self.record.message_id.as_str();
        let source = self.source;
        let attempt = self.attempt;
        let classification = failure.map(|f| f.class.as_str());
        let error = failure.map(|f| f.reason.as_str());
        let level = decision.level();
        let decision = decision.to_string();
        let decision = decision.as_str();
        // tracing's macros take the level as a constant: one invocation per level, same fields.
        macro_rules! record_done {
            ($event:ident) => {
                $event!(
                    route,
                    id,
                    delivery_id,
                    message_id,
                    source,
                    attempt,
                    status,
                    classification,
                    decision,
                    duration_ms,
                    error,
                    "record done"
                )
            };
        }
        match level {
            tracing::Level::INFO => record_done!(info),
            tracing::Level::WARN => record_done!(warn),
            _ => record_done!(error),
        }
    }

    /// The log line of a job's callback: identifiers, the callback's status and what became of
    /// it; never the body or the URL.
    pub(crate) fn log_callback(
        &self,
        status: Option<u16>,
        error: Option<&str>,
        decision: CallbackDecision,
        started: Instant,
    ) {
        let duration_ms = started.elapsed().as_millis() as u64;
        let (route, id, delivery_id) = (self.route.as_deref(), self.id.as_deref(), self.delivery_id.as_deref());
        let message_id = self.record.message_id.as_str();
        let level = decision.level();
        let decision = decision.to_string();
        let decision = decision.as_str();
        macro_rules! line {
            ($level:ident) => {
                $level!(
                    route,
                    id,
                    delivery_id,
                    message_id,
                    status,
                    decision,
                    duration_ms,
                    error,
                    "callback"
                )
            };
        }
        match level {
            tracing::Level::INFO => line!(info),
            tracing::Level::WARN => line!(warn),
            _ => line!(error),
        }
    }

    /// The log line of a record whose task did not finish (panic, or the invocation deadline).
    pub(crate) fn log_unfinished(&self, reason: &str) {
        error!(
            route = self.route.as_deref(),
            id = self.id.as_deref(),
            delivery_id = self.delivery_id.as_deref(),
            message_id = self.record.message_id.as_str(),
            attempt = self.attempt,
            decision = "retry after the visibility timeout",
            error = reason,
            "record done"
        );
    }
}

/// `route`, `id` and `delivery_id` of a message that is not a readable envelope, if it is a JSON
/// object carrying them as strings (for the log line and the dead letter's attributes).
fn loose_fields(body: &str) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(body) else {
        return (None, None, None);
    };
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(|s| s.chars().take(256).collect::<String>())
    };
    (text("route"), text("id"), text("delivery_id"))
}

/// Why a record failed.
pub(crate) struct Failure {
    pub(crate) class: Class,
    pub(crate) reason: String,
    pub(crate) status: Option<u16>,
}

/// What became of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Delivered,
    /// Hidden for this long, then retried.
    RetryIn(Duration),
    /// Retried after the queue's visibility timeout: the visibility change failed.
    RetryUnchanged(String),
    DeadLettered,
    /// Retried after the queue's visibility timeout: the DLQ did not take it.
    DeadLetterFailed(String),
    /// Not attempted; retried after the queue's visibility timeout.
    NotStarted(String),
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decision::Delivered => write!(f, "delivered"),
            Decision::RetryIn(delay) => write!(f, "retry in {}s", delay.as_secs()),
            Decision::RetryUnchanged(e) => {
                write!(f, "retry after the visibility timeout (visibility unchanged: {e})")
            }
            Decision::DeadLettered => write!(f, "dead-lettered"),
            Decision::DeadLetterFailed(e) => {
                write!(f, "retry after the visibility timeout (dead-lettering failed: {e})")
            }
            Decision::NotStarted(why) => write!(f, "not started, retry after the visibility timeout ({why})"),
        }
    }
}

impl Decision {
    /// Delivered: info. Coming back for another attempt: warn. Failed for good (dead-lettered, or
    /// meant to be and the DLQ did not take it): error, someone has to look.
    fn level(&self) -> tracing::Level {
        match self {
            Decision::Delivered => tracing::Level::INFO,
            Decision::RetryIn(_) | Decision::RetryUnchanged(_) | Decision::NotStarted(_) => tracing::Level::WARN,
            Decision::DeadLettered | Decision::DeadLetterFailed(_) => tracing::Level::ERROR,
        }
    }
}

/// What became of a job's callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallbackDecision {
    Sent,
    /// A follow-up callback job retries it.
    Queued,
    /// Failed for good: the follow-up callback job is on the DLQ.
    DeadLettered,
    /// SQS took neither: the whole record is retried.
    NotQueued(String),
}

impl std::fmt::Display for CallbackDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallbackDecision::Sent => write!(f, "callback sent"),
            CallbackDecision::Queued => write!(f, "callback queued for retry"),
            CallbackDecision::DeadLettered => write!(f, "callback dead-lettered"),
            CallbackDecision::NotQueued(e) => {
                write!(f, "callback not queued ({e}): the record is retried")
            }
        }
    }
}

impl CallbackDecision {
    fn level(&self) -> tracing::Level {
        match self {
            CallbackDecision::Sent => tracing::Level::INFO,
            CallbackDecision::Queued => tracing::Level::WARN,
            CallbackDecision::DeadLettered | CallbackDecision::NotQueued(_) => tracing::Level::ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_fields_of_unreadable_messages() {
        assert_eq!(
            loose_fields(r#"{"v":7,"route":"/hooks/a","id":"j1","delivery_id":"d1"}"#),
            (Some("/hooks/a".into()), Some("j1".into()), Some("d1".into()))
        );
        assert_eq!(loose_fields(r#"{"route":5}"#), (None, None, None));
        assert_eq!(loose_fields("[1]"), (None, None, None));
        assert_eq!(loose_fields("garbage"), (None, None, None));
    }
}
