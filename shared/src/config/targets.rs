//! `[targets.<name>]`: the named targets besides `[downstream]` (more algorithm APIs and generic
//! HTTP endpoints), and the reference a route or S3 rule makes to one (`target`, `algorithm`,
//! `options`).

use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;

use super::{
    downstream::{Downstream, RawDownstream},
    values::{header_name, http_url, AlgorithmPath},
};
use crate::foundation::{secret::SecretRef, ConfigError};

/// The implicit target built from `[downstream]`.
pub const DOWNSTREAM: &str = "downstream";

/// Options of the Algorithmia API, sent as query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlgorithmOptions {
    /// `timeout`: the algorithm's own time limit, 1 to 3000 s (default: the API's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// `stdout`: whether the API returns the algorithm's standard output (default: the API's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<bool>,
    /// `output`: `raw` or `void` (default: the JSON result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputMode>,
}

/// `options.output`: how the Algorithmia API answers.
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
    /// `options`: query parameters for algorithm targets (default: none).
    pub options: AlgorithmOptions,
}

/// A named target: another algorithm API or a generic HTTP endpoint.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// `type = "algorithm"`: an Algorithmia-compatible API, with the keys of `[downstream]`.
    Algorithm(Downstream),
    /// `type = "http"`: a generic HTTP endpoint.
    Http(HttpTargetSpec),
}

/// A `[targets.<name>]` of `type = "http"`: a generic HTTP endpoint and how to call it.
#[derive(Debug, Clone)]
pub struct HttpTargetSpec {
    /// `url`: an http(s) URL without credentials (required).
    pub url: reqwest::Url,
    /// `method`: POST, PUT or PATCH (default POST).
    pub method: http::Method,
    /// Extra headers; values are literals or secret references.
    pub headers: Vec<(http::HeaderName, HeaderValueSpec)>,
    /// `timeout_secs`: how long one call may take, 1 to 900 s (default 30).
    pub timeout: Duration,
}

/// The value of a `headers` entry of an HTTP target.
#[derive(Debug, Clone)]
pub enum HeaderValueSpec {
    /// Any other text: sent as written.
    Literal(String),
    /// `env:...` or `secretsmanager:...`: a secret reference, resolved by the function that calls the target.
    Secret(SecretRef),
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
                    RawDownstream {
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
