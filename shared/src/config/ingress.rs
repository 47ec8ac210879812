//! `[ingress]`: the settings of the ingress function itself.

use serde::Deserialize;

use crate::foundation::ConfigError;

/// The largest body the ingress may accept: its base64 form plus the envelope must fit one message.
pub const MAX_BODY_LIMIT: usize = 760 * 1024;
/// `[ingress] max_body_bytes` when unset: 256 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// `[ingress]`.
#[derive(Debug, Clone)]
pub struct IngressSettings {
    /// `max_body_bytes`: larger requests are refused, 1 to [`MAX_BODY_LIMIT`] (default
    /// [`DEFAULT_MAX_BODY_BYTES`]).
    pub max_body_bytes: usize,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIngress {
    max_body_bytes: Option<usize>,
}

impl RawIngress {
    pub(super) fn validate(self) -> Result<IngressSettings, ConfigError> {
        let max_body_bytes = self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 || max_body_bytes > MAX_BODY_LIMIT {
            return Err(ConfigError::new(
                "ingress.max_body_bytes",
                format!("must be between 1 and {MAX_BODY_LIMIT} (what fits one SQS message once encoded)"),
            ));
        }
        Ok(IngressSettings { max_body_bytes })
    }
}
