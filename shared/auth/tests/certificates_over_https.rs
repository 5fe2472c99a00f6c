//! Google serves its certificate map over HTTPS; this proves the key store fetches over TLS
//! and trusts exactly the system's root store. `SSL_CERT_FILE` makes a test CA that whole
//! store. The store is read once per process, so this file is its own test binary and sets
//! the variable in its one test before anything else runs.

mod tls_server;

use std::time::Duration;

use halo_auth::firebase::keys::{KeyLookup, KeyStore};
use tls_server::{FIXTURES, serve_certificate_map};

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
