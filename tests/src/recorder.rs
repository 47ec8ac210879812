//! A recording HTTP server on loopback: the endpoint of a generic `type = "http"` target.
//!
//! Every request, on any path and with any method, is recorded (method, path, query, headers,
//! body bytes) and answered with a programmable status and body (default `200 {"ok": true}`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::util;

/// One request received by the [`RecordingServer`].
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lower-cased header names with their values, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RecordedRequest {
    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a header (case-insensitive), in arrival order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct CannedReply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Default for CannedReply {
    fn default() -> Self {
        Self {
            status: 200,
            content_type: "application/json".into(),
            body: r#"{"ok":true}"#.into(),
        }
    }
}

struct Ctx {
    requests: Mutex<Vec<RecordedRequest>>,
    reply: Mutex<CannedReply>,
}

/// The running server. Stops when dropped.
pub struct RecordingServer {
    addr: SocketAddr,
    ctx: Arc<Ctx>,
    task: tokio::task::AbortHandle,
}

impl Drop for RecordingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RecordingServer {
    /// Start on `127.0.0.1:<free port>`.
    pub async fn start() -> RecordingServer {
        let listener = util::bind(util::any_loopback()).await;
        let addr = listener.local_addr().expect("local_addr");
        let ctx = Arc::new(Ctx {
            requests: Mutex::default(),
            reply: Mutex::default(),
        });
        let app = Router::new().fallback(record).with_state(ctx.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RecordingServer {
            addr,
            ctx,
            task: task.abort_handle(),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answer every later request with `reply`.
    pub fn reply_with(&self, reply: CannedReply) {
        *self.ctx.reply.lock().unwrap() = reply;
    }

    /// All requests so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.ctx.requests.lock().unwrap().clone()
    }

    /// Requests to `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }

    /// A failure-message summary of the requests received.
    pub fn summary(&self) -> String {
        let reqs = self.requests();
        let mut out = format!("recording server {} received {} request(s):\n", self.url(), reqs.len());
        for r in reqs {
            let body: String = r.body_text().chars().take(200).collect();
            let names: Vec<&str> = r.headers.iter().map(|(k, _)| k.as_str()).collect();
            out.push_str(&format!(
                "  {} {}{} headers={names:?} body={body}\n",
                r.method,
                r.path,
                r.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default(),
            ));
        }
        out
    }
}

async fn record(State(ctx): State<Arc<Ctx>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    ctx.requests.lock().unwrap().push(recorded);
    let reply = ctx.reply.lock().unwrap().clone();
    (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", reply.content_type)],
        reply.body,
    )
        .into_response()
}
