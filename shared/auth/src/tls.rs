//! The roots HTTPS connections trust: the system's, plus the certificates of the PEM file
//! that `EXTRA_CA_FILE` names (a corporate proxy's CA, or a local TLS stand-in's).

use std::path::Path;

use anyhow::{Context, bail};
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, Connector, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

pub const EXTRA_CA_FILE: &str = "EXTRA_CA_FILE";

/// The extra CA file this process was given, if any.
pub fn extra_ca_file() -> Option<std::path::PathBuf> {
    std::env::var_os(EXTRA_CA_FILE).filter(|v| !v.is_empty()).map(Into::into)
}

/// The system's roots, plus every certificate in `extra`.
pub fn context(extra: Option<&Path>) -> anyhow::Result<TlsContext> {
    let mut roots = TrustStore::default();
    if let Some(path) = extra {
        let pem = std::fs::read(path).with_context(|| format!("{EXTRA_CA_FILE} {}", path.display()))?;
        check_certificates(&pem).with_context(|| format!("{EXTRA_CA_FILE} {}", path.display()))?;
        roots = roots.with_pem_certificate(pem);
    }
    Ok(TlsContext::builder().with_trust_store(roots).build()?)
}

/// The connector's root store panics on a PEM it cannot parse, on the first connection:
/// refused here instead, at init, with the file's name.
fn check_certificates(pem: &[u8]) -> anyhow::Result<()> {
    let mut found = 0;
    for block in x509_parser::pem::Pem::iter_from_buffer(pem) {
        let block = block.context("not PEM")?;
        if block.label == "CERTIFICATE" {
            block.parse_x509().context("a certificate that does not parse")?;
            found += 1;
        }
    }
    if found == 0 {
        bail!("holds no certificate");
    }
    Ok(())
}

/// An HTTPS connector (rustls with aws-lc, as the SDK's) trusting [`context`]'s roots.
pub fn connector(extra: Option<&Path>) -> anyhow::Result<Connector> {
    Ok(ConnectorBuilder::default()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context(extra)?)
        .build())
}

/// The SDK's default HTTPS client (rustls with aws-lc, proxies from the environment, the
/// SDK's connect settings and sleep), trusting `extra` on top of the system's roots.
pub fn sdk_http_client(extra: &Path) -> anyhow::Result<SharedHttpClient> {
    let tls = context(Some(extra))?;
    Ok(Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(aws_smithy_http_client::proxy::ProxyConfig::from_env()));
        builder.tls_context(tls.clone()).build()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");

    #[test]
    fn an_extra_ca_file_of_certificates_is_accepted() {
        assert!(context(Some(Path::new(CA))).is_ok());
        assert!(context(None).is_ok());
    }

    #[test]
    fn a_missing_extra_ca_file_or_one_without_certificates_fails_with_its_name() {
        let missing = context(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(format!("{missing:#}").contains("EXTRA_CA_FILE /nonexistent/ca.pem"), "{missing:#}");
        let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/localhost-key.pem");
        let no_certificate = context(Some(Path::new(key))).unwrap_err();
        assert!(format!("{no_certificate:#}").contains("holds no certificate"), "{no_certificate:#}");
    }
}
