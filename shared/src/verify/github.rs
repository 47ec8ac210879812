//! GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`.

use std::time::SystemTime;

use hmac::{KeyInit, Mac};

use super::{header_id, Rejection, Scheme, WebhookRequest};
use crate::secret::Secret;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

pub(super) struct GitHub {
    secrets: Vec<Secret>,
}

impl GitHub {
    pub(super) fn new(secrets: Vec<Secret>) -> Self {
        GitHub { secrets }
    }
}

impl Scheme for GitHub {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<(), Rejection> {
        let header = request
            .headers
            .get("x-hub-signature-256")
            .ok_or(Rejection::MissingSignature)?;
        let hex_digest = header
            .to_str()
            .ok()
            .and_then(|v| v.trim().strip_prefix("sha256="))
            .ok_or(Rejection::MalformedSignature)?;
        let mut expected = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut expected)
            .map_err(|_| Rejection::MalformedSignature)?;
        // Rotation: any configured secret may have signed it. `verify_slice` is constant time.
        let matched = self.secrets.iter().any(|secret| {
            let mut mac =
                HmacSha256::new_from_slice(secret.expose()).expect("HMAC takes keys of any length");
            mac.update(request.body);
            mac.verify_slice(&expected).is_ok()
        });
        matched.then_some(()).ok_or(Rejection::SignatureMismatch)
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        header_id(request.headers, "x-github-delivery")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{testing::*, SystemClock};

    // The example from GitHub's docs, "Validating webhook deliveries":
    // secret "It's a Secret to Everybody", payload "Hello, World!".
    const DOC_SECRET: &str = "It's a Secret to Everybody";
    const DOC_SIGNATURE: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn github(secrets: &[&str]) -> crate::verify::Verifier {
        verifier(GitHub::new(
            secrets.iter().map(|s| Secret::new(*s)).collect(),
        ))
    }

    #[test]
    fn accepts_githubs_documented_example() {
        let h = headers(&[
            ("x-hub-signature-256", DOC_SIGNATURE),
            ("x-github-delivery", "d-1"),
        ]);
        let v = github(&[DOC_SECRET])
            .verify(post(&h, b"Hello, World!"), &SystemClock)
            .unwrap();
        assert_eq!(v.delivery_id(), Some("d-1"));
    }

    #[test]
    fn rejects_tampering_wrong_secret_and_bad_headers() {
        let signed = headers(&[("x-hub-signature-256", DOC_SIGNATURE)]);
        let check = |secrets: &[&str], h: &http::HeaderMap, body: &[u8]| {
            github(secrets)
                .verify(post(h, body), &SystemClock)
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
        github(&["new-secret", DOC_SECRET])
            .verify(post(&h, b"Hello, World!"), &SystemClock)
            .unwrap();
        github(&[DOC_SECRET, "new-secret"])
            .verify(post(&h, b"Hello, World!"), &SystemClock)
            .unwrap();
    }
}
