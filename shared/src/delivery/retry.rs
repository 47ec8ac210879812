//! The delivery retry policy, pure and clock-free so every rule is unit-tested:
//!
//! - **classification**: which failures are worth another attempt ([`Class::Transient`]:
//!   connection errors, timeouts, 5xx, 408, 429) and which will fail the same way every time
//!   ([`Class::Permanent`]: other 4xx, bad jobs, algorithm errors by default);
//! - **backoff**: how long a transient failure waits before its next attempt: exponential in the
//!   SQS receive count with full jitter (`uniform(0, min(cap, base * 2^(n-1)))`), or the target's
//!   own `Retry-After` (delay-seconds or an HTTP-date), never more than SQS can hide a message.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::delivery::{call::CallError, retry_after::SQS_MAX_VISIBILITY};

/// Default backoff of the first retry (the ceiling of its jitter range).
pub const DEFAULT_BASE: Duration = Duration::from_secs(2);
/// Default longest backoff.
pub const DEFAULT_CAP: Duration = Duration::from_secs(15 * 60);

/// Whether a failed delivery is worth another attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Another attempt may succeed (outage, overload, timeout): retry with backoff.
    Transient,
    /// Every attempt will fail the same way: dead-letter at once.
    Permanent,
}

impl Class {
    /// `transient` or `permanent`, as logs and dead letters say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Transient => "transient",
            Class::Permanent => "permanent",
        }
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How transient failures are retried, and how algorithm errors are classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Backoff ceiling of the first retry; doubles with every receive.
    pub base: Duration,
    /// The longest backoff (before jitter). Clamped to [`SQS_MAX_VISIBILITY`].
    pub cap: Duration,
    /// How an `{"error": ...}` answer of the algorithm ([`CallError::Algorithm`]) is treated.
    pub algorithm_errors: Class,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: DEFAULT_BASE,
            cap: DEFAULT_CAP,
            algorithm_errors: Class::Permanent,
        }
    }
}

impl RetryPolicy {
    /// Classifies a failed delivery. Exhaustive on purpose: a new `CallError` variant must be
    /// classified here before it compiles.
    pub fn classify(&self, error: &CallError) -> Class {
        match error {
            CallError::Transport(_) | CallError::Timeout => Class::Transient,
            CallError::Status { status, .. } => classify_status(*status),
            CallError::Algorithm(_) => self.algorithm_errors,
            // A 2xx whose body is not the API's JSON: an intermediary's page or a cut answer,
            // not something the job itself causes. Retried; the redrive policy bounds it.
            CallError::InvalidResponse { .. } => Class::Transient,
            CallError::BadJob(_) => Class::Permanent,
        }
    }

    /// The top of the jitter range for the `receive_count`-th receive (1 = first attempt):
    /// `min(cap, base * 2^(receive_count - 1))`, never above [`SQS_MAX_VISIBILITY`].
    pub fn backoff_ceiling(&self, receive_count: u32) -> Duration {
        let cap = self.cap.min(SQS_MAX_VISIBILITY);
        let doublings = receive_count.saturating_sub(1).min(40);
        self.base.saturating_mul(1u32 << doublings.min(31)).min(cap)
    }

    /// Full jitter: a whole number of seconds uniform in `0..=backoff_ceiling` (SQS visibility
    /// timeouts are whole seconds). `unit` is a random number in `[0, 1)`, see [`random_unit`].
    pub fn backoff(&self, receive_count: u32, unit: f64) -> Duration {
        let ceiling = self.backoff_ceiling(receive_count).as_secs();
        let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.0 };
        let secs = (unit * (ceiling + 1) as f64) as u64;
        Duration::from_secs(secs.min(ceiling))
    }

    /// How long a transient failure waits before its next attempt: the target's `Retry-After`
    /// when it sent one (honoured even beyond `cap`, up to [`SQS_MAX_VISIBILITY`]), else
    /// [`Self::backoff`].
    pub fn retry_delay(&self, error: &CallError, receive_count: u32, now: DateTime<Utc>, unit: f64) -> Duration {
        match error.retry_after() {
            Some(retry_after) => retry_after.delay_from(now),
            None => self.backoff(receive_count, unit),
        }
    }
}

/// HTTP statuses worth retrying: 408 Request Timeout, 429 Too Many Requests and every 5xx.
/// Any other non-2xx status (4xx, and 3xx the client did not follow) fails the same way again.
pub fn classify_status(status: u16) -> Class {
    match status {
        408 | 429 | 500..=599 => Class::Transient,
        _ => Class::Permanent,
    }
}

