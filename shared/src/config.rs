//! Typed configuration, parsed and validated once at cold start.
//!
//! Every error names the key it is about (`route[2].algorithm`), so a bad deploy fails at init
//! with a message that says what to fix. Secret values are not here: only [`SecretRef`]s, which
//! each function resolves for the parts it uses (least privilege).

use std::{collections::HashSet, fmt, time::Duration};

use serde::Deserialize;

use crate::secret::SecretRef;

/// SQS's largest message (1 MiB since August 2025).
pub const SQS_MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// The largest body the ingress may accept: its base64 form plus the envelope must fit one message.
pub const MAX_BODY_LIMIT: usize = 760 * 1024;
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
pub const DEFAULT_BASE_URL: &str = "https://api.algorithmia.com";
pub const DEFAULT_TOKEN_HEADER: &str = "x-webhook-token";

pub const CONFIG_ENV: &str = "HOOKRELAY_CONFIG";
pub const CONFIG_FILE_ENV: &str = "HOOKRELAY_CONFIG_FILE";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config at `{key}`: {reason}")]
pub struct ConfigError {
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, reason: impl fmt::Display) -> Self {
        ConfigError {
            key: key.into(),
            reason: reason.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub downstream: Downstream,
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
    pub algorithm: AlgorithmPath,
}

impl Route {
    pub fn key(&self, field: &str) -> String {
        format!("route[{}].{field}", self.index)
    }
}

/// How a route authenticates its sender; each variant carries exactly what its scheme needs.
#[derive(Debug, Clone)]
pub enum VerifySpec {
    None,
    GitHub {
        secrets: Vec<SecretRef>,
    },
    Token {
        header: http::HeaderName,
        secrets: Vec<SecretRef>,
    },
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    pub algorithm: AlgorithmPath,
}

#[derive(Debug, Clone)]
pub struct IngressSettings {
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// How many records of a batch are in flight at once.
    pub concurrency: usize,
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
                s.bytes().any(|b| b != b'.')
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            });
        if !well_formed {
            return Err(ConfigError::new(
                key,
                format!("`{text}` is not `owner/name[/version]`"),
            ));
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
    /// Reads `HOOKRELAY_CONFIG` (TOML text) or else `HOOKRELAY_CONFIG_FILE` (a path).
    pub fn from_env() -> Result<Config, ConfigError> {
        if let Ok(text) = std::env::var(CONFIG_ENV) {
            return Config::from_toml(&text);
        }
        match std::env::var(CONFIG_FILE_ENV) {
            Ok(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    ConfigError::new(CONFIG_FILE_ENV, format!("cannot read `{path}`: {e}"))
                })?;
                Config::from_toml(&text)
            }
            Err(_) => Err(ConfigError::new(
                CONFIG_ENV,
                format!("set `{CONFIG_ENV}` (TOML text) or `{CONFIG_FILE_ENV}` (a path)"),
            )),
        }
    }

    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        raw.validate()
    }
}

/// Reports a TOML error without quoting the offending line: the line could hold a secret.
fn toml_error(text: &str, err: &toml::de::Error) -> ConfigError {
    let line = err
        .span()
        .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
    let message = err.message().trim_end();
    let key = field_in_message(message).unwrap_or_else(|| "config".to_owned());
    match line {
        Some(line) => ConfigError::new(key, format!("{message} (line {line})")),
        None => ConfigError::new(key, message),
    }
}

/// serde names the field in backticks ("missing field `path`", "unknown field `foo`").
fn field_in_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

// ---- the TOML shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    downstream: RawDownstream,
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
struct RawDownstream {
    base_url: Option<String>,
    api_key: Option<String>,
    timeout_secs: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    path: String,
    verify: String,
    #[serde(default)]
    secrets: Vec<String>,
    header: Option<String>,
    algorithm: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawS3 {
    algorithm: String,
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
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let downstream = self.downstream.validate()?;
        let mut seen = HashSet::new();
        let mut routes = Vec::with_capacity(self.routes.len());
        for (index, raw) in self.routes.into_iter().enumerate() {
            let route = raw.validate(index)?;
            if !seen.insert(route.path.clone()) {
                return Err(ConfigError::new(
                    route.key("path"),
                    format!("`{}` is used by another route", route.path),
                ));
            }
            routes.push(route);
        }
        let s3 = match self.s3 {
            Some(raw) => Some(S3Settings {
                algorithm: AlgorithmPath::parse("s3.algorithm", &raw.algorithm)?,
            }),
            None => None,
        };
        let max_body_bytes = self
            .ingress
            .max_body_bytes
            .unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 || max_body_bytes > MAX_BODY_LIMIT {
            return Err(ConfigError::new(
                "ingress.max_body_bytes",
                format!("must be between 1 and {MAX_BODY_LIMIT} (what fits one SQS message once encoded)"),
            ));
        }
        let concurrency = self.worker.concurrency.unwrap_or(10);
        if !(1..=1000).contains(&concurrency) {
            return Err(ConfigError::new(
                "worker.concurrency",
                "must be between 1 and 1000",
            ));
        }
        Ok(Config {
            downstream,
            routes,
            s3,
            ingress: IngressSettings { max_body_bytes },
            worker: WorkerSettings { concurrency },
        })
    }
}

