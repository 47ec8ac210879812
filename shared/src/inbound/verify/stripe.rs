//! Stripe: `Stripe-Signature: t=<unix secs>,v1=<hex>[,v1=<hex>...][,v0=...]`, where each `v1` is
//! hex HMAC-SHA256 over `"{t}.{raw body}"`, keyed with the whole endpoint secret (`whsec_...`) as
//! bytes; any `v1` may match, other schemes are ignored (Stripe's "Check the webhook signatures";
//! stripe-python `WebhookSignature`). A `v1` that is not a SHA-256 hex digest is one more signature
//! that does not match, as stripe-python compares it (`test_header_contains_valid_signature`); a
//! header with no usable `v1` is malformed. The timestamp must be within tolerance either way.
//! Delivery id: the event id, `/id` in the body (`evt_...`).

use std::time::{Duration, SystemTime};

use super::{
    support::{body_id, check_timestamp, first_match, hmac_sha256, required_header},
    Matched, Rejection, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{config::ConfigError, foundation::secret::Secret};

const HEADER: &str = "stripe-signature";

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    if settings.secrets.is_empty() {
        return Err(ConfigError::new(settings.key("secrets"), "needs at least one secret"));
    }
    Ok(Box::new(Stripe {
        secrets: settings.secrets,
        tolerance: settings.tolerance,
    }))
}

struct Stripe {
    secrets: Vec<Secret>,
    tolerance: Duration,
}

/// The parts of a `Stripe-Signature` header this scheme uses.
struct SignatureHeader<'a> {
    timestamp: Option<&'a str>,
    v1: Vec<[u8; 32]>,
}

/// Splits `t=..,v1=..,v0=..` into its timestamp and the `v1` signatures it can check. A `v1` that
/// is not a SHA-256 hex digest is skipped (it cannot match), and so are items with other keys
/// (`v0`, future schemes) or without `=`. Malformed: two timestamps (which one was signed is
/// ambiguous), or no usable `v1` at all.
fn parse(header: &str) -> Result<SignatureHeader<'_>, Rejection> {
    let mut parsed = SignatureHeader {
        timestamp: None,
        v1: Vec::new(),
    };
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if parsed.timestamp.is_some() => return Err(Rejection::MalformedSignature),
            "t" => parsed.timestamp = Some(value),
            "v1" => {
                let mut digest = [0u8; 32];
                if hex::decode_to_slice(value, &mut digest).is_ok() {
                    parsed.v1.push(digest);
                }
            }
            _ => {}
        }
    }
    if parsed.v1.is_empty() {
        return Err(Rejection::MalformedSignature);
    }
    Ok(parsed)
}

