//! The pattern language against AWS's documentation pages and event-ruler's README examples,
//! one file per topic, sharing the helpers and sample events below:
//! - `event_patterns`: the event-patterns page, its "Considerations", null values and arrays;
//! - `string_operators`: the operators page's `prefix`, `suffix`, `equals-ignore-case`,
//!   `anything-but` and `wildcard`;
//! - `operators`: the operators page's `numeric`, `cidr`, `exists`, `$or` and its complex example;
//! - `lambda`: the Lambda developer guide's event-filtering examples;
//! - `requests`: hookrelay-shaped requests (headers, bodies, methods, paths);
//! - `validation`: patterns AWS rejects, and odd events.

use serde_json::{json, Value};

use super::{Filter, FilterError};

#[track_caller]
pub(super) fn filter(pattern: Value) -> Filter {
    Filter::compile(&pattern).unwrap_or_else(|e| panic!("{pattern} was rejected: {e}"))
}

#[track_caller]
pub(super) fn matches(pattern: Value, event: Value) {
    assert!(
        filter(pattern.clone()).matches(&event),
        "{pattern} should match {event}"
    );
}

#[track_caller]
pub(super) fn misses(pattern: Value, event: Value) {
    assert!(
        !filter(pattern.clone()).matches(&event),
        "{pattern} should not match {event}"
    );
}

#[track_caller]
pub(super) fn rejected(pattern: Value) -> FilterError {
    match Filter::compile(&pattern) {
        Ok(_) => panic!("{pattern} should be rejected"),
        Err(e) => e,
    }
}

#[track_caller]
pub(super) fn rejected_at(pattern: Value, path: &str, reason_contains: &str) {
    let e = rejected(pattern.clone());
    assert_eq!(e.path, path, "{pattern}: {e}");
    assert!(
        e.reason.contains(reason_contains),
        "{pattern}: `{e}` should mention `{reason_contains}`"
    );
}

/// The sample event of aws/event-ruler's README ("Ruler by Example"), which the EventBridge
/// "Comparison operators" page's patterns (c-count, d-count, x-limit, source-ip) are written for.
fn ruler_event() -> Value {
    json!({
      "version": "0",
      "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
      "detail-type": "EC2 Instance State-change Notification",
      "source": "aws.ec2",
      "account": "012345679012",
      "time": "2017-10-02T16:24:49Z",
      "region": "us-east-1",
      "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-000000aaaaaa00000",
        "state": "running"
      }
    })
}

fn with_detail(detail: Value) -> Value {
    json!({"source": "aws.ec2", "detail": detail})
}

mod event_patterns;
mod lambda;
mod operators;
mod requests;
mod string_operators;
mod validation;
