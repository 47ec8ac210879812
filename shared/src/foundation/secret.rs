//! Secrets and references to them. Config text only ever holds references (`env:NAME`,
//! `secretsmanager:<id>[#json-key]`); values are resolved once at cold start and never printed.

use std::fmt;

use crate::foundation::ConfigError;

/// A secret value. `Debug` redacts it and there is deliberately no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<[u8]>);

impl Secret {
    /// Wraps a value read from its source.
    pub fn new(value: impl Into<Vec<u8>>) -> Self {
        Secret(value.into().into_boxed_slice())
    }

    /// The value, for the one place that needs it (a MAC key, a header): never to log.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where a secret lives. Parsed from config; resolving it is [`SecretResolver`]'s job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `env:NAME`: the environment variable `NAME`.
    Env(String),
    /// `secretsmanager:<id>[#json-key]`: a Secrets Manager secret's string, or one field of it
    /// when it is a JSON object.
    SecretsManager {
        /// The secret's name or ARN.
        id: String,
        /// The field of a JSON secret, after `#`.
        json_key: Option<String>,
    },
}

impl SecretRef {
    /// Parses a reference; `key` names the config key for the error. A bare literal is refused so
    /// that secrets never live in config text or templates.
    pub fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
        if let Some(name) = text.strip_prefix("env:") {
            if name.is_empty() {
                return Err(ConfigError::new(key, "`env:` needs a variable name"));
            }
            return Ok(SecretRef::Env(name.to_owned()));
        }
        if let Some(rest) = text.strip_prefix("secretsmanager:") {
            let (id, json_key) = match rest.split_once('#') {
                Some((id, k)) => (id, Some(k.to_owned())),
                None => (rest, None),
            };
            if id.is_empty() || json_key.as_deref() == Some("") {
                return Err(ConfigError::new(
                    key,
                    "expected `secretsmanager:<name-or-arn>[#json-key]`",
                ));
            }
            return Ok(SecretRef::SecretsManager {
                id: id.to_owned(),
                json_key,
            });
        }
        Err(ConfigError::new(
            key,
            "literal secrets are not allowed; use `env:NAME` or `secretsmanager:<name-or-arn>[#json-key]`",
        ))
    }
}

/// Resolves secret references at cold start. Secrets Manager is only contacted (and its client
/// only built) when a reference needs it, so functions without such secrets need no permission.
pub struct SecretResolver {
    secrets_manager: tokio::sync::OnceCell<aws_sdk_secretsmanager::Client>,
    sdk_config: Option<aws_config::SdkConfig>,
}

impl SecretResolver {
    /// A resolver; Secrets Manager is reached through `sdk_config` (or the environment's, loaded
    /// the first time a `secretsmanager:` reference is resolved).
    pub fn new(sdk_config: Option<aws_config::SdkConfig>) -> Self {
        SecretResolver {
            secrets_manager: tokio::sync::OnceCell::new(),
            sdk_config,
        }
    }

    /// The value `reference` names; errors name `key`, the config key that holds the reference.
    pub async fn resolve(&self, key: &str, reference: &SecretRef) -> Result<Secret, ConfigError> {
        let value = match reference {
            SecretRef::Env(name) => std::env::var(name)
                .map_err(|_| ConfigError::new(key, format!("environment variable `{name}` is not set or not UTF-8")))?,
            SecretRef::SecretsManager { id, json_key } => {
                let text = self.fetch(key, id).await?;
                match json_key {
                    None => text,
                    Some(field) => json_field(&text, field)
                        .ok_or_else(|| ConfigError::new(key, format!("secret `{id}` has no string field `{field}`")))?,
                }
            }
        };
        if value.is_empty() {
            return Err(ConfigError::new(key, "the secret is empty"));
        }
        Ok(Secret::new(value))
    }

    async fn fetch(&self, key: &str, id: &str) -> Result<String, ConfigError> {
        let client = self
            .secrets_manager
            .get_or_try_init(|| async {
                let sdk_config = match &self.sdk_config {
                    Some(c) => c.clone(),
                    None => crate::foundation::sdk_http::aws_sdk_config().await?,
                };
                Ok::<_, ConfigError>(aws_sdk_secretsmanager::Client::new(&sdk_config))
            })
            .await?;
        let output = client.get_secret_value().secret_id(id).send().await.map_err(|e| {
            let detail = aws_sdk_secretsmanager::error::DisplayErrorContext(e);
            ConfigError::new(key, format!("cannot read secret `{id}` from Secrets Manager: {detail}"))
        })?;
        output
            .secret_string
            .ok_or_else(|| ConfigError::new(key, format!("secret `{id}` has no SecretString")))
    }
}

fn json_field(text: &str, field: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value.get(field)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn parses_references() {
        assert_eq!(SecretRef::parse("k", "env:X").unwrap(), SecretRef::Env("X".into()));
        assert_eq!(
            SecretRef::parse("k", "secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:a#b").unwrap(),
            SecretRef::SecretsManager {
                id: "arn:aws:secretsmanager:eu-west-1:1:secret:a".into(),
                json_key: Some("b".into())
            }
        );
    }

    #[test]
    fn refuses_literals_and_names_the_key_without_the_value() {
        let err = SecretRef::parse("route[0].secrets[1]", "hunter2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("route[0].secrets[1]"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(SecretRef::parse("k", "env:").is_err());
        assert!(SecretRef::parse("k", "secretsmanager:").is_err());
        assert!(SecretRef::parse("k", "secretsmanager:a#").is_err());
    }

    #[tokio::test]
    async fn resolves_env_and_reports_missing_variables_by_key() {
        std::env::set_var("HOOKRELAY_TEST_SECRET_RESOLVE", "s3cr3t");
        let resolver = SecretResolver::new(None);
        let got = resolver
            .resolve("k", &SecretRef::Env("HOOKRELAY_TEST_SECRET_RESOLVE".into()))
            .await
            .unwrap();
        assert_eq!(got.expose(), b"s3cr3t");
        let err = resolver
            .resolve(
                "downstream.api_key",
                &SecretRef::Env("HOOKRELAY_TEST_SURELY_UNSET".into()),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("downstream.api_key") && err.contains("HOOKRELAY_TEST_SURELY_UNSET"),
            "{err}"
        );
    }

    #[test]
    fn extracts_json_fields() {
        assert_eq!(json_field(r#"{"a":"1","b":2}"#, "a").as_deref(), Some("1"));
        assert_eq!(json_field(r#"{"a":"1","b":2}"#, "b"), None);
        assert_eq!(json_field("not json", "a"), None);
    }
}
