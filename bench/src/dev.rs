//! The local stand-ins the bench needs, kept free of the `infra` crate so that one
//! `cargo build --release` of the functions and the bench resolves the functions'
//! dependency features exactly as the deployment build does: Firebase-shaped dev
//! tokens signed by the dev key in `infra/dev-keys/`, a server for its certificate
//! (as Google serves its x509 map), and the tables, parameter and seed of a stage.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::response::IntoResponse;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use shared::App;
use shared::domain::Email;

pub const DEV_KID: &str = "halobestie-local-dev-1";
pub const DEV_KEY_PEM: &str = include_str!("../../infra/dev-keys/dev-signing-key.pem");
pub const DEV_CERT_PEM: &str = include_str!("../../infra/dev-keys/dev-signing-cert.pem");
const CERTS_PATH: &str = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";

/// Serves `{DEV_KID: DEV_CERT_PEM}` with a one-hour `max-age`; returns its URL.
pub async fn cert_server() -> anyhow::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}{CERTS_PATH}", listener.local_addr()?);
    let body = Arc::new(json!({ DEV_KID: DEV_CERT_PEM }).to_string());
    let router = axum::Router::new().route(
        CERTS_PATH,
        axum::routing::get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (http::header::CONTENT_TYPE, "application/json; charset=UTF-8"),
                        (http::header::CACHE_CONTROL, "public, max-age=3600, must-revalidate, no-transform"),
                    ],
                    (*body).clone(),
                )
                    .into_response()
            }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((url, server))
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// Who a token speaks for, with the identity claims Firebase puts in its ID tokens.
pub enum Persona<'a> {
    Anonymous { uid: &'a str },
    Phone { uid: &'a str, phone: &'a str },
    Staff { uid: &'a str, email: &'a str },
}

pub struct Minter {
    key: EncodingKey,
    project_id: String,
}

impl Minter {
    pub fn dev(project_id: &str) -> anyhow::Result<Self> {
        Ok(Self {
            key: EncodingKey::from_rsa_pem(DEV_KEY_PEM.as_bytes()).context("reading the dev signing key")?,
            project_id: project_id.to_owned(),
        })
    }

    /// An RS256 ID token valid for an hour.
    pub fn token(&self, persona: &Persona) -> String {
        let now = now();
        let (uid, identity) = match persona {
            Persona::Anonymous { uid } => (
                uid,
                json!({ "provider_id": "anonymous", "firebase": { "identities": {}, "sign_in_provider": "anonymous" } }),
            ),
            Persona::Phone { uid, phone } => (
                uid,
                json!({ "phone_number": phone, "firebase": { "identities": { "phone": [phone] }, "sign_in_provider": "phone" } }),
            ),
            Persona::Staff { uid, email } => (
                uid,
                json!({ "email": email, "email_verified": true,
                        "firebase": { "identities": { "email": [email] }, "sign_in_provider": "password" } }),
            ),
        };
        let mut claims = json!({
            "iss": format!("https://securetoken.google.com/{}", self.project_id),
            "aud": self.project_id,
            "auth_time": now,
            "user_id": uid,
            "sub": uid,
            "iat": now,
            "exp": now + 3600,
        });
        if let (Some(all), Value::Object(extra)) = (claims.as_object_mut(), identity) {
            all.extend(extra);
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(DEV_KID.to_owned());
        jsonwebtoken::encode(&header, &claims, &self.key).expect("RS256 signing with a parsed key cannot fail")
    }
}

/// The tables, the anonymity parameter and the seed (roles and the super admin).
pub async fn prepare(app: &App, super_admin_email: &str) -> anyhow::Result<()> {
    shared::store::schema::ensure_tables(&app.dynamo, &app.config.table_prefix).await.context("creating tables")?;
    app.anonymity.ensure_exists().await.context("creating the anonymity parameter")?;
    let email = Email::parse(super_admin_email).map_err(|e| anyhow::anyhow!("SUPER_ADMIN_EMAIL {e}"))?;
    shared::seed::seed(app, &email).await.context("seeding roles and the super admin")
}
