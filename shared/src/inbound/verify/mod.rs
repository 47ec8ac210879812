//! Webhook verification: one strategy per scheme, chosen by config, over (headers, raw body, clock).
//!
//! [`Verifier::verify`] is the only way to obtain a [`Verified`] request, and only a `Verified`
//! request can become a webhook envelope, so skipping verification does not compile. Setup
//! handshakes are answered here too ([`Decision::Reply`]); an answer derived from a secret is only
//! ever given to a request that passed the scheme's signature check, so the endpoint is never a
//! signing oracle.

mod basic;
mod cal;
mod challenge;
mod generic_hmac;
mod github;
mod meta;
mod shopify;
mod slack;
mod standard_webhooks;
mod stripe;
mod support;
mod token;
mod twilio;
pub(crate) mod whsec;
mod zoom;

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};

use crate::{
    config::{Challenge, ConfigError, HmacSpec, Route, SchemeKind},
    foundation::secret::{Secret, SecretRef, SecretResolver},
};

/// The parts of an HTTP request that verification may look at. `body` is the raw bytes as sent.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The request headers, as received.
    pub headers: &'a HeaderMap,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// The body, byte for byte as the sender signed it.
    pub body: &'a [u8],
}

/// Why a request was refused. The text is safe to return to the caller: it never carries the
/// expected signature or anything derived from a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The scheme's signature header is absent.
    #[error("missing signature")]
    MissingSignature,
    /// A signature is present but cannot be read (bad encoding, no usable entry).
    #[error("malformed signature")]
    MalformedSignature,
    /// No signature matches any of the route's secrets.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The scheme signs a timestamp and none was sent.
    #[error("missing timestamp")]
    MissingTimestamp,
    /// The signed timestamp is further from now than the route's tolerance (a replay).
    #[error("timestamp outside tolerance")]
    TimestampOutsideTolerance,
    /// A handshake's verify token is not the configured one (403).
    #[error("verify token mismatch")]
    VerifyTokenMismatch,
    /// The scheme does not take this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl Rejection {
    /// The HTTP status to answer with.
    pub fn status(self) -> u16 {
        match self {
            Rejection::VerifyTokenMismatch => 403,
            Rejection::MethodNotAllowed => 405,
            _ => 401,
        }
    }
}

/// A direct answer to the sender, with nothing queued: a provider's setup handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status (200 for every handshake today).
    pub status: u16,
    /// The answer's Content-Type.
    pub content_type: &'static str,
    /// The answer's body.
    pub body: String,
}

impl Reply {
    /// A 200 `text/plain` answer.
    pub fn text(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            content_type: "text/plain",
            body: body.into(),
        }
    }

    /// A 200 `application/json` answer.
    pub fn json(value: serde_json::Value) -> Reply {
        Reply {
            status: 200,
            content_type: "application/json",
            body: value.to_string(),
        }
    }
}

/// What to do with a request that passed verification.
#[derive(Debug)]
pub enum Decision<'a> {
    /// An authentic delivery: queue it.
    Deliver(Verified<'a>),
    /// A handshake: answer it, queue nothing.
    Reply(Reply),
}

/// Wall-clock time, injectable so timestamped schemes can be tested at a pinned instant.
pub trait Clock: Send + Sync {
    /// The time now.
    fn now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Which of the configured secrets authenticated a request (for answers derived from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Matched(pub usize);

/// One verification scheme. Implementations compare in constant time and never log secrets.
pub(crate) trait Scheme: Send + Sync {
    /// Authenticates a delivery (a POST).
    fn check(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<Matched, Rejection>;

    /// The provider's id for this delivery, when it sends one.
    fn delivery_id(&self, _request: &WebhookRequest<'_>) -> Option<String> {
        None
    }

    /// After `check` passed: a setup handshake to answer instead of queueing.
    fn handshake(&self, _request: &WebhookRequest<'_>, _matched: Matched) -> Option<Reply> {
        None
    }

    /// A request with another method than POST (Meta's GET subscription handshake).
    fn other_method(&self, _request: &WebhookRequest<'_>) -> Result<Reply, Rejection> {
        Err(Rejection::MethodNotAllowed)
    }
}

/// A route's verification settings with every secret resolved: what a scheme is built from.
pub(crate) struct SchemeSettings {
    /// `route[N]`, for errors about this route's keys.
    pub route_key: String,
    pub secrets: Vec<Secret>,
    pub header: Option<http::HeaderName>,
    pub tolerance: Duration,
    pub public_keys: Vec<Secret>,
    pub verify_token: Option<Secret>,
    pub public_url: Option<reqwest::Url>,
    pub hmac: Option<HmacSpec>,
}

impl SchemeSettings {
    pub fn key(&self, field: &str) -> String {
        format!("{}.{field}", self.route_key)
    }
}

/// A request that passed its route's verification.
#[derive(Debug)]
pub struct Verified<'a> {
    request: WebhookRequest<'a>,
    delivery_id: Option<String>,
}

impl<'a> Verified<'a> {
    /// The verified body, as the sender signed it.
    pub fn body(&self) -> &'a [u8] {
        self.request.body
    }

    /// The request's headers.
    pub fn headers(&self) -> &'a HeaderMap {
        self.request.headers
    }

