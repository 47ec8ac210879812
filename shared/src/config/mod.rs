//! Typed configuration, parsed and validated once at cold start.
//!
//! Every error names the key it is about (`route[2].algorithm`), so a bad deploy fails at init
//! with a message that says what to fix. Secret values are not here: only [`SecretRef`]s, which
//! each function resolves for the parts it uses (least privilege).

use std::{collections::HashMap, fmt, time::Duration};

use serde::Deserialize;

use crate::foundation::secret::SecretRef;
pub use crate::foundation::ConfigError;

mod delivery;
pub mod s3_source;
mod source;
mod syntax;

pub use source::{ConfigSource, S3Object, MAX_CONFIG_BYTES};

pub use delivery::{
    Ack, AlgorithmOptions, CallbackSpec, HeaderValueSpec, HttpTargetSpec, InputMapping, Mode, OutputMode, S3Input,
    S3Rule, TargetRef, TargetSpec, ValueSource, DOWNSTREAM,
};

/// SQS's largest message (1 MiB since August 2025).
pub const SQS_MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// The largest body the ingress may accept: its base64 form plus the envelope must fit one message.
pub const MAX_BODY_LIMIT: usize = 760 * 1024;
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_BASE_URL: &str = "https://api.algorithmia.com";
pub const DEFAULT_TOKEN_HEADER: &str = "x-webhook-token";

pub const CONFIG_ENV: &str = "HOOKRELAY_CONFIG";
pub const CONFIG_FILE_ENV: &str = "HOOKRELAY_CONFIG_FILE";

#[derive(Debug, Clone)]
pub struct Config {
    pub downstream: Downstream,
    /// `[targets.<name>]`: more algorithm APIs and generic HTTP targets.
    pub targets: std::collections::BTreeMap<String, TargetSpec>,
    pub routes: Vec<Route>,
    pub s3: Option<S3Settings>,
    pub ingress: IngressSettings,
    pub worker: WorkerSettings,
}

#[derive(Debug, Clone)]
pub struct Downstream {
    pub base_url: reqwest::Url,
    pub api_key: Option<SecretRef>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct Route {
    /// Index in the `[[route]]` list, for error keys and logs.
    pub index: usize,
    pub path: String,
    pub verify: VerifySpec,
    pub challenge: Option<Challenge>,
    /// Only matching requests are queued; the others are answered `filtered`.
    pub filter: Option<crate::filter::Filter>,
    pub input: InputMapping,
    pub target: TargetRef,
    pub mode: Mode,
    pub ack: Option<Ack>,
    /// How long a delivery id is remembered to drop provider retries (zero: never).
    pub dedup_window: Duration,
    /// FIFO queues: the message group (default: the route path).
    pub message_group: Option<ValueSource>,
    pub callback: Option<CallbackSpec>,
}

impl Route {
    pub fn key(&self, field: &str) -> String {
        format!("route[{}].{field}", self.index)
    }
}

/// How a route authenticates its sender: the scheme and the settings it uses. Which keys a scheme
/// accepts is checked at parse time, so every field here is meaningful for `scheme`.
#[derive(Debug, Clone)]
pub struct VerifySpec {
    pub scheme: SchemeKind,
    pub secrets: Vec<SecretRef>,
    /// `token`: the header that carries the shared secret.
    pub header: Option<http::HeaderName>,
    /// Timestamped schemes: how far a signature's timestamp may be from now, either way.
    pub tolerance: Duration,
    /// `standard-webhooks`: Ed25519 public keys (`whpk_...`) for `v1a` signatures.
    pub public_keys: Vec<SecretRef>,
    /// `meta`: the token Meta sends in the GET subscription handshake.
    pub verify_token: Option<SecretRef>,
    /// `twilio`: the webhook URL as configured at Twilio (scheme, host, path).
    pub public_url: Option<reqwest::Url>,
    /// `hmac`: the generic HMAC scheme's settings.
    pub hmac: Option<HmacSpec>,
}

/// The verification schemes, by their `verify = "..."` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeKind {
    GitHub,
    Stripe,
    Slack,
    StandardWebhooks,
    Shopify,
    Meta,
    Zoom,
    Twilio,
    Cal,
    Hmac,
    Token,
    Basic,
    None,
}

pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

impl SchemeKind {
    pub const NAMES: &'static str =
        "github, stripe, slack, standard-webhooks (svix), shopify, meta (whatsapp), zoom, twilio, cal, hmac, token, basic, none";

    pub fn parse(name: &str) -> Option<SchemeKind> {
        Some(match name {
            "github" => SchemeKind::GitHub,
            "stripe" => SchemeKind::Stripe,
            "slack" => SchemeKind::Slack,
            "standard-webhooks" | "svix" => SchemeKind::StandardWebhooks,
            "shopify" => SchemeKind::Shopify,
            "meta" | "whatsapp" => SchemeKind::Meta,
            "zoom" => SchemeKind::Zoom,
            "twilio" => SchemeKind::Twilio,
            "cal" => SchemeKind::Cal,
            "hmac" => SchemeKind::Hmac,
            "token" => SchemeKind::Token,
            "basic" => SchemeKind::Basic,
            "none" => SchemeKind::None,
            _ => return None,
        })
    }

