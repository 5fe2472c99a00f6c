//! HTTPS in front of the plain-HTTP stand-ins, as production's endpoints are: a TLS
//! terminator per upstream, presenting a certificate for 127.0.0.1 signed by the test CA of
//! `shared/tests/fixtures/tls`, which the functions trust as their `EXTRA_CA_FILE`.
//! It runs on a runtime thread of its own, off the driver's measuring thread.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

const CA: &[u8] = include_bytes!("../../shared/auth/tests/fixtures/tls/ca.pem");
const CERT: &[u8] = include_bytes!("../../shared/auth/tests/fixtures/tls/localhost-cert.pem");
const KEY: &[u8] = include_bytes!("../../shared/auth/tests/fixtures/tls/localhost-key.pem");

pub struct Fronts {
    runtime: Option<tokio::runtime::Runtime>,
    acceptor: TlsAcceptor,
    /// The test CA alone (ours: `EXTRA_CA_FILE`).
    pub ca_file: PathBuf,
    /// The system bundle and the test CA (the peer: `SSL_CERT_FILE`).
    pub bundle_file: PathBuf,
    /// A directory holding only the test CA (the peer as written: added to `SSL_CERT_DIR`).
    pub ca_dir: PathBuf,
}

impl Fronts {
    /// Writes the CA files under `dir`; `system_bundle` is the system's CA bundle.
    pub fn new(dir: &Path, system_bundle: &Path) -> anyhow::Result<Self> {
        let ca_dir = dir.join("ca");
        std::fs::create_dir_all(&ca_dir)?;
        let ca_file = ca_dir.join("bench-ca.pem");
        std::fs::write(&ca_file, CA)?;
        let mut bundle = std::fs::read(system_bundle).with_context(|| system_bundle.display().to_string())?;
        bundle.extend_from_slice(CA);
        let bundle_file = dir.join("bundle-and-bench-ca.pem");
        std::fs::write(&bundle_file, bundle)?;
        let chain = vec![CertificateDer::from_pem_slice(CERT)?];
        let key = PrivateKeyDer::from_pem_slice(KEY)?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        Ok(Self { runtime: Some(runtime), acceptor: TlsAcceptor::from(Arc::new(config)), ca_file, bundle_file, ca_dir })
    }

    /// An `https://127.0.0.1:<port>` URL in front of `upstream` (`http://host:port/…`; the
    /// path is kept).
    pub fn front(&self, upstream: &str) -> anyhow::Result<String> {
        let uri: http::Uri = upstream.parse().with_context(|| format!("{upstream} is not a URL"))?;
        let authority = uri.authority().with_context(|| format!("{upstream} has no host"))?.to_string();
        let listener = crate::loopback_listener()?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let acceptor = self.acceptor.clone();
        let runtime = self.runtime.as_ref().context("the TLS fronts are stopped")?;
        runtime.spawn(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, authority) = (acceptor.clone(), authority.clone());
                tokio::spawn(async move {
                    let _ = tcp.set_nodelay(true);
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(authority.as_str()).await else { return };
                    let _ = plain.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        let path = uri.path_and_query().map(|p| p.as_str()).filter(|p| *p != "/").unwrap_or("");
        Ok(format!("https://127.0.0.1:{port}{path}"))
    }
}

impl Drop for Fronts {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
