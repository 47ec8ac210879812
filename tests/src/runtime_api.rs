//! Lambda Runtime API emulator.
//!
//! An HTTP server on loopback that speaks the Runtime API a Lambda runtime polls
//! (`AWS_LAMBDA_RUNTIME_API`): `GET /2018-06-01/runtime/invocation/next` long-polls until an
//! invocation is queued, `POST .../invocation/{id}/response` and `.../error` complete it, and
//! `POST /2018-06-01/runtime/init/error` records an initialisation failure.
//!
//! Any number of processes (instances) may poll the same emulator, like several execution
//! environments of one function. Each process gets its own listener
//! ([`RuntimeApi::attach_instance`]) so the emulator knows which instance took which
//! invocation; when that process exits, its in-flight invocation fails with
//! [`InvokeError::ProcessDied`] instead of hanging until the timeout.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use serde_json::{json, Value};
use tokio::sync::{oneshot, Notify};

use crate::util;

/// Account id used in ARNs, as moto's default account.
pub const ACCOUNT_ID: &str = "123456789012";
/// Region of everything in the harness.
pub const REGION: &str = "us-east-1";

/// Identifies one process polling the emulator.
pub type InstanceId = u64;

/// Why an invocation did not produce a response.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeError {
    /// The function reported an error (`POST .../invocation/{id}/error`): the
    /// `Lambda-Runtime-Function-Error-Type` header and the body (JSON, usually
    /// `{"errorType": ..., "errorMessage": ...}`; a non-JSON body becomes a JSON string).
    Function { error_type: Option<String>, body: Value },
    /// No response within the invocation timeout.
    Timeout(Duration),
    /// The process that took the invocation (or every attached process) exited.
    ProcessDied(String),
}

impl InvokeError {
    /// `errorMessage` of a function error, if any.
    pub fn error_message(&self) -> Option<String> {
        match self {
            InvokeError::Function { body, .. } => Some(
                body.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| body.to_string()),
            ),
            _ => None,
        }
    }
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvokeError::Function { error_type, body } => {
                write!(
                    f,
                    "function error (type {}): {body}",
                    error_type.as_deref().unwrap_or("<none>")
                )
            }
            InvokeError::Timeout(t) => write!(f, "invocation timed out after {t:?}"),
            InvokeError::ProcessDied(why) => write!(f, "function process died: {why}"),
        }
    }
}

impl std::error::Error for InvokeError {}

/// A recorded `POST /2018-06-01/runtime/init/error`.
#[derive(Debug, Clone)]
pub struct InitError {
    /// The instance that posted it (`None` when it came through the primary listener).
    pub instance: Option<InstanceId>,
    /// The `Lambda-Runtime-Function-Error-Type` header.
    pub error_type: Option<String>,
    /// The raw body (normally `{"errorType": ..., "errorMessage": ...}`).
    pub body: String,
}

impl InitError {
    /// `errorMessage` from the JSON body, or the whole body when it is not JSON.
    pub fn message(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| self.body.clone())
    }
}

/// Where one process should point `AWS_LAMBDA_RUNTIME_API`.
#[derive(Debug, Clone, Copy)]
pub struct InstanceEndpoint {
    pub id: InstanceId,
    pub addr: SocketAddr,
}

impl InstanceEndpoint {
    /// The value for `AWS_LAMBDA_RUNTIME_API` (`host:port`).
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }
}

type Outcome = Result<Value, InvokeError>;

struct Pending {
    request_id: String,
    payload: Bytes,
    deadline_ms: u64,
    trace_id: String,
    tx: oneshot::Sender<Outcome>,
}

