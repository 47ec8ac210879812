//! Zoom: `x-zm-signature: v0=<hex HMAC-SHA256(secret token, "v0:{x-zm-request-timestamp}:{raw body}")>`,
//! the timestamp within tolerance either way (Zoom's "Using webhooks", "Verify webhook events").
//!
//! A signed `endpoint.url_validation` request is answered with `{"plainToken": <payload.plainToken>,
//! "encryptedToken": <hex HMAC-SHA256(secret token, plainToken)>}`, keyed with the secret that
//! authenticated the request ("Validate your webhook endpoint"; Zoom's `webhook-sample`).
//!
//! Delivery id: the `x-zm-trackingid` header, which Zoom documents as the unique identifier it uses
//! for the request. Zoom's bodies (`event`, `payload`, `event_ts`) carry no event id, so there is
//! nothing steadier to offer; Zoom does not say whether a retry keeps the same tracking id.

use std::time::SystemTime;

use super::{
    slack::V0Signature,
    support::{header_id, hmac_sha256},
    Matched, Rejection, Reply, Scheme, SchemeSettings, WebhookRequest,
};
use crate::config::ConfigError;

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    Ok(Box::new(Zoom {
        v0: V0Signature::new(settings, "x-zm-signature", "x-zm-request-timestamp")?,
    }))
}

struct Zoom {
    v0: V0Signature,
}

