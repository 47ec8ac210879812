//! Routing: finding a request's route, the view filters look at, input mapping and FIFO groups.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::{
    config::{InputMapping, Route, ValueSource},
    filter::Filter,
    inbound::verify::Verified,
};

/// Paths are matched exactly, except that one trailing slash does not make a different route
/// (the rule lives in config, whose cold-start check of duplicate routes applies it too).
pub use crate::config::normalize_path;

/// Routes by normalised path, built once at cold start.
pub struct RouteTable<T> {
    routes: HashMap<String, T>,
}

impl<T> RouteTable<T> {
    /// The table of `(path, route)` entries; one trailing slash is ignored.
    pub fn new(entries: impl IntoIterator<Item = (String, T)>) -> Self {
        RouteTable {
            routes: entries
                .into_iter()
                .map(|(path, t)| (normalize_path(&path).to_owned(), t))
                .collect(),
        }
    }

    /// The route of a request path, if any.
    pub fn get(&self, path: &str) -> Option<&T> {
        self.routes.get(normalize_path(path))
    }
}

/// A verified request as filters and input templates see it. The body is parsed only when an
/// input mapping or message group needs it, and at most once; a filter parses only the top-level
/// fields it reads (a webhook body can be hundreds of KiB of which a filter reads one field).
pub struct RequestView<'a> {
    verified: &'a Verified<'a>,
    path: &'a str,
    body: OnceLock<Option<Value>>,
}

/// Why a route's input mapping could not be applied (the ingress answers 400).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    /// The mapping reads the body as JSON and it is not.
    #[error("input mapping needs a JSON body")]
    BodyNotJson,
}

impl<'a> RequestView<'a> {
    /// The view of `verified`, received on `path`.
    pub fn new(verified: &'a Verified<'a>, path: &'a str) -> Self {
        RequestView {
            verified,
            path,
            body: OnceLock::new(),
        }
    }

    fn body(&self) -> Option<&Value> {
        self.body.get_or_init(|| parse_body(self.verified)).as_ref()
    }

    /// Whether the request passes `filter`.
    pub fn passes(&self, filter: &Filter) -> bool {
        let body = match self.body.get() {
            Some(parsed) => parsed.clone(),
            None => crate::inbound::json::top_level_fields(self.verified.body(), |key| filter.reads_body_field(key))
                .or_else(|| parse_body(self.verified)),
        };
        // Only the headers and query parameters the filter reads are copied into its event.
        filter.matches(&self.event(body, |part, key| filter.reads(part, key)))
    }

    /// `{"method", "path", "query": {..}, "headers": {..}, "body": ..}` for [`crate::filter::Filter`],
    /// with the whole body.
    pub fn filter_event(&self) -> Value {
        self.event(self.body().cloned(), |_, _| true)
    }

    /// The event with the headers and query parameters `wanted(part, name)` accepts.
    fn event(&self, body: Option<Value>, wanted: impl Fn(&str, &str) -> bool) -> Value {
        let mut event = Map::new();
        event.insert("method".into(), self.verified.method().as_str().into());
        event.insert("path".into(), self.path.into());
        let mut query = Map::new();
        for (name, value) in form_pairs(self.verified.query().unwrap_or("")) {
            if wanted("query", &name) {
                query.entry(name).or_insert(Value::String(value));
            }
        }
        event.insert("query".into(), Value::Object(query));
        let mut headers = Map::new();
        for (name, value) in self.verified.headers() {
            if let (Ok(value), true) = (value.to_str(), wanted("headers", name.as_str())) {
                headers.entry(name.as_str()).or_insert_with(|| value.into());
            }
        }
        event.insert("headers".into(), Value::Object(headers));
        if let Some(body) = body {
            event.insert("body".into(), body);
        }
        Value::Object(event)
    }

    fn value_of(&self, source: &ValueSource) -> Value {
        match source {
            ValueSource::Pointer(pointer) => self
                .body()
                .and_then(|b| b.pointer(pointer))
                .cloned()
                .unwrap_or(Value::Null),
            ValueSource::Header(name) => self
                .verified
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map_or(Value::Null, Value::from),
            // The first occurrence, as in the filter event.
            ValueSource::Query(name) => form_pairs(self.verified.query().unwrap_or(""))
                .find(|(key, _)| key == name)
                .map_or(Value::Null, |(_, value)| Value::String(value)),
            ValueSource::Method => self.verified.method().as_str().into(),
            ValueSource::Path => self.path.into(),
            ValueSource::DeliveryId => self.verified.delivery_id().map_or(Value::Null, Value::from),
        }
    }

