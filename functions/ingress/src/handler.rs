//! The ingress handler: route → size → verify → filter → input mapping → (sync call | dedup →
//! queue) → answer. It acknowledges only after SQS has accepted the message, so nothing
//! acknowledged is lost.

use std::time::Duration;

use aws_lambda_events::{
    encodings::Body,
    event::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse},
};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use hookrelay::{
    config::{Config, ConfigError, Mode, Route, SchemeKind},
    dedup::DeliveryLedger,
    delivery::call::{CallError, Delivered},
    delivery::targets::JobTarget,
    foundation::secret::SecretResolver,
    inbound::route::{RequestView, RouteTable},
    inbound::verify::{Clock, Decision, Reply, SystemClock, Verifier, WebhookRequest},
    queue::{dedup_id, stable_job_id, JobQueue, MessageKeys, QueueError},
    wire::envelope::{Envelope, WebhookJob},
};
use http::{request::Parts, StatusCode};
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use tokio::time::Instant;
use tracing::{field, info, warn, Instrument};

use crate::{
    deadline::{invocation_deadline, sync_budget},
    event::{self, BadRequest},
};

/// A request as [`event::into_request`] builds it: the body is the raw bytes.
pub type Request = http::Request<Vec<u8>>;
pub type Response = http::Response<Body>;

/// How long a provider should wait before retrying after a queue outage.
const RETRY_AFTER_SECS: &str = "5";

pub struct Ingress<Q, L, T> {
    routes: RouteTable<RouteEntry>,
    queue: Q,
    ledger: L,
    /// Built only when a route uses `mode = "sync"`.
    targets: Option<T>,
    max_body_bytes: usize,
    clock: Box<dyn Clock>,
}

struct RouteEntry {
    route: Route,
    verifier: Verifier,
}

/// True when some route calls its target within the request (the ingress then needs targets).
pub fn needs_targets(config: &Config) -> bool {
    config.routes.iter().any(|r| matches!(r.mode, Mode::Sync { .. }))
}

