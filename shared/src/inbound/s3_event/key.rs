//! Object keys as S3 event notifications encode them.

use std::borrow::Cow;

use super::error::S3EventError;

/// Decodes an object key as it appears in S3 event notifications.
///
/// S3 encodes keys as `application/x-www-form-urlencoded` (per the S3 docs quoted on
/// [`EVENTBRIDGE_KEYS_ARE_URL_ENCODED`](super::EVENTBRIDGE_KEYS_ARE_URL_ENCODED)): `+` is a space and `%XX` is a byte, so `+` is replaced
/// *before* percent-decoding (`a%2Bb` → `a+b`, `my+photo%281%29.jpg` → `my photo(1).jpg`). Never
/// panics. On malformed input:
/// * a `%` not followed by two hex digits (`%ZZ`, a trailing `%`) is kept literally, as the WHATWG
///   form-urlencoded parser and Python's `unquote_plus` do: S3 never produces one, so the sender did
///   not encode that `%`, and keeping it is the only reading that loses nothing;
/// * escapes that decode to invalid UTF-8 (`%FF`, a truncated `%C3`) are an error for that record:
///   S3 keys are UTF-8, so no real object has that key, and a lossy U+FFFD substitution could
///   silently map two different inputs onto one key (and one job id).
///
/// # Errors
/// [`S3EventError::KeyNotUtf8`] when the decoded bytes are not UTF-8.
pub fn decode_key(raw: &str) -> Result<String, S3EventError> {
    let spaced: Cow<'_, str> = if raw.contains('+') {
        Cow::Owned(raw.replace('+', " "))
    } else {
        Cow::Borrowed(raw)
    };
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| S3EventError::KeyNotUtf8(raw.to_owned()))
}
