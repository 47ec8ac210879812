//! Lambda function URL gateway: an HTTP server on loopback that turns each request into a
//! function URL event (payload format 2.0), invokes the function through its [`RuntimeApi`],
//! and maps the function's answer back to HTTP, as AWS does for an `AuthType: NONE`,
//! `InvokeMode: BUFFERED` function URL.
//!
//! Request: header names lower-cased, repeated headers comma-joined, `Cookie` moved to
//! `cookies`, the body base64-encoded unless its content type is textual and it is valid
//! UTF-8. Response: `statusCode`/`headers`/`cookies`/`body`/`isBase64Encoded`; a JSON answer
//! without `statusCode` becomes a 200 `application/json` body. A function error, timeout or
//! dead process gives 502; a request over 6 MB gives 413.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::runtime_api::{InvokeError, RuntimeApi, REGION};
use crate::util;

/// Lambda's synchronous invocation payload limit, which applies to function URL requests.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct FunctionUrlConfig {
    /// Where to listen (`127.0.0.1:0` for any free port).
    pub bind: SocketAddr,
    /// The function's timeout.
    pub invoke_timeout: Duration,
}

impl Default for FunctionUrlConfig {
    fn default() -> Self {
        Self {
            bind: util::any_loopback(),
            invoke_timeout: Duration::from_secs(30),
        }
    }
}

/// One request through the gateway, for assertions and failure messages.
#[derive(Clone, Debug)]
pub struct GatewayExchange {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Why the gateway answered 5xx on its own (function error, timeout, dead process).
    pub invoke_error: Option<String>,
}

struct Ctx {
    api: RuntimeApi,
    api_id: String,
    timeout: Duration,
    log: Mutex<Vec<GatewayExchange>>,
}

/// The running gateway. Stops when dropped.
pub struct FunctionUrl {
    addr: SocketAddr,
    ctx: Arc<Ctx>,
    task: tokio::task::AbortHandle,
}

