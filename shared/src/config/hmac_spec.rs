//! A route's `hmac = { header, algorithm, encoding, prefix, content, timestamp_header }`: the
//! settings of the generic HMAC scheme (`verify = "hmac"`), and its signed-content templates.

use serde::Deserialize;

use super::values::header_name;
use crate::foundation::ConfigError;

/// `hmac = { header, algorithm, encoding, prefix, content, timestamp_header }` on a route.
#[derive(Debug, Clone)]
pub struct HmacSpec {
    /// `header`: the header that carries the signature (required).
    pub header: http::HeaderName,
    /// `algorithm`: `sha1`, `sha256` or `sha512` (required).
    pub algorithm: HmacAlgorithm,
    /// `encoding`: how the signature is written, `hex` or `base64` (required).
    pub encoding: SignatureEncoding,
    /// Stripped from the header value before decoding (e.g. `sha256=`).
    pub prefix: String,
    /// What is signed; the raw body when absent.
    pub content: Option<Vec<ContentPart>>,
    /// Where `{timestamp}` comes from; when set, the timestamp must be within tolerance.
    pub timestamp_header: Option<http::HeaderName>,
}

/// `hmac.algorithm`: the hash of the generic HMAC scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HmacAlgorithm {
    /// `sha1`
    Sha1,
    /// `sha256`
    Sha256,
    /// `sha512`
    Sha512,
}

/// `hmac.encoding`: how the signature is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureEncoding {
    /// `hex`: hexadecimal, either case.
    Hex,
    /// `base64`: the standard alphabet, padding optional.
    Base64,
}

/// A piece of the generic HMAC scheme's signed-content template, e.g. `"{timestamp}.{body}"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentPart {
    /// Text signed as written.
    Literal(String),
    /// `{body}`: the raw request body.
    Body,
    /// `{timestamp}`: the value of `timestamp_header`.
    Timestamp,
    /// `{header:<name>}`: the value of that request header.
    Header(http::HeaderName),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHmac {
    header: String,
    algorithm: String,
    encoding: String,
    #[serde(default)]
    prefix: String,
    content: Option<String>,
    timestamp_header: Option<String>,
}

impl RawHmac {
    pub(super) fn validate(self, key: &str) -> Result<HmacSpec, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{test_support::route_error, Config};

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
}
