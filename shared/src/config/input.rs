//! A route's `input` (what the target receives: the body, a pointer into it, or a template) and
//! the value sources its templates and `message_group` read from the request.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::values::{header_name, validate_pointer};
use crate::foundation::ConfigError;

/// Where a piece of the request is taken from, for input templates and FIFO message groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueSource {
    /// A JSON Pointer into the JSON body, e.g. `/repository/full_name`.
    Pointer(String),
    /// `header:<name>`
    Header(http::HeaderName),
    /// `query:<name>`
    Query(String),
    /// `method`: the request's HTTP method.
    Method,
    /// `path`: the request's path.
    Path,
    /// `delivery_id`: the provider's delivery id (the one de-duplication uses).
    DeliveryId,
}

impl ValueSource {
    /// Parses a `message_group` or input template value; the error is reported at `key`.
    pub fn parse(key: &str, text: &str) -> Result<ValueSource, ConfigError> {
        if text.starts_with('/') {
            return validate_pointer(key, text).map(|()| ValueSource::Pointer(text.to_owned()));
        }
        if let Some(name) = text.strip_prefix("header:") {
            return header_name(key, name).map(ValueSource::Header);
        }
        if let Some(name) = text.strip_prefix("query:") {
            if !name.is_empty() {
                return Ok(ValueSource::Query(name.to_owned()));
            }
        }
        match text {
            "method" => Ok(ValueSource::Method),
            "path" => Ok(ValueSource::Path),
            "delivery_id" => Ok(ValueSource::DeliveryId),
            _ => Err(ConfigError::new(
                key,
                format!("`{text}` is not a JSON Pointer (`/a/b`), `header:<name>`, `query:<name>`, `method`, `path` or `delivery_id`"),
            )),
        }
    }
}

/// What the target receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InputMapping {
    /// The raw body, unchanged (default).
    #[default]
    Body,
    /// The JSON value at a pointer into the body.
    Pointer(String),
    /// A JSON object built from pointers and request fields.
    Template(Vec<(String, ValueSource)>),
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawInput {
    Pointer(String),
    Template(BTreeMap<String, String>),
}

pub(super) fn input(key: &str, raw: Option<RawInput>) -> Result<InputMapping, ConfigError> {
    match raw {
        None => Ok(InputMapping::Body),
        Some(RawInput::Pointer(pointer)) if pointer.starts_with('/') => {
            validate_pointer(key, &pointer).map(|()| InputMapping::Pointer(pointer))
        }
        Some(RawInput::Pointer(other)) => Err(ConfigError::new(
            key,
            format!("`{other}` is not a JSON Pointer; use `/field` or a table"),
        )),
        Some(RawInput::Template(fields)) if fields.is_empty() => {
            Err(ConfigError::new(key, "the template has no fields"))
        }
        Some(RawInput::Template(fields)) => fields
            .into_iter()
            .map(|(name, source)| Ok((name.clone(), ValueSource::parse(&format!("{key}.{name}"), &source)?)))
            .collect::<Result<_, _>>()
            .map(InputMapping::Template),
    }
}
