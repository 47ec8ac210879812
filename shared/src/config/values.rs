//! The value kinds several tables accept, checked one way everywhere: header names, http(s) URLs
//! without credentials, JSON Pointers and algorithm paths (`owner/name[/version]`).

use std::fmt;

use crate::foundation::ConfigError;

/// Whether a URL carries a user name or password (refused everywhere: URLs get logged).
pub(super) fn has_credentials(url: &reqwest::Url) -> bool {
    !url.username().is_empty() || url.password().is_some()
}

/// `name` as an HTTP header name; the error is reported at `key`.
pub(super) fn header_name(key: &str, name: &str) -> Result<http::HeaderName, ConfigError> {
    http::HeaderName::try_from(name).map_err(|_| ConfigError::new(key, format!("`{name}` is not a header name")))
}

/// An http(s) URL with a host and without credentials, for callbacks and HTTP targets.
pub(super) fn http_url(key: &str, text: &str) -> Result<reqwest::Url, ConfigError> {
    reqwest::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some() && !has_credentials(u))
        // The text is not echoed: a URL can carry credentials.
        .ok_or_else(|| ConfigError::new(key, "must be an http(s) URL without credentials"))
}

/// RFC 6901: `~` must be followed by `0` or `1`.
pub(super) fn validate_pointer(key: &str, pointer: &str) -> Result<(), ConfigError> {
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

/// `owner/name[/version]`, as the Algorithmia API addresses an algorithm.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct AlgorithmPath(String);

impl AlgorithmPath {
    /// Checks `text` is `owner/name` or `owner/name/version` (segments of `[A-Za-z0-9_.-]`, none
    /// all dots); the error is reported at `key`.
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

    /// The path as written, e.g. `demo/Hello/0.1.0`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlgorithmPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