impl RawDownstream {
    fn validate(self) -> Result<Downstream, ConfigError> {
        let text = self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
        let base_url = reqwest::Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ConfigError::new(
                    "downstream.base_url",
                    format!("`{text}` is not an http(s) URL"),
                )
            })?;
        let api_key = self
            .api_key
            .map(|t| SecretRef::parse("downstream.api_key", &t))
            .transpose()?;
        let timeout_secs = self.timeout_secs.unwrap_or(300);
        if !(1..=3000).contains(&timeout_secs) {
            return Err(ConfigError::new(
                "downstream.timeout_secs",
                "must be between 1 and 3000",
            ));
        }
        Ok(Downstream {
            base_url,
            api_key,
            timeout: Duration::from_secs(timeout_secs),
        })
    }
}

impl RawRoute {
    fn validate(self, index: usize) -> Result<Route, ConfigError> {
        let key = |field: &str| format!("route[{index}].{field}");
        if !self.path.starts_with('/') || self.path.contains(['?', '#', ' ']) {
            return Err(ConfigError::new(
                key("path"),
                format!("`{}` must be a path starting with `/`", self.path),
            ));
        }
        let secrets = self
            .secrets
            .iter()
            .enumerate()
            .map(|(i, s)| SecretRef::parse(&key(&format!("secrets[{i}]")), s))
            .collect::<Result<Vec<_>, _>>()?;
        let needs_secrets = |secrets: Vec<SecretRef>| {
            if secrets.is_empty() {
                Err(ConfigError::new(
                    key("secrets"),
                    format!("verify = \"{}\" needs at least one secret", self.verify),
                ))
            } else {
                Ok(secrets)
            }
        };
        let unused = |field: &str| {
            ConfigError::new(
                key(field),
                format!("is not used by verify = \"{}\"", self.verify),
            )
        };
        let verify = match self.verify.as_str() {
            "none" => {
                if !secrets.is_empty() {
                    return Err(unused("secrets"));
                }
                if self.header.is_some() {
                    return Err(unused("header"));
                }
                VerifySpec::None
            }
            "github" => {
                if self.header.is_some() {
                    return Err(unused("header"));
                }
                VerifySpec::GitHub {
                    secrets: needs_secrets(secrets)?,
                }
            }
            "token" => {
                let name = self.header.as_deref().unwrap_or(DEFAULT_TOKEN_HEADER);
                let header = http::HeaderName::try_from(name).map_err(|_| {
                    ConfigError::new(key("header"), format!("`{name}` is not a header name"))
                })?;
                VerifySpec::Token {
                    header,
                    secrets: needs_secrets(secrets)?,
                }
            }
            other => {
                return Err(ConfigError::new(
                    key("verify"),
                    format!("unknown scheme `{other}`; expected one of: github, token, none"),
                ))
            }
        };
        Ok(Route {
            index,
            path: self.path,
            verify,
            algorithm: AlgorithmPath::parse(&key("algorithm"), &self.algorithm)?,
        })
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
        assert_eq!(
            c.downstream.api_key,
            Some(SecretRef::Env("ALGO_API_KEY".into()))
        );
        assert_eq!(c.downstream.timeout, Duration::from_secs(30));
        assert_eq!(c.routes.len(), 2);
        assert!(
            matches!(&c.routes[0].verify, VerifySpec::GitHub { secrets } if secrets.len() == 2)
        );
        assert!(
            matches!(&c.routes[1].verify, VerifySpec::Token { header, .. } if header == "x-token")
        );
        assert_eq!(c.s3.unwrap().algorithm.as_str(), "demo/Hello/0.1.0");
        assert_eq!(c.ingress.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
        assert_eq!(c.worker.concurrency, 10);
    }

    #[test]
    fn defaults_are_the_public_api() {
        let c = Config::from_toml("").unwrap();
        assert_eq!(
            c.downstream.base_url.as_str(),
            "https://api.algorithmia.com/"
        );
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
                "path",
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
                "colour",
            ),
            (
                format!(
                    "{}{}",
                    with_route("path = \"/x\"\nverify = \"none\"\nalgorithm = \"a/b\""),
                    with_route("path = \"/x\"\nverify = \"none\"\nalgorithm = \"a/b\"")
                ),
                "route[1].path",
            ),
            (
                "[downstream]\nbase_url = \"ftp://x\"".into(),
                "downstream.base_url",
            ),
            (
                "[downstream]\napi_key = \"plain\"".into(),
                "downstream.api_key",
            ),
            (
                "[downstream]\ntimeout_secs = 0".into(),
                "downstream.timeout_secs",
            ),
            ("[s3]\nalgorithm = \"nope\"".into(), "s3.algorithm"),
            (
                "[ingress]\nmax_body_bytes = 10485760".into(),
                "ingress.max_body_bytes",
            ),
            ("[worker]\nconcurrency = 0".into(), "worker.concurrency"),
            ("[workers]\nconcurrency = 1".into(), "workers"),
        ];
        for (text, key) in cases {
            let e = err(&text);
            assert_eq!(e.key, key, "for config:\n{text}\ngot: {e}");
            assert!(e.to_string().contains(key), "{e}");
        }
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
        for bad in [
            "demo", "demo/", "/demo/x", "a/b/c/d", "a/b c", "a/../b", "./b",
        ] {
            assert!(AlgorithmPath::parse("k", bad).is_err(), "{bad}");
        }
    }
}