    /// The route keys (besides `secrets`) this scheme reads; any other is a config error.
    fn keys(self) -> &'static [&'static str] {
        match self {
            SchemeKind::Stripe | SchemeKind::Slack | SchemeKind::Zoom => &["tolerance_secs"],
            SchemeKind::StandardWebhooks => &["tolerance_secs", "public_keys"],
            SchemeKind::Meta => &["verify_token"],
            SchemeKind::Twilio => &["public_url"],
            SchemeKind::Hmac => &["hmac", "tolerance_secs"],
            SchemeKind::Token => &["header"],
            _ => &[],
        }
    }
}

/// `hmac = { header, algorithm, encoding, prefix, content, timestamp_header }` on a route.
#[derive(Debug, Clone)]
pub struct HmacSpec {
    pub header: http::HeaderName,
    pub algorithm: HmacAlgorithm,
    pub encoding: SignatureEncoding,
    /// Stripped from the header value before decoding (e.g. `sha256=`).
    pub prefix: String,
    /// What is signed; the raw body when absent.
    pub content: Option<Vec<ContentPart>>,
    /// Where `{timestamp}` comes from; when set, the timestamp must be within tolerance.
    pub timestamp_header: Option<http::HeaderName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    Hex,
    Base64,
}

/// A piece of the generic HMAC scheme's signed-content template, e.g. `"{timestamp}.{body}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    Literal(String),
    Body,
    Timestamp,
    Header(http::HeaderName),
}

/// A route's ownership challenge, echoed back without queueing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// A GET whose query has this parameter is answered with its value (text/plain).
    Query(String),
    /// A verified POST whose JSON body has a string at this pointer is answered with it.
    Json(String),
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    /// Tried in order; the first match decides.
    pub rules: Vec<S3Rule>,
}

#[derive(Debug, Clone)]
pub struct IngressSettings {
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How many records of a batch are in flight at once.
    pub concurrency: usize,
    /// Backoff of the first retry of a transient failure; doubles with every receive.
    pub retry_base: Duration,
    /// The longest backoff (a target's `Retry-After` may ask for more, up to SQS's 12 hours).
    pub retry_max: Duration,
    /// Whether an algorithm's `{"error": ...}` answer is retried (default: dead-lettered at once).
    pub retry_algorithm_errors: bool,
    /// Whether the worker opens a connection to each target it will call during init, so the
    /// first job does not pay the TCP and TLS handshakes ([`crate::delivery::targets::Targets::warm_up`]).
    pub warm_up: bool,
}

/// `owner/name[/version]`, as the Algorithmia API addresses an algorithm.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct AlgorithmPath(String);

