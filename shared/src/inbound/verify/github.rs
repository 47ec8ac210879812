//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`; delivery id
//! `X-GitHub-Delivery`.

use std::time::SystemTime;

use super::{
    support::{first_match, header_id, hmac_sha256, required_header},
    Matched, Rejection, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{config::ConfigError, foundation::secret::Secret};

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    Ok(Box::new(HubSignature {
        secrets: settings.secrets,
        delivery_header: Some("x-github-delivery"),
    }))
}

/// `X-Hub-Signature-256` as GitHub sends it; Meta signs its POSTs the same way.
pub(super) struct HubSignature {
    pub secrets: Vec<Secret>,
    pub delivery_header: Option<&'static str>,
}

impl HubSignature {
    pub(super) fn check_signature(&self, request: &WebhookRequest<'_>) -> Result<Matched, Rejection> {
        let hex_digest = required_header(request.headers, "x-hub-signature-256", Rejection::MissingSignature)?
            .strip_prefix("sha256=")
            .ok_or(Rejection::MalformedSignature)?;
        let mut presented = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut presented).map_err(|_| Rejection::MalformedSignature)?;
        first_match(&self.secrets, &[presented], |key| {
            hmac_sha256(key, &[request.body]).to_vec()
        })
    }
}

impl Scheme for HubSignature {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<Matched, Rejection> {
        self.check_signature(request)
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        header_id(request.headers, self.delivery_header?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, SystemClock, Verifier};

    // The example from GitHub's docs, "Validating webhook deliveries":
    // secret "It's a Secret to Everybody", payload "Hello, World!".
    const DOC_SECRET: &str = "It's a Secret to Everybody";
    const DOC_SIGNATURE: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn github(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    #[test]
    fn accepts_githubs_documented_example() {
        let h = headers(&[("x-hub-signature-256", DOC_SIGNATURE), ("x-github-delivery", "d-1")]);
        let v = delivered(github(&[DOC_SECRET]).verify(post(&h, b"Hello, World!"), &SystemClock)).unwrap();
        assert_eq!(v.delivery_id(), Some("d-1"));
    }

    #[test]
    fn rejects_tampering_wrong_secret_and_bad_headers() {
        let signed = headers(&[("x-hub-signature-256", DOC_SIGNATURE)]);
        let check = |secrets: &[&str], h: &http::HeaderMap, body: &[u8]| {
            delivered(github(secrets).verify(post(h, body), &SystemClock))
                .map(|_| ())
                .unwrap_err()
        };
        assert_eq!(
            check(&[DOC_SECRET], &signed, b"Hello, World?"),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            check(&["other"], &signed, b"Hello, World!"),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            check(&[DOC_SECRET], &headers(&[]), b"Hello, World!"),
            Rejection::MissingSignature
        );
        for bad in [
            "757107ea",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=zz",
            "sha256=",
        ] {
            let h = headers(&[("x-hub-signature-256", bad)]);
            assert_eq!(
                check(&[DOC_SECRET], &h, b"Hello, World!"),
                Rejection::MalformedSignature,
                "{bad}"
            );
        }
    }

    #[test]
    fn rotation_accepts_either_secret() {
        let h = headers(&[("x-hub-signature-256", DOC_SIGNATURE)]);
        for secrets in [["new-secret", DOC_SECRET], [DOC_SECRET, "new-secret"]] {
            delivered(github(&secrets).verify(post(&h, b"Hello, World!"), &SystemClock)).unwrap();
        }
    }
}
