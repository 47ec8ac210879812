//! The function URL event (payload format 2.0) as an HTTP request, and the HTTP answer back as a
//! function URL response. Pure: no I/O, no clock, no environment.
//!
//! The ingress does this itself instead of through `lambda_http`, whose conversion panics before
//! any handler runs on inputs a client or a direct invoke can send (docs/behaviour.md, "Known library
//! bugs worked around"): a raw query string with bytes `http::Uri` refuses, a `host` header or
//! `rawPath` that do not form a URL, and a body flagged base64 that is not. Here it is lenient
//! wherever the meaning is plain and a terse [`BadRequest`] only where it is not:
//!
//! - the query string is kept **byte for byte** as the sender wrote it ([`RawQuery`], read with
//!   [`raw_query`]): schemes that sign the URL (Twilio), filters and `query:` mapping see exactly
//!   that. The request's `Uri` carries it too when `http::Uri` can hold it, else percent-encoded;
//! - the path is normalised as `lambda_http` did (a URL path: dot segments resolved, bytes a
//!   path may not hold percent-encoded), but never fails: the `host` header is not used at all,
//!   so a bad one breaks nothing hookrelay does not need;
//! - `cookies` become one `Cookie` header (`; `-joined), as `lambda_http` did;
//! - a body flagged `isBase64Encoded` that is not base64, a missing or invalid method, or a path
//!   too long for any URI cannot be interpreted: [`BadRequest`].
//!
//! The response keeps `lambda_http`'s shape: `Set-Cookie` headers move to `cookies`, a text body
//! is sent as text, a binary body base64-encoded.

use std::sync::LazyLock;

use aws_lambda_events::{
    encodings::Body,
    event::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse},
};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use http::{
    header::{COOKIE, SET_COOKIE},
    uri::PathAndQuery,
    HeaderMap, HeaderValue, Method, Request, Response, Uri,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// The query string exactly as received (`rawQueryString`), as a request extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawQuery(pub String);

/// A request that cannot be interpreted; answered `400 {"error": <reason>}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRequest(pub &'static str);

impl std::fmt::Display for BadRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BadRequest {}

/// Bytes `http::Uri` refuses in a query (controls, space, `"`, `#`, `<`, `>`, DEL); non-ASCII
/// is encoded too by [`utf8_percent_encode`].
const QUERY_UNSAFE: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');

/// The base the path is normalised against; only its path is ever used.
static PATH_BASE: LazyLock<url::Url> =
    LazyLock::new(|| url::Url::parse("https://function-url.invalid/").expect("a constant, valid URL"));

/// The function URL event as the HTTP request it describes. The body is the raw bytes (decoded
/// when the event says base64).
pub fn into_request(event: LambdaFunctionUrlRequest) -> Result<Request<Vec<u8>>, BadRequest> {
    let method = event
        .request_context
        .http
        .method
        .as_deref()
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or(BadRequest("invalid method"))?;
    let raw_path = event
        .raw_path
        .as_deref()
        .or(event.request_context.http.path.as_deref())
        .unwrap_or("/");
    let raw_query = event.raw_query_string.filter(|q| !q.is_empty());
    let uri = request_uri(&normalised_path(raw_path), raw_query.as_deref())?;
    let body = match (event.body, event.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(text), false) => text.into_bytes(),
        (Some(encoded), true) => BASE64
            .decode(encoded.as_bytes())
            .map_err(|_| BadRequest("body is not valid base64"))?,
    };
    let mut headers = event.headers;
    if let Some(cookies) = event.cookies.filter(|c| !c.is_empty()) {
        if let Ok(value) = HeaderValue::from_str(&cookies.join("; ")) {
            headers.insert(COOKIE, value);
        }
    }
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    if let Some(query) = raw_query {
        request.extensions_mut().insert(RawQuery(query));
    }
    Ok(request)
}

/// The query string as the sender wrote it (`None` when there is none): the one to verify,
/// filter and map, never `uri().query()`, which may be an encoded copy.
pub fn raw_query(extensions: &http::Extensions) -> Option<&str> {
    extensions.get::<RawQuery>().map(|q| q.0.as_str())
}

/// Replaces the event's `x-amzn-trace-id` with the invocation's own (`Lambda-Runtime-Trace-Id`),
/// as `lambda_http` did.
pub fn set_trace_id(headers: &mut HeaderMap, trace_id: Option<&str>) {
    if let Some(value) = trace_id.and_then(|t| HeaderValue::from_str(t).ok()) {
        headers.insert("x-amzn-trace-id", value);
    }
}

/// A URL path as `lambda_http` built it (the WHATWG URL path of `https://<host><rawPath>`), but
/// against a fixed host, so no `host` header or `rawPath` can make it fail.
fn normalised_path(raw_path: &str) -> String {
    let mut url = PATH_BASE.clone();
    url.set_path(raw_path);
    url.path().to_owned()
}