/// A random number in `[0, 1)` for the jitter (from the OS's generator, via uuid v4).
pub fn random_unit() -> f64 {
    let (_, low) = uuid::Uuid::new_v4().as_u64_pair();
    // The low half's top bits hold the UUID variant; its low 53 bits are random.
    (low & ((1 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::retry_after::RetryAfter;

    fn status(code: u16) -> CallError {
        CallError::Status {
            status: code,
            message: "x".into(),
            retry_after: None,
        }
    }

    #[test]
    fn classification_table() {
        let policy = RetryPolicy::default();
        let table = [
            (CallError::Transport("connection refused".into()), Class::Transient),
            (CallError::Timeout, Class::Transient),
            (status(500), Class::Transient),
            (status(502), Class::Transient),
            (status(503), Class::Transient),
            (status(504), Class::Transient),
            (status(599), Class::Transient),
            (status(429), Class::Transient),
            (status(408), Class::Transient),
            (status(400), Class::Permanent),
            (status(401), Class::Permanent),
            (status(403), Class::Permanent),
            (status(404), Class::Permanent),
            (status(409), Class::Permanent),
            (status(413), Class::Permanent),
            (status(422), Class::Permanent),
            (status(451), Class::Permanent),
            (status(301), Class::Permanent),
            (CallError::Algorithm("boom".into()), Class::Permanent),
            (CallError::InvalidResponse { status: 200 }, Class::Transient),
            (CallError::BadJob("unknown target `x`".into()), Class::Permanent),
        ];
        for (error, expected) in table {
            assert_eq!(policy.classify(&error), expected, "{error:?}");
        }
    }

    #[test]
    fn algorithm_errors_follow_the_policy() {
        let policy = RetryPolicy {
            algorithm_errors: Class::Transient,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.classify(&CallError::Algorithm("boom".into())), Class::Transient);
        assert_eq!(policy.classify(&status(400)), Class::Permanent);
    }

    #[test]
    fn backoff_ceiling_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        let ceilings: Vec<u64> = (0..=12).map(|n| p.backoff_ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [2, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
        assert_eq!(p.backoff_ceiling(u32::MAX), DEFAULT_CAP);
        let huge = RetryPolicy {
            cap: Duration::from_secs(u64::MAX),
            ..RetryPolicy::default()
        };
        assert_eq!(huge.backoff_ceiling(1000), SQS_MAX_VISIBILITY);
    }

    #[test]
    fn backoff_stays_within_the_range_for_any_unit() {
        let p = RetryPolicy::default();
        for n in [1, 2, 3, 5, 8, 10, 20] {
            let ceiling = p.backoff_ceiling(n);
            for unit in [0.0, 0.25, 0.5, 0.999_999_9, 1.0, -3.0, 7.0, f64::NAN, f64::INFINITY] {
                let d = p.backoff(n, unit);
                assert!(d <= ceiling, "n={n} unit={unit}: {d:?} > {ceiling:?}");
                assert_eq!(d.subsec_nanos(), 0, "whole seconds");
            }
            assert_eq!(p.backoff(n, 0.0), Duration::ZERO, "full jitter starts at zero");
            assert_eq!(p.backoff(n, 0.999_999_9), ceiling, "and reaches the ceiling");
        }
    }

    #[test]
    fn random_backoff_covers_the_full_jitter_range() {
        let p = RetryPolicy::default();
        for n in [1, 3, 6, 12] {
            let ceiling = p.backoff_ceiling(n).as_secs();
            let samples: Vec<u64> = (0..4000).map(|_| p.backoff(n, random_unit()).as_secs()).collect();
            let (min, max) = (*samples.iter().min().unwrap(), *samples.iter().max().unwrap());
            assert!(max <= ceiling, "n={n}: {max} > {ceiling}");
            // Uniform over 0..=ceiling: both ends of the range are reached (or nearly, for wide ones).
            assert!(min <= ceiling / 20, "n={n}: smallest {min} of 0..={ceiling}");
            assert!(max >= ceiling - ceiling / 20, "n={n}: largest {max} of 0..={ceiling}");
            let mean = samples.iter().sum::<u64>() as f64 / samples.len() as f64;
            let expected = ceiling as f64 / 2.0;
            assert!((mean - expected).abs() <= expected * 0.1 + 0.1, "n={n}: mean {mean}");
        }
        for _ in 0..1000 {
            let u = random_unit();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }

    #[test]
    fn retry_delay_prefers_the_targets_retry_after() {
        let p = RetryPolicy::default();
        let now = Utc::now();
        let throttled = CallError::Status {
            status: 429,
            message: "slow down".into(),
            retry_after: Some(RetryAfter::Delay(Duration::from_secs(3600))),
        };
        // Beyond the 15 min cap: the target knows best (up to the 12 h SQS maximum).
        assert_eq!(p.retry_delay(&throttled, 1, now, 0.5), Duration::from_secs(3600));
        let plain = status(503);
        assert_eq!(p.retry_delay(&plain, 3, now, 0.999_999), Duration::from_secs(8));
        assert_eq!(p.retry_delay(&CallError::Timeout, 3, now, 0.0), Duration::ZERO);
    }
}
