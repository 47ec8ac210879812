//! Demo algorithm server: an Algorithmia-compatible API on loopback.
//!
//! `POST /v1/algo/{owner}/{name}` and `/v1/algo/{owner}/{name}/{version}` answer
//! `{"result": "Hello <input>", "metadata": {"content_type": "text", "duration": ...}}`, where
//! the input is the JSON string if the body is a JSON string, else the raw text. Every request
//! is recorded (path, query, headers, body bytes). Failures are programmable: a rule matching a
//! request answers an `AlgorithmError` (HTTP 400) or any status instead. So are delays
//! ([`AlgorithmServer::delay_when`]): a matching request is recorded at once and answered later.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::serve::IncomingStream;
use axum::Router;
use serde_json::{json, Value};

use crate::private_ca::PrivateCa;
use crate::util;

/// One request received by the algorithm server.
#[derive(Clone, Debug)]
pub struct AlgoRequest {
    pub method: String,
    /// The full path, e.g. `/v1/algo/demo/Hello/0.1.0`.
    pub path: String,
    pub query: Option<String>,
    /// Lower-cased header names with their values, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub owner: String,
    pub name: String,
    pub version: Option<String>,
    /// The client's address: one port per TCP connection, so equal peers shared a connection.
    pub peer: SocketAddr,
}

/// The client address of a connection, for plain and TLS listeners alike (axum provides
/// `ConnectInfo<SocketAddr>` for its own `TcpListener` only).
#[derive(Clone, Copy, Debug)]
struct Peer(SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, tokio::net::TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, crate::private_ca::TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, crate::private_ca::TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A request to any other path (e.g. the worker's warm-up `HEAD /`), answered 404.
#[derive(Clone, Debug)]
pub struct StrayRequest {
    pub method: String,
    pub path: String,
    pub peer: SocketAddr,
}

impl AlgoRequest {
    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, if it is.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `owner/name[/version]`.
    pub fn algorithm(&self) -> String {
        match &self.version {
            Some(v) => format!("{}/{}/{v}", self.owner, self.name),
            None => format!("{}/{}", self.owner, self.name),
        }
    }
}

/// How a failure rule answers.
#[derive(Clone, Debug)]
pub enum Failure {
    /// HTTP 400 `{"error": {"message": ..., "error_type": "AlgorithmError"}}`, as Algorithmia
    /// answers when the algorithm itself raised.
    AlgorithmError(String),
    /// Any status with a JSON body `{"error": {"message": ...}}`.
    Status(u16, String),
}

type Predicate = Box<dyn Fn(&AlgoRequest) -> bool + Send + Sync>;

#[derive(Default)]
struct Inner {
    requests: Vec<AlgoRequest>,
    stray: Vec<StrayRequest>,
    rules: Vec<(Predicate, Failure)>,
    delays: Vec<(Predicate, Duration)>,
    required_key: Option<String>,
}

struct Ctx {
    inner: Mutex<Inner>,
    log_to_stdout: bool,
    started: Instant,
}

/// The running server. Stops when dropped.
pub struct AlgorithmServer {
    addr: SocketAddr,
    scheme: &'static str,
    ctx: Arc<Ctx>,
    task: tokio::task::AbortHandle,
}

impl Drop for AlgorithmServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl AlgorithmServer {
    /// Start on `127.0.0.1:<free port>`.
    pub async fn start() -> AlgorithmServer {
        Self::start_with(util::any_loopback(), false).await
    }

    /// Start on `bind`; with `log_to_stdout`, print each call and its answer (`make dev`).
    pub async fn start_with(bind: SocketAddr, log_to_stdout: bool) -> AlgorithmServer {
        let listener = util::bind(bind).await;
        let addr = listener.local_addr().expect("local_addr");
        Self::serve(listener, addr, "http", log_to_stdout)
    }

    /// Start over HTTPS on `127.0.0.1:<free port>` with a certificate signed by `ca`.
    pub async fn start_tls(ca: &PrivateCa) -> AlgorithmServer {
        let listener = util::bind(util::any_loopback()).await;
        let addr = listener.local_addr().expect("local_addr");
        Self::serve(ca.listener(listener), addr, "https", false)
    }

    fn serve<L>(listener: L, addr: SocketAddr, scheme: &'static str, log_to_stdout: bool) -> AlgorithmServer
    where
        L: axum::serve::Listener<Addr = SocketAddr>,
        Peer: for<'a> Connected<IncomingStream<'a, L>>,
    {
        let ctx = Arc::new(Ctx {
            inner: Mutex::default(),
            log_to_stdout,
            started: Instant::now(),
        });
        let app = Router::new()
            .route("/v1/algo/{owner}/{name}", any(call))
            .route("/v1/algo/{owner}/{name}/{version}", any(call_versioned))
            .fallback(stray)
            .with_state(ctx.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>()).await;
        });
        AlgorithmServer {
            addr,
            scheme,
            ctx,
            task: task.abort_handle(),
        }
    }

    /// Base URL for `[downstream] base_url`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// All requests so far.
    pub fn requests(&self) -> Vec<AlgoRequest> {
        self.ctx.inner.lock().unwrap().requests.clone()
    }

    /// Requests whose body is exactly `body`.
    pub fn requests_with_body(&self, body: &[u8]) -> Vec<AlgoRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.body.as_ref() == body)
            .collect()
    }

    /// Requests to paths other than the algorithm API, so far.
    pub fn stray_requests(&self) -> Vec<StrayRequest> {
        self.ctx.inner.lock().unwrap().stray.clone()
    }

    pub fn clear_requests(&self) {
        self.ctx.inner.lock().unwrap().requests.clear();
    }

    /// Answer `failure` to requests matching `predicate` (first matching rule wins).
    pub fn fail_when(&self, predicate: impl Fn(&AlgoRequest) -> bool + Send + Sync + 'static, failure: Failure) {
        self.ctx
            .inner
            .lock()
            .unwrap()
            .rules
            .push((Box::new(predicate), failure));
    }

    pub fn clear_failures(&self) {
        self.ctx.inner.lock().unwrap().rules.clear();
    }

    /// Answer requests matching `predicate` only after `delay` (first matching rule wins). The
    /// request is recorded when it arrives, so a test can see it reached the server.
    pub fn delay_when(&self, predicate: impl Fn(&AlgoRequest) -> bool + Send + Sync + 'static, delay: Duration) {
        self.ctx.inner.lock().unwrap().delays.push((Box::new(predicate), delay));
    }

    pub fn clear_delays(&self) {
        self.ctx.inner.lock().unwrap().delays.clear();
    }

    /// Answer 401 unless `Authorization: Simple <key>` is sent (off by default: tests assert
    /// on the recorded header instead, which gives clearer failures).
    pub fn require_api_key(&self, key: Option<&str>) {
        self.ctx.inner.lock().unwrap().required_key = key.map(str::to_string);
    }

    /// A failure-message summary of the requests received.
    pub fn summary(&self) -> String {
        let reqs = self.requests();
        let mut out = format!("algorithm server {} received {} request(s):\n", self.url(), reqs.len());
        for r in reqs {
            let body: String = r.body_text().chars().take(200).collect();
            out.push_str(&format!(
                "  {} {} content-type={:?} authorization={:?} body={body}\n",
                r.method,
                r.path,
                r.header("content-type"),
                r.header("authorization").map(|a| if a.len() > 12 {
                    format!("{}...", &a[..12])
                } else {
                    a.to_string()
                }),
            ));
        }
        out
    }
}

