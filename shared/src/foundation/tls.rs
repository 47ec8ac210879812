//! The one TLS client configuration every outbound HTTPS call shares (the AWS SDK, the algorithm
//! API, HTTP targets, callbacks), built once per process.
//!
//! Trust comes from Mozilla's root program compiled into the binary (`webpki-roots`) rather than
//! the platform store: loading the platform store means opening and parsing every file under
//! `/etc/ssl/certs` at cold start, which measured as most of our cold start (BENCHMARKS.md).
//! Whoever needs a private CA sets the standard `SSL_CERT_FILE` and/or `SSL_CERT_DIR`; then
//! exactly those certificates are trusted, as with OpenSSL.

use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

use crate::foundation::ConfigError;

const CERT_FILE_ENV: &str = "SSL_CERT_FILE";
const CERT_DIR_ENV: &str = "SSL_CERT_DIR";

/// The shared client config; the first call builds it, later calls clone an `Arc`.
pub fn client_config() -> Result<Arc<ClientConfig>, ConfigError> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, ConfigError>> = OnceLock::new();
    CONFIG.get_or_init(|| build(roots()?).map(Arc::new)).clone()
}

/// A reqwest builder using the shared TLS config and hookrelay's user agent.
pub fn http_client_builder() -> Result<reqwest::ClientBuilder, ConfigError> {
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(ClientConfig::clone(&*client_config()?))
        .user_agent(concat!("hookrelay/", env!("CARGO_PKG_VERSION"))))
}

fn build(roots: RootCertStore) -> Result<ClientConfig, ConfigError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::new("tls", e))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn roots() -> Result<RootCertStore, ConfigError> {
    let from_env = [CERT_FILE_ENV, CERT_DIR_ENV]
        .into_iter()
        .find(|key| std::env::var_os(key).is_some_and(|v| !v.is_empty()));
    let Some(key) = from_env else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    // rustls-native-certs reads exactly SSL_CERT_FILE / SSL_CERT_DIR when either is set.
    let loaded = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _unparsable) = store.add_parsable_certificates(loaded.certs);
    if added == 0 {
        let why = loaded
            .errors
            .first()
            .map_or_else(|| "no certificates found".to_string(), ToString::to_string);
        return Err(ConfigError::new(key, format!("no usable CA certificate: {why}")));
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_roots_are_mozillas() {
        let store = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // Amazon Root CA 1 signs the AWS endpoints the functions call.
        let amazon = store
            .roots
            .iter()
            .any(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).contains("Amazon Root CA 1"));
        assert!(amazon, "Amazon Root CA 1 is missing from the bundled roots");
        assert!(build(store).is_ok());
    }
}
