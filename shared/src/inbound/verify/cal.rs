//! Cal.com: `X-Cal-Signature-256: <hex HMAC-SHA256(secret, raw body)>`.
//!
//! Cal.com's sender (`packages/features/webhooks/lib/sendPayload.ts`) sets only `Content-Type` and
//! `X-Cal-Signature-256`, so there is no delivery id. A webhook saved without a secret is sent with
//! the literal signature `no-secret-provided`, which is refused here as malformed.

use std::time::SystemTime;

use super::{
    support::{first_match, hmac_sha256, required_header},
    Matched, Rejection, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{config::ConfigError, foundation::secret::Secret};

const SIGNATURE_HEADER: &str = "x-cal-signature-256";

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    Ok(Box::new(Cal {
        secrets: settings.secrets,
    }))
}

struct Cal {
    secrets: Vec<Secret>,
}

impl Scheme for Cal {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<Matched, Rejection> {
        let value = required_header(request.headers, SIGNATURE_HEADER, Rejection::MissingSignature)?;
        let mut presented = [0u8; 32];
        hex::decode_to_slice(value, &mut presented).map_err(|_| Rejection::MalformedSignature)?;
        first_match(&self.secrets, &[presented], |key| {
            hmac_sha256(key, &[request.body]).to_vec()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, SystemClock, Verifier};

    // Computed independently: hex(HMAC-SHA256(secret, BODY)) with Python's hmac module.
    const BODY: &[u8] =
        br#"{"triggerEvent":"BOOKING_CREATED","createdAt":"2024-01-01T00:00:00.000Z","payload":{"uid":"abc"}}"#;
    const OLD: &str = "cal-old";
    const OLD_SIG: &str = "0178349d91fa912082b4af9fa687cc187e07ab8b8a8c429b2b6656f14fe42f67";
    const NEW: &str = "cal-new";
    const NEW_SIG: &str = "9890881f00d6e79386f82669809b6af03548bb558c5600d186a3c81917211fe5";

    fn cal(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    fn refused(v: &Verifier, h: &http::HeaderMap, body: &[u8]) -> Rejection {
        delivered(v.verify(post(h, body), &SystemClock))
            .map(|_| ())
            .unwrap_err()
    }

    #[test]
    fn accepts_a_valid_delivery_without_a_delivery_id() {
        let h = headers(&[("X-Cal-Signature-256", OLD_SIG), ("Content-Type", "application/json")]);
        let v = delivered(cal(&[OLD]).verify(post(&h, BODY), &SystemClock)).unwrap();
        assert_eq!(v.body(), BODY);
        assert_eq!(v.delivery_id(), None);
        // Hex digits are accepted in either case.
        let upper = headers(&[("x-cal-signature-256", &OLD_SIG.to_uppercase())]);
        delivered(cal(&[OLD]).verify(post(&upper, BODY), &SystemClock)).unwrap();
    }

    #[test]
    fn rejects_tampering_wrong_secret_and_missing_header() {
        let signed = headers(&[("x-cal-signature-256", OLD_SIG)]);
        let tampered =
            br#"{"triggerEvent":"BOOKING_CANCELLED","createdAt":"2024-01-01T00:00:00.000Z","payload":{"uid":"abc"}}"#;
        assert_eq!(refused(&cal(&[OLD]), &signed, tampered), Rejection::SignatureMismatch);
        assert_eq!(refused(&cal(&["other"]), &signed, BODY), Rejection::SignatureMismatch);
        assert_eq!(refused(&cal(&[OLD]), &headers(&[]), BODY), Rejection::MissingSignature);
    }

    #[test]
    fn rejects_malformed_headers() {
        let prefixed = format!("sha256={OLD_SIG}");
        let short = &OLD_SIG[..62];
        let long = format!("{OLD_SIG}00");
        let non_hex = format!("{}zz", &OLD_SIG[..62]);
        for bad in [
            "",
            "no-secret-provided",
            short,
            long.as_str(),
            non_hex.as_str(),
            prefixed.as_str(),
        ] {
            let h = headers(&[("x-cal-signature-256", bad)]);
            assert_eq!(refused(&cal(&[OLD]), &h, BODY), Rejection::MalformedSignature, "{bad}");
        }
    }

    #[test]
    fn rotation_accepts_either_secret() {
        for sig in [OLD_SIG, NEW_SIG] {
            let h = headers(&[("x-cal-signature-256", sig)]);
            for secrets in [[OLD, NEW], [NEW, OLD]] {
                delivered(cal(&secrets).verify(post(&h, BODY), &SystemClock)).unwrap();
            }
        }
    }
}