async fn call(
    State(ctx): State<Arc<Ctx>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    Path((owner, name)): Path<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(ctx, peer, owner, name, None, method, query, headers, body).await
}

async fn call_versioned(
    State(ctx): State<Arc<Ctx>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    Path((owner, name, version)): Path<(String, String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(ctx, peer, owner, name, Some(version), method, query, headers, body).await
}

async fn stray(
    State(ctx): State<Arc<Ctx>>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    method: Method,
    uri: axum::http::Uri,
) -> StatusCode {
    let request = StrayRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        peer,
    };
    ctx.inner.lock().unwrap().stray.push(request);
    StatusCode::NOT_FOUND
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    ctx: Arc<Ctx>,
    peer: SocketAddr,
    owner: String,
    name: String,
    version: Option<String>,
    method: Method,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let req = AlgoRequest {
        method: method.to_string(),
        path: match &version {
            Some(v) => format!("/v1/algo/{owner}/{name}/{v}"),
            None => format!("/v1/algo/{owner}/{name}"),
        },
        query,
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        owner,
        name,
        version,
        peer,
    };

    let (status, answer, delay) = {
        let mut inner = ctx.inner.lock().unwrap();
        inner.requests.push(req.clone());
        let delay = inner.delays.iter().find(|(p, _)| p(&req)).map(|(_, d)| *d);
        let (status, answer) = if method != Method::POST {
            (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": {"message": "method not allowed"}}),
            )
        } else if inner
            .required_key
            .as_ref()
            .is_some_and(|k| req.header("authorization") != Some(format!("Simple {k}").as_str()))
        {
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": {"message": "authorization required", "error_type": "AuthorizationError"}}),
            )
        } else if let Some((_, failure)) = inner.rules.iter().find(|(p, _)| p(&req)) {
            match failure {
                Failure::AlgorithmError(msg) => (
                    StatusCode::BAD_REQUEST,
                    json!({"error": {"message": msg, "error_type": "AlgorithmError"}}),
                ),
                Failure::Status(code, msg) => (
                    StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    json!({"error": {"message": msg}}),
                ),
            }
        } else {
            let input = match serde_json::from_slice::<Value>(&req.body) {
                Ok(Value::String(s)) => s,
                _ => String::from_utf8_lossy(&req.body).into_owned(),
            };
            (
                StatusCode::OK,
                json!({
                    "result": format!("Hello {input}"),
                    "metadata": {"content_type": "text", "duration": started.elapsed().as_secs_f64().max(0.0001)},
                }),
            )
        };
        (status, answer, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    if ctx.log_to_stdout {
        println!(
            "[algorithm] {:>8.3}s {} {} content-type={} body={} -> {} {}",
            ctx.started.elapsed().as_secs_f64(),
            req.method,
            req.path,
            req.header("content-type").unwrap_or("-"),
            req.body_text(),
            status.as_u16(),
            answer
        );
    }
    (status, axum::Json(answer)).into_response()
}
