//! `spawn_app()`: a fresh stage per test — its own DynamoDB tables and SSM
//! parameter on the local stand-ins, its own certificate server playing Google,
//! and both gateways on free loopback ports.

use std::collections::HashMap;
use std::sync::Arc;

use infra::certs::CertServer;
use infra::devtoken::{Minter, Persona};
use infra::gateway::{Gateway, serve};
use serde_json::Value;
use shared::App;
use shared::clock::Clock;
use shared::config::Config;
use shared::domain::{DisplayName, Email, Phone};
use shared::routes::Surface;
use shared::store::mitras::Mitra;

pub const PROJECT_ID: &str = "halobestie-test";
pub const SUPER_ADMIN_EMAIL: &str = "admin@halobestie.com";

pub struct TestApp {
    pub app: Arc<App>,
    pub public_url: String,
    pub internal_url: String,
    pub certs: Arc<CertServer>,
    pub minter: Minter,
    pub http: reqwest::Client,
    pub prefix: String,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// Asserts an error envelope with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "body: {}", self.body);
        assert_eq!(self.body["success"], false, "body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "body: {}", self.body);
    }

    #[track_caller]
    pub fn assert_ok(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["success"], true, "body: {}", self.body);
        self.data()
    }

    /// The sorted field names of `data` (or of any object).
    pub fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        keys.sort_unstable();
        keys
    }
}

static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
static SECRETS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct Capture;

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every test's logs go to one buffer, through the production subscriber.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| shared::telemetry::init_with(|| Capture));
}

pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// Every token and phone number the tests have made so far.
pub fn minted_secrets() -> Vec<String> {
    SECRETS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn remember(secret: &str) {
    SECRETS.lock().unwrap_or_else(|e| e.into_inner()).push(secret.to_owned());
}

pub fn unique(prefix: &str) -> String {
    infra::fixture::fresh(prefix)
}

/// A random Indonesian mobile number in E.164.
pub fn phone() -> String {
    let phone = infra::fixture::fresh_phone();
    remember(&phone);
    phone
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// `overrides` are environment-style settings (e.g. `ANONYMITY_CACHE_TTL_MS`).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_behind(None, None, overrides, Clock::system()).await
}

/// An app whose caches go by `clock` (usually [`Clock::manual`]), so a test moves time on instead of sleeping.
pub async fn spawn_app_at(clock: &Clock) -> TestApp {
    spawn_app_behind(None, None, &[], clock.clone()).await
}

/// Like [`spawn_app_with`], with DynamoDB and/or SSM reached through other endpoints (a fault proxy).
pub async fn spawn_app_behind(
    dynamodb: Option<&str>,
    ssm: Option<&str>,
    overrides: &[(&str, &str)],
    clock: Clock,
) -> TestApp {
    capture_logs();
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1"),
        "tests need the local stand-ins: run scripts/test.sh (AWS_ENDPOINT_URL_DYNAMODB={endpoint:?})"
    );
    let certs = CertServer::dev_key("127.0.0.1:0", 3600).await.expect("certificate server starts");
    let prefix = unique("t");
    let mut vars: HashMap<String, String> = stage_vars(&prefix, &certs).into_iter().collect();
    // The stage is prepared with the default deadlines straight at the stand-ins: a test's
    // short deadline or fault proxy is for its requests, not for creating its tables.
    let setup = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config is valid");
    let setup = Arc::new(App::new(setup).await.expect("set-up app builds"));
    shared::seed::prepare_local(&setup, SUPER_ADMIN_EMAIL).await.expect("tables and seed are created");
    vars.extend(overrides.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config is valid");
    let config = Config { clock, ..config };
    let sdk = App::sdk_config(&config).await;
    let mut dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = dynamodb {
        dynamo = dynamo.endpoint_url(url);
    }
    let mut ssm_config = aws_sdk_ssm::config::Builder::from(&sdk);
    if let Some(url) = ssm {
        ssm_config = ssm_config.endpoint_url(url);
    }
    let clients =
        (aws_sdk_dynamodb::Client::from_conf(dynamo.build()), aws_sdk_ssm::Client::from_conf(ssm_config.build()));
    let app = Arc::new(App::with_clients(config, clients.0, clients.1).expect("app builds"));
    with_gateways(app, certs, prefix).await
}

/// The configuration of the stage named `prefix`, as environment variables (a function built
/// for Lambda reads the same ones).
fn stage_vars(prefix: &str, certs: &CertServer) -> [(String, String); 5] {
    [
        ("STAGE".into(), "test".into()),
        ("FIREBASE_PROJECT_ID".into(), PROJECT_ID.into()),
        ("FIREBASE_CERTS_URL".into(), certs.url().to_owned()),
        ("TABLE_PREFIX".into(), prefix.to_owned()),
        ("ANONYMITY_PARAMETER".into(), format!("/halobestie/test/{prefix}/anonymity_enabled")),
    ]
}

/// Both surfaces of `app` on free loopback ports.
async fn with_gateways(app: Arc<App>, certs: Arc<CertServer>, prefix: String) -> TestApp {
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", public.local_addr().unwrap());
    let internal_url = format!("http://{}", internal.local_addr().unwrap());
    tokio::spawn(serve(Gateway::new(app.clone(), Surface::Public), public));
    tokio::spawn(serve(Gateway::new(app.clone(), Surface::Internal), internal));
    TestApp {
        app,
        public_url,
        internal_url,
        certs,
        minter: Minter::dev(PROJECT_ID).unwrap(),
        http: reqwest::Client::new(),
        prefix,
    }
}

impl TestApp {
    /// This stage's configuration as environment variables, for a function run as its own process.
    pub fn env(&self) -> [(String, String); 5] {
        stage_vars(&self.prefix, &self.certs)
    }

    pub fn token(&self, persona: Persona) -> String {
        let token = self.minter.token(&persona);
        remember(&token);
        token
    }

    pub fn anonymous_token(&self, uid: &str) -> String {
        self.token(Persona::Anonymous { uid: uid.into() })
    }

    pub fn phone_token(&self, uid: &str, phone: &str) -> String {
        self.token(Persona::PhoneCustomer { uid: uid.into(), phone: phone.into() })
    }

    pub fn mitra_token(&self, uid: &str, phone: &str) -> String {
        self.token(Persona::Mitra { uid: uid.into(), phone: phone.into() })
    }

    pub fn control_center_user_token(&self, uid: &str, email: &str) -> String {
        self.token(Persona::ControlCenter { uid: uid.into(), email: email.into(), email_verified: true })
    }

    /// Where route examples are prepared on this stage (`infra::fixture`), with this app's tokens.
    pub fn stage(&self) -> infra::fixture::Stage<'_> {
        infra::fixture::Stage {
            app: &self.app,
            mint: Box::new(|persona| self.token(persona)),
            super_admin_uid: "uid-super-admin",
            super_admin_email: SUPER_ADMIN_EMAIL,
        }
    }

    /// The seeded super admin's token (bound on its first call to `/internal/auth/verify`).
    pub async fn super_admin_token(&self) -> String {
        let token = self.control_center_user_token("uid-super-admin", SUPER_ADMIN_EMAIL);
        self.internal("POST", "/internal/auth/verify", Some(&token), None).await.assert_ok(200);
        token
    }

    /// A control-center user with the seeded operator role, already bound to its uid.
    pub async fn operator_token(&self) -> String {
        let email = format!("{}@halobestie.com", unique("operator"));
        let role = shared::domain::roles::operator_role();
        self.app
            .control_center_users()
            .create(&Email::parse(&email).unwrap(), DisplayName::parse("Operator").unwrap(), role.id, None)
            .await
            .unwrap()
            .value()
            .expect("operator is new");
        let token = self.control_center_user_token(&unique("uid-operator"), &email);
        self.internal("POST", "/internal/auth/verify", Some(&token), None).await.assert_ok(200);
        token
    }

    /// Inserts a mitra through the repository layer.
    pub async fn insert_mitra(&self, phone: &str, active: bool) -> Mitra {
        let mitras = self.app.mitras();
        let name = DisplayName::parse("Dr. Budi").unwrap();
        let mitra =
            mitras.create(&Phone::parse(phone).unwrap(), name, None).await.unwrap().value().expect("phone is new");
        if active {
            mitras.set_status(&mitra.id, true, None).await.unwrap();
        }
        mitras.by_id(&mitra.id).await.unwrap().unwrap()
    }

    pub async fn public(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.call(&self.public_url, method, path, token, body.map(|b| b.to_string())).await
    }

    pub async fn internal(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.call(&self.internal_url, method, path, token, body.map(|b| b.to_string())).await
    }

    /// A request with a raw body, for malformed input.
    pub async fn public_raw(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> Answer {
        self.call(&self.public_url, method, path, token, Some(body.to_owned())).await
    }

    pub async fn internal_raw(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> Answer {
        self.call(&self.internal_url, method, path, token, Some(body.to_owned())).await
    }

    pub async fn call(
        &self,
        base: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path} answered non-JSON ({status}): {text:?}"));
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{method} {path}"
        );
        Answer { status, headers, body }
    }
}