    /// The bytes the target receives. `None` means the raw body, unchanged (no copy).
    pub fn input(&self, mapping: &InputMapping) -> Result<Option<Vec<u8>>, InputError> {
        let value = match mapping {
            InputMapping::Body => return Ok(None),
            InputMapping::Pointer(pointer) => {
                let body = self.body().ok_or(InputError::BodyNotJson)?;
                body.pointer(pointer).cloned().unwrap_or(Value::Null)
            }
            InputMapping::Template(fields) => {
                if self.body().is_none() && fields.iter().any(|(_, s)| matches!(s, ValueSource::Pointer(_))) {
                    return Err(InputError::BodyNotJson);
                }
                Value::Object(
                    fields
                        .iter()
                        .map(|(name, source)| (name.clone(), self.value_of(source)))
                        .collect(),
                )
            }
        };
        Ok(Some(
            serde_json::to_vec(&value).expect("a JSON value always serialises"),
        ))
    }

    /// The FIFO message group for this request: the route's `message_group`, else its path.
    pub fn message_group(&self, route: &Route) -> String {
        let group = route.message_group.as_ref().map(|s| match self.value_of(s) {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        });
        // SQS: 1-128 characters of alphanumerics and punctuation.
        let group: String = group
            .unwrap_or_else(|| route.path.clone())
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(128)
            .collect();
        if group.is_empty() {
            route.path.clone()
        } else {
            group
        }
    }
}

/// The JSON body, or a form body as an object of its fields, or nothing.
fn parse_body(verified: &Verified<'_>) -> Option<Value> {
    let body = verified.body();
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Some(value);
    }
    let is_form = verified
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let text = std::str::from_utf8(body).ok().filter(|_| is_form)?;
    let mut fields = Map::new();
    for (name, value) in form_pairs(text) {
        fields.entry(name).or_insert(Value::String(value));
    }
    Some(Value::Object(fields))
}

fn form_pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k), form_decode(v))
    })
}

