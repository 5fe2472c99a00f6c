//! `EXTRA_CA_FILE` adds a CA to the roots the key store trusts (the SDK's client gets the
//! same roots from `halo_auth::tls`). The system's root store is a file without that CA here
//! (`SSL_CERT_FILE`, read once per process: this file is its own test binary).

mod tls_server;

use std::time::Duration;

use halo_auth::firebase::keys::{KeyLookup, KeyStore};
use tls_server::{FIXTURES, serve_certificate_map};

#[test]
fn an_extra_ca_file_is_trusted_on_top_of_the_system_roots() {
    // SAFETY: no other thread exists yet in this process.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", format!("{FIXTURES}/untrusted-cert.pem"));
        std::env::set_var("EXTRA_CA_FILE", format!("{FIXTURES}/ca.pem"));
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let port = serve_certificate_map("localhost").await;
        let url = format!("https://localhost:{port}");
        let store = KeyStore::new(format!("{url}/certs"), Duration::from_secs(3), Duration::ZERO).unwrap();
        assert!(matches!(store.key("dev-1").await, KeyLookup::Found(_)), "the key store trusts the extra CA");
    });
}