/// True for `2026-04-04T00:00:00Z` or with fractional seconds, always UTC `Z`.
pub fn is_rfc3339_utc(value: &Value) -> bool {
    let Some(s) = value.as_str() else { return false };
    let bytes = s.as_bytes();
    s.ends_with('Z')
        && s.len() >= 20
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':'
}

impl TestApp {
    /// Another process of the same stage: a second `App` built from the same
    /// configuration (same tables, same SSM parameter, but its own in-memory caches)
    /// behind its own pair of gateways.
    pub async fn second_process(&self) -> TestApp {
        let app = Arc::new(App::new(self.app.config.clone()).await.expect("second app builds"));
        with_gateways(app, self.certs.clone(), self.prefix.clone()).await
    }

    /// Another process on this stage (its own caches) reaching DynamoDB and SSM through
    /// other endpoints, such as a recording proxy. Its deadlines are generous: what it
    /// measures must not fail because the stand-ins are slow while every test runs.
    pub async fn process_behind(&self, dynamodb: &str, ssm: &str) -> TestApp {
        let mut config = self.app.config.clone();
        config.aws_attempt_timeout = std::time::Duration::from_secs(15);
        config.aws_operation_timeout = std::time::Duration::from_secs(30);
        config.firebase.fetch_timeout = std::time::Duration::from_secs(15);
        let sdk = App::sdk_config(&config).await;
        let dynamo = aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(dynamodb).build();
        let ssm = aws_sdk_ssm::config::Builder::from(&sdk).endpoint_url(ssm).build();
        let clients = (aws_sdk_dynamodb::Client::from_conf(dynamo), aws_sdk_ssm::Client::from_conf(ssm));
        let app = Arc::new(App::with_clients(config, clients.0, clients.1).expect("app builds"));
        with_gateways(app, self.certs.clone(), self.prefix.clone()).await
    }

    /// Another process on this stage whose AWS clients are configured as a deployed function
    /// configures them (`App::lambda_sdk_config`, from the environment), not as the local
    /// gateway does.
    pub async fn lambda_process(&self) -> TestApp {
        let config = self.app.config.clone();
        let sdk = App::lambda_sdk_config(&config, |name| std::env::var(name).ok()).expect("the environment has AWS_*");
        let (dynamo, ssm) = (aws_sdk_dynamodb::Client::new(&sdk), aws_sdk_ssm::Client::new(&sdk));
        let app = Arc::new(App::with_clients(config, dynamo, ssm).expect("the Lambda-configured app builds"));
        with_gateways(app, self.certs.clone(), self.prefix.clone()).await
    }
}
