//! What the two peer functions share: Firebase ID-token verification and the customer item.
//! Written as the aws-lambda-rust-runtime examples write a function, with the same storage
//! work, statuses and answers as ours (`functions/client-auth-verify`,
//! `functions/customer-anonymous`), so that the bench compares like with like.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use lambda_http::{Body, Error, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const GOOGLE_CERTS_URL: &str =
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";

/// The customers table, as our functions name it (`<TABLE_PREFIX>-customers`).
pub fn customers_table() -> String {
    let prefix = std::env::var("TABLE_PREFIX")
        .unwrap_or_else(|_| format!("halobestie-{}", std::env::var("STAGE").unwrap_or_else(|_| "local".into())));
    format!("{prefix}-customers")
}

#[derive(Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub auth_time: i64,
    pub iat: i64,
}

/// Verifies Firebase ID tokens against Google's x509 certificates, fetched once at init.
pub struct FirebaseVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl FirebaseVerifier {
    pub async fn from_env() -> Result<Self, Error> {
        let project = std::env::var("FIREBASE_PROJECT_ID")?;
        let url = std::env::var("FIREBASE_CERTS_URL").unwrap_or_else(|_| GOOGLE_CERTS_URL.into());
        let certs: HashMap<String, String> = reqwest::get(url).await?.error_for_status()?.json().await?;
        let keys = certs
            .into_iter()
            .map(|(kid, pem)| Ok((kid, DecodingKey::from_rsa_pem(pem.as_bytes())?)))
            .collect::<Result<_, Error>>()?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&project]);
        validation.set_issuer(&[format!("https://securetoken.google.com/{project}")]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        validation.leeway = 60;
        Ok(Self { keys, validation })
    }

    /// The token's claims when it is a valid Firebase ID token (Firebase's documented checks).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let kid = decode_header(token).ok()?.kid?;
        let claims = decode::<Claims>(token, self.keys.get(&kid)?, &self.validation).ok()?.claims;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
        let valid =
            !claims.sub.is_empty() && claims.sub.len() <= 128 && claims.iat <= now + 60 && claims.auth_time <= now + 60;
        valid.then_some(claims)
    }
}

/// The bearer token of a request, if it sent one.
pub fn bearer(event: &Request) -> Option<&str> {
    event.headers().get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")
}

/// A customer item, as our functions store it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub display_name: String,
    pub is_anonymous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_uid: Option<String>,
    pub created_at: String,
}

/// Our answer envelope: `{"success": true, "data": …}`.
pub fn answer(status: u16, data: Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(json!({ "success": true, "data": data }).to_string().into())
        .map_err(Box::new)?)
}

/// Our error envelope: `{"success": false, "error": {"code", "message"}}`.
pub fn refuse(status: u16, code: &str, message: &str) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(json!({ "success": false, "error": { "code": code, "message": message } }).to_string().into())
        .map_err(Box::new)?)
}
