//! Everything a function needs, built once per cold start and shared by reference.

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::default_async_sleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use halo_store::anonymity::AnonymityFlag;
use halo_store::control_center_users::ControlCenterUsers;
use halo_store::customers::Customers;
use halo_store::mitras::Mitras;
use halo_store::roles::Roles;
use halo_store::schema::Tables;

use crate::config::Config;
use crate::firebase::FirebaseVerifier;
use crate::hints::Hints;

pub struct App {
    pub config: Config,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub tables: Tables,
    pub verifier: FirebaseVerifier,
    pub anonymity: AnonymityFlag,
    /// What earlier requests resolved; it only chooses what to read (`shared::auth`).
    pub hints: Hints,
}

impl App {
    pub async fn from_env() -> anyhow::Result<Self> {
        Self::new(Config::from_env()?).await
    }

    /// AWS endpoints come from the SDK's standard variables (`AWS_ENDPOINT_URL_DYNAMODB`, …),
    /// so local stand-ins need no code path of their own.
    pub async fn new(config: Config) -> anyhow::Result<Self> {
        let sdk = Self::sdk_config(&config).await;
        Self::with_clients(config, aws_sdk_dynamodb::Client::new(&sdk), aws_sdk_ssm::Client::new(&sdk))
    }

    /// The shared AWS configuration, with deadlines well under the Lambda timeout.
    pub async fn sdk_config(config: &Config) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest()).timeout_config(Self::timeouts(config)).load().await
    }

    fn timeouts(config: &Config) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(config.aws_connect_timeout)
            .operation_attempt_timeout(config.aws_attempt_timeout)
            .operation_timeout(config.aws_operation_timeout)
            .build()
    }

    /// The AWS configuration of a function in Lambda: region and credentials from the
    /// variables Lambda sets, endpoints from the SDK's standard `AWS_ENDPOINT_URL_<SERVICE>`
    /// and `AWS_ENDPOINT_URL`. Unlike [`Self::sdk_config`] it links no profile-file, SSO, STS
    /// web-identity or instance-metadata providers, which no function uses (BENCHMARKS.md).
    pub fn lambda_sdk_config(
        config: &Config,
        var: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<aws_config::SdkConfig> {
        let required = |name: &str| var(name).filter(|v| !v.is_empty()).with_context(|| format!("{name} is not set"));
        let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).context("AWS_REGION is not set")?;
        let credentials = Credentials::new(
            required("AWS_ACCESS_KEY_ID")?,
            required("AWS_SECRET_ACCESS_KEY")?,
            var("AWS_SESSION_TOKEN").filter(|v| !v.is_empty()),
            None,
            "lambda-environment",
        );
        let endpoints = EndpointVariables::from_lookup(&var);
        let mut sdk = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .timeout_config(Self::timeouts(config))
            .retry_config(RetryConfig::standard())
            .sleep_impl(default_async_sleep().context("no async sleep implementation")?)
            .time_source(SharedTimeSource::default())
            .service_config(endpoints);
        if let Some(extra) = var(crate::tls::EXTRA_CA_FILE).filter(|v| !v.is_empty()) {
            sdk = sdk.http_client(crate::tls::sdk_http_client(std::path::Path::new(&extra))?);
        }
        Ok(sdk.build())
    }

    pub fn with_clients(
        config: Config,
        dynamo: aws_sdk_dynamodb::Client,
        ssm: aws_sdk_ssm::Client,
    ) -> anyhow::Result<Self> {
        let verifier = FirebaseVerifier::new(&config.firebase)
            .context("building the Firebase verifier")?
            .with_clock(config.clock.clone());
        Ok(Self::from_parts(config, dynamo, ssm, verifier))
    }

    /// An app from clients and a verifier built elsewhere (the Lambda init builds them
    /// concurrently); the verifier keeps the clock it was built with.
    pub fn from_parts(
        config: Config,
        dynamo: aws_sdk_dynamodb::Client,
        ssm: aws_sdk_ssm::Client,
        verifier: FirebaseVerifier,
    ) -> Self {
        Self {
            dynamo,
            anonymity: AnonymityFlag::new(
                ssm.clone(),
                config.anonymity_parameter.clone(),
                config.anonymity_cache_ttl,
                config.anonymity_stale_for,
                config.clock.clone(),
            ),
            ssm,
            tables: Tables::new(&config.table_prefix),
            verifier,
            hints: Hints::default(),
            config,
        }
    }

    /// One debug line (target `caches`) with each in-memory cache's size and bound, for a
    /// soak to check that a long-lived process keeps them bounded.
    pub fn report_cache_sizes(&self) {
        if !tracing::enabled!(target: "caches", tracing::Level::DEBUG) {
            return;
        }
        let (tokens, token_order, keys) = self.verifier.cache_sizes();
        let (callers, roles) = self.hints.sizes();
        tracing::debug!(
            target: "caches",
            verified_tokens = tokens,
            verified_tokens_bound = crate::firebase::TOKEN_CACHE_ENTRIES,
            verified_token_order = token_order,
            verified_token_order_bound = 2 * crate::firebase::TOKEN_CACHE_ENTRIES,
            signing_keys = keys,
            caller_hints = callers,
            caller_hints_bound = crate::hints::CALLER_HINTS,
            role_hints = roles,
            role_hints_bound = crate::hints::ROLE_HINTS,
            anonymity_flag = usize::from(self.anonymity.holds_value()),
            anonymity_flag_bound = 1,
            "cache sizes"
        );
    }

    pub fn customers(&self) -> Customers<'_> {
        Customers::new(&self.dynamo, &self.tables.customers)
    }

    pub fn mitras(&self) -> Mitras<'_> {
        Mitras::new(&self.dynamo, &self.tables.mitras)
    }

    pub fn control_center_users(&self) -> ControlCenterUsers<'_> {
        ControlCenterUsers::new(&self.dynamo, &self.tables.control_center_users)
    }

    pub fn roles(&self) -> Roles<'_> {
        Roles::new(&self.dynamo, &self.tables.roles)
    }
}

