//! How long a sync call may take: the route's `deadline_secs`, and never past the invocation's
//! own deadline (`Lambda-Runtime-Deadline-Ms`), so the provider gets the documented 504 rather
//! than the platform's error when Lambda stops the invocation.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// A sync call is cut this long before the invocation's deadline, to leave time for the 504 to
/// reach the Runtime API before Lambda stops the invocation.
pub const SYNC_ANSWER_MARGIN: Duration = Duration::from_millis(500);

/// How long a sync call may take: the route's `deadline_secs`, but never past the invocation's
/// deadline less [`SYNC_ANSWER_MARGIN`] (zero when that is already past: an immediate 504).
pub fn sync_budget(route_deadline: Duration, invocation: Option<Instant>, now: Instant) -> Duration {
    match invocation {
        Some(deadline) => route_deadline.min(
            deadline
                .saturating_duration_since(now)
                .saturating_sub(SYNC_ANSWER_MARGIN),
        ),
        None => route_deadline,
    }
}

/// The invocation deadline (`Lambda-Runtime-Deadline-Ms`, epoch milliseconds) as an [`Instant`];
/// `None` when the runtime gave none.
pub fn invocation_deadline(deadline_ms: u64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    let left = deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
    Some(Instant::now() + left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sync_budget_is_the_shorter_of_route_and_invocation() {
        let now = Instant::now();
        let route = Duration::from_secs(25);
        assert_eq!(sync_budget(route, None, now), route);
        assert_eq!(
            sync_budget(route, Some(now + Duration::from_secs(10)), now),
            Duration::from_secs(10) - SYNC_ANSWER_MARGIN
        );
        assert_eq!(sync_budget(route, Some(now + Duration::from_secs(60)), now), route);
        assert_eq!(sync_budget(route, Some(now), now), Duration::ZERO);
        assert_eq!(invocation_deadline(0), None);
        let in_10s = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(10);
        let deadline = invocation_deadline(in_10s.as_millis() as u64).unwrap();
        assert!(deadline > now + Duration::from_secs(9) && deadline <= Instant::now() + Duration::from_secs(10));
        let past = invocation_deadline(1).unwrap();
        assert!(past <= Instant::now(), "a deadline already past is now");
    }
}
