//! The timing budget of a record: how long its call may take, given the invocation deadline, the
//! target's call timeout and [`CALL_MARGIN`]; and the deadline itself, as the runtime gives it.
//! Whether the configured timeout fits the function at all is warned about once, at the first
//! batch ([`crate::timeout_fit`]).

use std::{
    collections::HashMap,
    time::{Duration, SystemTime},
};

use hookrelay::config::{Config, TargetSpec};
use tokio::time::Instant;

/// Time kept after the longest possible call, for the record's SQS action (visibility change or
/// dead-lettering) and the answer to Lambda.
pub const CALL_MARGIN: Duration = Duration::from_secs(2);
/// When no call timeout fits the invocation at all, a call still starts if it gets this long.
pub(crate) const MIN_CALL_BUDGET: Duration = Duration::from_secs(1);
/// Used when the runtime gives no deadline (never on Lambda).
const NO_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// The longest a call to each target may take (its client's timeout), by target name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTimeouts {
    pub(crate) default: Duration,
    by_target: HashMap<String, Duration>,
}

impl CallTimeouts {
    /// `[downstream] timeout_secs`, and each `[targets.<name>]`'s own timeout.
    pub fn from_config(config: &Config) -> Self {
        let by_target = config
            .targets
            .iter()
            .map(|(name, spec)| {
                let timeout = match spec {
                    TargetSpec::Algorithm(api) => api.timeout,
                    TargetSpec::Http(http) => http.timeout,
                };
                (name.clone(), timeout)
            })
            .collect();
        CallTimeouts {
            default: config.downstream.timeout,
            by_target,
        }
    }

    #[cfg(test)]
    pub fn uniform(timeout: Duration) -> Self {
        CallTimeouts {
            default: timeout,
            by_target: HashMap::new(),
        }
    }

    pub(crate) fn for_target(&self, name: &str) -> Duration {
        self.by_target.get(name).copied().unwrap_or(self.default)
    }
}

/// The invocation deadline (`Lambda-Runtime-Deadline-Ms`, epoch milliseconds) as an [`Instant`].
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    let now = Instant::now();
    if deadline_ms == 0 {
        return now + NO_DEADLINE;
    }
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    now + deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
}

/// How long a call starting at `now` may take, or `None` when it must not start.
///
/// A call starts only if its whole timeout (plus [`CALL_MARGIN`]) fits before the deadline. When
/// the timeout does not even fit the whole invocation (`timeout_secs` longer than the function
/// timeout allows: a misconfiguration), waiting would never help and every job would be
/// dead-lettered by the redrive policy untried; the call then starts with the time left instead.
pub(crate) fn call_budget(
    timeout: Duration,
    invocation_start: Instant,
    now: Instant,
    deadline: Instant,
) -> Option<Duration> {
    let left = deadline.saturating_duration_since(now).checked_sub(CALL_MARGIN)?;
    if left >= timeout {
        return Some(timeout);
    }
    let invocation = deadline.saturating_duration_since(invocation_start);
    let never_fits = invocation < timeout + CALL_MARGIN;
    (never_fits && left >= MIN_CALL_BUDGET).then_some(left)
}

#[cfg(test)]
mod tests {
    use hookrelay::config::DOWNSTREAM;

    use super::*;

    #[test]
    fn call_budgets() {
        let start = Instant::now();
        let at = |secs: u64| start + Duration::from_secs(secs);
        let timeout = Duration::from_secs(10);
        // Fits: the whole timeout.
        assert_eq!(call_budget(timeout, start, start, at(12)), Some(timeout));
        assert_eq!(call_budget(timeout, start, at(3), at(20)), Some(timeout));
        // Would fit a fresh invocation but not this late in one: not started.
        assert_eq!(call_budget(timeout, start, at(9), at(20)), None);
        // Never fits the invocation: the time left, while there is at least a second of it.
        assert_eq!(call_budget(timeout, start, at(1), at(8)), Some(Duration::from_secs(5)));
        assert_eq!(call_budget(timeout, start, at(5), at(8)), Some(Duration::from_secs(1)));
        assert_eq!(call_budget(timeout, start, at(6), at(8)), None);
        assert_eq!(call_budget(timeout, start, at(9), at(8)), None);
    }

    #[test]
    fn deadlines_from_the_runtime() {
        let now = Instant::now();
        let epoch_ms = |offset_ms: i64| {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
            (now.as_millis() as i64 + offset_ms) as u64
        };
        let in_30s = deadline_from_epoch_ms(epoch_ms(30_000));
        assert!(in_30s > now + Duration::from_secs(29) && in_30s <= Instant::now() + Duration::from_secs(30));
        assert!(
            deadline_from_epoch_ms(epoch_ms(-5_000)) <= Instant::now(),
            "past: no time left"
        );
        assert!(
            deadline_from_epoch_ms(0) >= now + NO_DEADLINE,
            "unknown: Lambda's longest"
        );
    }

    #[test]
    fn call_timeouts_follow_each_targets_config() {
        let config = Config::from_toml(
            r#"
[downstream]
timeout_secs = 30

[targets.hook]
type = "http"
url = "https://hooks.example.test/in"
timeout_secs = 5

[targets.other-api]
type = "algorithm"
base_url = "https://api.example.test"
timeout_secs = 7
"#,
        )
        .unwrap();
        let timeouts = CallTimeouts::from_config(&config);
        assert_eq!(timeouts.for_target(DOWNSTREAM), Duration::from_secs(30));
        assert_eq!(timeouts.for_target("hook"), Duration::from_secs(5));
        assert_eq!(timeouts.for_target("other-api"), Duration::from_secs(7));
        assert_eq!(timeouts.for_target("unknown"), Duration::from_secs(30));
    }
}
