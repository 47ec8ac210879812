//! Standard Webhooks (and Svix, which uses the same scheme under `svix-*` header names):
//! `webhook-id`, `webhook-timestamp` and `webhook-signature`, the last a space-separated list of
//! `v1,<base64 HMAC-SHA256>` and `v1a,<base64 Ed25519>` signatures over `"{id}.{timestamp}.{raw body}"`,
//! any of which may match (the Standard Webhooks spec 1.0.0; its Rust and Go libraries).
//!
//! `v1` is keyed with the base64-decoded signing secret, `whsec_` prefix optional (as every
//! reference library takes it), `v1a` is checked against the route's `whpk_<base64>` public keys.
//! An entry that does not parse (no version, an unknown version, a value that is not base64 of
//! the right length) is one more signature that does not match, as in the libraries, which skip
//! it or compare it as text; only a header with no usable `v1`/`v1a` at all is malformed. The
//! timestamp must be within tolerance either way. Delivery id: `webhook-id` (or `svix-id`), the
//! idempotency key.

use std::time::{Duration, SystemTime};

use base64::{engine::general_purpose::STANDARD, Engine};
use ed25519_dalek::{Signature, VerifyingKey};
use http::HeaderMap;

use super::{
    support::{check_timestamp, first_match, header_id, hmac_sha256, required_header},
    whsec, Matched, Rejection, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{config::ConfigError, foundation::secret::Secret};

const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// More usable signatures than any sender rotating keys would list: each `v1a` costs a signature
/// check, so a longer list is refused rather than checked.
const MAX_SIGNATURES: usize = 16;

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    if settings.secrets.is_empty() && settings.public_keys.is_empty() {
        return Err(ConfigError::new(
            settings.key("secrets"),
            "needs `secrets` (whsec_...) or `public_keys` (whpk_...)",
        ));
    }
    let mut keys = Vec::with_capacity(settings.secrets.len());
    for (i, secret) in settings.secrets.iter().enumerate() {
        let key = whsec::signing_key(secret)
            .ok_or_else(|| ConfigError::new(settings.key(&format!("secrets[{i}]")), whsec::EXPECTED))?;
        keys.push(key);
    }
    let mut public_keys = Vec::with_capacity(settings.public_keys.len());
    for (i, key) in settings.public_keys.iter().enumerate() {
        let key = public_key(key).ok_or_else(|| {
            ConfigError::new(
                settings.key(&format!("public_keys[{i}]")),
                "expected `whpk_` followed by a base64 Ed25519 public key (32 bytes)",
            )
        })?;
        public_keys.push(key);
    }
    Ok(Box::new(StandardWebhooks {
        keys,
        public_keys,
        tolerance: settings.tolerance,
    }))
}

/// `whpk_<base64>` to an Ed25519 key; small-order ("weak") keys are refused, as no real key is one.
fn public_key(key: &Secret) -> Option<VerifyingKey> {
    let text = std::str::from_utf8(key.expose()).ok()?;
    let bytes: [u8; 32] = STANDARD
        .decode(text.strip_prefix(PUBLIC_KEY_PREFIX)?)
        .ok()?
        .try_into()
        .ok()?;
    VerifyingKey::from_bytes(&bytes).ok().filter(|k| !k.is_weak())
}

struct StandardWebhooks {
    /// Decoded signing secrets, in `secrets` order.
    keys: Vec<Secret>,
    public_keys: Vec<VerifyingKey>,
    tolerance: Duration,
}

/// The header names a request uses: the standard ones, or Svix's when it sent `svix-signature`
/// and not `webhook-signature`. All three come from the same family.
struct Names {
    id: &'static str,
    timestamp: &'static str,
    signature: &'static str,
}

const STANDARD_NAMES: Names = Names {
    id: "webhook-id",
    timestamp: "webhook-timestamp",
    signature: "webhook-signature",
};

const SVIX_NAMES: Names = Names {
    id: "svix-id",
    timestamp: "svix-timestamp",
    signature: "svix-signature",
};

impl Names {
    fn of(headers: &HeaderMap) -> &'static Names {
        if !headers.contains_key(STANDARD_NAMES.signature) && headers.contains_key(SVIX_NAMES.signature) {
            &SVIX_NAMES
        } else {
            &STANDARD_NAMES
        }
    }
}

