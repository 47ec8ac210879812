//! A shared secret sent verbatim in a header (default `X-Webhook-Token`).

use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::{support::ct_eq, Matched, Rejection, Scheme, SchemeSettings, WebhookRequest};
use crate::config::{ConfigError, DEFAULT_TOKEN_HEADER};

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    let header = settings
        .header
        .unwrap_or(http::HeaderName::from_static(DEFAULT_TOKEN_HEADER));
    let digests = settings
        .secrets
        .iter()
        .map(|s| Sha256::digest(s.expose()).into())
        .collect();
    Ok(Box::new(Token { header, digests }))
}

struct Token {
    header: http::HeaderName,
    /// Digests, so the comparison is constant time whatever the lengths involved.
    digests: Vec<[u8; 32]>,
}

impl Scheme for Token {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<Matched, Rejection> {
        let presented = request.headers.get(&self.header).ok_or(Rejection::MissingSignature)?;
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, SystemClock, Verifier};

    fn token(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    #[test]
    fn accepts_any_configured_secret() {
        for presented in ["old", "new"] {
            let h = headers(&[("x-webhook-token", presented)]);
            delivered(token(&["old", "new"]).verify(post(&h, b"{}"), &SystemClock)).unwrap();
        }
    }

    #[test]
    fn rejects_wrong_missing_and_prefix_tokens() {
        let v = token(&["s3cret"]);
        for presented in ["s3cre", "s3cret ", "S3CRET", ""] {
            let h = headers(&[("x-webhook-token", presented)]);
            assert_eq!(
                delivered(v.verify(post(&h, b"{}"), &SystemClock)).unwrap_err(),
                Rejection::SignatureMismatch
            );
        }
        let h = headers(&[("x-other", "s3cret")]);
        assert_eq!(
            delivered(v.verify(post(&h, b"{}"), &SystemClock)).unwrap_err(),
            Rejection::MissingSignature
        );
    }

    #[test]
    fn a_custom_header_is_honoured() {
        let mut s = settings(&["t"]);
        s.header = Some(http::HeaderName::from_static("x-custom"));
        let v = verifier(build(s).unwrap());
        let h = headers(&[("x-custom", "t")]);
        delivered(v.verify(post(&h, b"{}"), &SystemClock)).unwrap();
    }
}
