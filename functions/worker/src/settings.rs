//! The worker's settings, fixed at cold start.

use hookrelay::delivery::retry::RetryPolicy;

use crate::budget::CallTimeouts;

/// Everything that shapes the handler's decisions, fixed at cold start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Records of one batch in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub call_timeouts: CallTimeouts,
}