struct Inflight {
    instance: Option<InstanceId>,
    tx: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct InstanceState {
    alive: bool,
    polled: bool,
    init_failed: bool,
    exit: Option<String>,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<Pending>,
    inflight: HashMap<String, Inflight>,
    instances: HashMap<InstanceId, InstanceState>,
    next_instance: InstanceId,
    init_errors: Vec<InitError>,
    invocations: u64,
}

impl Inner {
    /// When instances were attached and all have exited: why.
    fn all_dead(&self) -> Option<String> {
        if self.instances.is_empty() || self.instances.values().any(|i| i.alive) {
            return None;
        }
        let mut why: Vec<String> = self
            .instances
            .iter()
            .map(|(id, i)| format!("instance {id}: {}", i.exit.as_deref().unwrap_or("exited")))
            .collect();
        why.sort();
        for e in &self.init_errors {
            why.push(format!("init error: {}", e.message()));
        }
        Some(why.join("; "))
    }
}

struct Shared {
    function_name: String,
    function_arn: String,
    state: Mutex<Inner>,
    work: Notify,
}

#[derive(Clone)]
struct Ctx {
    shared: Arc<Shared>,
    instance: Option<InstanceId>,
}

/// Aborts the listener tasks when the last handle to the emulator goes away.
#[derive(Default)]
struct Servers(Mutex<Vec<tokio::task::AbortHandle>>);

impl Drop for Servers {
    fn drop(&mut self) {
        for h in self.0.lock().unwrap().drain(..) {
            h.abort();
        }
    }
}

/// The emulator. Cheap to clone; the servers stop when the last clone is dropped.
#[derive(Clone)]
pub struct RuntimeApi {
    shared: Arc<Shared>,
    servers: Arc<Servers>,
    addr: SocketAddr,
}

impl fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("function", &self.shared.function_name)
            .field("addr", &self.addr)
            .finish()
    }
}

impl RuntimeApi {
    /// Start an emulator for the function named `function_name` on `127.0.0.1:<free port>`.
    pub async fn start(function_name: &str) -> RuntimeApi {
        let shared = Arc::new(Shared {
            function_name: function_name.to_string(),
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"),
            state: Mutex::default(),
            work: Notify::new(),
        });
        let servers = Arc::new(Servers::default());
        let mut api = RuntimeApi {
            shared,
            servers,
            addr: util::any_loopback(),
        };
        api.addr = api.listen(None).await;
        api
    }

    async fn listen(&self, instance: Option<InstanceId>) -> SocketAddr {
        let listener = util::bind(util::any_loopback()).await;
        let addr = listener.local_addr().expect("local_addr");
        let ctx = Ctx {
            shared: self.shared.clone(),
            instance,
        };
        let app = router(ctx);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        self.servers.0.lock().unwrap().push(task.abort_handle());
        addr
    }

