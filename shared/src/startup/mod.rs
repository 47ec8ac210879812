//! Cold-start plumbing every function shares: logging, the AWS SDK config, and reporting init
//! failures to the Lambda Runtime API so a bad deploy fails loudly with a message naming the key.

use crate::config::{Config, ConfigError, ConfigSource};

mod aws;
mod init_error;
mod logging;

pub use aws::{dynamodb_client, sqs_client};
pub use init_error::fail_init;
pub use logging::init_tracing;

pub use crate::foundation::sdk_http::aws_sdk_config;

/// The config, from the one source the environment names ([`ConfigSource`]): `HOOKRELAY_CONFIG`,
/// or `HOOKRELAY_CONFIG_FILE` as a packaged file or an `s3://` object (read here, once).
pub async fn load_config() -> Result<Config, ConfigError> {
    load_config_from(&ConfigSource::from_env()?).await
}

/// The config from `source`, read and checked exactly as at cold start (`hookrelay check-config`).
pub async fn load_config_from(source: &ConfigSource) -> Result<Config, ConfigError> {
    let text = match source {
        ConfigSource::S3(object) => crate::config::s3_source::read(object, &aws_sdk_config().await?).await?,
        local => local.read_local()?,
    };
    source.parse(&text)
}

/// Reads a required environment variable, naming it when missing.
pub fn required_env(name: &str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ConfigError::new(name, "environment variable is not set"))
}