/// `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL`, read once, answered the way the SDK's
/// own loader answers them (the service's variable first), for the services a function uses.
/// The SDK asks this before `SdkConfig::endpoint_url`, which is therefore left unset.
#[derive(Debug)]
struct EndpointVariables {
    per_service: Vec<(&'static str, String)>,
    global: Option<String>,
}

const ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";

impl EndpointVariables {
    fn from_lookup(var: &impl Fn(&str) -> Option<String>) -> Self {
        let per_service = ["DynamoDB", "SSM"]
            .into_iter()
            .filter_map(|service| Some((service, var(&Self::variable(service))?)))
            .collect();
        Self { per_service, global: var(ENDPOINT_URL) }
    }

    /// `DynamoDB` → `AWS_ENDPOINT_URL_DYNAMODB`.
    fn variable(service_id: &str) -> String {
        format!("{ENDPOINT_URL}_{}", service_id.to_ascii_uppercase().replace([' ', '-'], "_"))
    }
}

impl LoadServiceConfig for EndpointVariables {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != ENDPOINT_URL {
            return None;
        }
        let service = self.per_service.iter().find(|(id, _)| id.eq_ignore_ascii_case(key.service_id()));
        service.map(|(_, url)| url.clone()).or_else(|| self.global.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn key(service_id: &str) -> ServiceConfigKey<'_> {
        ServiceConfigKey::builder().service_id(service_id).profile("default").env(ENDPOINT_URL).build().unwrap()
    }

    #[test]
    fn a_services_endpoint_variable_wins_over_the_global_one() {
        let vars = HashMap::from([
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9999"),
        ]);
        let endpoints = EndpointVariables::from_lookup(&|name: &str| vars.get(name).map(|v| v.to_string()));
        assert_eq!(endpoints.load_config(key("DynamoDB")).as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(endpoints.load_config(key("SSM")).as_deref(), Some("http://127.0.0.1:9999"));
    }

    #[test]
    fn without_endpoint_variables_the_sdk_resolves_aws_endpoints() {
        let endpoints = EndpointVariables::from_lookup(&|_: &str| None);
        assert_eq!(endpoints.load_config(key("DynamoDB")), None);
    }

    #[test]
    fn a_lambda_config_needs_region_and_credentials_from_the_environment() {
        let config = Config::from_lookup(|name| (name == "STAGE").then(|| "test".to_owned())).unwrap();
        let err = App::lambda_sdk_config(&config, |_| None).unwrap_err();
        assert!(err.to_string().contains("AWS_REGION"), "{err}");
        let err = App::lambda_sdk_config(&config, |name| (name == "AWS_REGION").then(|| "ap-southeast-3".into()))
            .unwrap_err();
        assert!(err.to_string().contains("AWS_ACCESS_KEY_ID"), "{err}");
    }
}