impl<Q: JobQueue, L: DeliveryLedger, T: JobTarget> Ingress<Q, L, T> {
    /// Builds every route's verifier (resolving its secrets) once, at cold start.
    pub async fn from_config(
        config: &Config,
        resolver: &SecretResolver,
        queue: Q,
        ledger: L,
        targets: Option<T>,
    ) -> Result<Self, ConfigError> {
        let mut entries = Vec::with_capacity(config.routes.len());
        for route in &config.routes {
            if route.verify.scheme == SchemeKind::None {
                warn!(route = %route.path, "route accepts unauthenticated requests (verify = \"none\")");
            }
            if matches!(route.mode, Mode::Sync { .. }) && targets.is_none() {
                return Err(ConfigError::new(
                    route.key("mode"),
                    "sync mode needs the targets to be built",
                ));
            }
            let verifier = Verifier::for_route(route, resolver).await?;
            entries.push((
                route.path.clone(),
                RouteEntry {
                    route: route.clone(),
                    verifier,
                },
            ));
        }
        Ok(Ingress {
            routes: RouteTable::new(entries),
            queue,
            ledger,
            targets,
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

    /// One function URL invocation: the event becomes a request ([`event::into_request`]; one
    /// that cannot be interpreted is answered 400 and goes no further), is handled within the
    /// invocation's deadline, and the answer becomes the function URL response.
    pub async fn handle_event(&self, event: LambdaEvent<LambdaFunctionUrlRequest>) -> LambdaFunctionUrlResponse {
        let LambdaEvent { payload, context } = event;
        let deadline = invocation_deadline(context.deadline);
        let response = match event::into_request(payload) {
            Ok(mut request) => {
                event::set_trace_id(request.headers_mut(), context.xray_trace_id.as_deref());
                self.handle_within(request, deadline).await
            }
            Err(BadRequest(reason)) => {
                info!(reason, "refused: the event cannot be read as a request");
                error(StatusCode::BAD_REQUEST, reason)
            }
        };
        event::into_response(response)
    }

    /// Handles a request with no invocation deadline (sync calls get the route's `deadline_secs`).
    pub async fn handle(&self, request: Request) -> Response {
        self.handle_within(request, None).await
    }

    /// Handles a request; a sync call also ends [`SYNC_ANSWER_MARGIN`](crate::deadline::SYNC_ANSWER_MARGIN) before `deadline`, the
    /// invocation's own, whatever the route's `deadline_secs`.
    pub async fn handle_within(&self, request: Request, deadline: Option<Instant>) -> Response {
        let Some(entry) = self.routes.get(request.uri().path()) else {
            return error(StatusCode::NOT_FOUND, "unknown route");
        };
        let span = tracing::info_span!("webhook", route = %entry.route.path, delivery_id = field::Empty);
        self.handle_route(entry, request, deadline).instrument(span).await
    }

    async fn handle_route(&self, entry: &RouteEntry, request: Request, invocation: Option<Instant>) -> Response {
        let (parts, body) = request.into_parts();
        // event::into_request has already decoded a base64 (`isBase64Encoded`) body: these are the raw bytes.
        let Accepted {
            job,
            input,
            group,
            dedup_key,
        } = match self.accept(entry, &parts, &body) {
            Ok(accepted) => accepted,
            Err(answer) => return *answer,
        };
        // Nothing borrows the request any more: its body moves into the job instead of being copied.
        let mut envelope = job.with_payload(input.unwrap_or(body));
        if let (Some(key), true) = (&dedup_key, self.queue.is_fifo()) {
            // A FIFO queue drops the repeat itself; the same id makes every answer name the one job.
            envelope.id = stable_job_id(key);
        }
        match entry.route.mode {
            Mode::Sync { deadline } => {
                let budget = sync_budget(deadline, invocation, Instant::now());
                self.call_now(&envelope, budget).await
            }
            Mode::Async => self.enqueue(&entry.route, group, dedup_key.as_deref(), &envelope).await,
        }
    }

    /// Everything that reads the request: size, verification, filter, input mapping. `Err` is the
    /// answer of a request that goes no further (refused, a handshake, filtered out).
    fn accept(&self, entry: &RouteEntry, parts: &Parts, body: &[u8]) -> Result<Accepted, Box<Response>> {
        if body.len() > self.max_body_bytes {
            info!(bytes = body.len(), "refused: body too large");
            return Err(Box::new(error(StatusCode::PAYLOAD_TOO_LARGE, "body too large")));
        }
        let webhook = WebhookRequest {
            method: &parts.method,
            headers: &parts.headers,
            // Byte for byte as sent: `uri.query()` may be an encoded copy (see `event`).
            query: event::raw_query(&parts.extensions),
            body,
        };
        let verified = match entry.verifier.verify(webhook, self.clock.as_ref()) {
            Ok(Decision::Deliver(verified)) => verified,
            Ok(Decision::Reply(reply)) => {
                info!(status = reply.status, "answered handshake");
                return Err(Box::new(handshake_response(reply)));
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
                return Err(Box::new(response));
            }
        };
        if let Some(id) = verified.delivery_id() {
            tracing::Span::current().record("delivery_id", id);
        }
        let route = &entry.route;
        let view = RequestView::new(&verified, &route.path);
        if let Some(filter) = &route.filter {
            if !view.passes(filter) {
                info!("filtered out");
                return Err(Box::new(json_response(StatusCode::OK, json!({ "status": "filtered" }))));
            }
        }
        let input = view.input(&route.input).map_err(|e| {
            info!(error = %e, "refused: input mapping failed");
            Box::new(error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()))
        })?;
        let now = chrono::DateTime::<chrono::Utc>::from(self.clock.now());
        let job = Envelope::for_webhook(&verified, &route.path, &route.target, input.is_some(), now);
        let dedup_key = verified
            .delivery_id()
            .filter(|_| !route.dedup_window.is_zero())
            .map(|id| format!("{}#{id}", route.path));
        let group = self.queue.is_fifo().then(|| view.message_group(route));
        Ok(Accepted {
            job,
            input,
            group,
            dedup_key,
        })
    }

    async fn call_now(&self, envelope: &Envelope, deadline: Duration) -> Response {
        let Some(targets) = &self.targets else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "sync mode is not available");
        };
        match tokio::time::timeout(deadline, targets.deliver(envelope)).await {
            Ok(Ok(delivered)) => {
                info!(id = %envelope.id, status = delivered.status, "answered synchronously");
                sync_response(delivered)
            }
            Ok(Err(CallError::Timeout)) | Err(_) => {
                warn!(id = %envelope.id, "target did not answer within the deadline");
                error(StatusCode::GATEWAY_TIMEOUT, "target timed out")
            }
            Ok(Err(e)) => {
                // The detail stays in the log: the target's own error text is not the sender's business.
                warn!(id = %envelope.id, error = %e, "target failed");
                error(StatusCode::BAD_GATEWAY, "target failed")
            }
        }
    }

