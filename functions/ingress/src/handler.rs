//! The ingress handler: route → size check → verify → envelope → queue → answer.
//! It acknowledges only after SQS has accepted the message, so nothing acknowledged is lost.

use std::collections::HashMap;

use lambda_http::{http::StatusCode, Body, Request, Response};
use serde_json::json;
use shared::{
    config::{Config, ConfigError, Route, SchemeKind},
    envelope::Envelope,
    queue::{JobQueue, QueueError},
    secret::SecretResolver,
    verify::{Clock, Decision, Reply, SystemClock, Verifier, WebhookRequest},
};
use tracing::{field, info, warn, Instrument};

/// How long a provider should wait before retrying after a queue outage.
const RETRY_AFTER_SECS: &str = "5";

pub struct Ingress<Q> {
    routes: HashMap<String, RouteEntry>,
    queue: Q,
    max_body_bytes: usize,
    clock: Box<dyn Clock>,
}

struct RouteEntry {
    route: Route,
    verifier: Verifier,
}

impl<Q: JobQueue> Ingress<Q> {
    /// Builds every route's verifier (resolving its secrets) once, at cold start.
    pub async fn from_config(config: &Config, resolver: &SecretResolver, queue: Q) -> Result<Self, ConfigError> {
        let mut routes = HashMap::with_capacity(config.routes.len());
        for route in &config.routes {
            if route.verify.scheme == SchemeKind::None {
                warn!(route = %route.path, "route accepts unauthenticated requests (verify = \"none\")");
            }
            let verifier = Verifier::for_route(route, resolver).await?;
            routes.insert(
                route.path.clone(),
                RouteEntry {
                    route: route.clone(),
                    verifier,
                },
            );
        }
        Ok(Ingress {
            routes,
            queue,
            max_body_bytes: config.ingress.max_body_bytes,
            clock: Box::new(SystemClock),
        })
    }

    /// Pins the clock (timestamped schemes and `received_at`), for tests.
    #[cfg(test)]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    pub async fn handle(&self, request: Request) -> Response<Body> {
        let path = request.uri().path();
        let Some(entry) = self.routes.get(path) else {
            return error(StatusCode::NOT_FOUND, "unknown route");
        };
        let span = tracing::info_span!("webhook", route = %entry.route.path, delivery_id = field::Empty);
        self.handle_route(entry, &request).instrument(span).await
    }

    async fn handle_route(&self, entry: &RouteEntry, request: &Request) -> Response<Body> {
        // lambda_http has already decoded a base64 (`isBase64Encoded`) body: these are the raw bytes.
        let body: &[u8] = request.body().as_ref();
        if body.len() > self.max_body_bytes {
            info!(bytes = body.len(), "refused: body too large");
            return error(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
        }
        let webhook = WebhookRequest {
            method: request.method(),
            headers: request.headers(),
            query: request.uri().query(),
            body,
        };
        let verified = match entry.verifier.verify(webhook, self.clock.as_ref()) {
            Ok(Decision::Deliver(verified)) => verified,
            Ok(Decision::Reply(reply)) => {
                info!(status = reply.status, "answered handshake");
                return handshake_response(reply);
            }
            Err(rejection) => {
                info!(reason = %rejection, "refused");
                let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
                let mut response = error(status, &rejection.to_string());
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    response
                        .headers_mut()
                        .insert("allow", "POST".parse().expect("static header value"));
                }
                return response;
            }
        };
        if let Some(id) = verified.delivery_id() {
            tracing::Span::current().record("delivery_id", id);
        }
        let now = chrono::DateTime::<chrono::Utc>::from(self.clock.now());
        let envelope = Envelope::for_webhook(&verified, &entry.route.path, &entry.route.algorithm, now);
        match self.queue.enqueue(&envelope).await {
            Ok(message_id) => {
                info!(id = %envelope.id, message_id = %message_id, bytes = body.len(), "queued");
                json_response(StatusCode::OK, json!({ "id": envelope.id, "status": "queued" }))
            }
            Err(QueueError::TooLarge(bytes)) => {
                info!(bytes, "refused: envelope too large for one queue message");
                error(StatusCode::PAYLOAD_TOO_LARGE, "body too large")
            }
            Err(QueueError::Unavailable(reason)) => {
                warn!(error = %reason, "queue unavailable; asking the sender to retry");
                let mut response = error(StatusCode::SERVICE_UNAVAILABLE, "queue unavailable, retry later");
                response
                    .headers_mut()
                    .insert("retry-after", RETRY_AFTER_SECS.parse().expect("static header value"));
                response
            }
        }
    }
}

fn json_response(status: StatusCode, value: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().expect("static header value"));
    response
}

