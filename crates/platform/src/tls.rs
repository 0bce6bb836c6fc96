//! TLS for the platform: the rustls server configuration, and on first
//! start a private development CA with a server certificate for
//! `localhost` and `127.0.0.1`.
//!
//! Files under `DATA_DIR/tls/`: `ca.pem` (what workstations trust),
//! `ca-key.pem`, `server.pem`, `server-key.pem` (keys readable by the owner
//! only). A real deployment passes `--cert`/`--key` from its own CA instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Paths of the development certificates.
#[derive(Debug, Clone)]
pub struct DevCertificates {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Creates the development CA and server certificate under `dir/tls/` unless
/// all four files are already there.
pub fn ensure_dev_certificates(dir: &Path) -> anyhow::Result<DevCertificates> {
    let tls = dir.join("tls");
    let paths = DevCertificates {
        ca: tls.join("ca.pem"),
        cert: tls.join("server.pem"),
        key: tls.join("server-key.pem"),
    };
    let ca_key_path = tls.join("ca-key.pem");
    if [&paths.ca, &paths.cert, &paths.key, &ca_key_path]
        .iter()
        .all(|p| p.exists())
    {
        return Ok(paths);
    }
    crate::owner_only::create_dir(&tls)?;

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "Homedesk development CA");
    ca_name.push(DnType::OrganizationName, "Homedesk (development only)");
    ca_params.distinguished_name = ca_name;
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = KeyPair::generate()?;
    let mut server_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    let mut server_name = DistinguishedName::new();
    server_name.push(DnType::CommonName, "localhost");
    server_params.distinguished_name = server_name;
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let server_cert = server_params.signed_by(&server_key, &issuer)?;

    crate::owner_only::write(&ca_key_path, ca_key.serialize_pem().as_bytes())?;
    crate::owner_only::write(&paths.key, server_key.serialize_pem().as_bytes())?;
    std::fs::write(&paths.cert, server_cert.pem() + &ca_cert.pem())?;
    std::fs::write(&paths.ca, ca_cert.pem())?;
    tracing::info!("created a development CA at {}", paths.ca.display());
    Ok(paths)
}

/// A rustls server configuration from PEM files (chain first, then key).
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let cert_pem = std::fs::read(cert)
        .with_context(|| format!("reading the certificate {}", cert.display()))?;
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no certificate", cert.display());
    }
    let key_pem =
        std::fs::read(key).with_context(|| format!("reading the key {}", key.display()))?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .with_context(|| format!("{} is not a PEM private key", key.display()))?
        .with_context(|| format!("{} holds no private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key do not belong together")?;
    // HTTP/2 first: one connection carries a workstation's requests with
    // compressed, mostly indexed headers (HPACK), which is most of what a
    // small request costs on a village link; HTTP/1.1 for everyone else.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
