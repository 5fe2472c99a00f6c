//! An HTTPS server for the TLS tests, presenting a certificate of `tests/fixtures/tls/`.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
const SIGNING_CERT: &str = include_str!("../../../../infra/dev-keys/dev-signing-cert.pem");

/// An HTTPS server presenting `tests/fixtures/tls/<name>-cert.pem` that answers every
/// request with a one-key certificate map; returns its port.
pub async fn serve_certificate_map(name: &str) -> u16 {
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