    /// The raw query string, without `?`.
    pub fn query(&self) -> Option<&'a str> {
        self.request.query
    }

    /// The request method.
    pub fn method(&self) -> &'a Method {
        self.request.method
    }

    /// The provider's delivery id, when its scheme sends one (the de-duplication key).
    pub fn delivery_id(&self) -> Option<&str> {
        self.delivery_id.as_deref()
    }
}

/// A route's verification strategy, built once at cold start.
pub struct Verifier {
    scheme: Box<dyn Scheme>,
    challenge: Option<Challenge>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(<secrets redacted>)")
    }
}

impl Verifier {
    /// Builds the route's scheme, resolving its secrets (each error names the route's key).
    pub async fn for_route(route: &Route, resolver: &SecretResolver) -> Result<Verifier, ConfigError> {
        let spec = &route.verify;
        let route_key = format!("route[{}]", route.index);
        let settings = SchemeSettings {
            secrets: resolve_all(&route_key, "secrets", &spec.secrets, resolver).await?,
            public_keys: resolve_all(&route_key, "public_keys", &spec.public_keys, resolver).await?,
            verify_token: match &spec.verify_token {
                Some(r) => Some(resolver.resolve(&format!("{route_key}.verify_token"), r).await?),
                None => None,
            },
            route_key,
            header: spec.header.clone(),
            tolerance: spec.tolerance,
            public_url: spec.public_url.clone(),
            hmac: spec.hmac.clone(),
        };
        let scheme: Box<dyn Scheme> = match spec.scheme {
            SchemeKind::GitHub => github::build(settings)?,
            SchemeKind::Stripe => stripe::build(settings)?,
            SchemeKind::Slack => slack::build(settings)?,
            SchemeKind::StandardWebhooks => standard_webhooks::build(settings)?,
            SchemeKind::Shopify => shopify::build(settings)?,
            SchemeKind::Meta => meta::build(settings)?,
            SchemeKind::Zoom => zoom::build(settings)?,
            SchemeKind::Twilio => twilio::build(settings)?,
            SchemeKind::Cal => cal::build(settings)?,
            SchemeKind::Hmac => generic_hmac::build(settings)?,
            SchemeKind::Token => token::build(settings)?,
            SchemeKind::Basic => basic::build(settings)?,
            SchemeKind::None => Box::new(NoVerification),
        };
        Ok(Verifier {
            scheme,
            challenge: route.challenge.clone(),
        })
    }

    /// Decides what to do with a request: deliver it, answer a handshake, or refuse it.
    pub fn verify<'a>(&self, request: WebhookRequest<'a>, clock: &dyn Clock) -> Result<Decision<'a>, Rejection> {
        if request.method != Method::POST {
            let challenge = self.challenge.as_ref().filter(|_| request.method == Method::GET);
            if let Some(reply) = challenge.and_then(|c| challenge::answer_get(c, &request)) {
                return Ok(Decision::Reply(reply));
            }
            return self.scheme.other_method(&request).map(Decision::Reply);
        }
        let matched = self.scheme.check(&request, clock.now())?;
        if let Some(reply) = self.scheme.handshake(&request, matched) {
            return Ok(Decision::Reply(reply));
        }
        if let Some(reply) = self
            .challenge
            .as_ref()
            .and_then(|c| challenge::answer_post(c, &request))
        {
            return Ok(Decision::Reply(reply));
        }
        let delivery_id = self.scheme.delivery_id(&request);
        Ok(Decision::Deliver(Verified { request, delivery_id }))
    }
}

