//! Sending result callbacks: a route with `callback = { url, secret }` has the worker POST each
//! job's outcome to `url` once the target has answered for good (success, or a permanent failure
//! that is being dead-lettered). The body and its Standard Webhooks signature are a wire format
//! ([`crate::wire::callback`]); this is the sending.
//!
//! A callback that cannot be sent at once becomes a follow-up job (an envelope with source
//! `callback`, see [`crate::wire::envelope::Envelope::for_callback`]) retried like any job, without calling the target
//! again. [`CallbackSender`] is the port the worker depends on, [`Callbacks`] its HTTP adapter and
//! `memory::MemoryCallbacks` (feature `test-util`) the in-memory one of unit tests.

use std::{collections::HashMap, future::Future, time::Duration};

use http::{header, HeaderValue};
#[cfg(any(test, feature = "test-util"))]
use serde_json::Value;

use crate::{
    config::{Config, ConfigError},
    delivery::call::{transport_error, CallError},
    foundation::secret::SecretResolver,
    wire::callback::{SigningKey, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP},
};

/// The longest one callback request may take.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Where the worker sends callbacks. Errors are classified like a target's ([`crate::delivery::retry`]).
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
                .ok_or_else(|| ConfigError::new(&key, crate::inbound::verify::whsec::EXPECTED))?;
            endpoints.insert(
                route.path.clone(),
                Endpoint {
                    url: spec.url.clone(),
                    key: signing_key,
                },
            );
        }
        let http = crate::foundation::tls::http_client_builder()?
            .timeout(CALLBACK_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A redirect would resend (or turn into a GET) a signed request elsewhere: a 3xx is a
            // permanent failure instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::new("route.callback", format!("cannot build the HTTP client: {e}")))?;
        Ok(Callbacks { http, endpoints })
    }

    /// Whether no route has a callback.
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
            .header(WEBHOOK_ID, webhook_id)
            .header(WEBHOOK_TIMESTAMP, timestamp.to_string())
            .header(WEBHOOK_SIGNATURE, signature)
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
            retry_after: crate::delivery::retry_after::RetryAfter::from_headers(response.headers()),
        })
    }
}

/// An in-memory sender for the worker's unit tests.
#[cfg(any(test, feature = "test-util"))]
pub mod memory {
    use std::{collections::VecDeque, sync::Mutex};

    use super::*;

    /// One attempt to send a callback.
    #[derive(Debug, Clone, PartialEq)]
    pub struct SentCallback {
        /// The route whose callback it was.
        pub route: String,
        /// The message id (`webhook-id`).
        pub id: String,
        /// The body sent, parsed (`null` if it was not JSON).
        pub body: Value,
        /// Whether this attempt succeeded.
        pub ok: bool,
    }

    /// Callbacks recorded instead of sent, answered from a script.
    #[derive(Debug, Default)]
    pub struct MemoryCallbacks {
        routes: Vec<String>,
        /// Every attempt, in order.
        pub attempts: Mutex<Vec<SentCallback>>,
        /// Answers of the next attempts, in order; then `Ok(200)`.
        pub script: Mutex<VecDeque<Result<u16, CallError>>>,
    }

    impl MemoryCallbacks {
        /// Callbacks for the routes `routes` (the others have none).
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

        /// Every attempt so far.
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
    use super::*;

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
