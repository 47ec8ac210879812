//! Meta (Facebook, Instagram, WhatsApp Cloud API), per "Webhooks — Getting Started":
//!
//! - the subscription handshake is a GET with `hub.mode=subscribe`, `hub.verify_token` (the token
//!   typed into the App Dashboard) and `hub.challenge`, answered with the challenge as text;
//! - event notifications are POSTs signed like GitHub's: `X-Hub-Signature-256: sha256=<hex
//!   HMAC-SHA256(app secret, raw body)>`. Meta sends no delivery id (an entry's id and time name
//!   the object and the change, not the delivery), so none is recorded.
//!
//! The challenge is only echoed to a request that knows the verify token, and a POST is never
//! answered with it.

use std::time::SystemTime;

use http::Method;
use sha2::{Digest, Sha256};

use super::{github::HubSignature, support::ct_eq, Matched, Rejection, Reply, Scheme, SchemeSettings, WebhookRequest};
use crate::config::ConfigError;

/// Meta's challenges are integers; anything longer than this is not one of them.
const MAX_CHALLENGE_LEN: usize = 1024;

pub(super) fn build(settings: SchemeSettings) -> Result<Box<dyn Scheme>, ConfigError> {
    let verify_token = settings.verify_token.as_ref().ok_or_else(|| {
        ConfigError::new(
            settings.key("verify_token"),
            "verify = \"meta\" needs the subscription verify token",
        )
    })?;
    let verify_token_digest = Sha256::digest(verify_token.expose()).into();
    Ok(Box::new(Meta {
        signature: HubSignature {
            secrets: settings.secrets,
            delivery_header: None,
        },
        verify_token_digest,
    }))
}

struct Meta {
    signature: HubSignature,
    /// A digest, so the comparison is constant time whatever the lengths involved.
    verify_token_digest: [u8; 32],
}

impl Scheme for Meta {
    fn check(&self, request: &WebhookRequest<'_>, _now: SystemTime) -> Result<Matched, Rejection> {
        self.signature.check_signature(request)
    }

    fn other_method(&self, request: &WebhookRequest<'_>) -> Result<Reply, Rejection> {
        if request.method != Method::GET {
            return Err(Rejection::MethodNotAllowed);
        }
        let handshake = Handshake::parse(request.query.unwrap_or("")).ok_or(Rejection::VerifyTokenMismatch)?;
        let presented: [u8; 32] = Sha256::digest(&handshake.verify_token).into();
        let token_matches = ct_eq(&presented, &self.verify_token_digest);
        if !token_matches || handshake.mode != b"subscribe" {
            return Err(Rejection::VerifyTokenMismatch);
        }
        Ok(Reply::text(handshake.challenge))
    }
}

/// The three `hub.*` parameters of a subscription handshake, each present exactly once.
struct Handshake {
    mode: Vec<u8>,
    verify_token: Vec<u8>,
    challenge: String,
}

impl Handshake {
    fn parse(query: &str) -> Option<Handshake> {
        let (mut mode, mut verify_token, mut challenge) = (None, None, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match form_decode_bytes(name).as_slice() {
                b"hub.mode" => &mut mode,
                b"hub.verify_token" => &mut verify_token,
                b"hub.challenge" => &mut challenge,
                _ => continue,
            };
            // A repeated parameter is ambiguous: refuse rather than pick one.
            if slot.replace(form_decode_bytes(value)).is_some() {
                return None;
            }
        }
        let challenge = String::from_utf8(challenge?).ok()?;
        if challenge.is_empty() || challenge.len() > MAX_CHALLENGE_LEN {
            return None;
        }
        Some(Handshake {
            mode: mode?,
            verify_token: verify_token?,
            challenge,
        })
    }
}

