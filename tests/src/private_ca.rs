//! A private certificate authority and an HTTPS listener signed by it, so a downstream on
//! loopback can be reached the way a private-CA algorithm server is in production: the function
//! trusts the CA through `SSL_CERT_FILE` ([`PrivateCa::cert_file`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A CA whose certificate is written to a PEM file (removed on drop), and a server key pair
/// for `127.0.0.1` and `localhost` signed by it.
pub struct PrivateCa {
    cert_file: PathBuf,
    server_config: Arc<rustls::ServerConfig>,
}

impl PrivateCa {
    pub fn new() -> PrivateCa {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "hookrelay test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");

        let server_key = KeyPair::generate().expect("server key");
        let server_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).expect("server params");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");

        let cert_file = std::env::temp_dir().join(format!("hookrelay-test-ca-{}.pem", uuid::Uuid::new_v4().simple()));
        std::fs::write(&cert_file, ca_cert.pem()).expect("write the CA certificate");

        let chain = vec![CertificateDer::from(server_cert.der().to_vec())];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        PrivateCa {
            cert_file,
            server_config: Arc::new(server_config),
        }
    }

    /// The CA certificate as PEM: give it to a function as `SSL_CERT_FILE`.
    pub fn cert_file(&self) -> &Path {
        &self.cert_file
    }

    pub fn listener(&self, listener: TcpListener) -> TlsListener {
        TlsListener {
            listener,
            acceptor: TlsAcceptor::from(self.server_config.clone()),
        }
    }
}

impl Default for PrivateCa {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PrivateCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.cert_file);
    }
}

/// `axum::serve` over TLS. A client that fails the handshake (one that does not trust the CA) is
/// dropped and the listener goes on accepting.
pub struct TlsListener {
    listener: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.listener.accept().await else {
                continue;
            };
            // Without it, the handshake's small writes can wait on Nagle and delayed ACKs (~40 ms).
            let _ = stream.set_nodelay(true);
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}
