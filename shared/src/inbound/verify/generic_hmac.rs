//! The generic HMAC scheme (`verify = "hmac"`), for senders without a dedicated scheme:
//! `hmac = { header, algorithm, encoding, prefix, content, timestamp_header }`.
//!
//! The header's value, with `prefix` removed, is the HMAC (SHA-1, SHA-256 or SHA-512) in hex (either
//! case) or base64 (standard alphabet, padding optional). What is signed is the raw body, or the
//! `content` template's parts concatenated: `{body}`, `{timestamp}` (the `timestamp_header` value as
//! sent), `{header:<name>}` (that header's value as sent) and literal text. With a
//! `timestamp_header`, the timestamp (Unix seconds) must be within `tolerance_secs` of now either
//! way, and it must be signed: a timestamp outside the signature could be replaced at will.

use std::time::{Duration, SystemTime};

use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use hmac::{KeyInit, Mac};

use super::{
    support::{check_timestamp, first_match, header_str, required_header},
    Matched, Rejection, Scheme, SchemeSettings, WebhookRequest,
};
use crate::{
    config::{ConfigError, ContentPart, HmacAlgorithm, HmacSpec, SignatureEncoding},
    foundation::secret::Secret,
};

/// Standard-alphabet base64 with or without padding; non-canonical trailing bits are refused.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    let Some(spec) = settings.hmac.clone() else {
        return Err(ConfigError::new(
            settings.key("hmac"),
            "verify = \"hmac\" needs `hmac = { header, algorithm, encoding }`",
        ));
    };
    if let Some(parts) = &spec.content {
        if !parts.contains(&ContentPart::Body) {
            return Err(ConfigError::new(
                settings.key("hmac.content"),
                "the signed content must include `{body}`",
            ));
        }
    }
    let signs_timestamp = spec
        .content
        .as_ref()
        .is_some_and(|parts| parts.contains(&ContentPart::Timestamp));
    match (&spec.timestamp_header, signs_timestamp) {
        (Some(_), false) => {
            return Err(ConfigError::new(
                settings.key("hmac.timestamp_header"),
                "the timestamp must be signed: add `{timestamp}` to `content`, or the check stops no replay",
            ))
        }
        (None, true) => {
            return Err(ConfigError::new(
                settings.key("hmac.timestamp_header"),
                "`{timestamp}` in `content` needs `timestamp_header`",
            ))
        }
        _ => {}
    }
    Ok(Box::new(GenericHmac {
        secrets: settings.secrets,
        spec,
        tolerance: settings.tolerance,
    }))
}

struct GenericHmac {
    secrets: Vec<Secret>,
    spec: HmacSpec,
    tolerance: Duration,
}

