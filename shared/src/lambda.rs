//! The Lambda entry point every function's `main` calls.

use std::convert::Infallible;

use anyhow::Context;

use crate::app::App;
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::firebase::FirebaseVerifier;
use crate::http::run;
use crate::routes::Table;

/// A function's `main`: settles the process environment while the process still has one
/// thread, then runs [`serve`] on a runtime sized for the invocations it will overlap.
pub fn start<E: Endpoint>() -> Result<(), lambda_http::Error> {
    use_one_ca_bundle();
    runtime(std::env::var("AWS_LAMBDA_MAX_CONCURRENCY").ok().as_deref())?.block_on(serve::<E>())
}

/// One thread where the sandbox hands out one invocation at a time (Lambda as the template
/// deploys it): at a small CPU share, a multi-thread runtime's workers wake one another for
/// every event the single task waits on, CPU the request pays for and nothing gains from.
/// Where invocations overlap (`AWS_LAMBDA_MAX_CONCURRENCY` over 1: Lambda Managed Instances,
/// `cargo lambda watch`), the multi-thread runtime, so they run side by side.
fn runtime(max_concurrency: Option<&str>) -> std::io::Result<tokio::runtime::Runtime> {
    let overlapping = max_concurrency.and_then(|n| n.trim().parse::<u32>().ok()).is_some_and(|n| n > 1);
    let mut builder = if overlapping {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder.enable_all().build()
}

/// The system's CA bundle as Amazon Linux (Lambda's `provided.al2023`) and Debian name it.
const CA_BUNDLES: [&str; 2] = ["/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"];

/// Points the root-certificate loader at the system's CA bundle file alone. Left to itself
/// it reads the bundle and then every file of the certificate directory, the same
/// certificates again, which was a large part of a cold start (BENCHMARKS.md). An explicit
/// `SSL_CERT_FILE` or `SSL_CERT_DIR` is left alone, and without a known bundle nothing changes.
fn use_one_ca_bundle() {
    let is_set = |name: &str| std::env::var_os(name).is_some();
    if let Some(bundle) = ca_bundle(is_set, |path| std::path::Path::new(path).is_file()) {
        // SAFETY: called by `start` before the runtime exists, while the process has one thread.
        unsafe { std::env::set_var("SSL_CERT_FILE", bundle) };
    }
}

fn ca_bundle(is_set: impl Fn(&str) -> bool, exists: impl Fn(&str) -> bool) -> Option<&'static str> {
    if is_set("SSL_CERT_FILE") || is_set("SSL_CERT_DIR") {
        return None;
    }
    CA_BUNDLES.into_iter().find(|path| exists(path))
}

/// Builds the clients once per cold start, then serves invocations of `E`.
pub async fn serve<E: Endpoint>() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    // One App for the process's life; `run_concurrent` wants a 'static handler.
    let app: &'static App = Box::leak(Box::new(init::<E>().await?));
    lambda_http::run_concurrent(lambda_http::service_fn(move |req| async move {
        let response = run::<E>(app, req).await;
        app.report_cache_sizes();
        Ok::<_, Infallible>(response)
    }))
    .await
}

/// The init phase, which Lambda gives a full CPU burst: everything slow happens here,
/// side by side, instead of one after another or on the first request. Building the
/// certificate fetcher's HTTPS connector reads the system's root certificates (once per
/// process: the SDK's connector reuses them), so it runs on a blocking thread while the
/// SDK configuration loads; then the signing keys are fetched while the connection the
/// first request will use is opened.
pub async fn init<E: Endpoint>() -> anyhow::Result<App> {
    let config = Config::from_env()?;
    let firebase = config.firebase.clone();
    let verifier = tokio::task::spawn_blocking(move || FirebaseVerifier::new(&firebase));
    let sdk = App::lambda_sdk_config(&config, |name| std::env::var(name).ok())?;
    let (dynamo, ssm) = (aws_sdk_dynamodb::Client::new(&sdk), aws_sdk_ssm::Client::new(&sdk));
    let verifier = verifier.await.context("building the Firebase verifier")??;
    let app = App::from_parts(config, dynamo, ssm, verifier);
    tokio::join!(app.verifier.warm_up(), warm_up_storage::<E>(&app));
    Ok(app)
}

/// The table a route's first request reads: a `GetItem` of a key that never exists there
/// opens (and, in AWS, TLS-handshakes) the DynamoDB connection.
fn table(app: &App, table: Table) -> &str {
    match table {
        Table::Customers => &app.tables.customers,
        Table::Mitras => &app.tables.mitras,
        Table::ControlCenterUsers => &app.tables.control_center_users,
    }
}

/// Best effort: a failure here only means the first request opens the connection itself.
async fn warm_up_storage<E: Endpoint>(app: &App) {
    // A constant per function, so a function links only the AWS calls it makes anyway.
    let warm = const { E::ROUTE.warm_up };
    let flag = async {
        if warm.anonymity_flag
            && let Err(error) = app.anonymity.get().await
        {
            tracing::debug!(error = format!("{error:#}"), "anonymity flag warm-up failed");
        }
    };
    let table = async {
        if let Some(name) = warm.table {
            let key = crate::store::key("#warm-up");
            let result = app.dynamo.get_item().table_name(table(app, name)).set_key(Some(key)).send().await;
            if let Err(error) = result {
                tracing::debug!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&error), "DynamoDB warm-up failed");
            }
        }
    };
    tokio::join!(flag, table);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_invocation_at_a_time_gets_one_thread_and_overlapping_ones_get_the_workers() {
        use tokio::runtime::RuntimeFlavor;
        for one in [None, Some("1"), Some(""), Some("x")] {
            assert_eq!(runtime(one).unwrap().handle().runtime_flavor(), RuntimeFlavor::CurrentThread, "{one:?}");
        }
        assert_eq!(runtime(Some("4")).unwrap().handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    }

    #[test]
    fn the_amazon_linux_bundle_is_preferred_and_debians_is_the_fallback() {
        let unset = |_: &str| false;
        assert_eq!(ca_bundle(unset, |_| true), Some("/etc/pki/tls/certs/ca-bundle.crt"));
        assert_eq!(ca_bundle(unset, |p| p.starts_with("/etc/ssl")), Some("/etc/ssl/certs/ca-certificates.crt"));
    }

    #[test]
    fn an_explicit_certificate_location_or_a_system_without_a_known_bundle_changes_nothing() {
        assert_eq!(ca_bundle(|name| name == "SSL_CERT_FILE", |_| true), None);
        assert_eq!(ca_bundle(|name| name == "SSL_CERT_DIR", |_| true), None);
        assert_eq!(ca_bundle(|_| false, |_| false), None);
    }
}