impl Drop for FunctionUrl {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FunctionUrl {
    pub async fn start(api: RuntimeApi, config: FunctionUrlConfig) -> FunctionUrl {
        let listener = util::bind(config.bind).await;
        let addr = listener.local_addr().expect("local_addr");
        let api_id: String = uuid::Uuid::new_v4().simple().to_string();
        let ctx = Arc::new(Ctx {
            api,
            api_id,
            timeout: config.invoke_timeout,
            log: Mutex::default(),
        });
        let app = Router::new().fallback(handle).with_state(ctx.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
        });
        FunctionUrl {
            addr,
            ctx,
            task: task.abort_handle(),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:9000` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The requests served so far.
    pub fn exchanges(&self) -> Vec<GatewayExchange> {
        self.ctx.log.lock().unwrap().clone()
    }
}

async fn handle(State(ctx): State<Arc<Ctx>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (status, resp, invoke_error) = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Err(_) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "{\"Message\":\"Request must be smaller than 6291456 bytes\"}",
            ),
            None,
        ),
        Ok(body) => {
            let event = build_event(&EventInput {
                method: &parts.method,
                uri: &parts.uri,
                version: parts.version,
                headers: &parts.headers,
                body: &body,
                source_ip: &peer.ip().to_string(),
                api_id: &ctx.api_id,
                request_id: &uuid::Uuid::new_v4().to_string(),
            });
            let outcome = ctx.api.invoke(event, ctx.timeout).await;
            let err = outcome.as_ref().err().map(InvokeError::to_string);
            let resp = http_response(outcome);
            (resp.status(), resp, err)
        }
    };
    ctx.log.lock().unwrap().push(GatewayExchange {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        status: status.as_u16(),
        invoke_error,
    });
    resp
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    (status, [("content-type", "application/json")], body).into_response()
}

/// Whether AWS passes a body of this content type as text (otherwise base64).
pub fn is_textual(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return false };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    mime.starts_with("text/")
        || matches!(
            mime.as_str(),
            "application/json" | "application/xml" | "application/javascript" | "application/x-www-form-urlencoded"
        )
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
}

/// What [`build_event`] needs from an HTTP request.
pub struct EventInput<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub version: Version,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub source_ip: &'a str,
    pub api_id: &'a str,
    pub request_id: &'a str,
}

fn decode_component(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Build the function URL event (payload format version 2.0) for a request.
pub fn build_event(input: &EventInput<'_>) -> Value {
    let mut headers = Map::new();
    let mut cookies: Vec<Value> = Vec::new();
    for name in input.headers.keys() {
        let values: Vec<String> = input
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if name.as_str() == "cookie" {
            for v in &values {
                cookies.extend(
                    v.split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(|c| Value::String(c.to_string())),
                );
            }
            continue;
        }
        headers.insert(name.as_str().to_string(), Value::String(values.join(",")));
    }
    let trace = format!(
        "Root=1-{:08x}-{}",
        util::now_ms() / 1000,
        &uuid::Uuid::new_v4().simple().to_string()[..24]
    );
    for (k, v) in [
        ("x-forwarded-for", input.source_ip.to_string()),
        ("x-forwarded-proto", "https".to_string()),
        ("x-forwarded-port", "443".to_string()),
        ("x-amzn-trace-id", trace),
    ] {
        headers.entry(k.to_string()).or_insert(Value::String(v));
    }

    let raw_query = input.uri.query().unwrap_or("");
    let mut query = Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (decode_component(k), decode_component(v));
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }

    let content_type = input.headers.get("content-type").and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    let user_agent = input
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let protocol = match input.version {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    };
    let domain = format!("{}.lambda-url.{REGION}.on.aws", input.api_id);

    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": input.uri.path(),
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": input.api_id,
            "domainName": domain,
            "domainPrefix": input.api_id,
            "http": {
                "method": input.method.as_str(),
                "path": input.uri.path(),
                "protocol": protocol,
                "sourceIp": input.source_ip,
                "userAgent": user_agent,
            },
            "requestId": input.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !input.body.is_empty() {
        match std::str::from_utf8(input.body) {
            Ok(text) if is_textual(content_type) => {
                event["body"] = Value::String(text.to_string());
            }
            _ => {
                event["body"] = Value::String(base64::engine::general_purpose::STANDARD.encode(input.body));
                event["isBase64Encoded"] = Value::Bool(true);
            }
        }
    }
    event
}

/// The event [`build_event`] makes for a request, for tests that then set fields no HTTP client
/// can send through the gateway (a raw query string with `"`, a `host` that is no URL authority,
/// a body flagged base64 that is not) and invoke the function with it directly
/// ([`RuntimeApi::invoke`]). `path_and_query` must be a valid URI path (and query).
pub fn event_for(method: &str, path_and_query: &str, headers: &[(&str, &str)], body: &[u8]) -> Value {
    let method = Method::from_bytes(method.as_bytes()).expect("a valid method");
    let uri: Uri = path_and_query.parse().expect("a valid path and query");
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::try_from(*name).expect("a valid header name"),
            HeaderValue::try_from(*value).expect("a valid header value"),
        );
    }
    build_event(&EventInput {
        method: &method,
        uri: &uri,
        version: Version::HTTP_11,
        headers: &map,
        body,
        source_ip: "127.0.0.1",
        api_id: "edgecases",
        request_id: &uuid::Uuid::new_v4().to_string(),
    })
}

fn bad_gateway() -> Response {
    plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
}

fn value_to_header_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Map a function's answer (or failure) to the HTTP response AWS would send.
pub fn http_response(outcome: Result<Value, InvokeError>) -> Response {
    let value = match outcome {
        Ok(v) => v,
        Err(_) => return bad_gateway(),
    };
    let structured = value.as_object().filter(|o| o.contains_key("statusCode"));
    let Some(obj) = structured else {
        // No statusCode: Lambda infers 200 + application/json with the answer as the body.
        let body = value.to_string();
        return (StatusCode::OK, [("content-type", "application/json")], body).into_response();
    };

    let status = obj
        .get("statusCode")
        .and_then(|s| s.as_u64().or_else(|| s.as_str().and_then(|s| s.parse().ok())))
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok());
    let Some(status) = status else {
        return bad_gateway();
    };

    let body_bytes: Vec<u8> = match obj.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => {
            if obj.get("isBase64Encoded").and_then(Value::as_bool).unwrap_or(false) {
                match base64::engine::general_purpose::STANDARD.decode(s) {
                    Ok(b) => b,
                    Err(_) => return bad_gateway(),
                }
            } else {
                s.clone().into_bytes()
            }
        }
        Some(other) => other.to_string().into_bytes(),
    };

    let mut resp = Response::new(Body::from(Bytes::from(body_bytes)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Some(Value::Object(headers)) = obj.get("headers") {
        for (k, v) in headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::try_from(k.as_str()),
                HeaderValue::try_from(value_to_header_string(v)),
            ) else {
                continue;
            };
            h.append(name, value);
        }
    }
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        for c in cookies {
            if let Ok(v) = HeaderValue::try_from(value_to_header_string(c)) {
                h.append("set-cookie", v);
            }
        }
    }
    if !h.contains_key("content-type") {
        h.insert("content-type", HeaderValue::from_static("application/json"));
    }
    resp
}
