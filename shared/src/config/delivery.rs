//! What happens to a verified request: filter, input mapping, target, mode, acknowledgement,
//! de-duplication, callback; plus the named targets and the S3 rules that refer to them.

use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;

use super::{has_credentials, header_name, AlgorithmPath, ConfigError};
use crate::{
    filter::{json_pattern, Filter},
    foundation::secret::SecretRef,
};

/// The implicit target built from `[downstream]`.
pub const DOWNSTREAM: &str = "downstream";
pub const DEFAULT_SYNC_DEADLINE_SECS: u64 = 25;
pub const DEFAULT_DEDUP_WINDOW_SECS: u64 = 300;

/// Where a piece of the request is taken from, for input templates and FIFO message groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// A JSON Pointer into the JSON body, e.g. `/repository/full_name`.
    Pointer(String),
    /// `header:<name>`
    Header(http::HeaderName),
    /// `query:<name>`
    Query(String),
    Method,
    Path,
    DeliveryId,
}

impl ValueSource {
    pub fn parse(key: &str, text: &str) -> Result<ValueSource, ConfigError> {
        if text.starts_with('/') {
            return validate_pointer(key, text).map(|()| ValueSource::Pointer(text.to_owned()));
        }
        if let Some(name) = text.strip_prefix("header:") {
            return header_name(key, name).map(ValueSource::Header);
        }
        if let Some(name) = text.strip_prefix("query:") {
            if !name.is_empty() {
                return Ok(ValueSource::Query(name.to_owned()));
            }
        }
        match text {
            "method" => Ok(ValueSource::Method),
            "path" => Ok(ValueSource::Path),
            "delivery_id" => Ok(ValueSource::DeliveryId),
            _ => Err(ConfigError::new(
                key,
                format!("`{text}` is not a JSON Pointer (`/a/b`), `header:<name>`, `query:<name>`, `method`, `path` or `delivery_id`"),
            )),
        }
    }
}

/// RFC 6901: `~` must be followed by `0` or `1`.
fn validate_pointer(key: &str, pointer: &str) -> Result<(), ConfigError> {
    let mut chars = pointer.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(ConfigError::new(
                key,
                format!("`{pointer}` is not a valid JSON Pointer (`~` must be `~0` or `~1`)"),
            ));
        }
    }
    Ok(())
}

/// What the target receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InputMapping {
    /// The raw body, unchanged (default).
    #[default]
    Body,
    /// The JSON value at a pointer into the body.
    Pointer(String),
    /// A JSON object built from pointers and request fields.
    Template(Vec<(String, ValueSource)>),
}

/// Options of the Algorithmia API, sent as query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlgorithmOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputMode {
    /// The algorithm's output as the body, without the JSON wrapper.
    Raw,
    /// Fire and forget: the API answers at once with a request id.
    Void,
}

/// Which target a route or S3 rule sends to, and what it asks of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    /// `downstream` or a `[targets.<name>]` key.
    pub name: String,
    /// For algorithm targets: which algorithm.
    pub algorithm: Option<AlgorithmPath>,
    pub options: AlgorithmOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Queue, acknowledge, deliver later (default).
    Async,
    /// Call the target within the request and answer with its result.
    Sync { deadline: Duration },
}

/// A route's own acknowledgement for queued requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub status: u16,
    pub body: String,
    pub content_type: String,
}

/// Where the worker reports a job's outcome, signed per Standard Webhooks.
#[derive(Debug, Clone)]
pub struct CallbackSpec {
    pub url: reqwest::Url,
    pub secret: SecretRef,
}

/// A named target: another algorithm API or a generic HTTP endpoint.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    Algorithm(super::Downstream),
    Http(HttpTargetSpec),
}