    /// The primary listener (`host:port`). Processes should rather use [`Self::attach_instance`].
    pub fn runtime_api(&self) -> String {
        self.addr.to_string()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn function_name(&self) -> &str {
        &self.shared.function_name
    }

    pub fn function_arn(&self) -> &str {
        &self.shared.function_arn
    }

    /// A dedicated listener for one more process (instance) of this function.
    pub async fn attach_instance(&self) -> InstanceEndpoint {
        let id = {
            let mut st = self.shared.state.lock().unwrap();
            st.next_instance += 1;
            let id = st.next_instance;
            st.instances.insert(
                id,
                InstanceState {
                    alive: true,
                    ..Default::default()
                },
            );
            id
        };
        let addr = self.listen(Some(id)).await;
        InstanceEndpoint { id, addr }
    }

    /// Tell the emulator an instance's process has exited (the `function` module does this).
    /// Its in-flight invocation fails; if no instance is left alive, queued invocations fail too.
    pub fn instance_exited(&self, id: InstanceId, description: &str) {
        let mut st = self.shared.state.lock().unwrap();
        if let Some(inst) = st.instances.get_mut(&id) {
            inst.alive = false;
            inst.exit = Some(description.to_string());
        }
        let orphaned: Vec<String> = st
            .inflight
            .iter()
            .filter(|(_, f)| f.instance == Some(id))
            .map(|(k, _)| k.clone())
            .collect();
        for request_id in orphaned {
            if let Some(f) = st.inflight.remove(&request_id) {
                let _ = f.tx.send(Err(InvokeError::ProcessDied(format!(
                    "instance {id} exited during invocation {request_id}: {description}"
                ))));
            }
        }
        if let Some(why) = st.all_dead() {
            for p in st.queue.drain(..) {
                let _ = p.tx.send(Err(InvokeError::ProcessDied(why.clone())));
            }
        }
        drop(st);
        // Wake pollers of that instance so they see the state change.
        self.shared.work.notify_waiters();
    }

    /// Whether an instance has polled `/next` at least once (finished its init).
    /// `Err` with the exit description when it exited instead.
    pub fn instance_state(&self, id: InstanceId) -> Result<bool, String> {
        let st = self.shared.state.lock().unwrap();
        match st.instances.get(&id) {
            Some(i) if i.polled => Ok(true),
            Some(i) if !i.alive => Err(i.exit.clone().unwrap_or_else(|| "exited".into())),
            Some(_) => Ok(false),
            None => Err(format!("unknown instance {id}")),
        }
    }

    /// Wait until the instance polls `/next` (ready for invocations). `Err` if it exits first
    /// or does not get there within `timeout`.
    pub async fn wait_ready(&self, id: InstanceId, timeout: Duration) -> Result<(), String> {
        let res = util::wait_for(timeout, || async {
            match self.instance_state(id) {
                Ok(true) => Some(Ok(())),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            }
        })
        .await;
        match res {
            Some(r) => r.map_err(|e| {
                let init: Vec<String> = self.init_errors().iter().map(InitError::message).collect();
                format!("instance {id} exited before polling for work ({e}); init errors: {init:?}")
            }),
            None => Err(format!("instance {id} did not poll /next within {timeout:?}")),
        }
    }

    /// Invoke the function synchronously (RequestResponse) with a JSON payload.
    pub async fn invoke(&self, payload: Value, timeout: Duration) -> Result<Value, InvokeError> {
        let bytes = Bytes::from(serde_json::to_vec(&payload).expect("serialize payload"));
        self.invoke_bytes(bytes, timeout).await
    }

    /// Invoke with raw payload bytes (they should be JSON, as on Lambda).
    pub async fn invoke_bytes(&self, payload: Bytes, timeout: Duration) -> Result<Value, InvokeError> {
        let (tx, rx) = oneshot::channel();
        let request_id = uuid::Uuid::new_v4().to_string();
        {
            let mut st = self.shared.state.lock().unwrap();
            if let Some(why) = st.all_dead() {
                return Err(InvokeError::ProcessDied(why));
            }
            st.invocations += 1;
            st.queue.push_back(Pending {
                request_id,
                payload,
                deadline_ms: util::now_ms() + timeout.as_millis() as u64,
                trace_id: trace_id(),
                tx,
            });
        }
        self.shared.work.notify_waiters();
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(InvokeError::ProcessDied("the emulator dropped the invocation".into())),
            // The receiver is dropped: a queued invocation is then skipped by /next, and a late
            // response for an in-flight one is accepted and discarded.
            Err(_) => Err(InvokeError::Timeout(timeout)),
        }
    }

    /// All init errors posted so far.
    pub fn init_errors(&self) -> Vec<InitError> {
        self.shared.state.lock().unwrap().init_errors.clone()
    }

    /// Wait for the first init error (`None` if none arrives within `timeout`).
    pub async fn wait_for_init_error(&self, timeout: Duration) -> Option<InitError> {
        util::wait_for(timeout, || async { self.init_errors().into_iter().next() }).await
    }

    /// Number of invocations submitted so far.
    pub fn invocation_count(&self) -> u64 {
        self.shared.state.lock().unwrap().invocations
    }
}

fn trace_id() -> String {
    let r = uuid::Uuid::new_v4().simple().to_string();
    let p = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        util::now_ms() / 1000,
        &r[..24],
        &p[..16]
    )
}

fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(ctx)
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (status, Json(json!({"errorMessage": message, "errorType": error_type}))).into_response()
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, Json(json!({"status": "OK"}))).into_response()
}