impl AlgorithmPath {
    pub fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
        let segments: Vec<&str> = text.split('/').collect();
        let well_formed = (2..=3).contains(&segments.len())
            && segments.iter().all(|s| {
                // All-dot segments would let `..` walk out of `/v1/algo/`.
                s.bytes().any(|b| b != b'.') && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            });
        if !well_formed {
            return Err(ConfigError::new(key, format!("`{text}` is not `owner/name[/version]`")));
        }
        Ok(AlgorithmPath(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlgorithmPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Config {
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| syntax::toml_error(text, &e))?;
        raw.validate()
    }
}

// ---- the TOML shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    downstream: RawDownstream,
    #[serde(default)]
    targets: std::collections::BTreeMap<String, delivery::RawTarget>,
    #[serde(default, rename = "route")]
    routes: Vec<RawRoute>,
    s3: Option<RawS3>,
    #[serde(default)]
    ingress: RawIngress,
    #[serde(default)]
    worker: RawWorker,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDownstream {
    pub(super) base_url: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) timeout_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
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
    input: Option<delivery::RawInput>,
    target: Option<String>,
    algorithm: Option<String>,
    options: Option<AlgorithmOptions>,
    mode: Option<String>,
    deadline_secs: Option<u64>,
    ack: Option<delivery::RawAck>,
    dedup_window_secs: Option<u64>,
    message_group: Option<String>,
    callback: Option<delivery::RawCallback>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHmac {
    header: String,
    algorithm: String,
    encoding: String,
    #[serde(default)]
    prefix: String,
    content: Option<String>,
    timestamp_header: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChallenge {
    query: Option<String>,
    json: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawS3 {
    /// The default for objects no rule matches (`[s3] algorithm = ...`).
    algorithm: Option<String>,
    target: Option<String>,
    options: Option<AlgorithmOptions>,
    #[serde(default)]
    input: S3Input,
    #[serde(default, rename = "rule")]
    rules: Vec<delivery::RawS3Rule>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawIngress {
    max_body_bytes: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWorker {
    concurrency: Option<usize>,
    retry_base_secs: Option<u64>,
    retry_max_secs: Option<u64>,
    algorithm_errors: Option<String>,
    warm_up: Option<bool>,
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let downstream = self.downstream.validate()?;
        let targets = delivery::targets(self.targets)?;
        // Routing ignores one trailing slash (`crate::inbound::route::normalize_path`), so `/a` and `/a/`
        // are one route: letting the second replace the first would silently swap its
        // verification (a `github` route turned `none` by a typo).
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut routes: Vec<Route> = Vec::with_capacity(self.routes.len());
        for (index, raw) in self.routes.into_iter().enumerate() {
            let route = raw.validate(index, &targets)?;
            if let Some(&first) = seen.get(route_path_key(&route.path)) {
                let other = &routes[first];
                let reason = match other.path == route.path {
                    true => format!("`{}` is already the path of route[{first}]", route.path),
                    false => format!(
                        "`{}` is the same route as route[{first}]'s `{}` (routing ignores one trailing slash)",
                        route.path, other.path
                    ),
                };
                return Err(ConfigError::new(route.key("path"), reason));
            }
            seen.insert(route_path_key(&route.path).to_owned(), index);
            routes.push(route);
        }
        let s3 = match self.s3 {
            Some(raw) => Some(raw.validate(&targets)?),
            None => None,
        };
        let max_body_bytes = self.ingress.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 || max_body_bytes > MAX_BODY_LIMIT {
            return Err(ConfigError::new(
                "ingress.max_body_bytes",
                format!("must be between 1 and {MAX_BODY_LIMIT} (what fits one SQS message once encoded)"),
            ));
        }
        let worker = self.worker.validate()?;
        Ok(Config {
            downstream,
            targets,
            routes,
            s3,
            ingress: IngressSettings { max_body_bytes },
            worker,
        })
    }
}

impl Config {
    /// The targets some route or S3 rule delivers to: the ones worth a connection ahead of time.
    pub fn targets_in_use(&self) -> std::collections::BTreeSet<&str> {
        let routes = self.routes.iter().map(|route| route.target.name.as_str());
        let rules = self
            .s3
            .iter()
            .flat_map(|s3| &s3.rules)
            .map(|rule| rule.target.name.as_str());
        routes.chain(rules).collect()
    }
}

impl RawWorker {
    fn validate(self) -> Result<WorkerSettings, ConfigError> {
        let concurrency = self.concurrency.unwrap_or(10);
        if !(1..=1000).contains(&concurrency) {
            return Err(ConfigError::new("worker.concurrency", "must be between 1 and 1000"));
        }
        let retry_base_secs = self.retry_base_secs.unwrap_or(2);
        if !(1..=3600).contains(&retry_base_secs) {
            return Err(ConfigError::new("worker.retry_base_secs", "must be between 1 and 3600"));
        }
        let retry_max_secs = self.retry_max_secs.unwrap_or(900);
        if !(retry_base_secs..=43_200).contains(&retry_max_secs) {
            return Err(ConfigError::new(
                "worker.retry_max_secs",
                "must be between retry_base_secs and 43200",
            ));
        }
        let retry_algorithm_errors = match self.algorithm_errors.as_deref().unwrap_or("permanent") {
            "permanent" => false,
            "transient" => true,
            other => {
                return Err(ConfigError::new(
                    "worker.algorithm_errors",
                    format!("`{other}` is not `permanent` or `transient`"),
                ))
            }
        };
        Ok(WorkerSettings {
            concurrency,
            retry_base: Duration::from_secs(retry_base_secs),
            retry_max: Duration::from_secs(retry_max_secs),
            retry_algorithm_errors,
            warm_up: self.warm_up.unwrap_or(false),
        })
    }
}

impl RawDownstream {
    fn validate(self) -> Result<Downstream, ConfigError> {
        self.validate_as("downstream")
    }

    /// Validates an algorithm API's settings; `table` prefixes the error keys.
    pub(super) fn validate_as(self, table: &str) -> Result<Downstream, ConfigError> {
        let key = |field: &str| format!("{table}.{field}");
        let text = self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
        let base_url = reqwest::Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some() && !has_credentials(u))
            // The text is not echoed: a URL can carry credentials.
            .ok_or_else(|| ConfigError::new(key("base_url"), "must be an http(s) URL without credentials"))?;
        let api_key = self
            .api_key
            .map(|t| SecretRef::parse(&key("api_key"), &t))
            .transpose()?;
        let timeout_secs = self.timeout_secs.unwrap_or(300);
        if !(1..=3000).contains(&timeout_secs) {
            return Err(ConfigError::new(key("timeout_secs"), "must be between 1 and 3000"));
        }
        Ok(Downstream {
            base_url,
            api_key,
            timeout: Duration::from_secs(timeout_secs),
        })
    }
}

impl RawRoute {
    fn validate(
        self,
        index: usize,
        targets: &std::collections::BTreeMap<String, TargetSpec>,
    ) -> Result<Route, ConfigError> {
        let key = |field: &str| format!("route[{index}].{field}");
        if !self.path.starts_with('/') || self.path.contains(['?', '#', ' ']) {
            return Err(ConfigError::new(
                key("path"),
                format!("`{}` must be a path starting with `/`", self.path),
            ));
        }
        let scheme = SchemeKind::parse(&self.verify).ok_or_else(|| {
            ConfigError::new(
                key("verify"),
                format!(
                    "unknown scheme `{}`; expected one of: {}",
                    self.verify,
                    SchemeKind::NAMES
                ),
            )
        })?;
        let present = [
            ("header", self.header.is_some()),
            ("tolerance_secs", self.tolerance_secs.is_some()),
            ("public_keys", self.public_keys.is_some()),
            ("verify_token", self.verify_token.is_some()),
            ("public_url", self.public_url.is_some()),
            ("hmac", self.hmac.is_some()),
        ];
        if let Some((field, _)) = present
            .iter()
            .find(|(field, set)| *set && !scheme.keys().contains(field))
        {
            return Err(ConfigError::new(
                key(field),
                format!("is not used by verify = \"{}\"", self.verify),
            ));
        }
        let secret_list = |field: &str, list: &[String]| {
            list.iter()
                .enumerate()
                .map(|(i, s)| SecretRef::parse(&key(&format!("{field}[{i}]")), s))
                .collect::<Result<Vec<_>, _>>()
        };
        let secrets = secret_list("secrets", &self.secrets)?;
        let public_keys = secret_list("public_keys", self.public_keys.as_deref().unwrap_or_default())?;
        match scheme {
            SchemeKind::None if !secrets.is_empty() => {
                return Err(ConfigError::new(key("secrets"), "is not used by verify = \"none\""))
            }
            SchemeKind::None => {}
            SchemeKind::StandardWebhooks if secrets.is_empty() && public_keys.is_empty() => {
                return Err(ConfigError::new(
                    key("secrets"),
                    "verify = \"standard-webhooks\" needs `secrets` or `public_keys`",
                ))
            }
            SchemeKind::StandardWebhooks => {}
            _ if secrets.is_empty() => {
                return Err(ConfigError::new(
                    key("secrets"),
                    format!("verify = \"{}\" needs at least one secret", self.verify),
                ))
            }
            _ => {}
        }
        let header = match (scheme, &self.header) {
            (SchemeKind::Token, None) => Some(http::HeaderName::from_static(DEFAULT_TOKEN_HEADER)),
            (_, Some(name)) => Some(header_name(&key("header"), name)?),
            (_, None) => None,
        };
        let tolerance_secs = self.tolerance_secs.unwrap_or(DEFAULT_TOLERANCE_SECS);
        if !(1..=86_400).contains(&tolerance_secs) {
            return Err(ConfigError::new(key("tolerance_secs"), "must be between 1 and 86400"));
        }
        let verify_token = self
            .verify_token
            .as_deref()
            .map(|t| SecretRef::parse(&key("verify_token"), t))
            .transpose()?;
        if scheme == SchemeKind::Meta && verify_token.is_none() {
            return Err(ConfigError::new(
                key("verify_token"),
                "verify = \"meta\" needs the subscription verify token",
            ));
        }
        let public_url = match self.public_url.as_deref() {
            Some(text) => Some(
                reqwest::Url::parse(text)
                    .ok()
                    .filter(|u| {
                        matches!(u.scheme(), "http" | "https")
                            && u.query().is_none()
                            && u.fragment().is_none()
                            && !has_credentials(u)
                    })
                    .ok_or_else(|| {
                        ConfigError::new(
                            key("public_url"),
                            "must be an http(s) URL without a query or credentials",
                        )
                    })?,
            ),
            None if scheme == SchemeKind::Twilio => {
                return Err(ConfigError::new(
                    key("public_url"),
                    "verify = \"twilio\" needs the webhook URL as configured at Twilio",
                ))
            }
            None => None,
        };
        let hmac = match self.hmac {
            Some(raw) => Some(raw.validate(&key("hmac"))?),
            None if scheme == SchemeKind::Hmac => {
                return Err(ConfigError::new(
                    key("hmac"),
                    "verify = \"hmac\" needs `hmac = { header, algorithm, encoding }`",
                ))
            }
            None => None,
        };
        if scheme == SchemeKind::Meta && self.challenge.is_some() {
            // Meta's GET is its own verify-token handshake; an echo would answer it unchecked.
            return Err(ConfigError::new(
                key("challenge"),
                "verify = \"meta\" answers its own GET handshake",
            ));
        }
        let timestamped_hmac = hmac.as_ref().is_some_and(|h| h.timestamp_header.is_some());
        if scheme == SchemeKind::Hmac && self.tolerance_secs.is_some() && !timestamped_hmac {
            return Err(ConfigError::new(key("tolerance_secs"), "needs `hmac.timestamp_header`"));
        }
        let challenge = self.challenge.map(|c| c.validate(&key("challenge"))).transpose()?;
        Ok(Route {
            index,
            path: self.path,
            verify: VerifySpec {
                scheme,
                secrets,
                header,
                tolerance: Duration::from_secs(tolerance_secs),
                public_keys,
                verify_token,
                public_url,
                hmac,
            },
            challenge,
            filter: delivery::filter(&key("filter"), self.filter)?,
            input: delivery::input(&key("input"), self.input)?,
            target: delivery::target_ref(&key, self.target, self.algorithm, self.options, targets)?,
            mode: delivery::mode(&key, self.mode, self.deadline_secs)?,
            ack: delivery::ack(&key("ack"), self.ack)?,
            dedup_window: Duration::from_secs(self.dedup_window_secs.unwrap_or(delivery::DEFAULT_DEDUP_WINDOW_SECS)),
            message_group: self
                .message_group
                .map(|m| ValueSource::parse(&key("message_group"), &m))
                .transpose()?,
            callback: delivery::callback(&key("callback"), self.callback)?,
        })
    }
}

impl RawS3 {
    fn validate(self, targets: &std::collections::BTreeMap<String, TargetSpec>) -> Result<S3Settings, ConfigError> {
        let mut rules = delivery::s3_rules(self.rules, targets)?;
        // `[s3] algorithm/target` is the catch-all after the rules.
        if self.algorithm.is_some() || self.target.is_some() {
            let key = |field: &str| format!("s3.{field}");
            let target = delivery::target_ref(&key, self.target, self.algorithm, self.options, targets)?;
            rules.push(S3Rule {
                bucket: None,
                prefix: String::new(),
                suffix: String::new(),
                target,
                input: self.input,
            });
        } else if self.options.is_some() {
            return Err(ConfigError::new("s3.options", "needs `s3.algorithm`"));
        }
        if rules.is_empty() {
            return Err(ConfigError::new(
                "s3.algorithm",
                "set `algorithm` (or `target`) or at least one `[[s3.rule]]`",
            ));
        }
        Ok(S3Settings { rules })
    }
}

/// The path as routing matches it: one trailing slash does not make another route. The same rule
/// as `crate::inbound::route::normalize_path` (a test holds them together; config sits below routing).
fn route_path_key(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    }
}

pub(super) fn has_credentials(url: &reqwest::Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

pub(super) fn header_name(key: &str, name: &str) -> Result<http::HeaderName, ConfigError> {
    http::HeaderName::try_from(name).map_err(|_| ConfigError::new(key, format!("`{name}` is not a header name")))
}

impl RawHmac {
    fn validate(self, key: &str) -> Result<HmacSpec, ConfigError> {
        let field = |f: &str| format!("{key}.{f}");
        let algorithm = match self.algorithm.as_str() {
            "sha1" => HmacAlgorithm::Sha1,
            "sha256" => HmacAlgorithm::Sha256,
            "sha512" => HmacAlgorithm::Sha512,
            other => {
                return Err(ConfigError::new(
                    field("algorithm"),
                    format!("`{other}` is not one of sha1, sha256, sha512"),
                ))
            }
        };
        let encoding = match self.encoding.as_str() {
            "hex" => SignatureEncoding::Hex,
            "base64" => SignatureEncoding::Base64,
            other => {
                return Err(ConfigError::new(
                    field("encoding"),
                    format!("`{other}` is not one of hex, base64"),
                ))
            }
        };
        let timestamp_header = self
            .timestamp_header
            .as_deref()
            .map(|h| header_name(&field("timestamp_header"), h))
            .transpose()?;
        let content = self
            .content
            .as_deref()
            .map(|t| parse_content_template(&field("content"), t))
            .transpose()?;
        let uses_timestamp = content
            .as_ref()
            .is_some_and(|parts| parts.contains(&ContentPart::Timestamp));
        if uses_timestamp && timestamp_header.is_none() {
            return Err(ConfigError::new(
                field("timestamp_header"),
                "`{timestamp}` in `content` needs `timestamp_header`",
            ));
        }
        Ok(HmacSpec {
            header: header_name(&field("header"), &self.header)?,
            algorithm,
            encoding,
            prefix: self.prefix,
            content,
            timestamp_header,
        })
    }
}

/// Parses `"{timestamp}.{body}"`-style templates: `{body}`, `{timestamp}`, `{header:<name>}`.
fn parse_content_template(key: &str, template: &str) -> Result<Vec<ContentPart>, ConfigError> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(ContentPart::Literal(rest[..open].to_owned()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| ConfigError::new(key, "unclosed `{`"))?
            + open;
        let placeholder = &rest[open + 1..close];
        parts.push(match placeholder {
            "body" => ContentPart::Body,
            "timestamp" => ContentPart::Timestamp,
            other => match other.strip_prefix("header:") {
                Some(name) => ContentPart::Header(header_name(key, name)?),
                None => {
                    return Err(ConfigError::new(
                        key,
                        format!("unknown placeholder `{{{other}}}`; use {{body}}, {{timestamp}} or {{header:<name>}}"),
                    ))
                }
            },
        });
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(ContentPart::Literal(rest.to_owned()));
    }
    if !parts.contains(&ContentPart::Body) {
        return Err(ConfigError::new(key, "the signed content must include `{body}`"));
    }
    Ok(parts)
}

impl RawChallenge {
    fn validate(self, key: &str) -> Result<Challenge, ConfigError> {
        match (self.query, self.json) {
            (Some(name), None) if !name.is_empty() => Ok(Challenge::Query(name)),
            (None, Some(pointer)) if pointer.starts_with('/') => Ok(Challenge::Json(pointer)),
            (None, Some(_)) => Err(ConfigError::new(
                format!("{key}.json"),
                "must be a JSON Pointer such as `/challenge`",
            )),
            _ => Err(ConfigError::new(
                key,
                "set exactly one of `query = \"<param>\"` or `json = \"<pointer>\"`",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
        [downstream]
        base_url = "http://127.0.0.1:8080"
        api_key = "env:ALGO_API_KEY"
        timeout_secs = 30

        [[route]]
        path = "/hooks/github"
        verify = "github"
        secrets = ["env:A", "secretsmanager:hookrelay/gh#secret"]
        algorithm = "demo/Hello/0.1.0"

        [[route]]
        path = "/hooks/token"
        verify = "token"
        header = "X-Token"
        secrets = ["env:B"]
        algorithm = "demo/Hello"

        [s3]
        algorithm = "demo/Hello/0.1.0"
    "#;

    fn err(text: &str) -> ConfigError {
        Config::from_toml(text).expect_err("config should be refused")
    }

    fn with_route(route: &str) -> String {
        format!("[[route]]\n{route}\n")
    }

    #[test]
    fn parses_a_full_config() {
        let c = Config::from_toml(GOOD).unwrap();
        assert_eq!(c.downstream.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(c.downstream.api_key, Some(SecretRef::Env("ALGO_API_KEY".into())));
        assert_eq!(c.downstream.timeout, Duration::from_secs(30));
        assert_eq!(c.routes.len(), 2);
        assert_eq!(c.routes[0].verify.scheme, SchemeKind::GitHub);
        assert_eq!(c.routes[0].verify.secrets.len(), 2);
        assert_eq!(c.routes[1].verify.scheme, SchemeKind::Token);
        assert_eq!(c.routes[1].verify.header.as_ref().unwrap(), "x-token");
        assert_eq!(
            c.s3.as_ref().unwrap().rules[0]
                .target
                .algorithm
                .as_ref()
                .unwrap()
                .as_str(),
            "demo/Hello/0.1.0"
        );
        assert_eq!(c.ingress.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(c.worker.concurrency, 10);
        assert!(!c.worker.warm_up, "connection warm-up is opt-in");
        assert_eq!(c.targets_in_use(), ["downstream"].into());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_not_echoed() {
        let e = err("[downstream]\napi_key = 31415926535");
        assert_eq!(e.key, "downstream.api_key");
        assert!(!e.to_string().contains("31415926535"), "{e}");
        assert!(e.to_string().contains("expected"), "{e}");
    }

    #[test]
    fn warm_up_is_a_worker_switch() {
        let c = Config::from_toml("[worker]\nwarm_up = true").unwrap();
        assert!(c.worker.warm_up);
    }

    #[test]
    fn defaults_are_the_public_api() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(c.downstream.base_url.as_str(), "https://api.algorithmia.com/");
        assert_eq!(c.downstream.timeout, Duration::from_secs(300));
        assert!(c.downstream.api_key.is_none() && c.routes.is_empty() && c.s3.is_none());
    }

    #[test]
    fn each_error_names_its_key() {
        let cases: Vec<(String, &str)> = vec![
            (
                with_route(
                    r#"verify = "none"
                algorithm = "a/b""#,
                ),
                "route[0].path",
            ),
            (
                with_route(
                    r#"path = "/x"
                verify = "github"
                secrets = ["hunter2"]
                algorithm = "a/b""#,
                ),
                "route[0].secrets[0]",
            ),
            (
                with_route(
                    r#"path = "/x"
                verify = "github"
                algorithm = "a/b""#,
                ),
                "route[0].secrets",
            ),
            (
                with_route(
                    r#"path = "/x"
                verify = "rot13"
                algorithm = "a/b""#,
                ),
                "route[0].verify",
            ),
            (
                with_route(
                    r#"path = "x"
                verify = "none"
                algorithm = "a/b""#,
                ),
                "route[0].path",
            ),
            (
                with_route(
                    r#"path = "/x"
                verify = "none"
                algorithm = "a//b""#,
                ),
                "route[0].algorithm",
            ),
            (
                with_route(
                    r#"path = "/x"
                verify = "none"
                header = "X"
                algorithm = "a/b""#,
                ),
                "route[0].header",
            ),
            (
                with_route(
                    r#"path = "/x"
                verify = "token"
                header = "bad header"
                secrets = ["env:T"]
                algorithm = "a/b""#,
                ),
                "route[0].header",
            ),
            (
                with_route(
                    r#"path = "/x"
                verify = "none"
                algorithm = "a/b"
                colour = "blue""#,
                ),
                "route[0].colour",
            ),
            (
                format!(
                    "{}{}",
                    with_route("path = \"/x\"\nverify = \"none\"\nalgorithm = \"a/b\""),
                    with_route("path = \"/x\"\nverify = \"none\"\nalgorithm = \"a/b\"")
                ),
                "route[1].path",
            ),
            ("[downstream]\nbase_url = \"ftp://x\"".into(), "downstream.base_url"),
            (
                "[downstream]\nbase_url = \"https://u:hunter2@x\"".into(),
                "downstream.base_url",
            ),
            ("[downstream]\napi_key = \"plain\"".into(), "downstream.api_key"),
            ("[downstream]\ntimeout_secs = 0".into(), "downstream.timeout_secs"),
            ("[s3]\nalgorithm = \"nope\"".into(), "s3.algorithm"),
            ("[ingress]\nmax_body_bytes = 10485760".into(), "ingress.max_body_bytes"),
            ("[worker]\nconcurrency = 0".into(), "worker.concurrency"),
            ("[worker]\nretry_base_secs = 0".into(), "worker.retry_base_secs"),
            (
                "[worker]\nretry_base_secs = 10\nretry_max_secs = 5".into(),
                "worker.retry_max_secs",
            ),
            (
                "[worker]\nalgorithm_errors = \"maybe\"".into(),
                "worker.algorithm_errors",
            ),
            ("[workers]\nconcurrency = 1".into(), "workers"),
            ("[worker]\nconcurrency = \"ten\"".into(), "worker.concurrency"),
            ("[worker]\nwarm_up = \"yes\"".into(), "worker.warm_up"),
            ("[downstream]\ntimeout_secs = \"30\"".into(), "downstream.timeout_secs"),
            ("[ingress]\nmax_body_bytes = \"big\"".into(), "ingress.max_body_bytes"),
            (
                format!(
                    "{}{}",
                    with_route("path = \"/x\"\nverify = \"none\"\nalgorithm = \"a/b\""),
                    with_route("path = \"/y\"\nverify = \"none\"\nalgorithm = \"a/b\"\nmode = 5")
                ),
                "route[1].mode",
            ),
            (
                format!(
                    "[[ route ]]  # the first\n{}[worker]\nconcurrency = 2\n[[route]] # again\n{}",
                    "path = \"/x\"\nverify = \"none\"\nalgorithm = \"a/b\"\n",
                    "path = \"/y\"\nverify = \"none\"\nalgorithm = \"a/b\"\nmode = 5"
                ),
                "route[1].mode",
            ),
        ];
        for (text, key) in cases {
            let e = err(&text);
            assert_eq!(e.key, key, "for config:\n{text}\ngot: {e}");
            assert!(e.to_string().contains(key), "{e}");
        }
    }

    #[test]
    fn a_trailing_slash_does_not_make_another_route() {
        let routes = |first: &str, second: &str| {
            format!(
                "{}{}",
                with_route(&format!(
                    "path = \"{first}\"\nverify = \"github\"\nsecrets = [\"env:S\"]\nalgorithm = \"a/b\""
                )),
                with_route(&format!("path = \"{second}\"\nverify = \"none\"\nalgorithm = \"a/b\""))
            )
        };
        for (first, second) in [("/hooks/a", "/hooks/a/"), ("/hooks/a/", "/hooks/a")] {
            let e = err(&routes(first, second));
            assert_eq!(e.key, "route[1].path", "{e}");
            assert!(
                e.reason.contains(&format!("`{second}`"))
                    && e.reason.contains(&format!("route[0]'s `{first}`"))
                    && e.reason.contains("trailing slash"),
                "{e}"
            );
        }
        let exact = err(&routes("/hooks/a", "/hooks/a"));
        assert_eq!(exact.key, "route[1].path");
        assert!(exact.reason.contains("route[0]"), "{exact}");
        // Only one slash is ignored, and `/` stays itself: these are different routes.
        for (first, second) in [("/hooks/a", "/hooks/a//"), ("/", "/x"), ("/hooks/a", "/hooks/ab")] {
            Config::from_toml(&routes(first, second)).unwrap();
        }
    }

    #[test]
    fn duplicate_routes_are_judged_as_routing_matches_paths() {
        for path in ["/", "//", "/a", "/a/", "/a//", "/a/b/", "/a/b"] {
            assert_eq!(
                route_path_key(path),
                crate::inbound::route::normalize_path(path),
                "{path}"
            );
        }
    }

    fn route_error(scheme: &str, extra: &str) -> ConfigError {
        err(&format!(
            "[[route]]\npath = \"/x\"\nverify = \"{scheme}\"\nalgorithm = \"a/b\"\n{extra}\n"
        ))
    }

    #[test]
    fn scheme_keys_are_checked_per_scheme() {
        let cases = [
            (
                "github",
                "secrets = [\"env:S\"]\ntolerance_secs = 60",
                "route[0].tolerance_secs",
            ),
            ("stripe", "secrets = [\"env:S\"]\nheader = \"x-a\"", "route[0].header"),
            (
                "stripe",
                "secrets = [\"env:S\"]\ntolerance_secs = 0",
                "route[0].tolerance_secs",
            ),
            ("meta", "secrets = [\"env:S\"]", "route[0].verify_token"),
            (
                "meta",
                "secrets = [\"env:S\"]\nverify_token = \"literal\"",
                "route[0].verify_token",
            ),
            ("twilio", "secrets = [\"env:S\"]", "route[0].public_url"),
            (
                "twilio",
                "secrets = [\"env:S\"]\npublic_url = \"https://x.test/a?b=1\"",
                "route[0].public_url",
            ),
            (
                "twilio",
                "secrets = [\"env:S\"]\npublic_url = \"https://u:pw@x.test/a\"",
                "route[0].public_url",
            ),
            ("standard-webhooks", "", "route[0].secrets"),
            ("svix", "public_keys = [\"whpk_literal\"]", "route[0].public_keys[0]"),
            ("hmac", "secrets = [\"env:S\"]", "route[0].hmac"),
            (
                "cal",
                "secrets = [\"env:S\"]\npublic_keys = [\"env:K\"]",
                "route[0].public_keys",
            ),
            ("none", "secrets = [\"env:S\"]", "route[0].secrets"),
            ("meta", "secrets = [\"env:S\"]\nverify_token = \"env:T\"\nchallenge = { query = \"c\" }", "route[0].challenge"),
            (
                "hmac",
                "secrets = [\"env:S\"]\ntolerance_secs = 60\nhmac = { header = \"x-s\", algorithm = \"sha256\", encoding = \"hex\" }",
                "route[0].tolerance_secs",
            ),
        ];
        for (scheme, extra, key) in cases {
            let e = route_error(scheme, extra);
            assert_eq!(e.key, key, "{scheme} with {extra:?}: {e}");
        }
        assert!(!route_error(
            "twilio",
            "secrets = [\"env:S\"]\npublic_url = \"https://u:pw@x.test/a\""
        )
        .to_string()
        .contains("pw"));
    }

    #[test]
    fn hmac_settings_and_templates() {
        let hmac = |table: &str| route_error("hmac", &format!("secrets = [\"env:S\"]\nhmac = {table}"));
        let base = "header = \"x-sig\", algorithm = \"sha256\", encoding = \"hex\"";
        assert_eq!(
            hmac(&format!("{{ {base}, algorithm2 = 1 }}")).key,
            "route[0].hmac.algorithm2"
        );
        assert_eq!(
            hmac("{ header = \"x-sig\", algorithm = \"md5\", encoding = \"hex\" }").key,
            "route[0].hmac.algorithm"
        );
        assert_eq!(
            hmac("{ header = \"x-sig\", algorithm = \"sha1\", encoding = \"b32\" }").key,
            "route[0].hmac.encoding"
        );
        for (content, key) in [
            ("{timestamp}.{body}", "route[0].hmac.timestamp_header"),
            ("{nope}.{body}", "route[0].hmac.content"),
            ("{timestamp", "route[0].hmac.content"),
            ("just text", "route[0].hmac.content"),
        ] {
            assert_eq!(
                hmac(&format!("{{ {base}, content = \"{content}\" }}")).key,
                key,
                "{content}"
            );
        }
        let ok = Config::from_toml(&format!(
            "[[route]]\npath = \"/x\"\nverify = \"hmac\"\nalgorithm = \"a/b\"\nsecrets = [\"env:S\"]\n\
             hmac = {{ {base}, prefix = \"sha256=\", content = \"v0:{{timestamp}}:{{header:x-id}}:{{body}}\", timestamp_header = \"x-ts\" }}"
        ))
        .unwrap();
        let spec = ok.routes[0].verify.hmac.clone().unwrap();
        assert_eq!(
            spec.content.unwrap(),
            vec![
                ContentPart::Literal("v0:".into()),
                ContentPart::Timestamp,
                ContentPart::Literal(":".into()),
                ContentPart::Header(http::HeaderName::from_static("x-id")),
                ContentPart::Literal(":".into()),
                ContentPart::Body,
            ]
        );
        assert_eq!(spec.prefix, "sha256=");
    }

    #[test]
    fn challenges_and_aliases() {
        let c = |extra: &str| route_error("none", extra);
        assert_eq!(c("challenge = {}").key, "route[0].challenge");
        assert_eq!(
            c("challenge = { query = \"a\", json = \"/b\" }").key,
            "route[0].challenge"
        );
        assert_eq!(c("challenge = { json = \"b\" }").key, "route[0].challenge.json");
        let ok = Config::from_toml(
            "[[route]]\npath = \"/x\"\nverify = \"cal\"\nalgorithm = \"a/b\"\nsecrets = [\"env:S\"]\n\
             challenge = { query = \"challenge\" }",
        )
        .unwrap();
        assert_eq!(SchemeKind::parse("whatsapp"), Some(SchemeKind::Meta));
        assert_eq!(ok.routes[0].challenge, Some(Challenge::Query("challenge".into())));
        assert_eq!(SchemeKind::parse("svix"), Some(SchemeKind::StandardWebhooks));
    }

    #[test]
    fn the_shipped_configs_parse() {
        let example = Config::from_toml(include_str!("../../../examples/hookrelay.toml")).unwrap();
        assert_eq!(example.routes.len(), 5);
        assert_eq!(example.targets.len(), 2);
        assert_eq!(example.s3.unwrap().rules.len(), 3);
        let dev = include_str!("../../../dev/hookrelay.toml").replace("${ALGO_URL}", "http://127.0.0.1:1");
        Config::from_toml(&dev).unwrap();
    }

    #[test]
    fn syntax_errors_do_not_quote_the_line() {
        let e = err("[[route]]\nsecrets = [\"hunter2\"\n");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(e.to_string().contains("line"), "{e}");
    }

    #[test]
    fn algorithm_paths() {
        for ok in ["demo/Hello", "demo/Hello/0.1.0", "a_b/c-d/latest"] {
            AlgorithmPath::parse("k", ok).unwrap();
        }
        for bad in ["demo", "demo/", "/demo/x", "a/b/c/d", "a/b c", "a/../b", "./b"] {
            assert!(AlgorithmPath::parse("k", bad).is_err(), "{bad}");
        }
    }
}