    async fn enqueue(
        &self,
        route: &Route,
        group: Option<String>,
        dedup_key: Option<&str>,
        envelope: &Envelope,
    ) -> Response {
        let now = self.clock.now();
        let fifo = self.queue.is_fifo();
        if let (Some(key), false) = (dedup_key, fifo) {
            match self.ledger.seen(key, now).await {
                Ok(Some(original)) => {
                    info!(id = %original, "duplicate delivery; not queued again");
                    return ack(route, json!({ "id": original, "status": "duplicate" }));
                }
                Ok(None) => {}
                // Fail open: a ledger outage may let a duplicate through, never block or lose a webhook.
                Err(e) => warn!(error = %e, "de-duplication skipped"),
            }
        }
        // Standard queues ignore both keys: no group to work out, no hash to take.
        let keys = match group {
            Some(group) => MessageKeys {
                group,
                dedup: dedup_id(dedup_key.unwrap_or(&envelope.id)),
            },
            None => MessageKeys::default(),
        };
        match self.queue.enqueue(envelope, &keys).await {
            Ok(message_id) => {
                info!(id = %envelope.id, message_id = %message_id, "queued");
                if let (Some(key), false) = (dedup_key, fifo) {
                    if let Err(e) = self.ledger.record(key, &envelope.id, now + route.dedup_window).await {
                        warn!(error = %e, "could not remember the delivery for de-duplication");
                    }
                }
                ack(route, json!({ "id": envelope.id, "status": "queued" }))
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

/// A request that passed [`Ingress::accept`]: its job, waiting for the payload.
struct Accepted {
    job: WebhookJob,
    /// The mapped input, or `None` for the body itself.
    input: Option<Vec<u8>>,
    /// The FIFO message group (FIFO queues only).
    group: Option<String>,
    dedup_key: Option<String>,
}

/// The route's own acknowledgement if it has one, else the default JSON.
fn ack(route: &Route, default: Value) -> Response {
    match &route.ack {
        Some(ack) => {
            let mut response = Response::new(Body::Text(ack.body.clone()));
            *response.status_mut() = StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK);
            if let Ok(value) = ack.content_type.parse() {
                response.headers_mut().insert("content-type", value);
            }
            response
        }
        None => json_response(StatusCode::OK, default),
    }
}

/// The target's answer as the HTTP response: the algorithm's `result` typed by its metadata
/// (`text`, `json`, `binary`), or a generic target's body with its content type.
fn sync_response(delivered: Delivered) -> Response {
    let content_type = delivered
        .metadata
        .get("content_type")
        .and_then(Value::as_str)
        .unwrap_or("json");
    let (body, content_type) = match (content_type, delivered.result) {
        ("text", Value::String(text)) => (Body::Text(text), "text/plain; charset=utf-8".to_owned()),
        ("binary", Value::String(data)) => match BASE64.decode(&data) {
            Ok(bytes) => (Body::Binary(bytes), "application/octet-stream".to_owned()),
            Err(_) => (Body::Text(data), "text/plain; charset=utf-8".to_owned()),
        },
        ("json" | "text" | "binary", value) => (Body::Text(value.to_string()), "application/json".to_owned()),
        (mime, Value::String(text)) => (Body::Text(text), mime.to_owned()),
        (mime, value) => (Body::Text(value.to_string()), mime.to_owned()),
    };
    let mut response = Response::new(body);
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

fn handshake_response(reply: Reply) -> Response {
    let mut response = Response::new(Body::Text(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    response
        .headers_mut()
        .insert("content-type", reply.content_type.parse().expect("static header value"));
    response
}

fn json_response(status: StatusCode, value: Value) -> Response {
    let mut response = Response::new(Body::Text(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", "application/json".parse().expect("static header value"));
    response
}

fn error(status: StatusCode, reason: &str) -> Response {
    json_response(status, json!({ "error": reason }))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use hmac::{KeyInit, Mac};
    use hookrelay::{dedup::memory::MemoryLedger, queue::memory::MemoryQueue};

    use super::*;
    use crate::deadline::SYNC_ANSWER_MARGIN;

    const SECRET: &str = "It's a Secret to Everybody";

    type TestIngress = Ingress<MemoryQueue, MemoryLedger, ScriptedTarget>;

    /// Answers like an algorithm: "Hello <input>"; fails on "fail", stalls on "slow".
    struct ScriptedTarget;

    impl JobTarget for ScriptedTarget {
        async fn deliver(&self, envelope: &Envelope) -> Result<Delivered, CallError> {
            let input = String::from_utf8(envelope.payload.to_bytes().unwrap()).unwrap();
            if input.contains("slow") {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            if input.contains("fail") {
                return Err(CallError::Algorithm("scripted failure".into()));
            }
            Ok(Delivered {
                status: 200,
                result: format!("Hello {input}").into(),
                metadata: json!({"content_type": "text"}),
            })
        }
    }

    async fn ingress(extra: &str) -> TestIngress {
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
        let targets = needs_targets(&config).then_some(ScriptedTarget);
        Ingress::from_config(
            &config,
            &SecretResolver::new(None),
            MemoryQueue::default(),
            MemoryLedger::default(),
            targets,
        )
        .await
        .unwrap()
    }

    fn sign(body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    fn request(method: &str, path: &str, body: Body, signature: Option<&str>) -> Request {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("https://abc.lambda-url.us-east-1.on.aws{path}"))
            .header("content-type", "application/json")
            .header("x-github-delivery", "delivery-1");
        if let Some(sig) = signature {
            builder = builder.header("x-hub-signature-256", sig);
        }
        let bytes = match body {
            Body::Text(text) => text.into_bytes(),
            Body::Binary(bytes) => bytes,
            _ => Vec::new(),
        };
        builder.body(bytes).unwrap()
    }

    async fn call(ingress: &TestIngress, req: Request) -> (StatusCode, serde_json::Value) {
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

    fn signed(body: &str) -> Request {
        request(
            "POST",
            "/hooks/github",
            Body::Text(body.into()),
            Some(&sign(body.as_bytes())),
        )
    }

    async fn raw_call(ingress: &TestIngress, req: Request) -> (StatusCode, String, String) {
        let response = ingress.handle(req).await;
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
        (response.status(), content_type.unwrap_or_default(), body)
    }

    #[tokio::test]
    async fn a_trailing_slash_reaches_the_same_route() {
        let ingress = ingress("").await;
        let req = request("POST", "/hooks/github/", Body::Text("{}".into()), Some(&sign(b"{}")));
        assert_eq!(call(&ingress, req).await.0, StatusCode::OK);
        assert_eq!(ingress.queue.taken().len(), 1);
    }

    #[tokio::test]
    async fn input_mapping_shapes_the_job_and_needs_json() {
        let ingress = ingress("input = { repo = \"/repository/full_name\", delivery = \"delivery_id\" }").await;
        let (status, _) = call(&ingress, signed(r#"{"repository":{"full_name":"o/r"}}"#)).await;
        assert_eq!(status, StatusCode::OK);
        let job = &ingress.queue.taken()[0];
        let input: Value = serde_json::from_slice(&job.payload.to_bytes().unwrap()).unwrap();
        assert_eq!(input, json!({"repo": "o/r", "delivery": "delivery-1"}));
        assert_eq!(job.content_type.as_deref(), Some("application/json"));
        let (status, answer) = call(&ingress, signed("not json")).await;
        assert_eq!(
            (status, answer),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": "input mapping needs a JSON body"})
            )
        );
        assert_eq!(ingress.queue.taken().len(), 1);
    }

    #[tokio::test]
    async fn a_custom_ack_answers_queued_requests() {
        let ingress = ingress("ack = { status = 202, body = \"thanks\" }").await;
        let (status, content_type, body) = raw_call(&ingress, signed("{}")).await;
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (StatusCode::ACCEPTED, "text/plain", "thanks")
        );
        assert_eq!(ingress.queue.taken().len(), 1);
    }

    #[tokio::test]
    async fn a_repeated_delivery_is_acknowledged_but_queued_once() {
        let ingress = ingress("").await;
        let (_, first) = call(&ingress, signed(r#"{"n":1}"#)).await;
        for _ in 0..2 {
            let (status, again) = call(&ingress, signed(r#"{"n":1}"#)).await;
            assert_eq!(
                (status, again),
                (StatusCode::OK, json!({"id": first["id"], "status": "duplicate"}))
            );
        }
        assert_eq!(ingress.queue.taken().len(), 1);
        let no_window = ingress_with("dedup_window_secs = 0").await;
        call(&no_window, signed("{}")).await;
        call(&no_window, signed("{}")).await;
        assert_eq!(no_window.queue.taken().len(), 2);
    }

    async fn ingress_with(extra: &str) -> TestIngress {
        ingress(extra).await
    }

    #[tokio::test]
    async fn sync_mode_answers_with_the_result_or_an_error() {
        let ingress = ingress("mode = \"sync\"\ndeadline_secs = 1").await;
        let (status, content_type, body) = raw_call(&ingress, signed("\"world\"")).await;
        assert_eq!(
            (status, content_type.as_str(), body.as_str()),
            (StatusCode::OK, "text/plain; charset=utf-8", "Hello \"world\"")
        );
        let (status, answer) = call(&ingress, signed("\"please fail\"")).await;
        assert_eq!(
            (status, answer),
            (StatusCode::BAD_GATEWAY, json!({"error": "target failed"}))
        );
        tokio::time::pause();
        let (status, answer) = call(&ingress, signed("\"slow\"")).await;
        assert_eq!(
            (status, answer),
            (StatusCode::GATEWAY_TIMEOUT, json!({"error": "target timed out"}))
        );
        assert!(ingress.queue.taken().is_empty(), "sync mode queues nothing");
    }

    #[tokio::test]
    async fn sync_mode_answers_before_the_invocation_deadline_whatever_deadline_secs_says() {
        // Virtual time: the target stalls for 30 s; the route allows 25 s (deadline_secs unset)
        // or 20 s, the invocation has 3 s.
        tokio::time::pause();
        for extra in ["mode = \"sync\"", "mode = \"sync\"\ndeadline_secs = 20"] {
            let ingress = ingress(extra).await;
            let deadline = Instant::now() + Duration::from_secs(3);
            let response = ingress.handle_within(signed("\"slow\""), Some(deadline)).await;
            let answered_at = Instant::now();
            let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
            assert_eq!(
                (response.status(), body),
                (StatusCode::GATEWAY_TIMEOUT, json!({"error": "target timed out"}))
            );
            // Timers fire on whole milliseconds: the margin, give or take one.
            assert!(
                answered_at < deadline && deadline - answered_at >= SYNC_ANSWER_MARGIN - Duration::from_millis(1),
                "answered {:?} before the deadline",
                deadline.saturating_duration_since(answered_at)
            );
        }
    }

    fn function_url_event(overrides: Value, body: &str) -> LambdaEvent<LambdaFunctionUrlRequest> {
        let mut event = json!({
            "version": "2.0",
            "rawPath": "/hooks/github",
            "rawQueryString": "",
            "headers": {
                "content-type": "application/json",
                "x-github-delivery": "delivery-1",
                "x-hub-signature-256": sign(body.as_bytes()),
            },
            "requestContext": {"http": {"method": "POST"}, "timeEpoch": 0},
            "body": body,
            "isBase64Encoded": false
        });
        for (key, value) in overrides.as_object().unwrap() {
            event[key] = value.clone();
        }
        LambdaEvent::new(serde_json::from_value(event).unwrap(), Default::default())
    }

    #[tokio::test]
    async fn events_lambda_http_panicked_on_are_answered() {
        let ingress = ingress("input = { q = \"query:q\" }").await;
        // Queued, with the query as sent (curl sends `"`, `<` and `>` unencoded).
        let odd_query = function_url_event(json!({"rawQueryString": "q=\"<b>\""}), "{}");
        let answer = ingress.handle_event(odd_query).await;
        assert_eq!(answer.status_code, 200, "{answer:?}");
        let queued = ingress.queue.taken();
        let input: Value = serde_json::from_slice(&queued[0].payload.to_bytes().unwrap()).unwrap();
        assert_eq!(input, json!({"q": "\"<b>\""}));
        // A host header that is no URL authority, a raw path that is no URL path.
        let bad_host = function_url_event(json!({"rawQueryString": "q=1"}), "{}");
        let mut bad_host = bad_host;
        bad_host
            .payload
            .headers
            .insert("host", http::HeaderValue::from_static("[::1"));
        assert_eq!(ingress.handle_event(bad_host).await.status_code, 200);
        let bad_path = function_url_event(json!({"rawPath": ":99999/x"}), "{}");
        let answer = ingress.handle_event(bad_path).await;
        assert_eq!(
            (answer.status_code, answer.body.as_deref()),
            (404, Some(r#"{"error":"unknown route"}"#))
        );
        // A body flagged base64 that is not: 400, nothing queued.
        let not_base64 = function_url_event(json!({"isBase64Encoded": true}), "{not base64}");
        let answer = ingress.handle_event(not_base64).await;
        assert_eq!(
            (answer.status_code, answer.body.as_deref()),
            (400, Some(r#"{"error":"body is not valid base64"}"#))
        );
        assert_eq!(answer.headers["content-type"], "application/json");
        assert_eq!(ingress.queue.taken().len(), 1, "only the bad host's request since");
    }

    #[test]
    fn sync_results_are_typed_by_their_metadata() {
        let answer = |result: Value, content_type: &str| {
            let r = sync_response(Delivered {
                status: 200,
                result,
                metadata: json!({"content_type": content_type}),
            });
            (
                r.headers()["content-type"].to_str().unwrap().to_owned(),
                r.body().as_ref().to_vec(),
            )
        };
        assert_eq!(
            answer(json!({"a": 1}), "json"),
            ("application/json".into(), br#"{"a":1}"#.to_vec())
        );
        assert_eq!(
            answer(json!("aGk="), "binary"),
            ("application/octet-stream".into(), b"hi".to_vec())
        );
        assert_eq!(answer(json!("<p>"), "text/html"), ("text/html".into(), b"<p>".to_vec()));
    }
}