/// The signatures in a `webhook-signature` header.
#[derive(Default)]
struct Signatures {
    hmac: Vec<[u8; 32]>,
    ed25519: Vec<Signature>,
}

/// Parses `v1,<b64> v1a,<b64> ...` into the signatures it can check. An entry without a version,
/// of another version (future schemes), or whose value is not base64 of the right length is
/// skipped: it cannot match, as in the reference libraries. Malformed: no usable `v1`/`v1a` at
/// all, or more than [`MAX_SIGNATURES`] of them.
fn parse(header: &str) -> Result<Signatures, Rejection> {
    let mut signatures = Signatures::default();
    for entry in header.split(' ') {
        let Some((version, value)) = entry.split_once(',') else {
            continue;
        };
        match version {
            "v1" => signatures.hmac.extend(decode(value)),
            "v1a" => signatures
                .ed25519
                .extend(decode(value).map(|b| Signature::from_bytes(&b))),
            _ => {}
        }
        if signatures.hmac.len() + signatures.ed25519.len() > MAX_SIGNATURES {
            return Err(Rejection::MalformedSignature);
        }
    }
    if signatures.hmac.is_empty() && signatures.ed25519.is_empty() {
        return Err(Rejection::MalformedSignature);
    }
    Ok(signatures)
}

/// Standard (padded) base64 of exactly `N` bytes, as the libraries encode signatures.
fn decode<const N: usize>(value: &str) -> Option<[u8; N]> {
    STANDARD.decode(value).ok()?.try_into().ok()
}

