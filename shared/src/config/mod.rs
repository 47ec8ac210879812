//! Typed configuration, parsed and validated once at cold start.
//!
//! Every error names the key it is about (`route[2].algorithm`), so a bad deploy fails at init
//! with a message that says what to fix. Secret values are not here: only [`SecretRef`]s, which
//! each function resolves for the parts it uses (least privilege).
//!
//! One module per TOML table, each with its public types, its raw serde shape and its checks:
//! `[downstream]` (`downstream.rs`), `[targets.<name>]` and the target a route or rule names
//! (`targets.rs`), `[[route]]` (`route.rs`; its verification keys in `verify_spec.rs`, their
//! `hmac` table in `hmac_spec.rs`, its `input` in `input.rs`), `[s3]` (`s3.rs`), `[ingress]`
//! (`ingress.rs`), `[worker]` (`worker.rs`); `values.rs` holds the value kinds several tables
//! share. This module holds [`Config`], the top-level shape and the checks across tables;
//! everything is re-exported here, at the paths the rest of the crate uses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

#[cfg(doc)]
use crate::foundation::secret::SecretRef;
pub use crate::foundation::ConfigError;

mod downstream;
mod hmac_spec;
mod ingress;
mod input;
mod route;
mod s3;
pub mod s3_source;
mod source;
mod syntax;
mod targets;
#[cfg(test)]
mod test_support;
mod values;
mod verify_spec;
mod worker;

pub use downstream::{Downstream, DEFAULT_BASE_URL};
pub use hmac_spec::{ContentPart, HmacAlgorithm, HmacSpec, SignatureEncoding};
pub use ingress::{IngressSettings, DEFAULT_MAX_BODY_BYTES, MAX_BODY_LIMIT};
pub use input::{InputMapping, ValueSource};
pub use route::{Ack, CallbackSpec, Mode, Route, DEFAULT_DEDUP_WINDOW_SECS, DEFAULT_SYNC_DEADLINE_SECS};
pub use s3::{S3Input, S3Rule, S3Settings};
pub use source::{ConfigSource, S3Object, MAX_CONFIG_BYTES};
pub use targets::{AlgorithmOptions, HeaderValueSpec, HttpTargetSpec, OutputMode, TargetRef, TargetSpec, DOWNSTREAM};
pub use values::AlgorithmPath;
pub use verify_spec::{Challenge, SchemeKind, VerifySpec, DEFAULT_TOKEN_HEADER, DEFAULT_TOLERANCE_SECS};
pub use worker::WorkerSettings;

/// SQS's largest message (1 MiB since August 2025).
pub const SQS_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The environment variable that holds the config's TOML text (see [`ConfigSource`]).
pub const CONFIG_ENV: &str = "HOOKRELAY_CONFIG";
/// The environment variable that names the config file or S3 object (see [`ConfigSource`]).
pub const CONFIG_FILE_ENV: &str = "HOOKRELAY_CONFIG_FILE";

/// The whole config, validated: one field per TOML table.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[downstream]`: the default algorithm API.
    pub downstream: Downstream,
    /// `[targets.<name>]`: more algorithm APIs and generic HTTP targets.
    pub targets: BTreeMap<String, TargetSpec>,
    /// `[[route]]`, in file order: the ingress's paths.
    pub routes: Vec<Route>,
    /// `[s3]`: the S3 relay's rules, if the config has the table.
    pub s3: Option<S3Settings>,
    /// `[ingress]`: the ingress function's own settings.
    pub ingress: IngressSettings,
    /// `[worker]`: the worker function's own settings.
    pub worker: WorkerSettings,
}

impl Config {
    /// Parses and validates a config; the error names the key to fix.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| syntax::toml_error(text, &e))?;
        raw.validate()
    }

    /// The targets some route or S3 rule delivers to: the ones worth a connection ahead of time.
    pub fn targets_in_use(&self) -> BTreeSet<&str> {
        let routes = self.routes.iter().map(|route| route.target.name.as_str());
        let rules = self
            .s3
            .iter()
            .flat_map(|s3| &s3.rules)
            .map(|rule| rule.target.name.as_str());
        routes.chain(rules).collect()
    }
}

// ---- the TOML shape -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    downstream: downstream::RawDownstream,
    #[serde(default)]
    targets: BTreeMap<String, targets::RawTarget>,
    #[serde(default, rename = "route")]
    routes: Vec<route::RawRoute>,
    s3: Option<s3::RawS3>,
    #[serde(default)]
    ingress: ingress::RawIngress,
    #[serde(default)]
    worker: worker::RawWorker,
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let downstream = self.downstream.validate()?;
        let targets = targets::targets(self.targets)?;
        // Routing ignores one trailing slash ([`normalize_path`]), so `/a` and `/a/`
        // are one route: letting the second replace the first would silently swap its
        // verification (a `github` route turned `none` by a typo).
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut routes: Vec<Route> = Vec::with_capacity(self.routes.len());
        for (index, raw) in self.routes.into_iter().enumerate() {
            let route = raw.validate(index, &targets)?;
            if let Some(&first) = seen.get(normalize_path(&route.path)) {
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
            seen.insert(normalize_path(&route.path).to_owned(), index);
            routes.push(route);
        }
        let s3 = match self.s3 {
            Some(raw) => Some(raw.validate(&targets)?),
            None => None,
        };
        let ingress = self.ingress.validate()?;
        let worker = self.worker.validate()?;
        Ok(Config {
            downstream,
            targets,
            routes,
            s3,
            ingress,
            worker,
        })
    }
}

/// The path as routing matches it: paths are matched exactly, except that one trailing slash does
/// not make another route. Here, below routing, because the duplicate-route check at cold start
/// must judge paths exactly as the route table ([`crate::inbound::route::RouteTable`]) will.
pub fn normalize_path(path: &str) -> &str {
    match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::test_support::err;
    use super::*;
    use crate::foundation::secret::SecretRef;

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
    fn one_trailing_slash_is_ignored_by_routing() {
        for (path, routed) in [
            ("/", "/"),
            ("//", "/"),
            ("/a", "/a"),
            ("/a/", "/a"),
            ("/a//", "/a/"),
            ("/a/b/", "/a/b"),
            ("/a/b", "/a/b"),
        ] {
            assert_eq!(normalize_path(path), routed, "{path}");
        }
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
}