/// `application/x-www-form-urlencoded` decoding to bytes (`+` is a space, then percent-escapes),
/// so the token is compared exactly as sent, with no lossy UTF-8 step.
fn form_decode_bytes(text: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        foundation::secret::Secret,
        inbound::verify::{testing::*, Decision, SystemClock, Verifier},
    };

    // The sample values of Meta's "Sample Verification Request".
    const VERIFY_TOKEN: &str = "meatyhamhock";
    const CHALLENGE: &str = "1158201444";

    // Computed independently: hex(HMAC-SHA256(app secret, BODY)) with Python's hmac module.
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[]}]}"#;
    const OLD: &str = "app-secret-old";
    const OLD_SIG: &str = "sha256=0c85e645e3e650d2579ee2b2ea6371ac2ee31d8b1afa7c38fbf05376441c777d";
    const NEW: &str = "app-secret-new";
    const NEW_SIG: &str = "sha256=93fcae50ad616dd388b77a8f37168ccafe8fe63f21385cc112b6f2289fd09b4e";

    fn meta(secrets: &[&str]) -> Verifier {
        let mut s = settings(secrets);
        s.verify_token = Some(Secret::new(VERIFY_TOKEN));
        verifier(build(s).unwrap())
    }

    fn request<'a>(method: &'a Method, h: &'a http::HeaderMap, query: &'a str, body: &'a [u8]) -> WebhookRequest<'a> {
        WebhookRequest {
            method,
            headers: h,
            query: Some(query),
            body,
        }
    }

    fn handshake(query: &str) -> Result<Reply, Rejection> {
        let h = headers(&[]);
        match meta(&[OLD]).verify(request(&Method::GET, &h, query, b""), &SystemClock)? {
            Decision::Reply(reply) => Ok(reply),
            other => panic!("a GET was not answered as a handshake: {other:?}"),
        }
    }

    fn refused(v: &Verifier, h: &http::HeaderMap, body: &[u8]) -> Rejection {
        delivered(v.verify(post(h, body), &SystemClock))
            .map(|_| ())
            .unwrap_err()
    }

    #[test]
    fn answers_metas_sample_verification_request() {
        let reply = handshake("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock").unwrap();
        assert_eq!(reply, Reply::text(CHALLENGE));
        assert_eq!((reply.status, reply.content_type), (200, "text/plain"));
    }

    #[test]
    fn handshake_parameters_are_form_decoded_in_any_order() {
        assert_eq!(
            handshake("hub.verify_token=meaty%68amhock&other=1&hub%2Echallenge=a+b%21&hub.mode=subscribe"),
            Ok(Reply::text("a b!"))
        );
        let mut s = settings(&[OLD]);
        s.verify_token = Some(Secret::new("tok en&="));
        let v = verifier(build(s).unwrap());
        let h = headers(&[]);
        let query = "hub.mode=subscribe&hub.verify_token=tok+en%26%3D&hub.challenge=7";
        match v.verify(request(&Method::GET, &h, query, b""), &SystemClock).unwrap() {
            Decision::Reply(reply) => assert_eq!(reply, Reply::text("7")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn handshake_refuses_a_wrong_or_missing_token_mode_or_challenge() {
        for query in [
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhocks",
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhoc",
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=MEATYHAMHOCK",
            "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=",
            "hub.mode=subscribe&hub.challenge=1158201444",
            "hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
            "hub.mode=Subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
            "hub.challenge=1158201444&hub.verify_token=meatyhamhock",
            "hub.mode=subscribe&hub.verify_token=meatyhamhock",
            "hub.mode=subscribe&hub.challenge=&hub.verify_token=meatyhamhock",
            "hub_mode=subscribe&hub_challenge=1158201444&hub_verify_token=meatyhamhock",
            "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong&hub.verify_token=meatyhamhock",
            "hub.mode=subscribe&hub.challenge=1&hub.challenge=2&hub.verify_token=meatyhamhock",
            "hub.mode=subscribe&hub.challenge=%FF&hub.verify_token=meatyhamhock",
            "",
        ] {
            assert_eq!(handshake(query), Err(Rejection::VerifyTokenMismatch), "{query}");
        }
        let long = format!(
            "hub.mode=subscribe&hub.verify_token=meatyhamhock&hub.challenge={}",
            "1".repeat(MAX_CHALLENGE_LEN + 1)
        );
        assert_eq!(handshake(&long), Err(Rejection::VerifyTokenMismatch));
        assert_eq!(Rejection::VerifyTokenMismatch.status(), 403);

        let h = headers(&[]);
        let no_query = WebhookRequest {
            method: &Method::GET,
            headers: &h,
            query: None,
            body: b"",
        };
        assert_eq!(
            meta(&[OLD]).verify(no_query, &SystemClock).unwrap_err(),
            Rejection::VerifyTokenMismatch
        );
    }

    #[test]
    fn other_methods_are_not_handshakes() {
        let h = headers(&[]);
        let query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock";
        for method in [Method::PUT, Method::DELETE, Method::HEAD] {
            assert_eq!(
                meta(&[OLD])
                    .verify(request(&method, &h, query, b""), &SystemClock)
                    .unwrap_err(),
                Rejection::MethodNotAllowed
            );
        }
    }

    #[test]
    fn a_post_is_never_answered_with_the_challenge() {
        let query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock";
        let unsigned = headers(&[]);
        assert_eq!(
            delivered(meta(&[OLD]).verify(request(&Method::POST, &unsigned, query, BODY), &SystemClock)).unwrap_err(),
            Rejection::MissingSignature
        );
        // Even a correctly signed POST carrying the handshake parameters is a delivery.
        let signed = headers(&[("x-hub-signature-256", OLD_SIG)]);
        let v = delivered(meta(&[OLD]).verify(request(&Method::POST, &signed, query, BODY), &SystemClock)).unwrap();
        assert_eq!(v.body(), BODY);
    }

    #[test]
    fn accepts_a_signed_notification_without_a_delivery_id() {
        let h = headers(&[("X-Hub-Signature-256", OLD_SIG), ("X-GitHub-Delivery", "not-meta")]);
        let v = delivered(meta(&[OLD]).verify(post(&h, BODY), &SystemClock)).unwrap();
        assert_eq!(v.delivery_id(), None);
    }

    #[test]
    fn rejects_tampering_wrong_secret_and_bad_headers() {
        let signed = headers(&[("x-hub-signature-256", OLD_SIG)]);
        let tampered = br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340399","changes":[]}]}"#;
        assert_eq!(refused(&meta(&[OLD]), &signed, tampered), Rejection::SignatureMismatch);
        assert_eq!(refused(&meta(&["other"]), &signed, BODY), Rejection::SignatureMismatch);
        // The verify token is not the signing key.
        assert_eq!(
            refused(&meta(&[VERIFY_TOKEN]), &signed, BODY),
            Rejection::SignatureMismatch
        );
        assert_eq!(refused(&meta(&[OLD]), &headers(&[]), BODY), Rejection::MissingSignature);
        // The legacy SHA-1 header alone is not enough.
        let sha1_only = headers(&[("x-hub-signature", "sha1=0123456789abcdef0123456789abcdef01234567")]);
        assert_eq!(refused(&meta(&[OLD]), &sha1_only, BODY), Rejection::MissingSignature);
        for bad in [
            &OLD_SIG[7..],
            "sha1=0c85e645e3e650d2579ee2b2ea6371ac2ee31d8b1afa7c38fbf05376441c777d",
            "sha256=0c85",
            "sha256=",
            "sha256=zz85e645e3e650d2579ee2b2ea6371ac2ee31d8b1afa7c38fbf05376441c777d",
        ] {
            let h = headers(&[("x-hub-signature-256", bad)]);
            assert_eq!(refused(&meta(&[OLD]), &h, BODY), Rejection::MalformedSignature, "{bad}");
        }
    }

    #[test]
    fn rotation_accepts_either_app_secret() {
        for sig in [OLD_SIG, NEW_SIG] {
            let h = headers(&[("x-hub-signature-256", sig)]);
            for secrets in [[OLD, NEW], [NEW, OLD]] {
                delivered(meta(&secrets).verify(post(&h, BODY), &SystemClock)).unwrap();
            }
        }
    }

    #[test]
    fn a_missing_verify_token_is_a_config_error() {
        let e = build(settings(&[OLD])).map(|_| ()).unwrap_err();
        assert_eq!(e.key, "route[0].verify_token");
    }
}