impl Scheme for StandardWebhooks {
    fn check(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<Matched, Rejection> {
        let names = Names::of(request.headers);
        let signatures = parse(required_header(
            request.headers,
            names.signature,
            Rejection::MissingSignature,
        )?)?;
        // The id is part of what is signed: a signature without one cannot be checked.
        let id = required_header(request.headers, names.id, Rejection::MalformedSignature)?;
        let timestamp = required_header(request.headers, names.timestamp, Rejection::MissingTimestamp)?;
        check_timestamp(Some(timestamp), now, self.tolerance)?;
        let signed = [id.as_bytes(), b".", timestamp.as_bytes(), b".", request.body];

        if !signatures.hmac.is_empty() {
            if let Ok(matched) = first_match(&self.keys, &signatures.hmac, |key| hmac_sha256(key, &signed).to_vec()) {
                return Ok(matched);
            }
        }
        if !signatures.ed25519.is_empty() && !self.public_keys.is_empty() {
            let message = signed.concat();
            // For `v1a`, the index is that of the public key that verified.
            for (index, key) in self.public_keys.iter().enumerate() {
                if signatures
                    .ed25519
                    .iter()
                    .any(|s| key.verify_strict(&message, s).is_ok())
                {
                    return Ok(Matched(index));
                }
            }
        }
        Err(Rejection::SignatureMismatch)
    }

    fn delivery_id(&self, request: &WebhookRequest<'_>) -> Option<String> {
        header_id(request.headers, Names::of(request.headers).id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, Decision, Verifier};

    // From the Standard Webhooks Rust library's tests (`test_sign`).
    const RUST_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const RUST_ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const RUST_TS: u64 = 1649367553;
    const RUST_BODY: &str = r#"{"email":"test@example.com","username":"test_user"}"#;
    const RUST_SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";
    // Wrong signatures used by the Rust library's negative tests.
    const RUST_WRONG: [&str; 4] = [
        "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
        "v1,tFtCZ5RDCPxzWQRWXWPgrCgE2frDBe9gjpbWQxnVfsQ=",
        "v1,Mm7xgUVICxZfQ3bgf0h0Dof65L/IFx+PnZvnDWPCX6Q=",
        "v1,9DfC1c3eeOrXB6w/5dIDydLNQaEyww5KalE5jLBZucE=",
    ];

    // From the Go library's tests (`TestSymmetricWebhookSign`, `TestAsymmetricWebhookSign`).
    const GO_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const GO_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const GO_TS: u64 = 1614265330;
    const GO_BODY: &str = r#"{"test": 2432232314}"#;
    const GO_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const GO_ED25519_SIG: &str =
        "v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";
    // The public key of the Go test's signing key (seed "TESTSIGNINGKEYDONOTUSETHISFORANY"),
    // derived independently with Python's `cryptography`.
    const GO_PUBLIC_KEY: &str = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=";
    // RFC 8032's first Ed25519 test key: valid, but not the signer.
    const OTHER_PUBLIC_KEY: &str = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    // A second secret (bytes 0..32) and its signature of the Rust vector's message, computed
    // independently with Python's hmac/hashlib/base64.
    const SECOND_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const SECOND_SIG: &str = "v1,H+RYDKli6ntvOIETWqflVRK+UIsRWejzXbFSJBJuEmc=";

    fn with_keys(secrets: &[&str], public_keys: &[&str]) -> SchemeSettings {
        let mut s = settings(secrets);
        s.public_keys = public_keys.iter().map(|k| Secret::new(*k)).collect();
        s
    }

    fn sw(secrets: &[&str]) -> Verifier {
        verifier(build(settings(secrets)).unwrap())
    }

    fn sw_keys(secrets: &[&str], public_keys: &[&str]) -> Verifier {
        verifier(build(with_keys(secrets, public_keys)).unwrap())
    }

    fn build_error(s: SchemeSettings) -> ConfigError {
        match build(s) {
            Err(e) => e,
            Ok(_) => panic!("expected a config error"),
        }
    }

    fn signed(id: &str, ts: u64, signature: &str) -> HeaderMap {
        headers(&[
            ("webhook-id", id),
            ("webhook-timestamp", &ts.to_string()),
            ("webhook-signature", signature),
        ])
    }

    fn rust_signed(signature: &str) -> HeaderMap {
        signed(RUST_ID, RUST_TS, signature)
    }

    fn refusal(v: &Verifier, h: &HeaderMap, body: &str, now: u64) -> Rejection {
        v.verify(post(h, body.as_bytes()), &at(now)).map(|_| ()).unwrap_err()
    }

    fn accepts(v: &Verifier, h: &HeaderMap, body: &str, now: u64) -> Option<String> {
        delivered(v.verify(post(h, body.as_bytes()), &at(now)))
            .unwrap()
            .delivery_id()
            .map(str::to_owned)
    }

    #[test]
    fn accepts_the_libraries_hmac_vectors_with_the_message_id() {
        let id = accepts(&sw(&[RUST_SECRET]), &rust_signed(RUST_SIG), RUST_BODY, RUST_TS);
        assert_eq!(id.as_deref(), Some(RUST_ID));
        let h = signed(GO_ID, GO_TS, GO_SIG);
        assert_eq!(accepts(&sw(&[GO_SECRET]), &h, GO_BODY, GO_TS).as_deref(), Some(GO_ID));
    }

    #[test]
    fn accepts_the_go_librarys_ed25519_vector() {
        let h = signed(GO_ID, GO_TS, GO_ED25519_SIG);
        let v = sw_keys(&[], &[GO_PUBLIC_KEY]);
        assert_eq!(accepts(&v, &h, GO_BODY, GO_TS).as_deref(), Some(GO_ID));
        // Public keys rotate like secrets.
        let rotated = sw_keys(&[], &[OTHER_PUBLIC_KEY, GO_PUBLIC_KEY]);
        accepts(&rotated, &h, GO_BODY, GO_TS);
        // Mixed with symmetric secrets that do not match.
        let mixed = sw_keys(&[RUST_SECRET], &[GO_PUBLIC_KEY]);
        accepts(&mixed, &h, GO_BODY, GO_TS);
    }

    #[test]
    fn rejects_ed25519_tampering_and_the_wrong_key() {
        let h = signed(GO_ID, GO_TS, GO_ED25519_SIG);
        let v = sw_keys(&[], &[GO_PUBLIC_KEY]);
        assert_eq!(
            refusal(&v, &h, r#"{"test": 2432232315}"#, GO_TS),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &signed("msg_other", GO_TS, GO_ED25519_SIG), GO_BODY, GO_TS),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&sw_keys(&[], &[OTHER_PUBLIC_KEY]), &h, GO_BODY, GO_TS),
            Rejection::SignatureMismatch
        );
        // A route with only symmetric secrets does not take an asymmetric signature, and the
        // reverse: a `v1` never verifies against public keys.
        assert_eq!(
            refusal(&sw(&[GO_SECRET]), &h, GO_BODY, GO_TS),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &signed(GO_ID, GO_TS, GO_SIG), GO_BODY, GO_TS),
            Rejection::SignatureMismatch
        );
    }

    #[test]
    fn accepts_svix_header_names() {
        let h = headers(&[
            ("svix-id", RUST_ID),
            ("svix-timestamp", "1649367553"),
            ("svix-signature", RUST_SIG),
        ]);
        assert_eq!(
            accepts(&sw(&[RUST_SECRET]), &h, RUST_BODY, RUST_TS).as_deref(),
            Some(RUST_ID)
        );
        // The families are not mixed: the standard names win when both signatures are present.
        let mixed = headers(&[
            ("webhook-signature", RUST_SIG),
            ("svix-id", RUST_ID),
            ("svix-timestamp", "1649367553"),
            ("svix-signature", RUST_SIG),
        ]);
        assert_eq!(
            refusal(&sw(&[RUST_SECRET]), &mixed, RUST_BODY, RUST_TS),
            Rejection::MalformedSignature
        );
    }

    #[test]
    fn any_listed_signature_may_match() {
        let v = sw(&[RUST_SECRET]);
        // The Go library's "valid multi sig" case: unknown versions are skipped.
        let list = format!(
            "{} v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= {RUST_SIG} {}",
            RUST_WRONG[1], RUST_WRONG[3]
        );
        accepts(&v, &rust_signed(&list), RUST_BODY, RUST_TS);
        // The Rust library's "no verify with multiple signatures" case.
        let wrong = RUST_WRONG[1..].join(" ");
        assert_eq!(
            refusal(&v, &rust_signed(&wrong), RUST_BODY, RUST_TS),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &rust_signed(RUST_WRONG[0]), RUST_BODY, RUST_TS),
            Rejection::SignatureMismatch
        );
    }

    #[test]
    fn rejects_tampering_and_the_wrong_secret() {
        let v = sw(&[RUST_SECRET]);
        let h = rust_signed(RUST_SIG);
        assert_eq!(
            refusal(&v, &h, &RUST_BODY.replace("test_user", "admin"), RUST_TS),
            Rejection::SignatureMismatch
        );
        // The id and the timestamp are signed too.
        assert_eq!(
            refusal(&v, &signed("msg_other", RUST_TS, RUST_SIG), RUST_BODY, RUST_TS),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&v, &signed(RUST_ID, RUST_TS + 1, RUST_SIG), RUST_BODY, RUST_TS),
            Rejection::SignatureMismatch
        );
        assert_eq!(
            refusal(&sw(&[GO_SECRET]), &h, RUST_BODY, RUST_TS),
            Rejection::SignatureMismatch
        );
    }

