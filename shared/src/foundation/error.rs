//! The one error of cold start: a config key, an environment variable or a secret that is wrong,
//! named so that a bad deploy fails at init with a message that says what to fix.

use std::fmt;

/// What is wrong at cold start, and where. `key` is a config key (`route[2].algorithm`), an
/// environment variable (`HOOKRELAY_QUEUE_URL`) or a secret reference's key; `reason` never
/// carries a secret or a config value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config at `{key}`: {reason}")]
pub struct ConfigError {
    /// The config key, environment variable or secret the error is about.
    pub key: String,
    /// Why it is wrong, in words safe to log.
    pub reason: String,
}

impl ConfigError {
    /// An error about `key`.
    pub fn new(key: impl Into<String>, reason: impl fmt::Display) -> Self {
        ConfigError {
            key: key.into(),
            reason: reason.to_string(),
        }
    }
}
