//! A route's verification settings: `verify` (the scheme) and the keys each scheme reads
//! (`secrets`, `header`, `tolerance_secs`, `public_keys`, `verify_token`, `public_url`, `hmac`),
//! plus the ownership `challenge`. They are keys of `[[route]]`; `route.rs` hands them here, and
//! the generic HMAC scheme's own table is in `hmac_spec.rs`.

use std::time::Duration;

use serde::Deserialize;

use super::{
    hmac_spec::{HmacSpec, RawHmac},
    values::{has_credentials, header_name},
};
use crate::foundation::{secret::SecretRef, ConfigError};

/// The header a `verify = "token"` route reads the shared secret from when `header` is unset.
pub const DEFAULT_TOKEN_HEADER: &str = "x-webhook-token";

/// How a route authenticates its sender: the scheme and the settings it uses. Which keys a scheme
/// accepts is checked at parse time, so every field here is meaningful for `scheme`.
#[derive(Debug, Clone)]
pub struct VerifySpec {
    /// `verify`: the scheme.
    pub scheme: SchemeKind,
    /// `secrets`: secret references to the signing secrets; several allow a rotation.
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
    /// `github`: `X-Hub-Signature-256`, HMAC-SHA256 of the body.
    GitHub,
    /// `stripe`: `Stripe-Signature`, timestamped HMAC-SHA256.
    Stripe,
    /// `slack`: `X-Slack-Signature`, timestamped HMAC-SHA256.
    Slack,
    /// `standard-webhooks` (alias `svix`): HMAC `v1` or Ed25519 `v1a` signatures.
    StandardWebhooks,
    /// `shopify`: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the body.
    Shopify,
    /// `meta` (alias `whatsapp`): `X-Hub-Signature-256` plus the GET verify-token handshake.
    Meta,
    /// `zoom`: `x-zm-signature`, timestamped HMAC-SHA256.
    Zoom,
    /// `twilio`: `X-Twilio-Signature` over the public URL and the form parameters.
    Twilio,
    /// `cal`: Cal.com's `X-Cal-Signature-256`, HMAC-SHA256 of the body.
    Cal,
    /// `hmac`: a generic HMAC scheme described by the route's `hmac` table.
    Hmac,
    /// `token`: a shared secret in a header, compared in constant time.
    Token,
    /// `basic`: HTTP Basic authentication; the secrets are `user:password`.
    Basic,
    /// `none`: no verification (the route is open).
    None,
}

/// `tolerance_secs` when unset: five minutes.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

impl SchemeKind {
    /// Every scheme, in the order of [`SchemeKind::NAMES`].
    pub const ALL: [SchemeKind; 13] = [
        SchemeKind::GitHub,
        SchemeKind::Stripe,
        SchemeKind::Slack,
        SchemeKind::StandardWebhooks,
        SchemeKind::Shopify,
        SchemeKind::Meta,
        SchemeKind::Zoom,
        SchemeKind::Twilio,
        SchemeKind::Cal,
        SchemeKind::Hmac,
        SchemeKind::Token,
        SchemeKind::Basic,
        SchemeKind::None,
    ];

    /// The scheme's `verify = "..."` name (aliases aside).
    pub fn name(self) -> &'static str {
        match self {
            SchemeKind::GitHub => "github",
            SchemeKind::Stripe => "stripe",
            SchemeKind::Slack => "slack",
            SchemeKind::StandardWebhooks => "standard-webhooks",
            SchemeKind::Shopify => "shopify",
            SchemeKind::Meta => "meta",
            SchemeKind::Zoom => "zoom",
            SchemeKind::Twilio => "twilio",
            SchemeKind::Cal => "cal",
            SchemeKind::Hmac => "hmac",
            SchemeKind::Token => "token",
            SchemeKind::Basic => "basic",
            SchemeKind::None => "none",
        }
    }

    /// The `verify` names, for the error that lists them.
    pub const NAMES: &'static str =
        "github, stripe, slack, standard-webhooks (svix), shopify, meta (whatsapp), zoom, twilio, cal, hmac, token, basic, none";

    /// The scheme named `name` (aliases included), if there is one.
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

/// A route's ownership challenge, echoed back without queueing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// A GET whose query has this parameter is answered with its value (text/plain).
    Query(String),
    /// A verified POST whose JSON body has a string at this pointer is answered with it.
    Json(String),
}

/// The verification keys of one `[[route]]`, as read from TOML.
pub(super) struct VerifyKeys {
    pub(super) verify: String,
    pub(super) secrets: Vec<String>,
    pub(super) header: Option<String>,
    pub(super) tolerance_secs: Option<u64>,
    pub(super) public_keys: Option<Vec<String>>,
    pub(super) verify_token: Option<String>,
    pub(super) public_url: Option<String>,
    pub(super) hmac: Option<RawHmac>,
    pub(super) challenge: Option<RawChallenge>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChallenge {
    query: Option<String>,
    json: Option<String>,
}

impl VerifyKeys {
    /// Checks the keys against the scheme; `key` names a route field for the errors.
    pub(super) fn validate(self, key: &dyn Fn(&str) -> String) -> Result<(VerifySpec, Option<Challenge>), ConfigError> {
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
        let verify = VerifySpec {
            scheme,
            secrets,
            header,
            tolerance: Duration::from_secs(tolerance_secs),
            public_keys,
            verify_token,
            public_url,
            hmac,
        };
        Ok((verify, challenge))
    }
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
    use crate::config::{test_support::route_error, Config};

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
    fn every_scheme_is_named_and_parsed_back() {
        let mut listed = SchemeKind::NAMES.split(", ").map(|n| n.split(' ').next().unwrap());
        for kind in SchemeKind::ALL {
            assert_eq!(SchemeKind::parse(kind.name()), Some(kind));
            assert_eq!(listed.next(), Some(kind.name()));
        }
        assert_eq!(listed.next(), None);
    }
}
