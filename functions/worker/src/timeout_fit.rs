//! Whether the longest call fits the function's timeout: static configuration, so it is checked
//! once per execution environment, at its first batch, and warned about at most once.
//!
//! Lambda does not put the function timeout in the environment; the first invocation's deadline
//! (`Lambda-Runtime-Deadline-Ms`) is the earliest place it is known. The time left then, rounded
//! up to whole seconds (function timeouts are whole seconds), is taken as the function timeout.
//! A call that does not fit is still made, cut to the time left (see [`crate::budget`]).

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

pub use crate::budget::CALL_MARGIN;

/// The function timeout as seen from an invocation that has `left` before its deadline.
pub fn function_timeout(left: Duration) -> Duration {
    Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0))
}

/// Whether a call of `call_timeout` plus [`CALL_MARGIN`] fits a function of `function_timeout`.
pub fn fits(call_timeout: Duration, function_timeout: Duration) -> bool {
    call_timeout + CALL_MARGIN <= function_timeout
}

/// Checks at the first batch only.
#[derive(Debug, Default)]
pub struct FitCheck {
    checked: AtomicBool,
}

impl FitCheck {
    /// At the first call only: `Some(function timeout)` when `call_timeout` does not fit it (and
    /// logs the warning), else `None`. Every later call is `None`.
    pub fn check_once(&self, call_timeout: Duration, invocation_left: Duration) -> Option<Duration> {
        if self.checked.swap(true, Ordering::Relaxed) {
            return None;
        }
        let function = function_timeout(invocation_left);
        if fits(call_timeout, function) {
            return None;
        }
        tracing::warn!(
            timeout_secs = call_timeout.as_secs(),
            function_timeout_secs = function.as_secs(),
            "downstream.timeout_secs plus a {}s margin does not fit the function timeout: calls are cut to the \
             time left; set timeout_secs below the function timeout",
            CALL_MARGIN.as_secs()
        );
        Some(function)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_function_timeout_is_the_time_left_rounded_up() {
        assert_eq!(function_timeout(Duration::from_millis(29_993)), secs(30));
        assert_eq!(function_timeout(secs(30)), secs(30));
        assert_eq!(function_timeout(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn a_call_fits_with_its_margin() {
        // The dev stack and the template's 30 s row: 25 s calls in a 30 s function.
        assert!(fits(secs(25), secs(30)));
        assert!(fits(secs(28), secs(30)));
        assert!(!fits(secs(29), secs(30)));
        assert!(!fits(secs(30), secs(30)));
    }

    #[test]
    fn it_decides_once_per_execution_environment() {
        let check = FitCheck::default();
        let left = Duration::from_millis(29_990);
        assert_eq!(check.check_once(secs(30), left), Some(secs(30)));
        assert_eq!(check.check_once(secs(30), left), None, "warned once only");
        let fitting = FitCheck::default();
        assert_eq!(fitting.check_once(secs(25), left), None);
        assert_eq!(fitting.check_once(secs(60), left), None, "decided at the first batch");
    }
}
