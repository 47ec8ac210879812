//! Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{X-Slack-Request-Timestamp}:{raw body}")>`,
//! the timestamp within tolerance either way ("Verifying requests from Slack"; `slack_sdk.signature`).
//!
//! A signed `url_verification` request (`{"type":"url_verification","challenge":".."}`) is answered
//! with the challenge as `text/plain`, the form Slack's `url_verification` event page asks for first.
//! Delivery id: the Events API's `event_id`; slash commands and interactivity (form-encoded) have none.

use std::time::{Duration, SystemTime};

use super::{
    support::{body_id, check_timestamp, first_match, hmac_sha256, required_header},
    Matched, Rejection, Reply, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{config::ConfigError, foundation::secret::Secret};

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    Ok(Box::new(Slack {
        v0: V0Signature::new(settings, "x-slack-signature", "x-slack-request-timestamp")?,
    }))
}

struct Slack {
    v0: V0Signature,
}

impl Scheme for Slack {
    fn check(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<Matched, Rejection> {
        self.v0.check_signature(request, now)
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        body_id(request.body, "/event_id")
    }

    fn handshake(&self, request: &WebhookRequest<'_>, _matched: Matched) -> Option<Reply> {
        let body: serde_json::Value = serde_json::from_slice(request.body).ok()?;
        if body.get("type")?.as_str()? != "url_verification" {
            return None;
        }
        body.get("challenge")?.as_str().map(Reply::text)
    }
}

/// The `v0` signature Slack defined and Zoom adopted: `{sig header}: v0=<hex HMAC-SHA256(secret,
/// "v0:{timestamp header}:{raw body}")>`. The timestamp is signed exactly as it was sent.
pub(super) struct V0Signature {
    pub secrets: Vec<Secret>,
    pub tolerance: Duration,
    pub signature_header: &'static str,
    pub timestamp_header: &'static str,
}

impl V0Signature {
    pub(super) fn new(
        settings: SchemeSettings,
        signature_header: &'static str,
        timestamp_header: &'static str,
    ) -> Result<V0Signature, ConfigError> {
        if settings.secrets.is_empty() {
            return Err(ConfigError::new(settings.key("secrets"), "needs at least one secret"));
        }
        Ok(V0Signature {
            secrets: settings.secrets,
            tolerance: settings.tolerance,
            signature_header,
            timestamp_header,
        })
    }