    #[test]
    fn rejects_missing_headers() {
        let v = sw(&[RUST_SECRET]);
        let ts = RUST_TS.to_string();
        assert_eq!(
            refusal(&v, &headers(&[]), RUST_BODY, RUST_TS),
            Rejection::MissingSignature
        );
        let no_sig = headers(&[("webhook-id", RUST_ID), ("webhook-timestamp", &ts)]);
        assert_eq!(refusal(&v, &no_sig, RUST_BODY, RUST_TS), Rejection::MissingSignature);
        let no_id = headers(&[("webhook-timestamp", &ts), ("webhook-signature", RUST_SIG)]);
        assert_eq!(refusal(&v, &no_id, RUST_BODY, RUST_TS), Rejection::MalformedSignature);
        let no_ts = headers(&[("webhook-id", RUST_ID), ("webhook-signature", RUST_SIG)]);
        assert_eq!(refusal(&v, &no_ts, RUST_BODY, RUST_TS), Rejection::MissingTimestamp);
    }

    #[test]
    fn unparsable_entries_are_signatures_that_do_not_match() {
        let v = sw_keys(&[RUST_SECRET], &[GO_PUBLIC_KEY]);
        let digest = RUST_SIG.strip_prefix("v1,").unwrap();
        // Entries the reference libraries skip (no `,`, another version) or compare as text and
        // never match (bad base64, a digest of another length): around a valid signature, on
        // either side, the request is authentic.
        let unusable = [
            digest.to_owned(),
            "v1".to_owned(),
            "v1,".to_owned(),
            "v1a,".to_owned(),
            format!("v1={digest}"),
            format!("v1,{}", &digest[..digest.len() - 1]),
            "v1,not-base64!".to_owned(),
            "v1,zz".to_owned(),
            "v1,AAAA".to_owned(),
            "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==".to_owned(), // 31 bytes
            "v1a,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(), // 32 bytes, not 64
            "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=".to_owned(), // no known version
            format!("V1,{digest}"),
            format!("v1,{digest},extra"),
        ];
        for junk in &unusable {
            for list in [format!("{junk} {RUST_SIG}"), format!("{RUST_SIG} {junk}")] {
                accepts(&v, &rust_signed(&list), RUST_BODY, RUST_TS);
            }
            // Alone, nothing usable is present: malformed, not a mismatch.
            assert_eq!(
                refusal(&v, &rust_signed(junk), RUST_BODY, RUST_TS),
                Rejection::MalformedSignature,
                "{junk}"
            );
        }
        // All of them together, still nothing usable; with one valid entry, authentic.
        let all = unusable.join(" ");
        assert_eq!(
            refusal(&v, &rust_signed(&all), RUST_BODY, RUST_TS),
            Rejection::MalformedSignature
        );
        accepts(&v, &rust_signed(&format!("{all} {RUST_SIG}")), RUST_BODY, RUST_TS);
        // Usable but wrong, next to unusable ones: a mismatch.
        assert_eq!(
            refusal(
                &v,
                &rust_signed(&format!("{all} {}", RUST_WRONG[0])),
                RUST_BODY,
                RUST_TS
            ),
            Rejection::SignatureMismatch
        );
        // An Ed25519 signature among unusable entries verifies too.
        let ed = format!("v1,AAAA {GO_ED25519_SIG} v2,x");
        let go = sw_keys(&[], &[GO_PUBLIC_KEY]);
        assert_eq!(
            accepts(&go, &signed(GO_ID, GO_TS, &ed), GO_BODY, GO_TS).as_deref(),
            Some(GO_ID)
        );
    }

