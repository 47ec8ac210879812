//! What a dead-lettered job carries (`docs/wire-formats.md`, "Dead letters"): the queue message
//! exactly as it was received, plus message attributes saying why it failed. The worker writes
//! them; `hookrelay redrive` drops them (every name starts with [`ATTRIBUTE_PREFIX`]) when it
//! moves the job back, so a replay is the original message.

use chrono::{DateTime, SecondsFormat, Utc};

/// The prefix of every attribute the worker adds when it dead-letters a job.
pub const ATTRIBUTE_PREFIX: &str = "hookrelay-";
/// A terse reason (String).
pub const ERROR: &str = "hookrelay-error";
/// The target's HTTP status, when it answered (Number).
pub const STATUS: &str = "hookrelay-status";
/// The job's route, when known (String).
pub const ROUTE: &str = "hookrelay-route";
/// The SQS receive count when it failed for good (Number).
pub const ATTEMPTS: &str = "hookrelay-attempts";
/// When it was dead-lettered, RFC 3339 with milliseconds, UTC (String).
pub const FAILED_AT: &str = "hookrelay-failed-at";

/// A job that failed for good: the original body plus why, for whoever reads the DLQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The queue message exactly as received.
    pub body: String,
    /// The SQS message id of the original (FIFO de-duplication).
    pub message_id: String,
    /// The original's FIFO message group, if any.
    pub group_id: Option<String>,
    /// A terse reason ([`ERROR`]).
    pub error: String,
    /// The target's HTTP status, if it answered ([`STATUS`]).
    pub status: Option<u16>,
    /// The job's route, if known ([`ROUTE`]).
    pub route: Option<String>,
    /// `ApproximateReceiveCount` ([`ATTEMPTS`]).
    pub attempts: u32,
    /// When it was dead-lettered ([`FAILED_AT`]).
    pub failed_at: DateTime<Utc>,
}

impl DeadLetter {
    /// The message attributes a dead letter carries: (name, SQS data type, value). Attributes
    /// without a value are left out (SQS refuses empty ones); values are cleaned of characters
    /// SQS does not accept and kept short.
    pub fn attributes(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut attributes = vec![(ERROR, "String", self.error.clone())];
        if let Some(status) = self.status {
            attributes.push((STATUS, "Number", status.to_string()));
        }
        if let Some(route) = &self.route {
            attributes.push((ROUTE, "String", route.clone()));
        }
        attributes.push((ATTEMPTS, "Number", self.attempts.to_string()));
        attributes.push((
            FAILED_AT,
            "String",
            self.failed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        ));
        attributes
            .into_iter()
            .map(|(name, data_type, value)| (name, data_type, attribute_text(&value)))
            .filter(|(_, _, value)| !value.is_empty())
            .collect()
    }
}

/// At most 512 characters SQS accepts in an attribute (`#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD
/// #x10000-#x10FFFF`); others become `?`.
fn attribute_text(value: &str) -> String {
    const MAX_CHARS: usize = 512;
    value
        .trim()
        .chars()
        .take(MAX_CHARS)
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => '?',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attribute_carries_the_prefix() {
        for name in [ERROR, STATUS, ROUTE, ATTEMPTS, FAILED_AT] {
            assert!(name.starts_with(ATTRIBUTE_PREFIX), "{name}");
        }
    }

    #[test]
    fn dead_letter_attributes() {
        let letter = DeadLetter {
            body: "{}".into(),
            message_id: "m1".into(),
            group_id: None,
            error: "algorithm API answered 400:\u{0}bad input".into(),
            status: Some(400),
            route: Some("/hooks/github".into()),
            attempts: 1,
            failed_at: DateTime::parse_from_rfc3339("2026-11-23T15:00:00.123Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        assert_eq!(
            letter.attributes(),
            [
                (
                    "hookrelay-error",
                    "String",
                    "algorithm API answered 400:?bad input".into()
                ),
                (STATUS, "Number", "400".into()),
                (ROUTE, "String", "/hooks/github".into()),
                (ATTEMPTS, "Number", "1".into()),
                (FAILED_AT, "String", "2026-11-23T15:00:00.123Z".into()),
            ]
        );
        let poison = DeadLetter {
            status: None,
            route: Some("  ".into()),
            error: "x".repeat(2000),
            ..letter
        };
        let names: Vec<_> = poison.attributes().iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names, [ERROR, ATTEMPTS, FAILED_AT]);
        assert_eq!(poison.attributes()[0].2.chars().count(), 512);
    }
}
