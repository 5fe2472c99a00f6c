//! Everything a function needs, built once per cold start and shared by reference.

use anyhow::Context;
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

use crate::anonymity::AnonymityFlag;
use crate::config::Config;
use crate::firebase::FirebaseVerifier;
use crate::store::customers::Customers;
use crate::store::mitras::Mitras;
use crate::store::roles::Roles;
use crate::store::schema::Tables;
use crate::store::staff::ControlCenterUsers;

pub struct App {
    pub config: Config,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub tables: Tables,
    pub verifier: FirebaseVerifier,
    pub anonymity: AnonymityFlag,
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
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(config.aws_connect_timeout)
            .operation_attempt_timeout(config.aws_attempt_timeout)
            .operation_timeout(config.aws_operation_timeout)
            .build();
        aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).load().await
    }

    pub fn with_clients(
        config: Config,
        dynamo: aws_sdk_dynamodb::Client,
        ssm: aws_sdk_ssm::Client,
    ) -> anyhow::Result<Self> {
        let verifier = FirebaseVerifier::new(&config.firebase).context("building the Firebase verifier")?;
        Ok(Self::from_parts(config, dynamo, ssm, verifier))
    }

    /// An app from clients and a verifier built elsewhere (the Lambda init builds them concurrently).
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
            ),
            ssm,
            tables: Tables::new(&config.table_prefix),
            verifier,
            config,
        }
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
