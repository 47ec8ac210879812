//! HTTP Basic authentication (RFC 7617): `Authorization: Basic base64(user:password)`, where each
//! configured secret is the whole `user:password` string.
//!
//! The credentials are compared as SHA-256 digests, in constant time, against every secret, so
//! neither their length nor which secret matched shows in the timing.

use std::time::SystemTime;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use sha2::{Digest, Sha256};

use super::{support::ct_eq, Matched, Rejection, Scheme, SchemeSettings, WebhookRequest};
use crate::config::ConfigError;

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    let mut digests = Vec::with_capacity(settings.secrets.len());
    for (i, secret) in settings.secrets.iter().enumerate() {
        // Never quote the secret in the error, not even the user part.
        let Some(colon) = secret.expose().iter().position(|&b| b == b':') else {
            return Err(ConfigError::new(
                settings.key(&format!("secrets[{i}]")),
                "must be `user:password` (no `:` found)",
            ));
        };
        if colon + 1 == secret.expose().len() {
            return Err(ConfigError::new(
                settings.key(&format!("secrets[{i}]")),
                "must be `user:password` with a non-empty password",
            ));
        }
        digests.push(Sha256::digest(secret.expose()).into());
    }
    Ok(Box::new(Basic { digests }))
}

struct Basic {
    /// Digests of `user:password`, so the comparison is constant time whatever the lengths.
    digests: Vec<[u8; 32]>,
}

impl Scheme for Basic {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<Matched, Rejection> {
        let header = request
            .headers
            .get(http::header::AUTHORIZATION)
            .ok_or(Rejection::MissingSignature)?;
        let credentials = basic_credentials(header.as_bytes()).ok_or(Rejection::MalformedSignature)?;
        let presented: [u8; 32] = Sha256::digest(&credentials).into();
        // Compare against every secret (no early exit) so timing says nothing about which matched.
        let mut matched = None;
        for (index, digest) in self.digests.iter().enumerate() {
            if ct_eq(digest, &presented) && matched.is_none() {
                matched = Some(Matched(index));
            }
        }
        matched.ok_or(Rejection::SignatureMismatch)
    }
}

/// The decoded `user:password` of a `Basic` authorization (scheme name in any case).
fn basic_credentials(value: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = BASE64.decode(token.trim_start_matches(' ')).ok()?;
    decoded.contains(&b':').then_some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, SystemClock, Verifier};

    // base64 of the credentials, computed independently with Python's base64 module.
    const ALICE: &str = "Basic YWxpY2U6czNjcmV0"; // alice:s3cret
    const BOB: &str = "Basic Ym9iOnBhOnNz"; // bob:pa:ss (a password may hold `:`)
    const ALICE_WRONG: &str = "Basic YWxpY2U6d3Jvbmc="; // alice:wrong
    const NO_COLON: &str = "Basic bm9jb2xvbg=="; // nocolon

    fn basic(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    fn verdict(v: &Verifier, authorization: &str) -> Result<(), Rejection> {
        let h = headers(&[("authorization", authorization)]);
        delivered(v.verify(post(&h, b"{}"), &SystemClock)).map(|_| ())
    }

    #[test]
    fn accepts_the_configured_credentials() {
        let v = basic(&["alice:s3cret"]);
        verdict(&v, ALICE).unwrap();
        verdict(&v, "basic YWxpY2U6czNjcmV0").unwrap();
        verdict(&v, "BASIC   YWxpY2U6czNjcmV0").unwrap();
        verdict(&basic(&["bob:pa:ss"]), BOB).unwrap();
        let h = headers(&[("authorization", ALICE)]);
        let d = delivered(v.verify(post(&h, b"{}"), &SystemClock)).unwrap();
        assert_eq!(d.delivery_id(), None);
    }

    #[test]
    fn rotation_accepts_any_configured_pair() {
        for secrets in [["alice:s3cret", "bob:pa:ss"], ["bob:pa:ss", "alice:s3cret"]] {
            let v = basic(&secrets);
            verdict(&v, ALICE).unwrap();
            verdict(&v, BOB).unwrap();
        }
    }

    #[test]
    fn rejects_wrong_credentials() {
        let v = basic(&["alice:s3cret"]);
        for wrong in [
            ALICE_WRONG,
            BOB,
            "Basic QUxJQ0U6czNjcmV0",     // ALICE:s3cret
            "Basic YWxpY2U6czNjcmV0IA==", // alice:s3cret + space
            "Basic YWxpY2U6czNjcmU=",     // alice:s3cre
            "Basic OnMzY3JldA==",         // :s3cret
            "Basic YWxpY2U6",             // alice:
        ] {
            assert_eq!(verdict(&v, wrong), Err(Rejection::SignatureMismatch), "{wrong}");
        }
    }

    #[test]
    fn missing_and_malformed_authorization() {
        let v = basic(&["alice:s3cret"]);
        let h = headers(&[("x-authorization", ALICE)]);
        assert_eq!(
            delivered(v.verify(post(&h, b"{}"), &SystemClock)).map(|_| ()),
            Err(Rejection::MissingSignature)
        );
        for bad in [
            "",
            "Basic",
            "Basic ",
            "YWxpY2U6czNjcmV0",
            "Bearer YWxpY2U6czNjcmV0",
            "Digest username=\"alice\"",
            "Basic alice:s3cret",
            "Basic YWxpY2U6czNjcmV0!",
            "Basic YWxpY2U6czNjcmV0=",
            NO_COLON,
        ] {
            assert_eq!(verdict(&v, bad), Err(Rejection::MalformedSignature), "{bad:?}");
        }
        let mut h = http::HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap(),
        );
        assert_eq!(
            delivered(v.verify(post(&h, b"{}"), &SystemClock)).map(|_| ()),
            Err(Rejection::MalformedSignature)
        );
    }

    #[test]
    fn a_secret_that_is_not_user_password_is_a_config_error() {
        for (secrets, key) in [
            (&["alice:s3cret", "hunter2"][..], "route[0].secrets[1]"),
            (&["hunter2"][..], "route[0].secrets[0]"),
            (&["alice:"][..], "route[0].secrets[0]"),
        ] {
            let e = build(settings(secrets)).map(|_| ()).unwrap_err();
            assert_eq!(e.key, key);
            assert!(
                !e.to_string().contains("hunter2") && !e.to_string().contains("alice"),
                "{e}"
            );
        }
        // An empty user is allowed: only the password must be there.
        basic(&[":s3cret"]);
    }
}
