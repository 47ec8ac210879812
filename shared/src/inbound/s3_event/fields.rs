//! Lenient readers of single JSON fields, shared by the three shapes (see "Leniency" in the
//! module docs), and the descriptions of unrecognised JSON in error messages.

use serde_json::{Map, Value};

use super::error::S3EventError;

/// A required non-empty string; `name` (its JSON path) goes into the error.
pub(super) fn required_str<'a>(value: Option<&'a Value>, name: &'static str) -> Result<&'a str, S3EventError> {
    match value {
        None | Some(Value::Null) => Err(S3EventError::MissingField(name)),
        Some(Value::String(s)) if s.is_empty() => Err(S3EventError::MissingField(name)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(S3EventError::WrongType(name)),
    }
}

/// A non-empty string; anything else (absent, null, empty, other types) is `None`.
pub(super) fn opt_string(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// An ETag without the quotes S3 sometimes keeps around it.
pub(super) fn opt_etag(value: Option<&Value>) -> Option<String> {
    let etag = value.and_then(Value::as_str)?.trim_matches('"');
    (!etag.is_empty()).then(|| etag.to_owned())
}

/// A byte count sent as an integer, an integral float or a decimal string.
pub(super) fn opt_u64(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64().or_else(|| {
            let f = n.as_f64()?;
            // Exactly representable integers only (2^53).
            (f >= 0.0 && f.fract() == 0.0 && f <= 9_007_199_254_740_992.0).then_some(f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An ISO-8601 string as sent, or a Unix time in seconds (moto's EventBridge `time`) as RFC 3339.
pub(super) fn opt_time(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => {
            let millis = match n.as_i64() {
                Some(secs) => secs.checked_mul(1000)?,
                None => {
                    let secs = n.as_f64()?;
                    if !secs.is_finite() {
                        return None;
                    }
                    // Saturating float-to-int cast; out-of-range values are rejected below.
                    (secs * 1000.0).round() as i64
                }
            };
            let time = chrono::DateTime::from_timestamp_millis(millis)?;
            Some(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        _ => None,
    }
}

/// "a string", "an array", …: what a value is, for error messages.
pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short description of an unrecognised object for error messages (its first few keys).
pub(super) fn describe_keys(obj: &Map<String, Value>) -> String {
    if obj.is_empty() {
        return "an empty object".to_owned();
    }
    let mut keys: Vec<&str> = obj.keys().take(6).map(String::as_str).collect();
    if obj.len() > keys.len() {
        keys.push("…");
    }
    format!("an object with keys {}", keys.join(", "))
}