    pub(super) fn check_signature(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<Matched, Rejection> {
        let value = required_header(request.headers, self.signature_header, Rejection::MissingSignature)?;
        let hex_digest = value.strip_prefix("v0=").ok_or(Rejection::MalformedSignature)?;
        let mut presented = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut presented).map_err(|_| Rejection::MalformedSignature)?;
        let timestamp = required_header(request.headers, self.timestamp_header, Rejection::MissingTimestamp)?;
        check_timestamp(Some(timestamp), now, self.tolerance)?;
        first_match(&self.secrets, &[presented], |key| {
            hmac_sha256(key, &[b"v0:", timestamp.as_bytes(), b":", request.body]).to_vec()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, Decision, Verifier};

    // The worked example in Slack's "Verifying requests from Slack": a slash command.
    const DOC_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const DOC_TIMESTAMP: u64 = 1531420618;
    const DOC_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const DOC_SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    // Signatures below computed independently with Python's hmac/hashlib over "v0:{T}:{body}".
    const OTHER_SECRET: &str = "slack_rotated_signing_secret";
    const T: u64 = 1714000000;
    const EVENT: &str = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T1DC2JH3J","api_app_id":"A0KRD7HC3","event":{"type":"app_mention","text":"hi"},"type":"event_callback","event_id":"Ev0PV52K21","event_time":1714000000}"#;
    const EVENT_SIG_DOC_SECRET: &str = "v0=4ed906b2495ced10473e0a20e7b66f323bbb72030496011d86277014d0c74078";
    const EVENT_SIG_OTHER_SECRET: &str = "v0=9a5f28bccd55883d1721f66eded482fe5bde15a28692ce5215d01b235397c9d3";
    // The payload shown on Slack's `url_verification` event page.
    const URL_VERIFICATION: &str = r#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    const CHALLENGE: &str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P";
    const URL_VERIFICATION_SIG: &str = "v0=4adb0b62e79822355094e58e41c4437a9960760443226cdec0a3fd3f2fe5b583";

    fn slack(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    fn signed(signature: &str, timestamp: u64) -> http::HeaderMap {
        headers(&[
            ("x-slack-signature", signature),
            ("x-slack-request-timestamp", &timestamp.to_string()),
        ])
    }

    fn refusal(v: &Verifier, h: &http::HeaderMap, body: &str, now: u64) -> Rejection {
        v.verify(post(h, body.as_bytes()), &at(now)).map(|_| ()).unwrap_err()
    }

    #[test]
    fn accepts_slacks_documented_example() {
        let h = signed(DOC_SIGNATURE, DOC_TIMESTAMP);
        let v = delivered(slack(&[DOC_SECRET]).verify(post(&h, DOC_BODY.as_bytes()), &at(DOC_TIMESTAMP))).unwrap();
        assert_eq!(v.body(), DOC_BODY.as_bytes());
        // A form-encoded slash command carries no event id.
        assert_eq!(v.delivery_id(), None);
    }

    #[test]
    fn events_api_deliveries_carry_the_event_id() {
        let h = signed(EVENT_SIG_DOC_SECRET, T);
        let v = delivered(slack(&[DOC_SECRET]).verify(post(&h, EVENT.as_bytes()), &at(T))).unwrap();
        assert_eq!(v.delivery_id(), Some("Ev0PV52K21"));
    }

    #[test]
    fn rejects_tampering_and_the_wrong_secret() {
        let h = signed(DOC_SIGNATURE, DOC_TIMESTAMP);
        let tampered = DOC_BODY.replace("roadrunner", "coyote");
        assert_eq!(
            refusal(&slack(&[DOC_SECRET]), &h, &tampered, DOC_TIMESTAMP),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&slack(&[OTHER_SECRET]), &h, DOC_BODY, DOC_TIMESTAMP),
            Rejection::SignatureMismatch
        );
        // The timestamp is signed: moving it breaks the signature even within tolerance.
        let moved = signed(DOC_SIGNATURE, DOC_TIMESTAMP + 1);
        assert_eq!(
            refusal(&slack(&[DOC_SECRET]), &moved, DOC_BODY, DOC_TIMESTAMP),
            Rejection::SignatureMismatch
        );
    }

    #[test]
    fn rejects_missing_headers() {
        let v = slack(&[DOC_SECRET]);
        let ts = DOC_TIMESTAMP.to_string();
        assert_eq!(
            refusal(&v, &headers(&[]), DOC_BODY, DOC_TIMESTAMP),
            Rejection::MissingSignature
        );
        let no_sig = headers(&[("x-slack-request-timestamp", &ts)]);
        assert_eq!(
            refusal(&v, &no_sig, DOC_BODY, DOC_TIMESTAMP),
            Rejection::MissingSignature
        );
        let no_ts = headers(&[("x-slack-signature", DOC_SIGNATURE)]);
        assert_eq!(
            refusal(&v, &no_ts, DOC_BODY, DOC_TIMESTAMP),
            Rejection::MissingTimestamp
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        let v = slack(&[DOC_SECRET]);
        let digest = DOC_SIGNATURE.strip_prefix("v0=").unwrap();
        for bad in [
            digest.to_owned(),
            format!("v1={digest}"),
            format!("V0={digest}"),
            format!("v0={}", &digest[..63]),
            format!("v0={digest}00"),
            "v0=zz".to_owned(),
            "v0=".to_owned(),
            "v0=é".to_owned(),
        ] {
            let h = signed(&bad, DOC_TIMESTAMP);
            assert_eq!(
                refusal(&v, &h, DOC_BODY, DOC_TIMESTAMP),
                Rejection::MalformedSignature,
                "{bad}"
            );
        }
        for bad_ts in ["abc", "", "1531420618.5", "é"] {
            let h = headers(&[
                ("x-slack-signature", DOC_SIGNATURE),
                ("x-slack-request-timestamp", bad_ts),
            ]);
            assert_eq!(
                refusal(&v, &h, DOC_BODY, DOC_TIMESTAMP),
                Rejection::MalformedSignature,
                "{bad_ts}"
            );
        }
    }

    #[test]
    fn rejects_stale_and_future_timestamps() {
        let v = slack(&[DOC_SECRET]);
        let h = signed(DOC_SIGNATURE, DOC_TIMESTAMP);
        for now in [DOC_TIMESTAMP - 300, DOC_TIMESTAMP + 300] {
            delivered(v.verify(post(&h, DOC_BODY.as_bytes()), &at(now))).unwrap();
        }
        for now in [DOC_TIMESTAMP + 301, DOC_TIMESTAMP - 301, DOC_TIMESTAMP + 86_400] {
            assert_eq!(
                refusal(&v, &h, DOC_BODY, now),
                Rejection::TimestampOutsideTolerance,
                "{now}"
            );
        }
        let mut s = settings(&[DOC_SECRET]);
        s.tolerance = Duration::from_secs(60);
        let strict = verifier(build(s).unwrap());
        assert_eq!(
            refusal(&strict, &h, DOC_BODY, DOC_TIMESTAMP + 61),
            Rejection::TimestampOutsideTolerance
        );
    }

    #[test]
    fn rotation_accepts_either_secret() {
        for secrets in [[OTHER_SECRET, DOC_SECRET], [DOC_SECRET, OTHER_SECRET]] {
            let v = slack(&secrets);
            for sig in [EVENT_SIG_DOC_SECRET, EVENT_SIG_OTHER_SECRET] {
                let h = signed(sig, T);
                delivered(v.verify(post(&h, EVENT.as_bytes()), &at(T))).unwrap();
            }
        }
        assert_eq!(
            refusal(&slack(&[OTHER_SECRET]), &signed(EVENT_SIG_DOC_SECRET, T), EVENT, T),
            Rejection::SignatureMismatch
        );
    }

    #[test]
    fn answers_url_verification_only_when_signed() {
        let v = slack(&[OTHER_SECRET, DOC_SECRET]);
        let h = signed(URL_VERIFICATION_SIG, T);
        match v.verify(post(&h, URL_VERIFICATION.as_bytes()), &at(T)).unwrap() {
            Decision::Reply(reply) => assert_eq!(reply, Reply::text(CHALLENGE)),
            other => panic!("expected the challenge, got {other:?}"),
        }
        // Unsigned, mis-signed, signed by another secret, or stale: refused, nothing echoed.
        assert_eq!(
            refusal(&v, &headers(&[]), URL_VERIFICATION, T),
            Rejection::MissingSignature
        );
        assert_eq!(
            refusal(&v, &signed(EVENT_SIG_DOC_SECRET, T), URL_VERIFICATION, T),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&slack(&["not-the-secret"]), &h, URL_VERIFICATION, T),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &h, URL_VERIFICATION, T + 301),
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
