//! Layer 0, what every other part stands on: the cold-start error ([`ConfigError`]), secrets,
//! and the one TLS and HTTP stack that reqwest and the AWS SDK clients share.

pub mod error;
pub mod sdk_http;
pub mod secret;
pub mod tls;

pub use error::ConfigError;