fn request_uri(path: &str, query: Option<&str>) -> Result<Uri, BadRequest> {
    if let Some(query) = query {
        // As sent when `http::Uri` can hold it unchanged (it silently drops what follows a `#`).
        if let Ok(pq) = PathAndQuery::try_from(format!("{path}?{query}")) {
            if pq.query() == Some(query) {
                return Ok(pq.into());
            }
        }
        let encoded = utf8_percent_encode(query, QUERY_UNSAFE);
        if let Ok(pq) = PathAndQuery::try_from(format!("{path}?{encoded}")) {
            return Ok(pq.into());
        }
        // Too long for a URI with its query: the path alone still routes; the query stays in
        // the `RawQuery` extension.
    }
    PathAndQuery::try_from(path)
        .map(Uri::from)
        .map_err(|_| BadRequest("request path too long"))
}

/// The handler's answer as the function URL response.
pub fn into_response(response: Response<Body>) -> LambdaFunctionUrlResponse {
    let (parts, body) = response.into_parts();
    let (body, is_base64_encoded) = match body {
        Body::Text(text) => (Some(text), false),
        Body::Binary(bytes) => (Some(BASE64.encode(bytes)), true),
        // An empty string rather than `"body": null`, which this type would serialise.
        _ => (Some(String::new()), false),
    };
    let mut headers = parts.headers;
    // Function URLs take cookies in their own field, not as `Set-Cookie` headers.
    let cookies = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    headers.remove(SET_COOKIE);
    let mut out = LambdaFunctionUrlResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = single_valued(headers);
    out.body = body;
    out.is_base64_encoded = is_base64_encoded;
    out.cookies = cookies;
    out
}