impl Scheme for Stripe {
    fn check(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<Matched, Rejection> {
        let header = required_header(request.headers, HEADER, Rejection::MissingSignature)?;
        let parsed = parse(header)?;
        check_timestamp(parsed.timestamp, now, self.tolerance)?;
        // Signed as sent: `check_timestamp` has just refused a missing one.
        let timestamp = parsed.timestamp.unwrap_or_default();
        first_match(&self.secrets, &parsed.v1, |key| {
            hmac_sha256(key, &[timestamp.as_bytes(), b".", request.body]).to_vec()
        })
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        body_id(request.body, "/id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, Verifier};

    // Signatures computed independently with Python's hmac/hashlib, as stripe-python's
    // `_compute_signature` does: hex HMAC-SHA256(secret.encode(), f"{t}.{payload}").
    const SECRET: &str = "whsec_hookrelay_stripe_test_secret";
    const ROTATED: &str = "whsec_hookrelay_stripe_rotated_secret";
    const T: u64 = 1714000000;
    const BODY: &str = r#"{"id":"evt_1PAbCd2eZvKYlo2C8dQmWxYz","object":"event","type":"payment_intent.succeeded"}"#;
    const SIG: &str = "11ee85847552519abaceddf3df8f2c1a84baa7b3ffbc7c7f3bbf0a936ed7bb8f";
    const SIG_ROTATED: &str = "c66bd3d5e4deea2d86c7e2fea5dbf85f1072cca47b332023981bdffc8ca19872";
    // stripe-python's tests/test_webhook.py: `DUMMY_WEBHOOK_SECRET`, `DUMMY_WEBHOOK_PAYLOAD`, and the
    // signature its `generate_header` makes at `PY_T` (computed with `_compute_signature`).
    const PY_SECRET: &str = "whsec_test_secret";
    const PY_PAYLOAD: &str = "{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\",\n  \"data\": { \"object\": { \"id\": \"rdr_123\", \"object\": \"terminal.reader\" } }\n}";
    const PY_T: u64 = 1714000000;
    const PY_SIG: &str = "7dd315feb14d38383e0e32aaad2462ff443e305161bfe2f16dd4e7cc6c4f2e38";
    // The example header in Stripe's "Check the webhook signatures" (its secret is not published).
    const DOC_HEADER: &str = "t=1492774577,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd,v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";

    fn stripe(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    fn signed(value: &str) -> http::HeaderMap {
        headers(&[("stripe-signature", value)])
    }

    fn refusal(v: &Verifier, h: &http::HeaderMap, body: &str, now: u64) -> Rejection {
        v.verify(post(h, body.as_bytes()), &at(now)).map(|_| ()).unwrap_err()
    }

    #[test]
    fn accepts_a_signed_event_and_takes_its_id() {
        let h = signed(&format!("t={T},v1={SIG}"));
        let v = delivered(stripe(&[SECRET]).verify(post(&h, BODY.as_bytes()), &at(T))).unwrap();
        assert_eq!(v.body(), BODY.as_bytes());
        assert_eq!(v.delivery_id(), Some("evt_1PAbCd2eZvKYlo2C8dQmWxYz"));
    }

    #[test]
    fn any_v1_may_match_and_other_schemes_are_ignored() {
        let v = stripe(&[SECRET]);
        let zeros = "0".repeat(64);
        for header in [
            format!("t={T},v1={zeros},v1={SIG}"),
            format!("t={T},v1={SIG},v0={zeros}"),
            format!("v0={zeros},v1={SIG},t={T}"),
            format!("t={T}, v1={SIG}, v2=future"),
        ] {
            delivered(v.verify(post(&signed(&header), BODY.as_bytes()), &at(T))).unwrap();
        }
        // A signature under the legacy `v0` scheme alone is not accepted.
        assert_eq!(
            refusal(&v, &signed(&format!("t={T},v0={SIG}")), BODY, T),
            Rejection::MalformedSignature
        );
    }

    #[test]
    fn stripe_pythons_header_contains_valid_signature() {
        // `test_header_contains_valid_signature`: `generate_header() + ",v1=bad_signature"`.
        let v = stripe(&[PY_SECRET]);
        let h = signed(&format!("t={PY_T},v1={PY_SIG},v1=bad_signature"));
        let d = delivered(v.verify(post(&h, PY_PAYLOAD.as_bytes()), &at(PY_T))).unwrap();
        assert_eq!(d.delivery_id(), Some("evt_test_webhook"));
        // `test_raise_on_no_valid_signatures_for_payload`: `v1=bad_signature` alone is refused
        // (nothing usable: malformed).
        let bad = signed(&format!("t={PY_T},v1=bad_signature"));
        assert_eq!(refusal(&v, &bad, PY_PAYLOAD, PY_T), Rejection::MalformedSignature);
        // `test_raise_on_malformed_header` and `test_raise_on_no_signatures_with_expected_scheme`.
        for header in [
            "i'm not even a real signature header".to_owned(),
            format!("t={PY_T},v0={PY_SIG}"),
        ] {
            assert_eq!(
                refusal(&v, &signed(&header), PY_PAYLOAD, PY_T),
                Rejection::MalformedSignature,
                "{header}"
            );
        }
    }

    #[test]
    fn an_unparsable_v1_is_a_signature_that_does_not_match() {
        let v = stripe(&[SECRET]);
        let unusable = [
            "v1=bad_signature".to_owned(),
            "v1=".to_owned(),
            "v1=zz".to_owned(),
            format!("v1={}", &SIG[..62]),
            format!("v1={SIG}ab"),
            "v1".to_owned(),
            SIG.to_owned(),
            "".to_owned(),
            "V1=".to_owned() + SIG,
        ];
        for junk in &unusable {
            for header in [
                format!("t={T},v1={SIG},{junk}"),
                format!("t={T},{junk},v1={SIG}"),
                format!("{junk},t={T},v1={SIG}"),
            ] {
                delivered(v.verify(post(&signed(&header), BODY.as_bytes()), &at(T)))
                    .unwrap_or_else(|e| panic!("{header}: {e}"));
            }
            assert_eq!(
                refusal(&v, &signed(&format!("t={T},{junk}")), BODY, T),
                Rejection::MalformedSignature,
                "{junk}"
            );
        }
        let all = unusable.join(",");
        assert_eq!(
            refusal(&v, &signed(&format!("t={T},{all}")), BODY, T),
            Rejection::MalformedSignature
        );
        delivered(v.verify(post(&signed(&format!("t={T},{all},v1={SIG}")), BODY.as_bytes()), &at(T))).unwrap();
        // A well-formed wrong `v1` among unusable ones is a mismatch; the timestamp still counts.
        let zeros = "0".repeat(64);
        assert_eq!(
            refusal(&v, &signed(&format!("t={T},{all},v1={zeros}")), BODY, T),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &signed(&format!("t={T},v1={SIG},v1=junk")), BODY, T + 301),
            Rejection::TimestampOutsideTolerance
        );
        // Rotation: each secret's signature found among unusable entries.
        let both = stripe(&[ROTATED, SECRET]);
        delivered(both.verify(
            post(&signed(&format!("t={T},v1=junk,v1={SIG_ROTATED},v1=")), BODY.as_bytes()),
            &at(T),
        ))
        .unwrap();
    }

    #[test]
    fn parses_the_documented_header() {
        // Well formed, so the refusal is a mismatch: we do not hold the docs' secret.
        assert_eq!(
            refusal(&stripe(&[SECRET]), &signed(DOC_HEADER), BODY, 1492774577),
            Rejection::SignatureMismatch
        );
    }

    #[test]
    fn rejects_tampering_and_the_wrong_secret() {
        let h = signed(&format!("t={T},v1={SIG}"));
        assert_eq!(
            refusal(&stripe(&[SECRET]), &h, &BODY.replace("succeeded", "failed"), T),
            Rejection::SignatureMismatch
        );
        assert_eq!(refusal(&stripe(&[ROTATED]), &h, BODY, T), Rejection::SignatureMismatch);
        // The timestamp is signed: a replay with a fresh `t` does not verify.
        let moved = signed(&format!("t={},v1={SIG}", T + 60));
        assert_eq!(
            refusal(&stripe(&[SECRET]), &moved, BODY, T),
            Rejection::SignatureMismatch
        );
        // The secret is used whole, `whsec_` prefix included.
        let bare = SECRET.strip_prefix("whsec_").unwrap();
        assert_eq!(refusal(&stripe(&[bare]), &h, BODY, T), Rejection::SignatureMismatch);
    }

    #[test]
    fn rejects_missing_and_malformed_headers() {
        let v = stripe(&[SECRET]);
        assert_eq!(refusal(&v, &headers(&[]), BODY, T), Rejection::MissingSignature);
        assert_eq!(
            refusal(&v, &signed(&format!("v1={SIG}")), BODY, T),
            Rejection::MissingTimestamp
        );
        for bad in [
            String::new(),
            format!("{T}"),
            format!("t={T}"),
            format!("t={T},"),
            format!("t={T},v1"),
            format!("t={T},v1,v1"),
            format!("t={T},{SIG}"),
            format!("t={T},v1=zz"),
            format!("t={T},v1="),
            format!("t={T},v1={}", &SIG[..62]),
            format!("t={T},v1={SIG}ab"),
            format!("t={T},t={T},v1={SIG}"),
            format!("t=soon,v1={SIG}"),
            format!("t=,v1={SIG}"),
            format!("t={T},v1={SIG}é"),
        ] {
            assert_eq!(
                refusal(&v, &signed(&bad), BODY, T),
                Rejection::MalformedSignature,
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_stale_and_future_timestamps() {
        let v = stripe(&[SECRET]);
        let h = signed(&format!("t={T},v1={SIG}"));
        for now in [T - 300, T + 300] {
            delivered(v.verify(post(&h, BODY.as_bytes()), &at(now))).unwrap();
        }
        for now in [T + 301, T - 301, T + 7 * 86_400] {
            assert_eq!(
                refusal(&v, &h, BODY, now),
                Rejection::TimestampOutsideTolerance,
                "{now}"
            );
        }
        let mut s = settings(&[SECRET]);
        s.tolerance = Duration::from_secs(900);
        let lenient = verifier(build(s).unwrap());
        delivered(lenient.verify(post(&h, BODY.as_bytes()), &at(T + 900))).unwrap();
    }

    #[test]
    fn rotation_accepts_either_secret_and_either_signature() {
        for secrets in [[SECRET, ROTATED], [ROTATED, SECRET]] {
            let v = stripe(&secrets);
            for header in [
                format!("t={T},v1={SIG}"),
                format!("t={T},v1={SIG_ROTATED}"),
                format!("t={T},v1={SIG_ROTATED},v1={SIG}"),
            ] {
                delivered(v.verify(post(&signed(&header), BODY.as_bytes()), &at(T))).unwrap();
            }
        }
        // While Stripe rolls a secret it signs with both; either secret alone verifies.
        let both = signed(&format!("t={T},v1={SIG},v1={SIG_ROTATED}"));
        for secret in [SECRET, ROTATED] {
            delivered(stripe(&[secret]).verify(post(&both, BODY.as_bytes()), &at(T))).unwrap();
        }
    }

    #[test]
    fn delivery_id_needs_a_string_id() {
        let scheme = build(settings(&[SECRET])).unwrap();
        let h = headers(&[]);
        for (body, id) in [
            (br#"{"id":"evt_1"}"#.as_slice(), Some("evt_1")),
            (br#"{"id":42}"#.as_slice(), None),
            (br#"{"object":"event"}"#.as_slice(), None),
            (b"not json".as_slice(), None),
        ] {
            assert_eq!(scheme.delivery_id(&post(&h, body)).as_deref(), id);
        }
    }

    #[test]
    fn needs_a_secret() {
        match build(settings(&[])) {
            Err(e) => assert_eq!(e.key, "route[0].secrets"),
            Ok(_) => panic!("built without secrets"),
        }
    }
}
