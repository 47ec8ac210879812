//! A shared secret sent verbatim in a header (default `X-Webhook-Token`).

use std::time::SystemTime;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Rejection, Scheme, WebhookRequest};
use crate::secret::Secret;

pub(super) struct Token {
    header: http::HeaderName,
    /// Digests, so the comparison is constant time whatever the lengths involved.
    digests: Vec<[u8; 32]>,
}

impl Token {
    pub(super) fn new(header: http::HeaderName, secrets: Vec<Secret>) -> Self {
        let digests = secrets
            .iter()
            .map(|s| Sha256::digest(s.expose()).into())
            .collect();
        Token { header, digests }
    }
}

impl Scheme for Token {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<(), Rejection> {
        let presented = request
            .headers
            .get(&self.header)
            .ok_or(Rejection::MissingSignature)?;
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        // Compare against every secret (no early exit) so timing says nothing about which matched.
        let matched = self
            .digests
            .iter()
            .fold(subtle::Choice::from(0), |acc, digest| {
                acc | digest.ct_eq(&presented)
            });
        bool::from(matched)
            .then_some(())
            .ok_or(Rejection::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{testing::*, SystemClock};

    fn token(secrets: &[&str]) -> crate::verify::Verifier {
        let header = http::HeaderName::from_static("x-webhook-token");
        verifier(Token::new(
            header,
            secrets.iter().map(|s| Secret::new(*s)).collect(),
        ))
    }

    #[test]
    fn accepts_any_configured_secret() {
        for presented in ["old", "new"] {
            let h = headers(&[("x-webhook-token", presented)]);
            token(&["old", "new"])
                .verify(post(&h, b"{}"), &SystemClock)
                .unwrap();
        }
    }

    #[test]
    fn rejects_wrong_missing_and_prefix_tokens() {
        let v = token(&["s3cret"]);
        for presented in ["s3cre", "s3cret ", "S3CRET", ""] {
            let h = headers(&[("x-webhook-token", presented)]);
            assert_eq!(
                v.verify(post(&h, b"{}"), &SystemClock).unwrap_err(),
                Rejection::SignatureMismatch
            );
        }
        let h = headers(&[("x-other", "s3cret")]);
        assert_eq!(
            v.verify(post(&h, b"{}"), &SystemClock).unwrap_err(),
            Rejection::MissingSignature
        );
    }
}
