//! Typed configuration, read once per cold start from the environment.

use std::time::Duration;

use anyhow::{Context, bail};

use halo_domain::clock::Clock;

pub const GOOGLE_CERTS_URL: &str =
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";

#[derive(Debug, Clone)]
pub struct Config {
    /// `local`, `test`, `dev`, `prod`, … Only `local` and `test` count as local stages.
    pub stage: String,
    pub firebase: FirebaseConfig,
    /// Table names are `<prefix>-customers`, `<prefix>-mitras`, …
    pub table_prefix: String,
    pub anonymity_parameter: String,
    pub anonymity_cache_ttl: Duration,
    /// How long the last known anonymity flag may be served while SSM is failing.
    pub anonymity_stale_for: Duration,
    pub aws_connect_timeout: Duration,
    /// One attempt of an AWS call; retries happen within the operation timeout.
    pub aws_attempt_timeout: Duration,
    /// A whole AWS call, retries included: well under the Lambda timeout.
    pub aws_operation_timeout: Duration,
    /// The exact browser origins CORS allows (`CORS_ALLOWED_ORIGINS`, comma-separated);
    /// never `*`.
    pub cors_allowed_origins: Vec<String>,
    /// What the caches go by; always the system clock outside tests.
    pub clock: Clock,
}

/// The control center's dev server, on both loopback names.
pub const LOCAL_CORS_ALLOWED_ORIGINS: &str = "http://localhost:5173,http://127.0.0.1:5173";

#[derive(Debug, Clone)]
pub struct FirebaseConfig {
    pub project_id: String,
    pub certs_url: String,
    pub leeway: Duration,
    pub unknown_kid_cooldown: Duration,
    pub fetch_timeout: Duration,
    /// Accept unsigned Firebase Auth Emulator tokens. Only ever true on a local stage.
    pub accept_emulator_tokens: bool,
}

impl Config {
    pub fn is_local_stage(stage: &str) -> bool {
        matches!(stage, "local" | "test")
    }

    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let stage = var("STAGE").context("STAGE must be set (local, test, dev, prod, …)")?;
        let local = Self::is_local_stage(&stage);
        let emulator = var("FIREBASE_AUTH_EMULATOR_HOST").is_some();
        if emulator && !local {
            bail!("FIREBASE_AUTH_EMULATOR_HOST is set on stage {stage:?}; emulator tokens are only for local stages");
        }
        let project_id = match var("FIREBASE_PROJECT_ID") {
            Some(id) => id,
            None if local => "halobestie-local".into(),
            None => bail!("FIREBASE_PROJECT_ID must be set on stage {stage:?}"),
        };
        let millis = |name: &str, default: u64| -> anyhow::Result<Duration> {
            let value = var(name)
                .map(|v| v.parse::<u64>().with_context(|| format!("{name} must be a whole number of milliseconds")));
            Ok(Duration::from_millis(value.transpose()?.unwrap_or(default)))
        };
        Ok(Self {
            firebase: FirebaseConfig {
                project_id,
                certs_url: var("FIREBASE_CERTS_URL").unwrap_or_else(|| GOOGLE_CERTS_URL.into()),
                leeway: millis("FIREBASE_LEEWAY_MS", 60_000)?,
                unknown_kid_cooldown: millis("FIREBASE_KID_COOLDOWN_MS", 30_000)?,
                fetch_timeout: millis("FIREBASE_FETCH_TIMEOUT_MS", 3_000)?,
                accept_emulator_tokens: emulator,
            },
            table_prefix: var("TABLE_PREFIX").unwrap_or_else(|| format!("halobestie-{stage}")),
            anonymity_parameter: var("ANONYMITY_PARAMETER")
                .unwrap_or_else(|| format!("/halobestie/{stage}/anonymity_enabled")),
            anonymity_cache_ttl: millis("ANONYMITY_CACHE_TTL_MS", 5_000)?,
            anonymity_stale_for: millis("ANONYMITY_STALE_MS", 60_000)?,
            aws_connect_timeout: millis("AWS_CONNECT_TIMEOUT_MS", 1_000)?,
            aws_attempt_timeout: millis("AWS_ATTEMPT_TIMEOUT_MS", 1_500)?,
            aws_operation_timeout: millis("AWS_OPERATION_TIMEOUT_MS", 4_000)?,
            cors_allowed_origins: {
                let origins = var("CORS_ALLOWED_ORIGINS").or_else(|| local.then(|| LOCAL_CORS_ALLOWED_ORIGINS.into()));
                let origins: Vec<String> = origins
                    .unwrap_or_default()
                    .split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
                if origins.iter().any(|o| o == "*") {
                    bail!("CORS_ALLOWED_ORIGINS lists exact origins; `*` is never allowed");
                }
                origins
            },
            clock: Clock::system(),
            stage,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn deployed_stage_refuses_to_start_with_the_emulator_host_set() {
        let err = config(&[
            ("STAGE", "prod"),
            ("FIREBASE_PROJECT_ID", "p"),
            ("FIREBASE_AUTH_EMULATOR_HOST", "localhost:9099"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("emulator"), "{err}");
    }

    #[test]
    fn local_stage_accepts_emulator_tokens_only_when_the_host_is_set() {
        assert!(!config(&[("STAGE", "local")]).unwrap().firebase.accept_emulator_tokens);
        let c = config(&[("STAGE", "local"), ("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9099")]).unwrap();
        assert!(c.firebase.accept_emulator_tokens);
    }

    #[test]
    fn cors_origins_default_to_the_control_center_dev_server_locally_and_to_none_when_deployed() {
        assert_eq!(
            config(&[("STAGE", "local")]).unwrap().cors_allowed_origins,
            ["http://localhost:5173", "http://127.0.0.1:5173"]
        );
        let dev = config(&[("STAGE", "dev"), ("FIREBASE_PROJECT_ID", "p")]).unwrap();
        assert!(dev.cors_allowed_origins.is_empty());
        let listed = config(&[
            ("STAGE", "dev"),
            ("FIREBASE_PROJECT_ID", "p"),
            ("CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example"),
        ]);
        assert_eq!(listed.unwrap().cors_allowed_origins, ["https://a.example", "https://b.example"]);
        assert!(config(&[("STAGE", "local"), ("CORS_ALLOWED_ORIGINS", "*")]).is_err());
    }

    #[test]
    fn a_missing_stage_is_an_error_not_a_silent_local_default() {
        assert!(config(&[]).is_err());
    }

    #[test]
    fn deployed_stage_requires_a_project_id_and_defaults_to_googles_certs() {
        assert!(config(&[("STAGE", "dev")]).is_err());
        let c = config(&[("STAGE", "dev"), ("FIREBASE_PROJECT_ID", "halobestie-dev")]).unwrap();
        assert_eq!(c.firebase.certs_url, GOOGLE_CERTS_URL);
        assert_eq!(c.firebase.leeway, Duration::from_secs(60));
        assert_eq!(c.table_prefix, "halobestie-dev");
    }
}
