//! `EXTRA_CA_FILE` adds a CA to the roots both HTTPS clients of a function trust: the key
//! store's and the AWS SDK's. The system's root store is a file without that CA here
//! (`SSL_CERT_FILE`, read once per process: this file is its own test binary).

mod tls_server;

use std::collections::HashMap;
use std::time::Duration;

use shared::app::App;
use shared::config::Config;
use shared::firebase::keys::{KeyLookup, KeyStore};
use tls_server::{FIXTURES, serve_certificate_map};

#[test]
fn an_extra_ca_file_is_trusted_on_top_of_the_system_roots_by_the_key_store_and_the_sdk() {
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

        assert!(get_item(&url, true).await.is_ok(), "the SDK trusts the extra CA");
        let error = get_item(&url, false).await.unwrap_err();
        assert!(format!("{error:?}").contains("Certificate"), "without it the SDK does not: {error:?}");
    });
}

/// A `GetItem` through a function's SDK configuration (the server's answer parses as an
/// empty one), given `EXTRA_CA_FILE` or not.
async fn get_item(url: &str, extra_ca: bool) -> Result<(), aws_sdk_dynamodb::Error> {
    let vars: HashMap<&str, String> = HashMap::from([
        ("STAGE", "test".to_owned()),
        ("AWS_REGION", "ap-southeast-3".to_owned()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", url.to_owned()),
    ]);
    let var = |name: &str| match name {
        "EXTRA_CA_FILE" if extra_ca => Some(format!("{FIXTURES}/ca.pem")),
        _ => vars.get(name).cloned(),
    };
    let config = Config::from_lookup(var).unwrap();
    let sdk = App::lambda_sdk_config(&config, var).unwrap();
    let key = HashMap::from([("pk".to_owned(), aws_sdk_dynamodb::types::AttributeValue::S("x".into()))]);
    aws_sdk_dynamodb::Client::new(&sdk).get_item().table_name("t").set_key(Some(key)).send().await?;
    Ok(())
}
