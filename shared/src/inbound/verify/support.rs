//! Building blocks the schemes share: header access, HMAC, constant-time matching, timestamps.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{KeyInit, Mac};
use http::HeaderMap;
use subtle::ConstantTimeEq;

use super::{Matched, Rejection};
use crate::foundation::secret::Secret;

/// A header's value as text, trimmed; `None` when absent or not visible ASCII.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// A signature scheme's header: `missing` when absent; malformed when present but empty or not
/// visible ASCII (a header that is there but unreadable is not the same as no header).
pub(crate) fn required_header<'a>(
    headers: &'a HeaderMap,
    name: &str,
    missing: Rejection,
) -> Result<&'a str, Rejection> {
    match header_str(headers, name) {
        Some("") => Err(Rejection::MalformedSignature),
        Some(value) => Ok(value),
        None if headers.contains_key(name) => Err(Rejection::MalformedSignature),
        None => Err(missing),
    }
}

/// A header's value as an id for logs and de-duplication: bounded and printable, else ignored.
pub(crate) fn header_id(headers: &HeaderMap, name: &str) -> Option<String> {
    header_str(headers, name).and_then(usable_id)
}

/// A string at a JSON Pointer in the body as an id (e.g. Stripe's `/id`), bounded and printable.
pub(crate) fn body_id(body: &[u8], pointer: &str) -> Option<String> {
    // Only the body up to the top-level field the pointer starts in is read.
    let first = pointer.strip_prefix('/')?.split('/').next()?;
    let key = first.replace("~1", "/").replace("~0", "~");
    let value = crate::inbound::json::first_top_level_field(body, &key)?;
    // The rest of the pointer, within that field ("" is the field itself).
    value.pointer(&pointer[1 + first.len()..])?.as_str().and_then(usable_id)
}

fn usable_id(value: &str) -> Option<String> {
    let usable = !value.is_empty() && value.len() <= 256 && value.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| value.to_owned())
}

pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Equality that takes the same time wherever the inputs differ. Lengths are not secret.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Finds the first secret whose signature equals any presented candidate (rotation: several
/// secrets; several signatures per request). Every comparison is constant time.
pub(crate) fn first_match<S: AsRef<[u8]>>(
    secrets: &[Secret],
    presented: &[S],
    sign: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<Matched, Rejection> {
    for (index, secret) in secrets.iter().enumerate() {
        let expected = sign(secret.expose());
        let mut found = false;
        for candidate in presented {
            found |= ct_eq(&expected, candidate.as_ref());
        }
        if found {
            return Ok(Matched(index));
        }
    }
    Err(Rejection::SignatureMismatch)
}

/// Checks a Unix timestamp (seconds, as text) against `now`: stale and future ones are refused.
pub(crate) fn check_timestamp(text: Option<&str>, now: SystemTime, tolerance: Duration) -> Result<i64, Rejection> {
    let text = text.ok_or(Rejection::MissingTimestamp)?;
    let ts: i64 = text.trim().parse().map_err(|_| Rejection::MalformedSignature)?;
    let now_secs = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    if now_secs.abs_diff(ts) > tolerance.as_secs() {
        return Err(Rejection::TimestampOutsideTolerance);
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_within_tolerance_either_way() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let tol = Duration::from_secs(300);
        assert_eq!(check_timestamp(Some("1000000"), now, tol), Ok(1_000_000));
        assert_eq!(check_timestamp(Some("999700"), now, tol), Ok(999_700));
        assert_eq!(check_timestamp(Some("1000300"), now, tol), Ok(1_000_300));
        assert_eq!(
            check_timestamp(Some("999699"), now, tol),
            Err(Rejection::TimestampOutsideTolerance)
        );
        assert_eq!(
            check_timestamp(Some("1000301"), now, tol),
            Err(Rejection::TimestampOutsideTolerance)
        );
        assert_eq!(
            check_timestamp(Some("-5"), now, tol),
            Err(Rejection::TimestampOutsideTolerance)
        );
        assert_eq!(
            check_timestamp(Some("12x"), now, tol),
            Err(Rejection::MalformedSignature)
        );
        assert_eq!(
            check_timestamp(Some("99999999999999999999"), now, tol),
            Err(Rejection::MalformedSignature)
        );
        assert_eq!(check_timestamp(None, now, tol), Err(Rejection::MissingTimestamp));
    }

    #[test]
    fn first_match_reports_which_secret() {
        let secrets = [Secret::new("a"), Secret::new("b")];
        let sig_b = hmac_sha256(b"b", &[b"body"]).to_vec();
        let sign = |k: &[u8]| hmac_sha256(k, &[b"body"]).to_vec();
        assert_eq!(first_match(&secrets, &[b"junk".to_vec(), sig_b], sign), Ok(Matched(1)));
        assert_eq!(
            first_match(&secrets, &[b"junk".to_vec()], sign),
            Err(Rejection::SignatureMismatch)
        );
        assert_eq!(
            first_match::<Vec<u8>>(&secrets, &[], sign),
            Err(Rejection::SignatureMismatch)
        );
    }

    #[test]
    fn ids() {
        assert_eq!(body_id(br#"{"id":"evt_1","n":2}"#, "/id").as_deref(), Some("evt_1"));
        assert_eq!(body_id(br#"{"id":2}"#, "/id"), None);
        assert_eq!(body_id(b"nope", "/id"), None);
        let mut h = HeaderMap::new();
        h.insert("x-id", " abc ".parse().unwrap());
        assert_eq!(header_id(&h, "x-id").as_deref(), Some("abc"));
        h.insert("x-id", "a b".parse().unwrap());
        assert_eq!(header_id(&h, "x-id"), None);
        h.insert("x-id", "a".repeat(300).parse().unwrap());
        assert_eq!(header_id(&h, "x-id"), None);
    }
}
