//! What every target answers in, whatever its kind: [`Delivered`] or a [`CallError`], which
//! [`super::retry`] classifies. The helpers here are shared by the algorithm, HTTP and callback
//! adapters so that each turns the same transport failure into the same error.

use http::HeaderValue;

use crate::delivery::retry_after::RetryAfter;

/// A successful answer: the algorithm's `result` and `metadata`.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    /// The target's HTTP status (2xx).
    pub status: u16,
    /// The algorithm's `result`; for raw answers the body, as JSON when it is JSON, else text.
    pub result: serde_json::Value,
    /// The algorithm's `metadata`; for raw answers `{"content_type": ..}`.
    pub metadata: serde_json::Value,
}

/// The content type a target is sent for an input: JSON, other UTF-8 text, or bytes.
pub fn content_type_for(input: &[u8]) -> &'static str {
    if serde_json::from_slice::<serde::de::IgnoredAny>(input).is_ok() {
        "application/json"
    } else if std::str::from_utf8(input).is_ok() {
        "text/plain"
    } else {
        "application/octet-stream"
    }
}

/// Why a call did not deliver. The text is the target's own words (truncated) or ours; it never
/// carries a secret or the request's URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer: connection refused or reset, DNS, TLS (transient).
    #[error("could not reach the algorithm: {0}")]
    Transport(String),
    /// No answer within the target's timeout (transient).
    #[error("algorithm call timed out")]
    Timeout,
    /// A non-2xx answer, classified by status ([`super::retry::classify_status`]).
    #[error("algorithm API answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The target's error message, or the status's reason phrase.
        message: String,
        /// The answer's `Retry-After`, if it had a valid one (see [`crate::delivery::retry`]).
        retry_after: Option<RetryAfter>,
    },
    /// A 2xx answer carrying the algorithm's own `error` (permanent unless
    /// `[worker] algorithm_errors = "transient"`).
    #[error("algorithm failed: {0}")]
    Algorithm(String),
    /// A 2xx answer that is not the API's JSON (transient: a proxy's page, a truncated answer).
    #[error("algorithm API answered {status} with an unreadable body")]
    InvalidResponse {
        /// The HTTP status.
        status: u16,
    },
    /// The job itself cannot be sent, now or ever (permanent): an unknown target, a bad payload.
    #[error("job cannot be delivered: {0}")]
    BadJob(String),
}

impl CallError {
    /// The HTTP status the target answered, if it answered at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Status { status, .. } | CallError::InvalidResponse { status } => Some(*status),
            _ => None,
        }
    }

    /// The target's `Retry-After`, when it answered an error status with one.
    pub fn retry_after(&self) -> Option<RetryAfter> {
        match self {
            CallError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Attaches the answer's `Retry-After` to a status error (other errors are unchanged).
    pub(crate) fn with_retry_after(mut self, value: Option<RetryAfter>) -> Self {
        if let CallError::Status { retry_after, .. } = &mut self {
            *retry_after = value;
        }
        self
    }
}

/// The header every target call carries the job id in.
pub(crate) const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The job id as an `Idempotency-Key` value. An id that cannot be one (a control character in a
/// forged envelope) fails the same way on every attempt: a permanent [`CallError::BadJob`], not
/// the transport error reqwest would report when sending.
pub(crate) fn idempotency_key_value(job_id: &str) -> Result<HeaderValue, CallError> {
    HeaderValue::from_str(job_id)
        .map_err(|_| CallError::BadJob("the job id cannot be sent as an Idempotency-Key header".into()))
}

/// A successful answer that is not the API's JSON wrapper (raw output, generic HTTP targets).
pub(crate) fn raw_answer(status: u16, content_type: Option<&str>, body: &[u8]) -> Delivered {
    let result = serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()));
    Delivered {
        status,
        result,
        metadata: serde_json::json!({ "content_type": content_type }),
    }
}

pub(crate) fn transport_error(e: reqwest::Error) -> CallError {
    if e.is_timeout() {
        CallError::Timeout
    } else if e.is_builder() {
        // The request itself cannot be built (a header or URL it cannot carry): no retry can help.
        CallError::BadJob(error_chain(&e.without_url()))
    } else {
        // Without the URL: it is ours, and the error chain says enough.
        CallError::Transport(error_chain(&e.without_url()))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A target's answer, read whole: what every HTTP adapter looks at before judging it.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) retry_after: Option<RetryAfter>,
    pub(crate) body: bytes::Bytes,
}

impl Answer {
    /// Reads `response` to its end; a connection lost mid-body is a transport error.
    pub(crate) async fn read(response: reqwest::Response) -> Result<Answer, CallError> {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = RetryAfter::from_headers(response.headers());
        let body = response.bytes().await.map_err(transport_error)?;
        Ok(Answer {
            status,
            content_type,
            retry_after,
            body,
        })
    }

    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
