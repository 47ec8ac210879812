//! Result delivery: a route with `callback = { url, secret }` has the worker POST each job's
//! outcome to `url` once the target has answered for good (success, or a permanent failure that
//! is being dead-lettered), signed per the Standard Webhooks spec with the route's signing secret
//! (base64, `whsec_` prefix optional, read exactly as the `standard-webhooks` scheme reads it):
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
//! A callback that cannot be sent at once becomes a follow-up job (an [`Envelope`] with source
//! `callback`, see [`Envelope::for_callback`]) retried like any job, without calling the target
//! again. [`CallbackSender`] is the port the worker depends on, [`Callbacks`] its HTTP adapter and
//! [`memory::MemoryCallbacks`] the in-memory one of unit tests.

use std::{collections::HashMap, future::Future, time::Duration};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use hmac::{KeyInit, Mac};
use http::{header, HeaderValue};
use serde_json::{json, Value};

use crate::{
    algorithm::{transport_error, CallError, Delivered},
    config::{Config, ConfigError},
    envelope::Envelope,
    secret::{Secret, SecretResolver},
};

/// The longest one callback request may take.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);
/// The target name of follow-up callback jobs (informational: they never go to a target).
pub const CALLBACK_TARGET: &str = "callback";

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
        crate::verify::whsec::signing_key(secret).map(SigningKey)
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
    /// The target's answer.
    Succeeded(&'a Delivered),
    /// A permanent failure (the job is being dead-lettered): why, and the target's status if it
    /// answered.
    Failed { message: &'a str, status: Option<u16> },
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
        Outcome::Succeeded(delivered) => {
            body["status"] = "succeeded".into();
            body["result"] = delivered.result.clone();
            if !delivered.metadata.is_null() {
                body["metadata"] = delivered.metadata.clone();
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

/// A failed callback in words: [`CallError`]'s own text speaks of the algorithm.
pub fn describe(error: &CallError) -> String {
    match error {
        CallError::Transport(e) => format!("could not reach the callback URL: {e}"),
        CallError::Timeout => "callback timed out".to_owned(),
        CallError::Status { status, message, .. } => format!("callback URL answered {status}: {message}"),
        CallError::InvalidResponse { status } => format!("callback URL answered {status} with an unreadable body"),
        CallError::Algorithm(e) | CallError::BadJob(e) => format!("callback cannot be sent: {e}"),
    }
}

/// Where the worker sends callbacks. Errors are classified like a target's ([`crate::retry`]).
pub trait CallbackSender: Send + Sync {
    /// Whether jobs of `route` report their outcome.
    fn has_callback(&self, route: &str) -> bool;

    /// POSTs `body` to `route`'s callback URL, signed, as message `id`; the answer's status.
    fn send(&self, route: &str, id: &str, body: &[u8]) -> impl Future<Output = Result<u16, CallError>> + Send;
}

/// The callback of every route that has one, keys decoded once at cold start.
pub struct Callbacks {
    http: reqwest::Client,
    /// By route path (the envelope's `route`).
    endpoints: HashMap<String, Endpoint>,
}

struct Endpoint {
    url: reqwest::Url,
    key: SigningKey,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Routes only: a URL may carry a token in its query, and keys are secret.
        f.debug_struct("Callbacks")
            .field("routes", &self.endpoints.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Callbacks {
    /// Resolves and checks each route's callback secret (errors name `route[N].callback.secret`).
    pub async fn from_config(config: &Config, resolver: &SecretResolver) -> Result<Callbacks, ConfigError> {
        let mut endpoints = HashMap::new();
        for route in &config.routes {
            let Some(spec) = &route.callback else { continue };
            let key = route.key("callback.secret");
            let secret = resolver.resolve(&key, &spec.secret).await?;
            let signing_key = SigningKey::from_whsec(&secret)
                .ok_or_else(|| ConfigError::new(&key, crate::verify::whsec::EXPECTED))?;
            endpoints.insert(
                route.path.clone(),
                Endpoint {
                    url: spec.url.clone(),
                    key: signing_key,
                },
            );
        }
        let http = crate::tls::http_client_builder()?
            .timeout(CALLBACK_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A redirect would resend (or turn into a GET) a signed request elsewhere: a 3xx is a
            // permanent failure instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::new("route.callback", format!("cannot build the HTTP client: {e}")))?;
        Ok(Callbacks { http, endpoints })
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }
}

impl CallbackSender for Callbacks {
    fn has_callback(&self, route: &str) -> bool {
        self.endpoints.contains_key(route)
    }

    async fn send(&self, route: &str, id: &str, body: &[u8]) -> Result<u16, CallError> {
        let endpoint = self
            .endpoints
            .get(route)
            .ok_or_else(|| CallError::BadJob(format!("route `{route}` has no callback")))?;
        let webhook_id = HeaderValue::from_str(id)
            .map_err(|_| CallError::BadJob("the job id is not a valid header value".into()))?;
        let timestamp = chrono::Utc::now().timestamp();
        let signature = endpoint.key.sign(id, timestamp, body);
        let response = self
            .http
            .post(endpoint.url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        Err(CallError::Status {
            status: status.as_u16(),
            message: status.canonical_reason().unwrap_or("error").to_owned(),
            retry_after: crate::retry::RetryAfter::from_headers(response.headers()),
        })
    }
}

/// An in-memory sender for the worker's unit tests.
pub mod memory {
    use std::{collections::VecDeque, sync::Mutex};

    use super::*;

    /// One attempt to send a callback.
    #[derive(Debug, Clone, PartialEq)]
    pub struct SentCallback {
        pub route: String,
        pub id: String,
        pub body: Value,
        /// Whether this attempt succeeded.
        pub ok: bool,
    }

    #[derive(Debug, Default)]
    pub struct MemoryCallbacks {
        routes: Vec<String>,
        /// Every attempt, in order.
        pub attempts: Mutex<Vec<SentCallback>>,
        /// Answers of the next attempts, in order; then `Ok(200)`.
        pub script: Mutex<VecDeque<Result<u16, CallError>>>,
    }

    impl MemoryCallbacks {
        pub fn for_routes(routes: &[&str]) -> Self {
            MemoryCallbacks {
                routes: routes.iter().map(|r| (*r).to_owned()).collect(),
                ..Default::default()
            }
        }

        /// The next attempt answers `answer`.
        pub fn then(&self, answer: Result<u16, CallError>) {
            self.script.lock().unwrap().push_back(answer);
        }

        pub fn attempts(&self) -> Vec<SentCallback> {
            self.attempts.lock().unwrap().clone()
        }

        /// The callbacks that were delivered.
        pub fn delivered(&self) -> Vec<SentCallback> {
            self.attempts().into_iter().filter(|a| a.ok).collect()
        }
    }

    impl CallbackSender for MemoryCallbacks {
        fn has_callback(&self, route: &str) -> bool {
            self.routes.iter().any(|r| r == route)
        }

        async fn send(&self, route: &str, id: &str, body: &[u8]) -> Result<u16, CallError> {
            if !self.has_callback(route) {
                return Err(CallError::BadJob(format!("route `{route}` has no callback")));
            }
            let answer = self.script.lock().unwrap().pop_front().unwrap_or(Ok(200));
            self.attempts.lock().unwrap().push(SentCallback {
                route: route.to_owned(),
                id: id.to_owned(),
                body: serde_json::from_slice(body).unwrap_or(Value::Null),
                ok: answer.is_ok(),
            });
            answer
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{
        config::{AlgorithmOptions, AlgorithmPath, TargetRef, DOWNSTREAM},
        envelope::{Payload, Source},
    };

    fn key(text: &str) -> SigningKey {
        SigningKey::from_whsec(&Secret::new(text)).unwrap()
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
    fn success_bodies_carry_the_result() {
        let delivered = Delivered {
            status: 200,
            result: json!("Hello world"),
            metadata: json!({"content_type": "text"}),
        };
        let body: Value = serde_json::from_slice(&body(&job(), &Outcome::Succeeded(&delivered))).unwrap();
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
        let bare = Delivered {
            metadata: Value::Null,
            ..delivered
        };
        let body: Value = serde_json::from_slice(&super::body(&job(), &Outcome::Succeeded(&bare))).unwrap();
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

    #[test]
    fn failures_are_described_as_the_callbacks() {
        let status = CallError::Status {
            status: 503,
            message: "Service Unavailable".into(),
            retry_after: None,
        };
        assert_eq!(describe(&status), "callback URL answered 503: Service Unavailable");
        assert_eq!(describe(&CallError::Timeout), "callback timed out");
        assert!(describe(&CallError::Transport("refused".into())).contains("could not reach the callback URL"));
    }

    #[tokio::test]
    async fn callback_secrets_are_checked_at_cold_start() {
        let config = |secret: &str| {
            Config::from_toml(&format!(
                r#"
[[route]]
path = "/hooks/a"
verify = "none"
algorithm = "demo/Hello"

[[route]]
path = "/hooks/b"
verify = "none"
algorithm = "demo/Hello"
callback = {{ url = "https://results.example.test/in", secret = "{secret}" }}
"#
            ))
            .unwrap()
        };
        let resolver = SecretResolver::new(None);
        std::env::set_var("HOOKRELAY_TEST_CALLBACK_GOOD", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        std::env::set_var("HOOKRELAY_TEST_CALLBACK_BAD", "not-a-whsec-secret");
        let callbacks = Callbacks::from_config(&config("env:HOOKRELAY_TEST_CALLBACK_GOOD"), &resolver)
            .await
            .unwrap();
        assert!(callbacks.has_callback("/hooks/b") && !callbacks.has_callback("/hooks/a"));
        assert!(!format!("{callbacks:?}").contains("MfKQ"));
        for (reference, reason) in [
            ("env:HOOKRELAY_TEST_CALLBACK_BAD", "base64 signing key"),
            ("env:HOOKRELAY_TEST_CALLBACK_UNSET", "not set"),
        ] {
            let e = Callbacks::from_config(&config(reference), &resolver).await.unwrap_err();
            assert_eq!(e.key, "route[1].callback.secret");
            assert!(e.reason.contains(reason), "{}", e.reason);
            assert!(!e.to_string().contains("not-a-whsec-secret"), "{e}");
        }
    }
}