    #[test]
    fn rejects_malformed_headers() {
        let v = sw_keys(&[RUST_SECRET], &[GO_PUBLIC_KEY]);
        // More usable signatures than any sender lists (each may cost an Ed25519 check).
        let too_many = vec![RUST_WRONG[1]; MAX_SIGNATURES].join(" ") + " " + RUST_SIG;
        // Unusable entries do not count against that bound.
        let padded = vec!["v2,x"; 2 * MAX_SIGNATURES].join(" ") + " " + RUST_SIG;
        accepts(&v, &rust_signed(&padded), RUST_BODY, RUST_TS);
        // Too many; blank; not visible ASCII (the header cannot be read at all).
        for bad in [too_many, " ".to_owned(), format!("{RUST_SIG}é")] {
            assert_eq!(
                refusal(&v, &rust_signed(&bad), RUST_BODY, RUST_TS),
                Rejection::MalformedSignature,
                "{bad}"
            );
        }
        for (name, value) in [
            ("webhook-timestamp", "soon"),
            ("webhook-timestamp", "1649367553.0"),
            ("webhook-timestamp", ""),
            ("webhook-id", ""),
        ] {
            let mut h = rust_signed(RUST_SIG);
            h.insert(name, value.parse().unwrap());
            assert_eq!(
                refusal(&v, &h, RUST_BODY, RUST_TS),
                Rejection::MalformedSignature,
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn rejects_stale_and_future_timestamps() {
        let v = sw(&[RUST_SECRET]);
        let h = rust_signed(RUST_SIG);
        for now in [RUST_TS - 300, RUST_TS + 300] {
            accepts(&v, &h, RUST_BODY, now);
        }
        for now in [RUST_TS + 301, RUST_TS - 301] {
            assert_eq!(
                refusal(&v, &h, RUST_BODY, now),
                Rejection::TimestampOutsideTolerance,
                "{now}"
            );
        }
        let ed = signed(GO_ID, GO_TS, GO_ED25519_SIG);
        assert_eq!(
            refusal(&sw_keys(&[], &[GO_PUBLIC_KEY]), &ed, GO_BODY, GO_TS + 301),
            Rejection::TimestampOutsideTolerance
        );
    }

    #[test]
    fn rotation_accepts_either_secret() {
        for secrets in [[SECOND_SECRET, RUST_SECRET], [RUST_SECRET, SECOND_SECRET]] {
            let v = sw(&secrets);
            for sig in [RUST_SIG, SECOND_SIG] {
                accepts(&v, &rust_signed(sig), RUST_BODY, RUST_TS);
            }
            accepts(
                &v,
                &rust_signed(&format!("{SECOND_SIG} {RUST_SIG}")),
                RUST_BODY,
                RUST_TS,
            );
        }
        let both = rust_signed(&format!("{RUST_SIG} {SECOND_SIG}"));
        for secret in [RUST_SECRET, SECOND_SECRET] {
            accepts(&sw(&[secret]), &both, RUST_BODY, RUST_TS);
        }
    }

    #[test]
    fn never_answers_a_handshake() {
        let h = rust_signed(RUST_SIG);
        assert!(matches!(
            sw(&[RUST_SECRET]).verify(post(&h, RUST_BODY.as_bytes()), &at(RUST_TS)),
            Ok(Decision::Deliver(_))
        ));
    }

    #[test]
    fn secrets_are_taken_with_or_without_the_prefix() {
        // standard-webhooks' Python `test_signature_verification_with_and_without_prefix`: its
        // `DEFAULT_SECRET` bare and with `whsec_`, over the Go/Python `test_sign` message.
        let h = signed(GO_ID, GO_TS, GO_SIG);
        for secret in [GO_SECRET, GO_SECRET.strip_prefix("whsec_").unwrap()] {
            assert_eq!(
                accepts(&sw(&[secret]), &h, GO_BODY, GO_TS).as_deref(),
                Some(GO_ID),
                "{secret}"
            );
        }
        // `test_signature_verification_with_unpadded_secret`: secrets missing one and two `=`,
        // bare and prefixed. Signatures computed independently with Python's hmac/base64.
        for (secret, signature) in [
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
                "v1,LVOXivKoo4FWasi/IaHvzhE/u+7/cu2AME+zS/nXqzk=",
            ),
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
                "v1,yK2tMbA6BHPrMEJ1lLv7UlJJbgFoqGenJkiajZ29evg=",
            ),
        ] {
            let h = signed(GO_ID, GO_TS, signature);
            for form in [secret.to_owned(), format!("whsec_{secret}")] {
                accepts(&sw(&[&form]), &h, GO_BODY, GO_TS);
            }
            assert_eq!(
                refusal(&sw(&[GO_SECRET]), &h, GO_BODY, GO_TS),
                Rejection::SignatureMismatch
            );
        }
        // Rotation across both forms.
        let bare_second = SECOND_SECRET.strip_prefix("whsec_").unwrap();
        let v = sw(&[bare_second, RUST_SECRET]);
        for sig in [RUST_SIG, SECOND_SIG] {
            accepts(&v, &rust_signed(sig), RUST_BODY, RUST_TS);
        }
    }

    #[test]
    fn secrets_must_be_base64() {
        for (i, bad) in [
            "whsec_",
            "",
            "whsec_not base64!",
            "C2FVsBQIhrscChlQIMV-b5sSYspob7oD",        // URL-safe alphabet
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oDx", // a length no base64 has
            "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=",
        ]
        .into_iter()
        .enumerate()
        {
            let e = build_error(settings(&[RUST_SECRET, bad]));
            assert_eq!(e.key, "route[0].secrets[1]", "{i}");
            // A fixed text: the value is never quoted.
            assert_eq!(
                e.reason,
                "expected the base64 signing key, with or without its `whsec_` prefix"
            );
        }
        let mut not_utf8 = settings(&[]);
        not_utf8.secrets = vec![Secret::new(b"whsec_\xff\xfe".to_vec())];
        assert_eq!(build_error(not_utf8).key, "route[0].secrets[0]");
    }

    #[test]
    fn public_keys_must_be_whpk_base64_ed25519() {
        for bad in [
            "ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=", // no prefix
            "whsec_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=",
            "whpk_not base64!",
            "whpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", // 31 bytes
            "whpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", // 64
            "whpk_AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // the identity: a weak key
        ] {
            let e = build_error(with_keys(&[], &[GO_PUBLIC_KEY, bad]));
            assert_eq!(e.key, "route[0].public_keys[1]", "{bad}");
        }
    }

    #[test]
    fn needs_a_secret_or_a_public_key() {
        assert_eq!(build_error(settings(&[])).key, "route[0].secrets");
    }
}
