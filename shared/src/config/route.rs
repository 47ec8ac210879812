//! `[[route]]`: one path of the ingress, how its sender is verified (see `verify_spec.rs`) and
//! what happens to a verified request: filter, input mapping, target, mode, acknowledgement,
//! de-duplication, callback.

use std::{collections::BTreeMap, time::Duration};

use serde::Deserialize;

use super::{
    hmac_spec::RawHmac,
    input::{input, InputMapping, RawInput, ValueSource},
    targets::{target_ref, AlgorithmOptions, TargetRef, TargetSpec},
    values::http_url,
    verify_spec::{Challenge, RawChallenge, VerifyKeys, VerifySpec},
};
use crate::{
    filter::{json_pattern, Filter},
    foundation::{secret::SecretRef, ConfigError},
};

/// `[[route]] deadline_secs` when `mode = "sync"` and it is unset.
pub const DEFAULT_SYNC_DEADLINE_SECS: u64 = 25;
/// `[[route]] dedup_window_secs` when unset: five minutes.
pub const DEFAULT_DEDUP_WINDOW_SECS: u64 = 300;

/// `[[route]]`: one path of the ingress, its verification and what happens to what it accepts.
#[derive(Debug, Clone)]
pub struct Route {
    /// Index in the `[[route]]` list, for error keys and logs.
    pub index: usize,
    /// `path`: the request path this route answers, starting with `/` (one trailing slash is ignored).
    pub path: String,
    /// `verify` and its keys: how the sender is authenticated.
    pub verify: VerifySpec,
    /// `challenge`: an ownership challenge answered without queueing (default: none).
    pub challenge: Option<Challenge>,
    /// Only matching requests are queued; the others are answered `filtered`.
    pub filter: Option<crate::filter::Filter>,
    /// `input`: what the target receives (default: the raw body).
    pub input: InputMapping,
    /// `target`, `algorithm`, `options`: where the request goes (default target: `downstream`).
    pub target: TargetRef,
    /// `mode` and `deadline_secs`: queue and deliver later, or call within the request (default `async`).
    pub mode: Mode,
    /// `ack`: the answer to a queued request (default: the ingress's JSON `200`).
    pub ack: Option<Ack>,
    /// How long a delivery id is remembered to drop provider retries (zero: never).
    pub dedup_window: Duration,
    /// FIFO queues: the message group (default: the route path).
    pub message_group: Option<ValueSource>,
    /// `callback`: where the worker reports each job's outcome (default: nowhere).
    pub callback: Option<CallbackSpec>,
}

impl Route {
    /// The error key of one of this route's fields, e.g. `route[2].algorithm`.
    pub fn key(&self, field: &str) -> String {
        format!("route[{}].{field}", self.index)
    }
}

/// `mode`: when the target is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Queue, acknowledge, deliver later (default).
    Async,
    /// Call the target within the request and answer with its result.
    Sync {
        /// `deadline_secs`: how long the request waits for the target, 1 to 900 s (default
        /// [`DEFAULT_SYNC_DEADLINE_SECS`]).
        deadline: Duration,
    },
}

/// A route's own acknowledgement for queued requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// `status`: a 2xx status (default 200).
    pub status: u16,
    /// `body`: the response body (default empty).
    pub body: String,
    /// `content_type`: the response's `Content-Type` (default `text/plain`).
    pub content_type: String,
}

/// Where the worker reports a job's outcome, signed per Standard Webhooks.
#[derive(Debug, Clone)]
pub struct CallbackSpec {
    /// `url`: an http(s) URL without credentials.
    pub url: reqwest::Url,
    /// `secret`: the Standard Webhooks signing secret, a secret reference.
    pub secret: SecretRef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    path: String,
    verify: String,
    #[serde(default)]
    secrets: Vec<String>,
    header: Option<String>,
    tolerance_secs: Option<u64>,
    public_keys: Option<Vec<String>>,
    verify_token: Option<String>,
    public_url: Option<String>,
    hmac: Option<RawHmac>,
    challenge: Option<RawChallenge>,
    filter: Option<toml::Value>,
    input: Option<RawInput>,
    target: Option<String>,
    algorithm: Option<String>,
    options: Option<AlgorithmOptions>,
    mode: Option<String>,
    deadline_secs: Option<u64>,
    ack: Option<RawAck>,
    dedup_window_secs: Option<u64>,
    message_group: Option<String>,
    callback: Option<RawCallback>,
}

impl RawRoute {
    pub(super) fn validate(self, index: usize, targets: &BTreeMap<String, TargetSpec>) -> Result<Route, ConfigError> {
        let key = |field: &str| format!("route[{index}].{field}");
        if !self.path.starts_with('/') || self.path.contains(['?', '#', ' ']) {
            return Err(ConfigError::new(
                key("path"),
                format!("`{}` must be a path starting with `/`", self.path),
            ));
        }
        let (verify, challenge) = VerifyKeys {
            verify: self.verify,
            secrets: self.secrets,
            header: self.header,
            tolerance_secs: self.tolerance_secs,
            public_keys: self.public_keys,
            verify_token: self.verify_token,
            public_url: self.public_url,
            hmac: self.hmac,
            challenge: self.challenge,
        }
        .validate(&key)?;
        Ok(Route {
            index,
            path: self.path,
            verify,
            challenge,
            filter: filter(&key("filter"), self.filter)?,
            input: input(&key("input"), self.input)?,
            target: target_ref(&key, self.target, self.algorithm, self.options, targets)?,
            mode: mode(&key, self.mode, self.deadline_secs)?,
            ack: ack(&key("ack"), self.ack)?,
            dedup_window: Duration::from_secs(self.dedup_window_secs.unwrap_or(DEFAULT_DEDUP_WINDOW_SECS)),
            message_group: self
                .message_group
                .map(|m| ValueSource::parse(&key("message_group"), &m))
                .transpose()?,
            callback: callback(&key("callback"), self.callback)?,
        })
    }
}

/// `filter` as a TOML table or as a JSON string (an EventBridge pattern as copied from AWS, the
/// only way to write `null`); both go through the same checks, with the same error keys.
fn filter(key: &str, raw: Option<toml::Value>) -> Result<Option<Filter>, ConfigError> {
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

fn mode(key: &dyn Fn(&str) -> String, mode: Option<String>, deadline_secs: Option<u64>) -> Result<Mode, ConfigError> {
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
struct RawAck {
    status: Option<u16>,
    body: Option<String>,
    content_type: Option<String>,
}

fn ack(key: &str, raw: Option<RawAck>) -> Result<Option<Ack>, ConfigError> {
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
struct RawCallback {
    url: String,
    secret: String,
}

fn callback(key: &str, raw: Option<RawCallback>) -> Result<Option<CallbackSpec>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let url = http_url(&format!("{key}.url"), &raw.url)?;
    Ok(Some(CallbackSpec {
        url,
        secret: SecretRef::parse(&format!("{key}.secret"), &raw.secret)?,
    }))
}
