//! A target's `Retry-After`, part of every error answer a target gives ([`super::call::CallError`])
//! and the one wait [`super::retry`] prefers to its own backoff.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// The longest a message can be hidden (`ChangeMessageVisibility`'s maximum): 12 hours.
pub const SQS_MAX_VISIBILITY: Duration = Duration::from_secs(12 * 60 * 60);

/// A target's `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 120`.
    Delay(Duration),
    /// `Retry-After: Sun, 06 Nov 1994 08:49:37 GMT`.
    At(DateTime<Utc>),
}

impl RetryAfter {
    /// Parses a header value; anything else than `1*DIGIT` or an HTTP-date (IMF-fixdate, or the
    /// obsolete RFC 850 and asctime forms) is `None`, i.e. ignored.
    pub fn parse(value: &str) -> Option<RetryAfter> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        if value.bytes().all(|b| b.is_ascii_digit()) {
            // Too many digits to count is still "a very long time": capped when used.
            let secs = value.parse::<u64>().unwrap_or(u64::MAX);
            return Some(RetryAfter::Delay(Duration::from_secs(secs)));
        }
        const HTTP_DATE_FORMATS: [&str; 3] = [
            "%a, %d %b %Y %H:%M:%S GMT", // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            "%A, %d-%b-%y %H:%M:%S GMT", // RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT
            "%a %b %e %H:%M:%S %Y",      // asctime:     Sun Nov  6 08:49:37 1994
        ];
        HTTP_DATE_FORMATS
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
            .map(|naive| RetryAfter::At(naive.and_utc()))
    }

    /// The first valid `Retry-After` header, if any.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<RetryAfter> {
        headers
            .get_all(http::header::RETRY_AFTER)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(RetryAfter::parse)
    }

    /// The wait it asks for, seen at `now`, in whole seconds (a date is rounded up so the retry
    /// is never early), at most [`SQS_MAX_VISIBILITY`]. A date in the past is no wait.
    pub fn delay_from(&self, now: DateTime<Utc>) -> Duration {
        let delay = match self {
            RetryAfter::Delay(delay) => *delay,
            RetryAfter::At(at) => match (*at - now).to_std() {
                Ok(left) => Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0)),
                Err(_) => Duration::ZERO,
            },
        };
        delay.min(SQS_MAX_VISIBILITY)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn retry_after_parses_both_forms() {
        assert_eq!(
            RetryAfter::parse("120"),
            Some(RetryAfter::Delay(Duration::from_secs(120)))
        );
        assert_eq!(RetryAfter::parse(" 0 "), Some(RetryAfter::Delay(Duration::ZERO)));
        let expected = RetryAfter::At(Utc.with_ymd_and_hms(1994, 11, 6, 8, 49, 37).unwrap());
        assert_eq!(RetryAfter::parse("Sun, 06 Nov 1994 08:49:37 GMT"), Some(expected));
        assert_eq!(RetryAfter::parse("Sunday, 06-Nov-94 08:49:37 GMT"), Some(expected));
        assert_eq!(RetryAfter::parse("Sun Nov  6 08:49:37 1994"), Some(expected));
    }

    #[test]
    fn invalid_retry_after_values_are_ignored() {
        for value in [
            "",
            "   ",
            "-5",
            "+5",
            "1.5",
            "5s",
            "soon",
            "0x10",
            "Mon, 06 Nov 1994 08:49:37 GMT", // wrong weekday
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "2026-11-23T15:00:00Z",
        ] {
            assert_eq!(RetryAfter::parse(value), None, "{value:?}");
        }
    }

    #[test]
    fn retry_after_delays_are_capped_at_twelve_hours() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
        let at = |secs: i64| RetryAfter::At(now + chrono::Duration::seconds(secs));
        assert_eq!(
            RetryAfter::parse("30").unwrap().delay_from(now),
            Duration::from_secs(30)
        );
        assert_eq!(RetryAfter::parse("43201").unwrap().delay_from(now), SQS_MAX_VISIBILITY);
        assert_eq!(
            RetryAfter::parse("99999999999999999999999999").unwrap().delay_from(now),
            SQS_MAX_VISIBILITY
        );
        assert_eq!(at(90).delay_from(now), Duration::from_secs(90));
        assert_eq!(at(-90).delay_from(now), Duration::ZERO, "a past date is no wait");
        assert_eq!(at(3 * 86_400).delay_from(now), SQS_MAX_VISIBILITY);
        let later = RetryAfter::At(now + chrono::Duration::milliseconds(1500));
        assert_eq!(later.delay_from(now), Duration::from_secs(2), "rounded up, never early");
        let date = RetryAfter::parse("Mon, 23 Nov 2026 15:05:00 GMT").unwrap();
        assert_eq!(date.delay_from(now), Duration::from_secs(300));
    }

    #[test]
    fn retry_after_is_read_from_headers() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(RetryAfter::from_headers(&headers), None);
        headers.append(http::header::RETRY_AFTER, http::HeaderValue::from_static("later"));
        headers.append(http::header::RETRY_AFTER, http::HeaderValue::from_static("7"));
        assert_eq!(
            RetryAfter::from_headers(&headers),
            Some(RetryAfter::Delay(Duration::from_secs(7)))
        );
    }
}