#[derive(Debug, Clone)]
pub struct HttpTargetSpec {
    pub url: reqwest::Url,
    pub method: http::Method,
    /// Extra headers; values are literals or secret references.
    pub headers: Vec<(http::HeaderName, HeaderValueSpec)>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub enum HeaderValueSpec {
    Literal(String),
    Secret(SecretRef),
}

/// `[[s3.rule]]`: which objects go where.
#[derive(Debug, Clone)]
pub struct S3Rule {
    pub bucket: Option<String>,
    pub prefix: String,
    pub suffix: String,
    pub target: TargetRef,
    pub input: S3Input,
}

impl S3Rule {
    pub fn matches(&self, bucket: &str, key: &str) -> bool {
        self.bucket.as_deref().is_none_or(|b| b == bucket)
            && key.starts_with(&self.prefix)
            && key.ends_with(&self.suffix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum S3Input {
    /// The decoded key as a JSON string (default).
    #[default]
    Key,
    /// `"s3://bucket/key"` as a JSON string.
    Uri,
    /// The whole record as JSON.
    Record,
}

// ---- the TOML shapes and their validation ------------------------------------------------------

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawInput {
    Pointer(String),
    Template(BTreeMap<String, String>),
}

pub(super) fn input(key: &str, raw: Option<RawInput>) -> Result<InputMapping, ConfigError> {
    match raw {
        None => Ok(InputMapping::Body),
        Some(RawInput::Pointer(pointer)) if pointer.starts_with('/') => {
            validate_pointer(key, &pointer).map(|()| InputMapping::Pointer(pointer))
        }
        Some(RawInput::Pointer(other)) => Err(ConfigError::new(
            key,
            format!("`{other}` is not a JSON Pointer; use `/field` or a table"),
        )),
        Some(RawInput::Template(fields)) if fields.is_empty() => {
            Err(ConfigError::new(key, "the template has no fields"))
        }
        Some(RawInput::Template(fields)) => fields
            .into_iter()
            .map(|(name, source)| Ok((name.clone(), ValueSource::parse(&format!("{key}.{name}"), &source)?)))
            .collect::<Result<_, _>>()
            .map(InputMapping::Template),
    }
}

/// `filter` as a TOML table or as a JSON string (an EventBridge pattern as copied from AWS, the
/// only way to write `null`); both go through the same checks, with the same error keys.
pub(super) fn filter(key: &str, raw: Option<toml::Value>) -> Result<Option<Filter>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let at = |e: crate::filter::FilterError| {
        let key = if e.path.is_empty() {
            key.to_owned()
        } else {
            format!("{key}.{}", e.path)
        };
        ConfigError::new(key, e.reason)
    };
    let pattern = match raw {
        toml::Value::String(text) => json_pattern::parse(&text).map_err(at)?,
        table => serde_json::to_value(table).map_err(|e| ConfigError::new(key, e))?,
    };
    json_pattern::compile_for_request(&pattern).map(Some).map_err(at)
}

/// Resolves `target` + `algorithm` + `options` into a [`TargetRef`], checking the target exists
/// and that algorithm targets get an algorithm (and HTTP targets do not).
pub(super) fn target_ref(
    key: &dyn Fn(&str) -> String,
    target: Option<String>,
    algorithm: Option<String>,
    options: Option<AlgorithmOptions>,
    targets: &BTreeMap<String, TargetSpec>,
) -> Result<TargetRef, ConfigError> {
    let name = target.unwrap_or_else(|| DOWNSTREAM.to_owned());
    let is_algorithm_target = match targets.get(&name) {
        _ if name == DOWNSTREAM => true,
        Some(TargetSpec::Algorithm(_)) => true,
        Some(TargetSpec::Http(_)) => false,
        None => {
            let known: Vec<&str> = std::iter::once(DOWNSTREAM)
                .chain(targets.keys().map(String::as_str))
                .collect();
            return Err(ConfigError::new(
                key("target"),
                format!("unknown target `{name}`; defined: {}", known.join(", ")),
            ));
        }
    };
    let algorithm = match (is_algorithm_target, algorithm) {
        (true, Some(text)) => Some(AlgorithmPath::parse(&key("algorithm"), &text)?),
        (true, None) => {
            return Err(ConfigError::new(
                key("algorithm"),
                format!("target `{name}` is an algorithm API: set `algorithm`"),
            ))
        }
        (false, Some(_)) => {
            return Err(ConfigError::new(
                key("algorithm"),
                format!("target `{name}` is an HTTP target"),
            ))
        }
        (false, None) => None,
    };
    let options = options.unwrap_or_default();
    if options != AlgorithmOptions::default() && !is_algorithm_target {
        return Err(ConfigError::new(
            key("options"),
            format!("target `{name}` is an HTTP target"),
        ));
    }
    if options.timeout.is_some_and(|t| !(1..=3000).contains(&t)) {
        return Err(ConfigError::new(key("options.timeout"), "must be between 1 and 3000"));
    }
    Ok(TargetRef {
        name,
        algorithm,
        options,
    })
}

pub(super) fn mode(
    key: &dyn Fn(&str) -> String,
    mode: Option<String>,
    deadline_secs: Option<u64>,
) -> Result<Mode, ConfigError> {
    match mode.as_deref().unwrap_or("async") {
        "async" if deadline_secs.is_some() => Err(ConfigError::new(
            key("deadline_secs"),
            "only applies to mode = \"sync\"",
        )),
        "async" => Ok(Mode::Async),
        "sync" => {
            let secs = deadline_secs.unwrap_or(DEFAULT_SYNC_DEADLINE_SECS);
            if !(1..=900).contains(&secs) {
                return Err(ConfigError::new(key("deadline_secs"), "must be between 1 and 900"));
            }
            Ok(Mode::Sync {
                deadline: Duration::from_secs(secs),
            })
        }
        other => Err(ConfigError::new(
            key("mode"),
            format!("`{other}` is not `async` or `sync`"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAck {
    status: Option<u16>,
    body: Option<String>,
    content_type: Option<String>,
}

pub(super) fn ack(key: &str, raw: Option<RawAck>) -> Result<Option<Ack>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let status = raw.status.unwrap_or(200);
    if !(200..=299).contains(&status) {
        return Err(ConfigError::new(
            format!("{key}.status"),
            "an acknowledgement must be a 2xx status",
        ));
    }
    let content_type = raw.content_type.unwrap_or_else(|| "text/plain".to_owned());
    if http::HeaderValue::from_str(&content_type).is_err() {
        return Err(ConfigError::new(
            format!("{key}.content_type"),
            "is not a valid header value",
        ));
    }
    Ok(Some(Ack {
        status,
        body: raw.body.unwrap_or_default(),
        content_type,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCallback {
    url: String,
    secret: String,
}

pub(super) fn callback(key: &str, raw: Option<RawCallback>) -> Result<Option<CallbackSpec>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let url = http_url(&format!("{key}.url"), &raw.url)?;
    Ok(Some(CallbackSpec {
        url,
        secret: SecretRef::parse(&format!("{key}.secret"), &raw.secret)?,
    }))
}

fn http_url(key: &str, text: &str) -> Result<reqwest::Url, ConfigError> {
    reqwest::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some() && !has_credentials(u))
        // The text is not echoed: a URL can carry credentials.
        .ok_or_else(|| ConfigError::new(key, "must be an http(s) URL without credentials"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTarget {
    #[serde(rename = "type")]
    kind: String,
    base_url: Option<String>,
    api_key: Option<String>,
    url: Option<String>,
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    timeout_secs: Option<u64>,
}

pub(super) fn targets(raw: BTreeMap<String, RawTarget>) -> Result<BTreeMap<String, TargetSpec>, ConfigError> {
    let mut targets = BTreeMap::new();
    for (name, raw) in raw {
        let key = |field: &str| format!("targets.{name}.{field}");
        if name == DOWNSTREAM
            || name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-".contains(&b))
        {
            return Err(ConfigError::new(
                format!("targets.{name}"),
                "target names are [A-Za-z0-9_-]+ and not `downstream`",
            ));
        }
        let unused = |field: &str| ConfigError::new(key(field), format!("is not used by type = \"{}\"", raw.kind));
        let spec = match raw.kind.as_str() {
            "algorithm" => {
                if raw.url.is_some() {
                    return Err(unused("url"));
                }
                if raw.method.is_some() {
                    return Err(unused("method"));
                }
                if !raw.headers.is_empty() {
                    return Err(unused("headers"));
                }
                let base_url = raw
                    .base_url
                    .ok_or_else(|| ConfigError::new(key("base_url"), "is required"))?;
                TargetSpec::Algorithm(
                    super::RawDownstream {
                        base_url: Some(base_url),
                        api_key: raw.api_key,
                        timeout_secs: raw.timeout_secs,
                    }
                    .validate_as(&format!("targets.{name}"))?,
                )
            }
            "http" => {
                if raw.base_url.is_some() {
                    return Err(unused("base_url"));
                }
                if raw.api_key.is_some() {
                    return Err(unused("api_key"));
                }
                let url = http_url(
                    &key("url"),
                    raw.url
                        .as_deref()
                        .ok_or_else(|| ConfigError::new(key("url"), "is required"))?,
                )?;
                let method = match raw.method.as_deref().unwrap_or("POST") {
                    m @ ("POST" | "PUT" | "PATCH") => {
                        http::Method::from_bytes(m.as_bytes()).expect("a standard method")
                    }
                    other => {
                        return Err(ConfigError::new(
                            key("method"),
                            format!("`{other}` is not POST, PUT or PATCH"),
                        ))
                    }
                };
                let mut headers = Vec::with_capacity(raw.headers.len());
                for (header, value) in raw.headers {
                    let field = key(&format!("headers.{header}"));
                    let header = header_name(&field, &header)?;
                    let value = if value.starts_with("env:") || value.starts_with("secretsmanager:") {
                        HeaderValueSpec::Secret(SecretRef::parse(&field, &value)?)
                    } else {
                        http::HeaderValue::from_str(&value)
                            .map_err(|_| ConfigError::new(&field, "is not a valid header value"))?;
                        HeaderValueSpec::Literal(value)
                    };
                    headers.push((header, value));
                }
                let timeout_secs = raw.timeout_secs.unwrap_or(30);
                if !(1..=900).contains(&timeout_secs) {
                    return Err(ConfigError::new(key("timeout_secs"), "must be between 1 and 900"));
                }
                TargetSpec::Http(HttpTargetSpec {
                    url,
                    method,
                    headers,
                    timeout: Duration::from_secs(timeout_secs),
                })
            }
            other => {
                return Err(ConfigError::new(
                    key("type"),
                    format!("`{other}` is not `algorithm` or `http`"),
                ))
            }
        };
        targets.insert(name, spec);
    }
    Ok(targets)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawS3Rule {
    bucket: Option<String>,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    target: Option<String>,
    algorithm: Option<String>,
    options: Option<AlgorithmOptions>,
    #[serde(default)]
    input: S3Input,
}

pub(super) fn s3_rules(
    raw: Vec<RawS3Rule>,
    targets: &BTreeMap<String, TargetSpec>,
) -> Result<Vec<S3Rule>, ConfigError> {
    raw.into_iter()
        .enumerate()
        .map(|(i, rule)| {
            let key = |field: &str| format!("s3.rule[{i}].{field}");
            Ok(S3Rule {
                bucket: rule.bucket,
                prefix: rule.prefix,
                suffix: rule.suffix,
                target: target_ref(&key, rule.target, rule.algorithm, rule.options, targets)?,
                input: rule.input,
            })
        })
        .collect()
}