/// The response's `headers` field holds one string per name (its serialiser writes only the
/// first value, and fails on one that is not UTF-8): repeated values are comma-joined, as
/// HTTP allows, and values that are not UTF-8 are dropped rather than failing the answer.
fn single_valued(headers: HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let values: Vec<&str> = headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        let joined = match values.as_slice() {
            [] => continue,
            [one] => HeaderValue::from_str(one),
            many => HeaderValue::from_str(&many.join(", ")),
        };
        if let Ok(value) = joined {
            out.insert(name.clone(), value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// A function URL event as AWS sends it, with `overrides` merged in at the top level.
    fn event(overrides: Value) -> LambdaFunctionUrlRequest {
        let mut event = json!({
            "version": "2.0",
            "rawPath": "/hooks/github",
            "rawQueryString": "",
            "headers": {"host": "abc.lambda-url.us-east-1.on.aws", "content-type": "application/json"},
            "requestContext": {
                "accountId": "anonymous",
                "domainName": "abc.lambda-url.us-east-1.on.aws",
                "http": {"method": "POST", "path": "/hooks/github", "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "curl/8"},
                "requestId": "id",
                "timeEpoch": 1_700_000_000_000_i64
            },
            "body": "{\"a\":1}",
            "isBase64Encoded": false
        });
        for (key, value) in overrides.as_object().unwrap() {
            event[key] = value.clone();
        }
        serde_json::from_value(event).unwrap()
    }

    #[test]
    fn a_normal_event_becomes_its_request() {
        let request = into_request(event(json!({"rawQueryString": "a=1&b=two"}))).unwrap();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/hooks/github?a=1&b=two");
        assert_eq!(raw_query(request.extensions()), Some("a=1&b=two"));
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(request.body(), br#"{"a":1}"#);
        let no_query = into_request(event(json!({}))).unwrap();
        assert_eq!((no_query.uri().query(), raw_query(no_query.extensions())), (None, None));
    }

    #[test]
    fn the_sample_event_in_events_reads() {
        let event: LambdaFunctionUrlRequest =
            serde_json::from_str(include_str!("../../../events/ingress-github.json")).unwrap();
        let request = into_request(event).unwrap();
        assert_eq!(
            (request.method(), request.uri().path()),
            (&Method::POST, "/hooks/github")
        );
        assert!(request.headers().contains_key("x-hub-signature-256"));
    }

    #[test]
    fn query_strings_a_uri_cannot_hold_are_kept_byte_exact() {
        for query in [
            "a=\"b\"",
            "q=<x>",
            "q=a b",
            "q=\u{7f}",
            "a=1#frag",
            "name=José",
            "x=%zz",
        ] {
            let request = into_request(event(json!({ "rawQueryString": query }))).unwrap();
            assert_eq!(raw_query(request.extensions()), Some(query), "{query:?}");
            assert_eq!(request.uri().path(), "/hooks/github");
            assert!(request.uri().query().is_some(), "{query:?} is in the URI, encoded");
        }
        let encoded = into_request(event(json!({"rawQueryString": "a=\"b\" <c>"}))).unwrap();
        assert_eq!(encoded.uri().query(), Some("a=%22b%22%20%3Cc%3E"));
    }

    #[test]
    fn a_bad_host_or_raw_path_does_not_stop_the_request() {
        let bad_host = event(json!({"headers": {"host": "[::1"}}));
        assert_eq!(into_request(bad_host).unwrap().uri().path(), "/hooks/github");
        let bad_path = into_request(event(json!({"rawPath": ":99999/x"}))).unwrap();
        assert_eq!(bad_path.uri().path(), "/:99999/x");
        let proto = event(json!({"headers": {"x-forwarded-proto": "not a scheme"}}));
        assert_eq!(into_request(proto).unwrap().uri().path(), "/hooks/github");
    }

    #[test]
    fn paths_are_normalised_as_lambda_http_did() {
        for (raw, path) in [
            ("/hooks/./github", "/hooks/github"),
            ("/hooks/x/../github", "/hooks/github"),
            ("/a b/\"q\"", "/a%20b/%22q%22"),
            ("/caf\u{e9}", "/caf%C3%A9"),
            ("", "/"),
            ("/p?x#y", "/p%3Fx%23y"),
        ] {
            let request = into_request(event(json!({ "rawPath": raw }))).unwrap();
            assert_eq!(request.uri().path(), path, "{raw:?}");
        }
    }

    #[test]
    fn bodies_are_decoded_when_base64_and_refused_when_not() {
        let binary = event(json!({"body": "/wD+", "isBase64Encoded": true}));
        assert_eq!(into_request(binary).unwrap().body(), &[0xff, 0x00, 0xfe]);
        let empty = event(json!({"body": null}));
        assert!(into_request(empty).unwrap().body().is_empty());
        for body in ["not base64!", "YQ", "\u{e9}"] {
            let bad = event(json!({"body": body, "isBase64Encoded": true}));
            assert_eq!(into_request(bad).unwrap_err(), BadRequest("body is not valid base64"));
        }
    }

    #[test]
    fn a_missing_or_invalid_method_cannot_be_interpreted() {
        let mut no_method = event(json!({}));
        no_method.request_context.http.method = None;
        assert_eq!(into_request(no_method).unwrap_err(), BadRequest("invalid method"));
        let mut bad = event(json!({}));
        bad.request_context.http.method = Some("GE T".into());
        assert_eq!(into_request(bad).unwrap_err(), BadRequest("invalid method"));
    }

    #[test]
    fn a_path_too_long_for_a_uri_is_a_bad_request_and_a_long_query_stays_raw() {
        let long_path = event(json!({"rawPath": format!("/{}", "a".repeat(70_000))}));
        assert_eq!(
            into_request(long_path).unwrap_err(),
            BadRequest("request path too long")
        );
        let query = format!("q={}", "<".repeat(30_000));
        let request = into_request(event(json!({ "rawQueryString": query }))).unwrap();
        assert_eq!(raw_query(request.extensions()), Some(query.as_str()));
        assert_eq!(request.uri().path(), "/hooks/github");
    }

    #[test]
    fn cookies_become_one_cookie_header() {
        let request = into_request(event(json!({"cookies": ["a=1", "b=2"]}))).unwrap();
        assert_eq!(request.headers()["cookie"], "a=1; b=2");
    }

    #[test]
    fn the_trace_id_is_the_invocations() {
        let mut headers = HeaderMap::new();
        headers.insert("x-amzn-trace-id", HeaderValue::from_static("Root=event"));
        set_trace_id(&mut headers, Some("Root=1-abc;Parent=def;Sampled=0"));
        assert_eq!(headers["x-amzn-trace-id"], "Root=1-abc;Parent=def;Sampled=0");
        set_trace_id(&mut headers, None);
        assert_eq!(headers["x-amzn-trace-id"], "Root=1-abc;Parent=def;Sampled=0");
    }

    #[test]
    fn responses_keep_lambda_https_shape() {
        let response = Response::builder()
            .status(202)
            .header("content-type", "text/plain")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("vary", "a")
            .header("vary", "b")
            .body(Body::Text("ok".into()))
            .unwrap();
        let out = into_response(response);
        assert_eq!(out.status_code, 202);
        assert_eq!((out.body.as_deref(), out.is_base64_encoded), (Some("ok"), false));
        assert_eq!(out.cookies, ["a=1", "b=2"]);
        assert!(!out.headers.contains_key("set-cookie"));
        assert_eq!(out.headers["vary"], "a, b");
        let serialised = serde_json::to_value(&out).unwrap();
        assert_eq!(
            serialised["headers"],
            json!({"content-type": "text/plain", "vary": "a, b"})
        );

        let binary = into_response(Response::new(Body::Binary(vec![0xff, 0x00])));
        assert_eq!((binary.body.as_deref(), binary.is_base64_encoded), (Some("/wA="), true));
        let empty = into_response(Response::new(Body::Empty));
        assert_eq!((empty.body.as_deref(), empty.status_code), (Some(""), 200));
    }

    #[test]
    fn a_header_that_is_not_utf8_does_not_fail_the_answer() {
        let mut response = Response::new(Body::Empty);
        response
            .headers_mut()
            .insert("x-odd", HeaderValue::from_bytes(&[0xff]).unwrap());
        let out = into_response(response);
        assert!(serde_json::to_value(&out).is_ok());
        assert!(!out.headers.contains_key("x-odd"));
    }
}
