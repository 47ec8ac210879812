//! `[downstream]`: the default algorithm API (Algorithmia or a compatible one), the target
//! every route and S3 rule uses unless it names another. `[targets.<name>]` of
//! `type = "algorithm"` are checked by the same rules.

use std::time::Duration;

use serde::Deserialize;

use super::values::has_credentials;
use crate::foundation::{secret::SecretRef, ConfigError};

/// `[downstream] base_url` when unset: Algorithmia's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.algorithmia.com";

/// An algorithm API: `[downstream]`, or a `[targets.<name>]` of `type = "algorithm"`.
#[derive(Debug, Clone)]
pub struct Downstream {
    /// `base_url`: the API's root, an http(s) URL without credentials (default [`DEFAULT_BASE_URL`]).
    pub base_url: reqwest::Url,
    /// `api_key`: a secret reference (`env:` or `secretsmanager:`) to the API key, if the API needs one.
    pub api_key: Option<SecretRef>,
    /// `timeout_secs`: how long one call may take, 1 to 3000 s (default 300).
    pub timeout: Duration,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDownstream {
    pub(super) base_url: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) timeout_secs: Option<u64>,
}

impl RawDownstream {
    pub(super) fn validate(self) -> Result<Downstream, ConfigError> {
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