async fn next(State(ctx): State<Ctx>) -> Response {
    loop {
        let notified = ctx.shared.work.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut st = ctx.shared.state.lock().unwrap();
            if let Some(id) = ctx.instance {
                let inst = st.instances.entry(id).or_default();
                if !inst.alive {
                    // A poll left over from a process that has exited: never hand it work.
                    return api_error(StatusCode::GONE, "InstanceExited", "the instance has exited");
                }
                inst.polled = true;
                if inst.init_failed {
                    return api_error(
                        StatusCode::FORBIDDEN,
                        "InvalidStateTransition",
                        "the runtime reported an init error and must exit",
                    );
                }
            }
            while let Some(p) = st.queue.pop_front() {
                if p.tx.is_closed() {
                    continue; // the caller already gave up (timeout)
                }
                let mut resp = Response::new(Body::from(p.payload));
                let h = resp.headers_mut();
                h.insert("content-type", HeaderValue::from_static("application/json"));
                h.insert(
                    "lambda-runtime-aws-request-id",
                    HeaderValue::from_str(&p.request_id).unwrap(),
                );
                h.insert("lambda-runtime-deadline-ms", HeaderValue::from(p.deadline_ms));
                h.insert(
                    "lambda-runtime-invoked-function-arn",
                    HeaderValue::from_str(&ctx.shared.function_arn).unwrap(),
                );
                h.insert("lambda-runtime-trace-id", HeaderValue::from_str(&p.trace_id).unwrap());
                st.inflight.insert(
                    p.request_id,
                    Inflight {
                        instance: ctx.instance,
                        tx: p.tx,
                    },
                );
                return resp;
            }
        }
        notified.await;
    }
}

fn complete(ctx: &Ctx, request_id: &str, outcome: Outcome) -> Response {
    let inflight = ctx.shared.state.lock().unwrap().inflight.remove(request_id);
    match inflight {
        Some(f) => {
            let _ = f.tx.send(outcome); // the caller may have timed out: discard
            accepted()
        }
        None => api_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestID",
            "unknown or completed request id",
        ),
    }
}

fn json_or_string(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

async fn response(State(ctx): State<Ctx>, Path(id): Path<String>, headers: HeaderMap, body: Body) -> Response {
    let collected = match body.collect().await {
        Ok(c) => c,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "InvalidRequest", &e.to_string()),
    };
    let trailers = collected.trailers().cloned();
    let bytes = collected.to_bytes();
    let streaming = header_str(&headers, "lambda-runtime-function-response-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("streaming"));
    let outcome = if streaming {
        decode_streaming(&headers, trailers.as_ref(), &bytes)
    } else {
        Ok(json_or_string(&bytes))
    };
    complete(&ctx, &id, outcome)
}

/// A streamed response: for HTTP integrations, a JSON prelude (`statusCode`, `headers`,
/// `cookies`), 8 NUL bytes, then the body. Returned in the buffered function URL shape with a
/// base64 body, so callers see one format. Errors arrive as trailers.
fn decode_streaming(headers: &HeaderMap, trailers: Option<&HeaderMap>, bytes: &[u8]) -> Outcome {
    if let Some(t) = trailers {
        if let Some(error_type) = header_str(t, "lambda-runtime-function-error-type") {
            let body = header_str(t, "lambda-runtime-function-error-body")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .map(|b| json_or_string(&b))
                .unwrap_or(Value::Null);
            return Err(InvokeError::Function {
                error_type: Some(error_type),
                body,
            });
        }
    }
    let http_integration = header_str(headers, "content-type")
        .is_some_and(|c| c.starts_with("application/vnd.awslambda.http-integration-response"));
    if !http_integration {
        return Ok(json_or_string(bytes));
    }
    let sep = bytes.windows(8).position(|w| w == [0u8; 8]);
    let (prelude, body) = match sep {
        Some(i) => (&bytes[..i], &bytes[i + 8..]),
        None => (bytes, &[][..]),
    };
    let mut out = serde_json::from_slice::<Value>(prelude).unwrap_or_else(|_| json!({}));
    if !out.is_object() {
        out = json!({});
    }
    out["body"] = Value::String(base64::engine::general_purpose::STANDARD.encode(body));
    out["isBase64Encoded"] = Value::Bool(true);
    Ok(out)
}

async fn error(State(ctx): State<Ctx>, Path(id): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let error_type = header_str(&headers, "lambda-runtime-function-error-type");
    let outcome = Err(InvokeError::Function {
        error_type,
        body: json_or_string(&body),
    });
    complete(&ctx, &id, outcome)
}

async fn init_error(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> Response {
    let record = InitError {
        instance: ctx.instance,
        error_type: header_str(&headers, "lambda-runtime-function-error-type"),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let mut st = ctx.shared.state.lock().unwrap();
    if let Some(id) = ctx.instance {
        st.instances.entry(id).or_default().init_failed = true;
    }
    st.init_errors.push(record);
    accepted()
}