impl Scheme for GenericHmac {
    fn check(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<Matched, Rejection> {
        let presented = self.presented_signature(request)?;
        let timestamp = match &self.spec.timestamp_header {
            Some(name) => {
                let text = header_str(request.headers, name.as_str());
                if text.is_none() && request.headers.contains_key(name) {
                    return Err(Rejection::MalformedSignature);
                }
                check_timestamp(text, now, self.tolerance)?;
                text
            }
            None => None,
        };
        let content: Vec<&[u8]> = match &self.spec.content {
            None => vec![request.body],
            Some(parts) => parts
                .iter()
                .map(|part| match part {
                    ContentPart::Literal(text) => Ok(text.as_bytes()),
                    ContentPart::Body => Ok(request.body),
                    // `build` makes sure a template with `{timestamp}` has a timestamp header.
                    ContentPart::Timestamp => timestamp.map(str::as_bytes).ok_or(Rejection::MissingTimestamp),
                    // A signed header that is absent leaves nothing to check the signature over.
                    ContentPart::Header(name) => request
                        .headers
                        .get(name)
                        .map(http::HeaderValue::as_bytes)
                        .ok_or(Rejection::MalformedSignature),
                })
                .collect::<Result<_, _>>()?,
        };
        first_match(&self.secrets, &[presented], |key| {
            mac(self.spec.algorithm, key, &content)
        })
    }
}

impl GenericHmac {
    /// The configured header's value, without its prefix, decoded to a digest of the right size.
    fn presented_signature(&self, request: &WebhookRequest<'_>) -> Result<Vec<u8>, Rejection> {
        let name = &self.spec.header;
        let value = required_header(request.headers, name.as_str(), Rejection::MissingSignature)?;
        let encoded = value
            .strip_prefix(self.spec.prefix.as_str())
            .ok_or(Rejection::MalformedSignature)?;
        let decoded = match self.spec.encoding {
            SignatureEncoding::Hex => hex::decode(encoded).ok(),
            SignatureEncoding::Base64 => BASE64.decode(encoded).ok(),
        };
        decoded
            .filter(|digest| digest.len() == output_len(self.spec.algorithm))
            .ok_or(Rejection::MalformedSignature)
    }
}

fn output_len(algorithm: HmacAlgorithm) -> usize {
    match algorithm {
        HmacAlgorithm::Sha1 => 20,
        HmacAlgorithm::Sha256 => 32,
        HmacAlgorithm::Sha512 => 64,
    }
}

fn mac(algorithm: HmacAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match algorithm {
        HmacAlgorithm::Sha1 => run::<hmac::Hmac<sha1::Sha1>>(key, parts),
        HmacAlgorithm::Sha256 => run::<hmac::Hmac<sha2::Sha256>>(key, parts),
        HmacAlgorithm::Sha512 => run::<hmac::Hmac<sha2::Sha512>>(key, parts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::verify::{testing::*, Verifier};

    // Every expected value was computed independently with Python's hmac/hashlib over BODY.
    const BODY: &[u8] = br#"{"event":"ping"}"#;
    const SECRET: &str = "generic-secret";
    const SHA1_HEX: &str = "c6ac1f7cdda0ea99fcc8ab400417b4df441b81e3";
    const SHA1_B64: &str = "xqwffN2g6pn8yKtABBe030QbgeM=";
    const SHA256_HEX: &str = "adbb938347115a1b87cab58c7bc6980054aec92d3d79c686a74f97cd58a14cfd";
    const SHA256_B64: &str = "rbuTg0cRWhuHyrWMe8aYAFSuyS09ecaGp0+XzVihTP0=";
    const SHA512_HEX: &str = "97f75b5bfd8b75457389e6aad80335b5a6fc408fb45c6da17724882341cd7d4a\
                              76578ff4f7da6412a81ff31eb2b5c2b6b518d7a3bd2690357c14dacb53ecbf10";
    const SHA512_B64: &str = "l/dbW/2LdUVzieaq2AM1tab8QI+0XG2hdySII0HNfUp2V4/099pkEqgf8x6ytcK2tRjXo70mkDV8FNrLU+y/EA==";
    /// HMAC-SHA256 under a second secret, for rotation.
    const NEW_SECRET: &str = "generic-new";
    const NEW_SHA256_HEX: &str = "856d6b3c98b43f56fed2cebf5bcd11c0cdad2324b477e814b51d61028847c0bf";
    /// hex HMAC-SHA256 of "1700000000." + BODY.
    const TS: u64 = 1_700_000_000;
    const TS_SHA256_HEX: &str = "e9240a816e76fdffb9f92f6e8b006cda80c1ace2904a0a87bc040b878ab1e790";
    /// base64 HMAC-SHA256 of "v0:1700000000:req-42:" + BODY.
    const TEMPLATE_B64: &str = "xVm67HVygTW4NkSV77/mlrxTGXq35RuWP4MaATwXVsM=";

    fn spec(algorithm: HmacAlgorithm, encoding: SignatureEncoding) -> HmacSpec {
        HmacSpec {
            header: http::HeaderName::from_static("x-signature"),
            algorithm,
            encoding,
            prefix: String::new(),
            content: None,
            timestamp_header: None,
        }
    }

    fn hmac_verifier(secrets: &[&str], spec: HmacSpec) -> Verifier {
        let mut s = settings(secrets);
        s.hmac = Some(spec);
        verifier(build(s).unwrap())
    }

    fn verdict(v: &Verifier, h: &http::HeaderMap, body: &[u8], now: u64) -> Result<(), Rejection> {
        delivered(v.verify(post(h, body), &at(now))).map(|_| ())
    }

    fn timestamped() -> HmacSpec {
        HmacSpec {
            content: Some(vec![
                ContentPart::Timestamp,
                ContentPart::Literal(".".into()),
                ContentPart::Body,
            ]),
            timestamp_header: Some(http::HeaderName::from_static("x-timestamp")),
            ..spec(HmacAlgorithm::Sha256, SignatureEncoding::Hex)
        }
    }

    #[test]
    fn each_algorithm_and_encoding() {
        use HmacAlgorithm::*;
        use SignatureEncoding::*;
        for (algorithm, encoding, signature) in [
            (Sha1, Hex, SHA1_HEX.to_owned()),
            (Sha1, Hex, SHA1_HEX.to_uppercase()),
            (Sha1, Base64, SHA1_B64.to_owned()),
            (Sha256, Hex, SHA256_HEX.to_owned()),
            (Sha256, Base64, SHA256_B64.to_owned()),
            (Sha256, Base64, SHA256_B64.trim_end_matches('=').to_owned()),
            (Sha512, Hex, SHA512_HEX.to_owned()),
            (Sha512, Base64, SHA512_B64.to_owned()),
        ] {
            let v = hmac_verifier(&[SECRET], spec(algorithm, encoding));
            let h = headers(&[("X-Signature", &signature)]);
            verdict(&v, &h, BODY, 0).unwrap_or_else(|e| panic!("{algorithm:?} {encoding:?} {signature}: {e}"));
            assert_eq!(
                verdict(&v, &h, br#"{"event":"pong"}"#, 0),
                Err(Rejection::SignatureMismatch),
                "{algorithm:?} {encoding:?}"
            );
            let wrong = hmac_verifier(&["other"], spec(algorithm, encoding));
            assert_eq!(verdict(&wrong, &h, BODY, 0), Err(Rejection::SignatureMismatch));
        }
    }

    #[test]
    fn a_digest_of_another_size_or_encoding_is_malformed() {
        use HmacAlgorithm::*;
        use SignatureEncoding::*;
        for (algorithm, encoding, signature) in [
            (Sha256, Hex, SHA1_HEX),
            (Sha256, Hex, SHA512_HEX),
            (Sha1, Hex, SHA256_HEX),
            (Sha256, Hex, SHA256_B64),
            (Sha256, Base64, SHA256_HEX),
            (Sha512, Base64, SHA256_B64),
            (Sha256, Hex, "adbb93zz"),
            (Sha256, Hex, ""),
            (Sha256, Base64, ""),
            (Sha256, Base64, "rbuTg0cRWhuHyrWMe8aYAFSuyS09ecaGp0-XzVihTP0="),
        ] {
            let v = hmac_verifier(&[SECRET], spec(algorithm, encoding));
            let h = headers(&[("x-signature", signature)]);
            assert_eq!(
                verdict(&v, &h, BODY, 0),
                Err(Rejection::MalformedSignature),
                "{algorithm:?} {encoding:?} {signature}"
            );
        }
        let v = hmac_verifier(&[SECRET], spec(Sha256, Hex));
        assert_eq!(
            verdict(&v, &headers(&[("x-other", SHA256_HEX)]), BODY, 0),
            Err(Rejection::MissingSignature)
        );
    }

    #[test]
    fn the_prefix_is_required_and_stripped() {
        let v = hmac_verifier(
            &[SECRET],
            HmacSpec {
                prefix: "sha256=".into(),
                ..spec(HmacAlgorithm::Sha256, SignatureEncoding::Hex)
            },
        );
        verdict(
            &v,
            &headers(&[("x-signature", &format!("sha256={SHA256_HEX}"))]),
            BODY,
            0,
        )
        .unwrap();
        for bad in [
            SHA256_HEX.to_owned(),
            format!("sha1={SHA256_HEX}"),
            format!("SHA256={SHA256_HEX}"),
            format!("sha256= {SHA256_HEX}"),
            "sha256=".to_owned(),
        ] {
            assert_eq!(
                verdict(&v, &headers(&[("x-signature", &bad)]), BODY, 0),
                Err(Rejection::MalformedSignature),
                "{bad}"
            );
        }
    }

    #[test]
    fn rotation_accepts_either_secret() {
        for signature in [SHA256_HEX, NEW_SHA256_HEX] {
            let h = headers(&[("x-signature", signature)]);
            for secrets in [[SECRET, NEW_SECRET], [NEW_SECRET, SECRET]] {
                let v = hmac_verifier(&secrets, spec(HmacAlgorithm::Sha256, SignatureEncoding::Hex));
                verdict(&v, &h, BODY, 0).unwrap();
            }
        }
    }

    #[test]
    fn a_timestamped_template_is_signed_and_fresh() {
        let v = hmac_verifier(&[SECRET], timestamped());
        let h = headers(&[("x-signature", TS_SHA256_HEX), ("x-timestamp", "1700000000")]);
        // Within the default 300 s either way.
        for now in [TS, TS - 300, TS + 300] {
            verdict(&v, &h, BODY, now).unwrap_or_else(|e| panic!("at {now}: {e}"));
        }
        // Stale and future.
        for now in [TS + 301, TS - 301, TS + 86_400, 0] {
            assert_eq!(
                verdict(&v, &h, BODY, now),
                Err(Rejection::TimestampOutsideTolerance),
                "{now}"
            );
        }
        // The timestamp is signed: a fresh one with the old signature is a mismatch.
        let moved = headers(&[("x-signature", TS_SHA256_HEX), ("x-timestamp", "1700000100")]);
        assert_eq!(verdict(&v, &moved, BODY, TS + 100), Err(Rejection::SignatureMismatch));
        assert_eq!(verdict(&v, &h, b"{}", TS), Err(Rejection::SignatureMismatch));
        // The body alone, without the timestamp, is not what was signed.
        let body_only = headers(&[("x-signature", SHA256_HEX), ("x-timestamp", "1700000000")]);
        assert_eq!(verdict(&v, &body_only, BODY, TS), Err(Rejection::SignatureMismatch));

        let missing = headers(&[("x-signature", TS_SHA256_HEX)]);
        assert_eq!(verdict(&v, &missing, BODY, TS), Err(Rejection::MissingTimestamp));
        for bad in ["", "17e8", "1700000000.5", "soon"] {
            let h = headers(&[("x-signature", TS_SHA256_HEX), ("x-timestamp", bad)]);
            assert_eq!(verdict(&v, &h, BODY, TS), Err(Rejection::MalformedSignature), "{bad}");
        }
    }

    #[test]
    fn a_tighter_tolerance_is_honoured() {
        let mut s = settings(&[SECRET]);
        s.hmac = Some(timestamped());
        s.tolerance = Duration::from_secs(10);
        let v = verifier(build(s).unwrap());
        let h = headers(&[("x-signature", TS_SHA256_HEX), ("x-timestamp", "1700000000")]);
        verdict(&v, &h, BODY, TS + 10).unwrap();
        assert_eq!(
            verdict(&v, &h, BODY, TS + 11),
            Err(Rejection::TimestampOutsideTolerance)
        );
    }

    #[test]
    fn a_template_with_a_signed_header() {
        let v = hmac_verifier(
            &[SECRET],
            HmacSpec {
                header: http::HeaderName::from_static("x-sig"),
                prefix: "v0=".into(),
                content: Some(vec![
                    ContentPart::Literal("v0:".into()),
                    ContentPart::Timestamp,
                    ContentPart::Literal(":".into()),
                    ContentPart::Header(http::HeaderName::from_static("x-request-id")),
                    ContentPart::Literal(":".into()),
                    ContentPart::Body,
                ]),
                timestamp_header: Some(http::HeaderName::from_static("x-ts")),
                ..spec(HmacAlgorithm::Sha256, SignatureEncoding::Base64)
            },
        );
        let sig = format!("v0={TEMPLATE_B64}");
        let h = headers(&[("x-sig", &sig), ("x-ts", "1700000000"), ("x-request-id", "req-42")]);
        verdict(&v, &h, BODY, TS).unwrap();
        let other_id = headers(&[("x-sig", &sig), ("x-ts", "1700000000"), ("x-request-id", "req-43")]);
        assert_eq!(verdict(&v, &other_id, BODY, TS), Err(Rejection::SignatureMismatch));
        let no_id = headers(&[("x-sig", &sig), ("x-ts", "1700000000")]);
        assert_eq!(verdict(&v, &no_id, BODY, TS), Err(Rejection::MalformedSignature));
    }

    #[test]
    fn config_errors_name_the_key() {
        let build_with = |hmac: Option<HmacSpec>| {
            let mut s = settings(&[SECRET]);
            s.hmac = hmac;
            build(s).map(|_| ()).unwrap_err().key
        };
        assert_eq!(build_with(None), "route[0].hmac");
        // A timestamp outside the signature stops no replay.
        let unsigned_timestamp = HmacSpec {
            timestamp_header: Some(http::HeaderName::from_static("x-timestamp")),
            ..spec(HmacAlgorithm::Sha256, SignatureEncoding::Hex)
        };
        assert_eq!(build_with(Some(unsigned_timestamp)), "route[0].hmac.timestamp_header");
        let no_timestamp_header = HmacSpec {
            timestamp_header: None,
            ..timestamped()
        };
        assert_eq!(build_with(Some(no_timestamp_header)), "route[0].hmac.timestamp_header");
        let no_body = HmacSpec {
            content: Some(vec![ContentPart::Timestamp]),
            ..timestamped()
        };
        assert_eq!(build_with(Some(no_body)), "route[0].hmac.content");
    }
}
