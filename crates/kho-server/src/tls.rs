//! TLS: Kho's listener with an optional client-certificate check (a subsystem may
//! authenticate at the gateway with a certificate registered for it instead of a
//! token), and the gateway's outgoing connections (`https://` backends, and an Agent
//! Node's connection to the central node, optionally with its own certificate).
//! rustls with the *ring* provider; certificates and keys are PEM files.

use crate::listen::{Gate, Routes};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The certificate a TLS client presented, by its SHA-256 fingerprint (hex of the
/// DER); a request extension on connections that presented one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate(pub String);

/// The listener's certificate, key and (to accept client certificates) the CA that
/// issues them.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The SHA-256 fingerprint of a certificate, as lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| anyhow::anyhow!("cannot read certificates from {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("{}: not a PEM certificate: {e}", path.display()))?;
    if certs.is_empty() {
        anyhow::bail!("{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", path.display());
    }
    Ok(certs)
}

fn private_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| anyhow::anyhow!("cannot read a PEM private key from {}: {e}", path.display()))
}

fn roots(path: &Path) -> anyhow::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    for c in certificates(path)? {
        store.add(c).map_err(|e| anyhow::anyhow!("{}: not a usable CA certificate: {e}", path.display()))?;
    }
    Ok(store)
}

/// The fingerprint of the first certificate in a PEM text.
pub fn pem_fingerprint(pem: &[u8]) -> Result<String, String> {
    let cert = CertificateDer::from_pem_slice(pem)
        .map_err(|e| format!("not a PEM certificate (-----BEGIN CERTIFICATE-----): {e}"))?;
    Ok(fingerprint(&cert))
}

/// The listener's TLS configuration: client certificates are asked for and checked
/// against `client_ca` when given, but not required (tokens still work).
pub fn server_config(files: &TlsFiles) -> anyhow::Result<Arc<ServerConfig>> {
    let builder = ServerConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
                .allow_unauthenticated()
                .build()
                .map_err(|e| anyhow::anyhow!("{}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certificates(&files.cert)?, private_key(&files.key)?).map_err(|e| {
        anyhow::anyhow!("{} and {} do not make a usable pair: {e}", files.cert.display(), files.key.display())
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The gateway's client configuration: the system's trusted roots plus `extra_ca`,
/// and a client certificate when given (`cert`, `key`).
pub fn client_config(extra_ca: Option<&Path>, identity: Option<(&Path, &Path)>) -> anyhow::Result<ClientConfig> {
    let mut store = RootCertStore::empty();
    let native = rustls_native_certs_roots();
    store.add_parsable_certificates(native);
    if let Some(ca) = extra_ca {
        for c in certificates(ca)? {
            store.add(c).map_err(|e| anyhow::anyhow!("{}: not a usable CA certificate: {e}", ca.display()))?;
        }
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(store);
    Ok(match identity {
        Some((cert, key)) => builder.with_client_auth_cert(certificates(cert)?, private_key(key)?)?,
        None => builder.with_no_client_auth(),
    })
}

fn rustls_native_certs_roots() -> Vec<CertificateDer<'static>> {
    // The system's CA bundle (Debian: /etc/ssl/certs/ca-certificates.crt); none is fine.
    ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"]
        .iter()
        .find_map(|p| certificates(Path::new(p)).ok())
        .unwrap_or_default()
}

/// Serves `routes` over TLS until `stopping` turns true, then lets open connections
/// finish. Connections are taken through `gate` (its cap and idle limit); a TLS
/// handshake gets as long as the idle limit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Arc<ServerConfig>,
    gate: Gate,
    routes: Routes,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    crate::listen::serve_connections(listener, &gate, stopping.clone(), |tcp, peer| {
        let (acceptor, gate, routes, stopping) = (acceptor.clone(), gate.clone(), routes.clone(), stopping.clone());
        async move {
            let tls = match tokio::time::timeout(gate.limits().idle, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(_)) => return,
                Err(_) => return gate.handshake_timed_out(),
            };
            let certificate =
                tls.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| ClientCertificate(fingerprint(c)));
            gate.serve(tls, peer, certificate, routes, stopping).await;
        }
    })
    .await
}