async fn resolve_all(
    route_key: &str,
    field: &str,
    references: &[SecretRef],
    resolver: &SecretResolver,
) -> Result<Vec<Secret>, ConfigError> {
    let mut resolved = Vec::with_capacity(references.len());
    for (i, reference) in references.iter().enumerate() {
        resolved.push(
            resolver
                .resolve(&format!("{route_key}.{field}[{i}]"), reference)
                .await?,
        );
    }
    Ok(resolved)
}

/// `verify = "none"`: an explicit opt-out, warned about at cold start by the ingress.
struct NoVerification;

impl Scheme for NoVerification {
    fn check(&self, _: &WebhookRequest<'_>, _: SystemTime) -> Result<Matched, Rejection> {
        Ok(Matched(0))
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub struct FixedClock(pub SystemTime);

    impl Clock for FixedClock {
        fn now(&self) -> SystemTime {
            self.0
        }
    }

    /// A clock pinned at `secs` after the Unix epoch.
    pub fn at(secs: u64) -> FixedClock {
        FixedClock(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }

    pub fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::try_from(*name).unwrap(),
                http::HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    pub fn post<'a>(headers: &'a HeaderMap, body: &'a [u8]) -> WebhookRequest<'a> {
        WebhookRequest {
            method: &Method::POST,
            headers,
            query: None,
            body,
        }
    }

    pub fn verifier(scheme: Box<dyn Scheme>) -> Verifier {
        Verifier {
            scheme,
            challenge: None,
        }
    }

    /// Settings for building a scheme in unit tests, with literal secrets.
    pub fn settings(secrets: &[&str]) -> SchemeSettings {
        SchemeSettings {
            route_key: "route[0]".into(),
            secrets: secrets.iter().map(|s| Secret::new(*s)).collect(),
            header: None,
            tolerance: Duration::from_secs(300),
            public_keys: Vec::new(),
            verify_token: None,
            public_url: None,
            hmac: None,
        }
    }

    /// Unwraps a delivery decision (panics on a handshake reply).
    pub fn delivered(decision: Result<Decision<'_>, Rejection>) -> Result<Verified<'_>, Rejection> {
        match decision? {
            Decision::Deliver(v) => Ok(v),
            Decision::Reply(r) => panic!("expected a delivery, got a handshake reply {r:?}"),
        }
    }

    impl Verifier {
        /// A verifier of scheme `none`, for tests that need a `Verified` request.
        pub fn none_for_tests() -> Verifier {
            verifier(Box::new(NoVerification))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{testing::*, *};

    #[test]
    fn none_accepts_anything_and_has_no_delivery_id() {
        let h = headers(&[]);
        let v = delivered(Verifier::none_for_tests().verify(post(&h, b"x"), &SystemClock)).unwrap();
        assert_eq!(v.body(), b"x");
        assert_eq!(v.delivery_id(), None);
    }

    #[test]
    fn other_methods_are_refused_unless_the_scheme_or_a_challenge_answers() {
        let h = headers(&[]);
        let get = WebhookRequest {
            method: &Method::GET,
            headers: &h,
            query: Some("challenge=abc"),
            body: b"",
        };
        let plain = Verifier::none_for_tests();
        assert_eq!(
            plain.verify(get, &SystemClock).unwrap_err(),
            Rejection::MethodNotAllowed
        );
        let with_challenge = Verifier {
            challenge: Some(Challenge::Query("challenge".into())),
            ..plain
        };
        match with_challenge.verify(get, &SystemClock).unwrap() {
            Decision::Reply(reply) => assert_eq!(reply, Reply::text("abc")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejection_statuses() {
        assert_eq!(Rejection::SignatureMismatch.status(), 401);
        assert_eq!(Rejection::TimestampOutsideTolerance.status(), 401);
        assert_eq!(Rejection::VerifyTokenMismatch.status(), 403);
        assert_eq!(Rejection::MethodNotAllowed.status(), 405);
    }
}