impl Scheme for Zoom {
    fn check(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<Matched, Rejection> {
        self.v0.check_signature(request, now)
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        header_id(request.headers, "x-zm-trackingid")
    }

    /// Only reached once `check` passed, so the token Zoom asks us to sign came from Zoom.
    fn handshake(&self, request: &WebhookRequest<'_>, matched: Matched) -> Option<Reply> {
        let body: serde_json::Value = serde_json::from_slice(request.body).ok()?;
        if body.get("event")?.as_str()? != "endpoint.url_validation" {
            return None;
        }
        let plain_token = body.pointer("/payload/plainToken")?.as_str()?;
        let secret = self.v0.secrets.get(matched.0)?;
        let encrypted_token = hex::encode(hmac_sha256(secret.expose(), &[plain_token.as_bytes()]));
        Some(Reply::json(serde_json::json!({
            "plainToken": plain_token,
            "encryptedToken": encrypted_token,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, Decision, Verifier};

    // Signatures and tokens computed independently with Python's hmac/hashlib:
    // signature = hex HMAC-SHA256(secret, "v0:{T}:{body}"), encryptedToken = hex HMAC-SHA256(secret, plainToken).
    const SECRET_A: &str = "zoom_secret_token_a";
    const SECRET_B: &str = "zoom_secret_token_b";
    const T: u64 = 1714000000;
    const EVENT: &str = r#"{"event":"meeting.started","payload":{"account_id":"D8cJuqWVQ623CI4Q8yQK0Q","object":{"id":"85569970000","uuid":"4444AAAiAAAAAiAiAiiAii==","host_id":"z8yAAAAA8bbbQ"}},"event_ts":1714000000123}"#;
    const EVENT_SIG_A: &str = "v0=4d8cfa06cff78fae8888bc635cabc99d447ee8a24b551a5535e2a9f2f0a46fae";
    const EVENT_SIG_B: &str = "v0=de5a61587f3a4f4e959f0031b6aa76c4a5dd4b900fe067bb2596173f8701d903";
    // The shape of Zoom's documented `endpoint.url_validation` request.
    const VALIDATION: &str = r#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1714000000123,"event":"endpoint.url_validation"}"#;
    const VALIDATION_SIG_A: &str = "v0=ac2425f95cd92a0e4ea4e500141727d8ef0d282b872f04f7bd879e2b59e11369";
    const VALIDATION_SIG_B: &str = "v0=bb02e0cd46d01bfa504ccc1a82795256fb718384200a16139e67d9aeb67b9f2c";
    const ENCRYPTED_A: &str = "f85f1bfafdd9ec6def6b3e4e76dd817911a3d193f3eb37c4ce248d197f3fdccf";
    const ENCRYPTED_B: &str = "c3fcb203d5d7aa6006fcc52ad1a71c78a7c1aaaa5fffd8af1cec7a63cc87789a";
    const TRACKING_ID: &str = "WEBHOOK_7f3c2a9e41b84d0c9a5e";

    fn zoom(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    fn signed(signature: &str, timestamp: u64) -> http::HeaderMap {
        headers(&[
            ("x-zm-signature", signature),
            ("x-zm-request-timestamp", &timestamp.to_string()),
            ("x-zm-trackingid", TRACKING_ID),
        ])
    }

    fn refusal(v: &Verifier, h: &http::HeaderMap, body: &str, now: u64) -> Rejection {
        v.verify(post(h, body.as_bytes()), &at(now)).map(|_| ()).unwrap_err()
    }

    fn reply(v: &Verifier, h: &http::HeaderMap, body: &str, now: u64) -> Reply {
        match v.verify(post(h, body.as_bytes()), &at(now)).unwrap() {
            Decision::Reply(reply) => reply,
            Decision::Deliver(d) => panic!("expected a handshake reply, got a delivery {d:?}"),
        }
    }

    #[test]
    fn accepts_a_signed_event_with_its_tracking_id() {
        let h = signed(EVENT_SIG_A, T);
        let v = delivered(zoom(&[SECRET_A]).verify(post(&h, EVENT.as_bytes()), &at(T))).unwrap();
        assert_eq!(v.body(), EVENT.as_bytes());
        assert_eq!(v.delivery_id(), Some(TRACKING_ID));

        let untracked = headers(&[
            ("x-zm-signature", EVENT_SIG_A),
            ("x-zm-request-timestamp", "1714000000"),
        ]);
        let v = delivered(zoom(&[SECRET_A]).verify(post(&untracked, EVENT.as_bytes()), &at(T))).unwrap();
        assert_eq!(v.delivery_id(), None);
    }

    #[test]
    fn rejects_tampering_the_wrong_secret_and_missing_headers() {
        let v = zoom(&[SECRET_A]);
        let h = signed(EVENT_SIG_A, T);
        assert_eq!(
            refusal(&v, &h, &EVENT.replace("85569970000", "85569970001"), T),
            Rejection::SignatureMismatch
        );
        assert_eq!(refusal(&zoom(&[SECRET_B]), &h, EVENT, T), Rejection::SignatureMismatch);
        assert_eq!(
            refusal(&v, &signed(EVENT_SIG_A, T + 1), EVENT, T),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &headers(&[("x-zm-request-timestamp", "1714000000")]), EVENT, T),
            Rejection::MissingSignature
        );
        assert_eq!(
            refusal(&v, &headers(&[("x-zm-signature", EVENT_SIG_A)]), EVENT, T),
            Rejection::MissingTimestamp
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        let v = zoom(&[SECRET_A]);
        let digest = EVENT_SIG_A.strip_prefix("v0=").unwrap();
        for bad in [
            digest.to_owned(),
            format!("sha256={digest}"),
            format!("v0={}", &digest[1..]),
            "v0=not-hex".to_owned(),
            "v0=".to_owned(),
            "v0=é".to_owned(),
        ] {
            assert_eq!(
                refusal(&v, &signed(&bad, T), EVENT, T),
                Rejection::MalformedSignature,
                "{bad}"
            );
        }
        // Zoom's timestamp is in seconds; milliseconds are far outside any tolerance.
        let millis = headers(&[
            ("x-zm-signature", EVENT_SIG_A),
            ("x-zm-request-timestamp", "1714000000123"),
        ]);
        assert_eq!(refusal(&v, &millis, EVENT, T), Rejection::TimestampOutsideTolerance);
        let garbled = headers(&[("x-zm-signature", EVENT_SIG_A), ("x-zm-request-timestamp", "soon")]);
        assert_eq!(refusal(&v, &garbled, EVENT, T), Rejection::MalformedSignature);
    }

    #[test]
    fn rejects_stale_and_future_timestamps() {
        let v = zoom(&[SECRET_A]);
        let h = signed(EVENT_SIG_A, T);
        for now in [T - 300, T + 300] {
            delivered(v.verify(post(&h, EVENT.as_bytes()), &at(now))).unwrap();
        }
        for now in [T + 301, T - 301] {
            assert_eq!(refusal(&v, &h, EVENT, now), Rejection::TimestampOutsideTolerance);
        }
    }

    #[test]
    fn rotation_accepts_either_secret() {
        for secrets in [[SECRET_A, SECRET_B], [SECRET_B, SECRET_A]] {
            let v = zoom(&secrets);
            for sig in [EVENT_SIG_A, EVENT_SIG_B] {
                delivered(v.verify(post(&signed(sig, T), EVENT.as_bytes()), &at(T))).unwrap();
            }
        }
    }

    #[test]
    fn answers_url_validation_with_the_secret_that_matched() {
        let expected = |encrypted: &str| {
            Reply::json(serde_json::json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": encrypted}))
        };
        let v = zoom(&[SECRET_A, SECRET_B]);
        assert_eq!(
            reply(&v, &signed(VALIDATION_SIG_A, T), VALIDATION, T),
            expected(ENCRYPTED_A)
        );
        assert_eq!(
            reply(&v, &signed(VALIDATION_SIG_B, T), VALIDATION, T),
            expected(ENCRYPTED_B)
        );
        let only_b = zoom(&[SECRET_B]);
        assert_eq!(
            reply(&only_b, &signed(VALIDATION_SIG_B, T), VALIDATION, T),
            expected(ENCRYPTED_B)
        );
    }

    #[test]
    fn never_answers_url_validation_for_an_unauthenticated_request() {
        let v = zoom(&[SECRET_A]);
        assert_eq!(refusal(&v, &headers(&[]), VALIDATION, T), Rejection::MissingSignature);
        // Signed by a secret we do not hold.
        assert_eq!(
            refusal(&v, &signed(VALIDATION_SIG_B, T), VALIDATION, T),
            Rejection::SignatureMismatch
        );
        // A valid signature of another body.
        assert_eq!(
            refusal(&v, &signed(EVENT_SIG_A, T), VALIDATION, T),
            Rejection::SignatureMismatch
        );
        let other_token = VALIDATION.replace("qgg8vlvZRS6UYooatFL8Aw", "attacker-chosen");
        assert_eq!(
            refusal(&v, &signed(VALIDATION_SIG_A, T), &other_token, T),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &signed(VALIDATION_SIG_A, T), VALIDATION, T + 301),
            Rejection::TimestampOutsideTolerance
        );
    }

    #[test]
    fn needs_a_secret() {
        match build(settings(&[])) {
            Err(e) => assert_eq!(e.key, "route[0].secrets"),
            Ok(_) => panic!("built without secrets"),
        }
    }
}
