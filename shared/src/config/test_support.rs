//! What the config tests of every table share: a config that must be refused, and its error.

use super::{Config, ConfigError};

/// The error of a config that must be refused.
pub(super) fn err(text: &str) -> ConfigError {
    Config::from_toml(text).expect_err("config should be refused")
}

/// The error of a one-route config verified by `scheme`, with `extra` route keys.
pub(super) fn route_error(scheme: &str, extra: &str) -> ConfigError {
    err(&format!(
        "[[route]]\npath = \"/x\"\nverify = \"{scheme}\"\nalgorithm = \"a/b\"\n{extra}\n"
    ))
}
