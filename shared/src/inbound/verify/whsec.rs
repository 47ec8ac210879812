//! The Standard Webhooks signing secret: base64 of the HMAC key, conventionally shown with a
//! `whsec_` prefix. Read the way the reference libraries read it (standard-webhooks'
//! `Webhook(secret)` in Python, Rust, Go, JavaScript...): the prefix is optional and the rest is
//! base64-decoded. Shared by the `standard-webhooks` scheme (checking) and callbacks (signing),
//! so one secret means one key on both sides.

use base64::{
    alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};

use crate::foundation::secret::Secret;

const PREFIX: &str = "whsec_";

/// What a secret must look like, for config errors (never quoting the value).
pub(crate) const EXPECTED: &str = "expected the base64 signing key, with or without its `whsec_` prefix";

/// The standard alphabet (`+/`), padding optional and unused trailing bits ignored: what the
/// Python library accepts (it pads the text itself; `test_signature_verification_with_unpadded_secret`)
/// and Go's decoder ignores. Characters outside the alphabet (the URL-safe `-_`, spaces inside)
/// are refused: only Python's lenient decoder would skip them, into another key.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The HMAC key a secret encodes: `None` unless it is non-empty base64, `whsec_` prefix optional.
/// Whitespace around the value (a newline stored with it) is not part of it.
pub(crate) fn signing_key(secret: &Secret) -> Option<Secret> {
    let text = std::str::from_utf8(secret.expose()).ok()?.trim();
    let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
    let key = BASE64.decode(encoded).ok()?;
    (!key.is_empty()).then(|| Secret::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> Option<Vec<u8>> {
        signing_key(&Secret::new(text)).map(|k| k.expose().to_vec())
    }

    #[test]
    fn the_prefix_is_optional() {
        // The secret of standard-webhooks' Python tests (`DEFAULT_SECRET`), bare and prefixed
        // (`test_signature_verification_with_and_without_prefix`).
        let bare = key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(bare.len(), 24);
        assert_eq!(key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(), bare);
        assert_eq!(key(" whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").unwrap(), bare);
    }

    #[test]
    fn padding_is_optional_as_in_the_python_library() {
        // `test_signature_verification_with_unpadded_secret`: one and two `=` missing (the
        // library pads them, and its decoder ignores the unused trailing bits these leave).
        for (unpadded, padded) in [
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS="),
            (
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr",
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwBr==",
            ),
        ] {
            let want = key(padded).unwrap();
            assert_eq!(key(unpadded).unwrap(), want, "{unpadded}");
            assert_eq!(key(&format!("whsec_{unpadded}")).unwrap(), want, "{unpadded}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "whsec_",
            "   ",
            "whsec_not base64!",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS-", // URL-safe alphabet
            "whsec_whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwB", // a length no base64 has
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw===",
        ] {
            assert_eq!(key(bad), None, "{bad:?}");
        }
        assert!(signing_key(&Secret::new(b"whsec_\xff\xfe".to_vec())).is_none());
    }
}