fn handshake_response(reply: Reply) -> Response<Body> {
    let mut response = Response::new(Body::Text(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    response
        .headers_mut()
        .insert("content-type", reply.content_type.parse().expect("static header value"));
    response
}

fn error(status: StatusCode, reason: &str) -> Response<Body> {
    json_response(status, json!({ "error": reason }))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use hmac::{KeyInit, Mac};
    use shared::queue::memory::MemoryQueue;

    use super::*;

    const SECRET: &str = "It's a Secret to Everybody";

    async fn ingress(extra: &str) -> Ingress<MemoryQueue> {
        std::env::set_var("INGRESS_TEST_SECRET", SECRET);
        let config = Config::from_toml(&format!(
            r#"
            [[route]]
            path = "/hooks/github"
            verify = "github"
            secrets = ["env:INGRESS_TEST_SECRET"]
            algorithm = "demo/Hello/0.1.0"
            {extra}
            "#
        ))
        .unwrap();
        Ingress::from_config(&config, &SecretResolver::new(None), MemoryQueue::default())
            .await
            .unwrap()
    }

    fn sign(body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    fn request(method: &str, path: &str, body: Body, signature: Option<&str>) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://abc.lambda-url.us-east-1.on.aws{path}"))
            .header("content-type", "application/json")
            .header("x-github-delivery", "delivery-1");
        if let Some(sig) = signature {
            builder = builder.header("x-hub-signature-256", sig);
        }
        builder.body(body).unwrap()
    }

    async fn call(ingress: &Ingress<MemoryQueue>, req: Request) -> (StatusCode, serde_json::Value) {
        let response = ingress.handle(req).await;
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        (response.status(), body)
    }

    #[tokio::test]
    async fn a_signed_webhook_is_queued_then_acknowledged() {
        let ingress = ingress("").await;
        let body = br#"{"zen":"Design for failure."}"#;
        let (status, answer) = call(
            &ingress,
            request(
                "POST",
                "/hooks/github",
                Body::Text(String::from_utf8(body.to_vec()).unwrap()),
                Some(&sign(body)),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let queued = ingress.queue.taken();
        assert_eq!(queued.len(), 1);
        assert_eq!(answer, json!({"id": queued[0].id, "status": "queued"}));
        assert_eq!(queued[0].payload.to_bytes().unwrap(), body);
        assert_eq!(queued[0].delivery_id.as_deref(), Some("delivery-1"));
        assert_eq!(queued[0].route, "/hooks/github");
    }

    #[tokio::test]
    async fn received_at_comes_from_the_injected_clock() {
        struct Pinned;
        impl Clock for Pinned {
            fn now(&self) -> std::time::SystemTime {
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)
            }
        }
        let ingress = ingress("").await.with_clock(Pinned);
        let (status, _) = call(
            &ingress,
            request("POST", "/hooks/github", Body::Text("{}".into()), Some(&sign(b"{}"))),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ingress.queue.taken()[0].received_at.timestamp(), 1_700_000_000);
    }

    #[tokio::test]
    async fn binary_bodies_are_verified_over_their_raw_bytes() {
        let ingress = ingress("").await;
        let body = vec![0xff, 0x00, 0xfe];
        let (status, _) = call(
            &ingress,
            request("POST", "/hooks/github", Body::Binary(body.clone()), Some(&sign(&body))),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ingress.queue.taken()[0].payload.to_bytes().unwrap(), body);
    }

    #[tokio::test]
    async fn bad_requests_get_terse_errors_and_nothing_is_queued() {
        let ingress = ingress("[ingress]\nmax_body_bytes = 16").await;
        let body = br#"{"a":1}"#;
        let text = || Body::Text(String::from_utf8(body.to_vec()).unwrap());
        let cases = [
            (
                request("POST", "/hooks/other", text(), Some(&sign(body))),
                StatusCode::NOT_FOUND,
                "unknown route",
            ),
            (
                request("GET", "/hooks/github", Body::Empty, None),
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            ),
            (
                request("POST", "/hooks/github", text(), None),
                StatusCode::UNAUTHORIZED,
                "missing signature",
            ),
            (
                request(
                    "POST",
                    "/hooks/github",
                    Body::Text(r#"{"a":2}"#.into()),
                    Some(&sign(body)),
                ),
                StatusCode::UNAUTHORIZED,
                "signature mismatch",
            ),
            (
                request("POST", "/hooks/github", text(), Some("sha256=nothex")),
                StatusCode::UNAUTHORIZED,
                "malformed signature",
            ),
            (
                request(
                    "POST",
                    "/hooks/github",
                    Body::Text("x".repeat(17)),
                    Some(&sign(&[b'x'; 17])),
                ),
                StatusCode::PAYLOAD_TOO_LARGE,
                "body too large",
            ),
        ];
        for (req, want_status, want_error) in cases {
            let (status, answer) = call(&ingress, req).await;
            assert_eq!((status, answer), (want_status, json!({ "error": want_error })));
        }
        assert!(ingress.queue.taken().is_empty());
    }

    #[tokio::test]
    async fn a_queue_outage_answers_503_with_retry_after() {
        let ingress = ingress("").await;
        ingress.queue.unavailable.store(true, Ordering::SeqCst);
        let body = b"{}";
        let response = ingress
            .handle(request(
                "POST",
                "/hooks/github",
                Body::Text("{}".into()),
                Some(&sign(body)),
            ))
            .await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "5");
        assert!(ingress.queue.taken().is_empty());
    }
}