fn form_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        config::Config,
        inbound::verify::{testing::*, SystemClock, Verifier},
    };

    fn route(extra: &str) -> Route {
        let text = format!("[[route]]\npath = \"/hooks/x\"\nverify = \"none\"\nalgorithm = \"a/b\"\n{extra}");
        Config::from_toml(&text).unwrap().routes.remove(0)
    }

    fn with_view<R>(body: &[u8], pairs: &[(&str, &str)], f: impl FnOnce(&RequestView<'_>) -> R) -> R {
        let h = headers(pairs);
        let mut request = post(&h, body);
        request.query = Some("a=1&b=x+y");
        let verifier = Verifier::none_for_tests();
        let verified = delivered(verifier.verify(request, &SystemClock)).unwrap();
        f(&RequestView::new(&verified, "/hooks/x"))
    }

    #[test]
    fn paths_ignore_one_trailing_slash() {
        let table = RouteTable::new([("/hooks/a/".to_owned(), 1), ("/".to_owned(), 2)]);
        assert_eq!(table.get("/hooks/a"), Some(&1));
        assert_eq!(table.get("/hooks/a/"), Some(&1));
        assert_eq!(table.get("/"), Some(&2));
        assert_eq!(table.get("/hooks/a//"), None);
        assert_eq!(table.get("/hooks"), None);
    }

    #[test]
    fn a_filter_given_only_the_fields_it_reads_decides_as_on_the_whole_request() {
        let filters = [
            r#"{"body": {"ref": ["refs/heads/main"]}}"#,
            r#"{"body": {"repository": {"name": [{"prefix": "app"}]}}}"#,
            r#"{"body": {"ref": [{"exists": false}]}}"#,
            r#"{"body": {"ref.x": ["y"]}}"#,
            r#"{"headers": {"x-github-event": ["push"]}}"#,
            r#"{"headers": {"x-github-event": [{"exists": false}]}}"#,
            r#"{"headers": {"x-absent": [{"exists": false}]}, "query": {"a": ["1"]}}"#,
            r#"{"headers": {"content-type": [{"prefix": "application/json"}]}, "method": ["POST"]}"#,
            r#"{"query": {"b": [{"prefix": "x"}], "c": [{"exists": false}]}, "path": ["/hooks/x"]}"#,
            r#"{"$or": [{"query": {"a": ["2"]}}, {"headers": {"x-github-event": [{"anything-but": "push"}]}}]}"#,
            r#"{"$or": [{"body": {"n": [{"numeric": [">", 5]}]}}, {"body": {"ref": ["refs/heads/dev"]}}]}"#,
        ];
        let bodies: [&[u8]; 14] = [
            br#"{"ref":"refs/heads/main","big":[1,2,{"deep":"x"}],"repository":{"name":"app-1"}}"#,
            br#"{"ref":"refs/heads/dev","n":7,"ref.x":"y"}"#,
            br#"{"ref":"refs/heads/old","ref":"refs/heads/main"}"#,
            br#"{"other":true}"#,
            br#"["refs/heads/main"]"#,
            b"ref=refs%2Fheads%2Fmain&n=9",
            b"not json",
            br#"{"ref":"refs/heads/main"} trailing"#,
            // Not JSON to a full parse, in a field no filter reads: invalid UTF-8, a lone
            // surrogate escape, a number out of range, a form-looking body with invalid UTF-8.
            b"{\"ref\":\"refs/heads/main\",\"big\":\"\xff\"}",
            b"{\"ref\":\"refs/heads/main\",\"big\":[\"\xed\xa0\x80\"]}",
            br#"{"ref":"refs/heads/main","big":"\ud800"}"#,
            br#"{"ref":"refs/heads/main","big":{"\udc00":1}}"#,
            br#"{"ref":"refs/heads/main","n":1e999}"#,
            b"ref=refs%2Fheads%2Fmain&x=\xff",
        ];
        for pattern in filters {
            let filter = Filter::compile(&serde_json::from_str(pattern).unwrap()).unwrap();
            for body in bodies {
                for content_type in ["application/json", "application/x-www-form-urlencoded"] {
                    let pairs = [("x-github-event", "push"), ("content-type", content_type)];
                    let (fast, whole) =
                        with_view(body, &pairs, |v| (v.passes(&filter), filter.matches(&v.filter_event())));
                    assert_eq!(
                        fast,
                        whole,
                        "{pattern} on {:?} ({content_type})",
                        String::from_utf8_lossy(body)
                    );
                }
            }
        }
    }

    /// The issue's case: a body input mapping refuses as not JSON is not JSON to a filter either,
    /// so it is not queued on the strength of the fields the filter happened to read.
    #[test]
    fn a_body_that_is_not_json_to_input_mapping_is_not_json_to_a_filter() {
        let filter = Filter::compile(&serde_json::json!({"body": {"ref": ["refs/heads/main"]}})).unwrap();
        let absent = Filter::compile(&serde_json::json!({"body": {"ref": [{"exists": false}]}})).unwrap();
        let pointer = route("input = \"/ref\"").input;
        for body in [
            &b"{\"ref\":\"refs/heads/main\",\"note\":\"caf\xe9\"}"[..],
            br#"{"ref":"refs/heads/main","note":"\ud83d"}"#,
            br#"{"ref":"refs/heads/main","size":1e400}"#,
        ] {
            let (passes, absent, input) =
                with_view(body, &[], |v| (v.passes(&filter), v.passes(&absent), v.input(&pointer)));
            let shown = String::from_utf8_lossy(body);
            assert_eq!(input, Err(InputError::BodyNotJson), "{shown}");
            assert!(!passes, "{shown} passed a filter on a body field");
            assert!(absent, "{shown}: a body that is not JSON has no `ref`");
        }
    }

    #[test]
    fn the_filter_event_has_every_part() {
        let event = with_view(br#"{"ref":"refs/heads/main"}"#, &[("x-github-event", "push")], |v| {
            v.filter_event()
        });
        assert_eq!(
            event,
            serde_json::json!({
                "method": "POST", "path": "/hooks/x", "query": {"a": "1", "b": "x y"},
                "headers": {"x-github-event": "push"}, "body": {"ref": "refs/heads/main"}
            })
        );
        let form = with_view(
            b"Digits=1234&From=%2B1",
            &[("content-type", "application/x-www-form-urlencoded")],
            |v| v.filter_event(),
        );
        assert_eq!(form["body"], serde_json::json!({"Digits": "1234", "From": "+1"}));
        let binary = with_view(&[0xff, 0x00], &[], |v| v.filter_event());
        assert!(binary.get("body").is_none());
    }

    #[test]
    fn input_mappings() {
        let body = br#"{"repository":{"full_name":"o/r"},"n":[1,2]}"#;
        let pairs = [("x-github-event", "push")];
        assert_eq!(with_view(body, &pairs, |v| v.input(&InputMapping::Body)), Ok(None));
        let pointer = route("input = \"/repository\"").input;
        assert_eq!(
            with_view(body, &pairs, |v| v.input(&pointer)).unwrap().unwrap(),
            br#"{"full_name":"o/r"}"#
        );
        let missing = route("input = \"/nope\"").input;
        assert_eq!(
            with_view(body, &pairs, |v| v.input(&missing)).unwrap().unwrap(),
            b"null"
        );
        let template = route(
            "input = { repo = \"/repository/full_name\", event = \"header:x-github-event\", q = \"query:b\", m = \"method\" }",
        )
        .input;
        let out = with_view(body, &pairs, |v| v.input(&template)).unwrap().unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            serde_json::json!({"repo": "o/r", "event": "push", "q": "x y", "m": "POST"})
        );
        assert_eq!(
            with_view(b"not json", &pairs, |v| v.input(&pointer)),
            Err(InputError::BodyNotJson)
        );
        let headers_only = route("input = { event = \"header:x-github-event\" }").input;
        assert!(with_view(b"not json", &pairs, |v| v.input(&headers_only)).is_ok());
    }

    #[test]
    fn message_groups() {
        let by_repo = route("message_group = \"/repository/full_name\"");
        let body = br#"{"repository":{"full_name":"o/r"}}"#;
        assert_eq!(with_view(body, &[], |v| v.message_group(&by_repo)), "o/r");
        assert_eq!(with_view(b"{}", &[], |v| v.message_group(&by_repo)), "/hooks/x");
        assert_eq!(with_view(body, &[], |v| v.message_group(&route(""))), "/hooks/x");
    }
}
