//! Google serves its certificate map over HTTPS; this proves the key store fetches over TLS
//! and trusts exactly the system's root store. `SSL_CERT_FILE` makes a test CA that whole
//! store. The store is read once per process, so this file is its own test binary and sets
//! the variable in its one test before anything else runs.

use std::sync::Arc;
use std::time::Duration;

use halo_auth::firebase::keys::{KeyLookup, KeyStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
const SIGNING_CERT: &str = include_str!("../../../infra/dev-keys/dev-signing-cert.pem");

#[test]
fn certificates_are_fetched_over_https_only_from_a_server_the_root_store_trusts() {
    // SAFETY: no other thread exists yet in this process.
    unsafe { std::env::set_var("SSL_CERT_FILE", format!("{FIXTURES}/ca.pem")) };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let trusted = serve_certificate_map("localhost").await;
        let store = KeyStore::new(format!("https://localhost:{trusted}/certs"), Duration::from_secs(3), Duration::ZERO)
            .unwrap();
        assert!(matches!(store.key("dev-1").await, KeyLookup::Found(_)), "a trusted HTTPS server's keys are used");

        let untrusted = serve_certificate_map("untrusted").await;
        let store =
            KeyStore::new(format!("https://localhost:{untrusted}/certs"), Duration::from_secs(3), Duration::ZERO)
                .unwrap();
        match store.key("dev-1").await {
            KeyLookup::Unavailable(error) => assert!(format!("{error:#}").contains("requesting"), "{error:#}"),
            other => panic!("a certificate outside the root store must not be trusted, got {other:?}"),
        }
    });
}

/// An HTTPS server presenting `tests/fixtures/tls/<name>-cert.pem` that answers every
/// request with a one-key certificate map; returns its port.
async fn serve_certificate_map(name: &str) -> u16 {
    let chain = vec![CertificateDer::from_pem_file(format!("{FIXTURES}/{name}-cert.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(format!("{FIXTURES}/{name}-key.pem")).unwrap();
    let tls = tokio_rustls::rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(chain, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = serde_json::json!({ "dev-1": SIGNING_CERT }).to_string();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, body) = (acceptor.clone(), body.clone());
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(tcp).await else { return };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: max-age=60\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    port
}
