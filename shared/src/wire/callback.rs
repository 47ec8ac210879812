//! The result callback's wire format: the JSON body reporting a job's outcome, and its Standard
//! Webhooks signature (`docs/wire-formats.md`, "Result callbacks"). The secret is read exactly as
//! the `standard-webhooks` scheme reads it (base64, `whsec_` prefix optional):
//!
//! ```text
//! POST <url>
//! content-type: application/json
//! webhook-id: <job id>                 (the same for every attempt: receivers de-duplicate by it)
//! webhook-timestamp: <unix seconds>
//! webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>
//!
//! {"id": .., "route": .., "delivery_id": .., "status": "succeeded", "result": .., "metadata": ..}
//! {"id": .., "route": .., "delivery_id": .., "status": "failed", "error": {"message": .., "status": ..}}
//! ```
//!
//! Sending is [`crate::delivery::callback`]'s part.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use hmac::{KeyInit, Mac};
use serde_json::{json, Value};

use crate::{foundation::secret::Secret, wire::envelope::Envelope};

/// The message id header: the job id, the same on every attempt.
pub const WEBHOOK_ID: &str = "webhook-id";
/// The signing time header, in Unix seconds.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// The signature header: `v1,<base64 HMAC-SHA256>`.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// A Standard Webhooks signing key: the base64-decoded secret (`whsec_` prefix optional).
#[derive(Clone)]
pub struct SigningKey(Secret);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// `None` unless the secret is non-empty standard base64, `whsec_` prefix optional: the
    /// forms every Standard Webhooks library takes, so the receiver can verify with any of them.
    pub fn from_whsec(secret: &Secret) -> Option<SigningKey> {
        crate::inbound::verify::whsec::signing_key(secret).map(SigningKey)
    }

    /// The `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(self.0.expose()).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// What a callback reports.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    /// The target's answer: its result and metadata (`null`: none).
    Succeeded {
        /// The answer's `result`.
        result: &'a Value,
        /// The answer's `metadata`, left out of the body when `null`.
        metadata: &'a Value,
    },
    /// A permanent failure (the job is being dead-lettered): why, and the target's status if it
    /// answered.
    Failed {
        /// Why, in words safe to send.
        message: &'a str,
        /// The target's HTTP status, if it answered.
        status: Option<u16>,
    },
}

/// The callback body (JSON) of `job`'s outcome. Carries no payload of the job, only its
/// identifiers and the outcome.
pub fn body(job: &Envelope, outcome: &Outcome<'_>) -> Vec<u8> {
    let mut body = json!({
        "id": job.id,
        "route": job.route,
        "delivery_id": job.delivery_id,
    });
    match outcome {
        Outcome::Succeeded { result, metadata } => {
            body["status"] = "succeeded".into();
            body["result"] = (*result).clone();
            if !metadata.is_null() {
                body["metadata"] = (*metadata).clone();
            }
        }
        Outcome::Failed { message, status } => {
            body["status"] = "failed".into();
            let mut error = json!({ "message": message });
            if let Some(status) = status {
                error["status"] = (*status).into();
            }
            body["error"] = error;
        }
    }
    serde_json::to_vec(&body).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{
        config::{AlgorithmOptions, AlgorithmPath, TargetRef, DOWNSTREAM},
        wire::envelope::{Payload, Source},
    };

    fn key(text: &str) -> SigningKey {
        SigningKey::from_whsec(&Secret::new(text)).unwrap()
    }

    fn job() -> Envelope {
        Envelope {
            v: 1,
            id: "job-1".into(),
            source: Source::Webhook,
            route: "/hooks/x".into(),
            received_at: Utc::now(),
            delivery_id: Some("d-1".into()),
            content_type: Some("application/json".into()),
            target: (&TargetRef {
                name: DOWNSTREAM.into(),
                algorithm: Some(AlgorithmPath::parse("k", "demo/Hello/0.1.0").unwrap()),
                options: AlgorithmOptions::default(),
            })
                .into(),
            payload: Payload::Text(r#"{"secret-ish":"payload"}"#.into()),
            s3: None,
        }
    }

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        // The spec's published example (standard-webhooks/standard-webhooks, libraries' tests).
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(
            key.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn signatures_cover_id_timestamp_and_body() {
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let base = key.sign("msg_1", 1614265330, b"{}");
        assert_ne!(key.sign("msg_2", 1614265330, b"{}"), base);
        assert_ne!(key.sign("msg_1", 1614265331, b"{}"), base);
        assert_ne!(key.sign("msg_1", 1614265330, b"{ }"), base);
    }

    #[test]
    fn the_whsec_prefix_is_optional() {
        // As the Standard Webhooks libraries a receiver verifies with take the secret.
        let vector = (
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#.as_slice(),
        );
        for secret in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        ] {
            assert_eq!(
                key(secret).sign(vector.0, vector.1, vector.2),
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
                "{secret:?}"
            );
        }
    }

    #[test]
    fn only_base64_secrets_are_keys() {
        for bad in ["", "whsec_", "whsec_not base64!", "not-a-whsec-secret", "whpk_AAAA"] {
            assert!(SigningKey::from_whsec(&Secret::new(bad)).is_none(), "{bad:?}");
        }
        assert!(SigningKey::from_whsec(&Secret::new(b"whsec_\xff".to_vec())).is_none());
        let debug = format!("{:?}", key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assert_eq!(debug, "SigningKey(<redacted>)");
    }

    #[test]
    fn success_bodies_carry_the_result() {
        let (result, metadata) = (json!("Hello world"), json!({"content_type": "text"}));
        let outcome = Outcome::Succeeded {
            result: &result,
            metadata: &metadata,
        };
        let body: Value = serde_json::from_slice(&body(&job(), &outcome)).unwrap();
        assert_eq!(
            body,
            json!({
                "id": "job-1",
                "route": "/hooks/x",
                "delivery_id": "d-1",
                "status": "succeeded",
                "result": "Hello world",
                "metadata": {"content_type": "text"},
            })
        );
        let bare = Outcome::Succeeded {
            result: &result,
            metadata: &Value::Null,
        };
        let body: Value = serde_json::from_slice(&super::body(&job(), &bare)).unwrap();
        assert!(body.get("metadata").is_none() && body.get("error").is_none(), "{body}");
    }

    #[test]
    fn failure_bodies_carry_the_reason_and_never_the_payload() {
        let mut no_delivery = job();
        no_delivery.delivery_id = None;
        let outcome = Outcome::Failed {
            message: "algorithm API answered 400: bad input",
            status: Some(400),
        };
        let raw = body(&no_delivery, &outcome);
        let body: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(
            body,
            json!({
                "id": "job-1",
                "route": "/hooks/x",
                "delivery_id": null,
                "status": "failed",
                "error": {"message": "algorithm API answered 400: bad input", "status": 400},
            })
        );
        assert!(!String::from_utf8(raw).unwrap().contains("secret-ish"));
        let no_status = Outcome::Failed {
            message: "nope",
            status: None,
        };
        let body: Value = serde_json::from_slice(&super::body(&job(), &no_status)).unwrap();
        assert_eq!(body["error"], json!({"message": "nope"}));
    }
}
