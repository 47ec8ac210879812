//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256(client secret, raw body)>`; delivery id
//! `X-Shopify-Webhook-Id` (shopify.dev, "Verify webhook deliveries": the header to ignore duplicate
//! deliveries by).

use std::time::SystemTime;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};

use super::{
    support::{first_match, header_id, hmac_sha256, required_header},
    Matched, Rejection, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{config::ConfigError, foundation::secret::Secret};

const SIGNATURE_HEADER: &str = "x-shopify-hmac-sha256";
const DELIVERY_HEADER: &str = "x-shopify-webhook-id";

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    Ok(Box::new(Shopify {
        secrets: settings.secrets,
    }))
}

struct Shopify {
    secrets: Vec<Secret>,
}

impl Scheme for Shopify {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<Matched, Rejection> {
        let value = required_header(request.headers, SIGNATURE_HEADER, Rejection::MissingSignature)?;
        // The standard engine refuses non-canonical encodings, so one digest has one spelling.
        let presented: [u8; 32] = BASE64
            .decode(value)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(Rejection::MalformedSignature)?;
        first_match(&self.secrets, &[presented], |key| {
            hmac_sha256(key, &[request.body]).to_vec()
        })
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        header_id(request.headers, DELIVERY_HEADER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, SystemClock, Verifier};

    // Computed independently: base64(HMAC-SHA256(secret, BODY)) with Python's hmac module.
    const BODY: &[u8] = br#"{"id":820982911946154508,"topic":"orders/create"}"#;
    const OLD: &str = "shpss_old";
    const OLD_SIG: &str = "VZJ2JxQOP+TT6NGxv2dNJiGTN6JNVJ/QDswMLCHweX0=";
    const NEW: &str = "shpss_new";
    const NEW_SIG: &str = "gt3rgYkXb+Hepd7BtIRZxKte8QRLuUkINwZtFvxbcAg=";

    fn shopify(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    fn refused(v: &Verifier, h: &http::HeaderMap, body: &[u8]) -> Rejection {
        delivered(v.verify(post(h, body), &SystemClock))
            .map(|_| ())
            .unwrap_err()
    }

    #[test]
    fn accepts_a_valid_delivery_and_records_the_webhook_id() {
        let h = headers(&[
            ("X-Shopify-Hmac-Sha256", OLD_SIG),
            ("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"),
            ("X-Shopify-Topic", "orders/create"),
        ]);
        let v = delivered(shopify(&[OLD]).verify(post(&h, BODY), &SystemClock)).unwrap();
        assert_eq!(v.delivery_id(), Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"));
        assert_eq!(v.body(), BODY);

        let without_id = headers(&[("x-shopify-hmac-sha256", OLD_SIG)]);
        let v = delivered(shopify(&[OLD]).verify(post(&without_id, BODY), &SystemClock)).unwrap();
        assert_eq!(v.delivery_id(), None);
    }

    #[test]
    fn rejects_tampering_wrong_secret_and_missing_header() {
        let signed = headers(&[("x-shopify-hmac-sha256", OLD_SIG)]);
        let tampered = br#"{"id":820982911946154509,"topic":"orders/create"}"#;
        assert_eq!(
            refused(&shopify(&[OLD]), &signed, tampered),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refused(&shopify(&["other"]), &signed, BODY),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refused(&shopify(&[OLD]), &headers(&[("x-shopify-webhook-id", "x")]), BODY),
            Rejection::MissingSignature
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        let hex_of_the_same_digest = hex::encode(BASE64.decode(OLD_SIG).unwrap());
        let truncated = &OLD_SIG[..40];
        let unpadded = OLD_SIG.trim_end_matches('=');
        let url_safe = OLD_SIG.replace('+', "-").replace('/', "_");
        let short = BASE64.encode([0u8; 31]);
        for bad in [
            "",
            "not base64!",
            truncated,
            unpadded,
            url_safe.as_str(),
            short.as_str(),
            hex_of_the_same_digest.as_str(),
            "sha256=VZJ2JxQOP+TT6NGxv2dNJiGTN6JNVJ/QDswMLCHweX0=",
        ] {
            let h = headers(&[("x-shopify-hmac-sha256", bad)]);
            assert_eq!(
                refused(&shopify(&[OLD]), &h, BODY),
                Rejection::MalformedSignature,
                "{bad}"
            );
        }
        let mut h = http::HeaderMap::new();
        h.insert(
            SIGNATURE_HEADER,
            http::HeaderValue::from_bytes(b"\xffVZJ2JxQOP").unwrap(),
        );
        assert_eq!(refused(&shopify(&[OLD]), &h, BODY), Rejection::MalformedSignature);
    }

    #[test]
    fn rotation_accepts_either_secret() {
        for sig in [OLD_SIG, NEW_SIG] {
            let h = headers(&[("x-shopify-hmac-sha256", sig)]);
            for secrets in [[OLD, NEW], [NEW, OLD]] {
                delivered(shopify(&secrets).verify(post(&h, BODY), &SystemClock)).unwrap();
            }
        }
    }
}
