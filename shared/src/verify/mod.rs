//! Webhook verification: one strategy per scheme, chosen by config, over (headers, raw body, clock).
//!
//! [`Verifier::verify`] is the only way to obtain a [`Verified`] request, and only a `Verified`
//! request can become a webhook envelope, so skipping verification does not compile.

mod github;
mod token;

use std::time::SystemTime;

use http::{HeaderMap, Method};

use crate::{
    config::{ConfigError, Route, VerifySpec},
    secret::{Secret, SecretResolver},
};

/// The parts of an HTTP request that verification may look at. `body` is the raw bytes as sent.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

/// Why a request was refused. The text is safe to return to the caller: it never carries the
/// expected signature or anything derived from a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing signature")]
    MissingSignature,
    #[error("malformed signature")]
    MalformedSignature,
    #[error("signature mismatch")]
    SignatureMismatch,
    #[error("timestamp outside tolerance")]
    TimestampOutsideTolerance,
}

/// Wall-clock time, injectable so timestamped schemes can be tested at a pinned instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// One verification scheme. Implementations compare in constant time and never log secrets.
pub(crate) trait Scheme: Send + Sync {
    fn check(&self, request: &WebhookRequest<'_>, now: SystemTime) -> Result<(), Rejection>;

    /// The provider's id for this delivery, when it sends one.
    fn delivery_id(&self, _request: &WebhookRequest<'_>) -> Option<String> {
        None
    }
}

/// A request that passed its route's verification.
#[derive(Debug)]
pub struct Verified<'a> {
    request: WebhookRequest<'a>,
    delivery_id: Option<String>,
}

impl<'a> Verified<'a> {
    pub fn body(&self) -> &'a [u8] {
        self.request.body
    }

    pub fn headers(&self) -> &'a HeaderMap {
        self.request.headers
    }

    pub fn delivery_id(&self) -> Option<&str> {
        self.delivery_id.as_deref()
    }
}

/// A route's verification strategy, built once at cold start.
pub struct Verifier {
    scheme: Box<dyn Scheme>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier(<secrets redacted>)")
    }
}

impl Verifier {
    /// Builds the route's scheme, resolving its secrets (each error names the route's key).
    pub async fn for_route(
        route: &Route,
        resolver: &SecretResolver,
    ) -> Result<Verifier, ConfigError> {
        let scheme: Box<dyn Scheme> = match &route.verify {
            VerifySpec::None => Box::new(NoVerification),
            VerifySpec::GitHub { secrets } => Box::new(github::GitHub::new(
                resolve_all(route, secrets, resolver).await?,
            )),
            VerifySpec::Token { header, secrets } => Box::new(token::Token::new(
                header.clone(),
                resolve_all(route, secrets, resolver).await?,
            )),
        };
        Ok(Verifier { scheme })
    }

    pub fn verify<'a>(
        &self,
        request: WebhookRequest<'a>,
        clock: &dyn Clock,
    ) -> Result<Verified<'a>, Rejection> {
        self.scheme.check(&request, clock.now())?;
        let delivery_id = self.scheme.delivery_id(&request);
        Ok(Verified {
            request,
            delivery_id,
        })
    }
}

async fn resolve_all(
    route: &Route,
    secrets: &[crate::secret::SecretRef],
    resolver: &SecretResolver,
) -> Result<Vec<Secret>, ConfigError> {
    let mut resolved = Vec::with_capacity(secrets.len());
    for (i, reference) in secrets.iter().enumerate() {
        resolved.push(
            resolver
                .resolve(&route.key(&format!("secrets[{i}]")), reference)
                .await?,
        );
    }
    Ok(resolved)
}

/// `verify = "none"`: an explicit opt-out, warned about at cold start by the ingress.
struct NoVerification;

impl Scheme for NoVerification {
    fn check(&self, _: &WebhookRequest<'_>, _: SystemTime) -> Result<(), Rejection> {
        Ok(())
    }
}

/// A header's value as an id for logs and de-duplication: bounded and printable, else ignored.
fn header_id(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?.trim();
    let usable =
        !value.is_empty() && value.len() <= 256 && value.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| value.to_owned())
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

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

    pub fn verifier(scheme: impl Scheme + 'static) -> Verifier {
        Verifier {
            scheme: Box::new(scheme),
        }
    }

    impl Verifier {
        pub fn none_for_tests() -> Verifier {
            verifier(NoVerification)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{testing::*, *};

    #[test]
    fn none_accepts_anything_and_has_no_delivery_id() {
        let h = headers(&[]);
        let v = verifier(NoVerification)
            .verify(post(&h, b"x"), &SystemClock)
            .unwrap();
        assert_eq!(v.body(), b"x");
        assert_eq!(v.delivery_id(), None);
    }

    #[test]
    fn header_ids_are_bounded_and_printable() {
        assert_eq!(
            header_id(&headers(&[("x-id", " abc ")]), "x-id").as_deref(),
            Some("abc")
        );
        assert_eq!(header_id(&headers(&[("x-id", "a b")]), "x-id"), None);
        assert_eq!(
            header_id(&headers(&[("x-id", &"a".repeat(300))]), "x-id"),
            None
        );
        assert_eq!(header_id(&headers(&[]), "x-id"), None);
    }
}
