//! Firebase ID-token verification, matching firebase-admin's checks and closing
//! the gaps its users hit: `alg` pinned to RS256, `kid` required, `aud`/`iss`
//! compared as exact strings, `sub` 1–128 characters, and an explicit leeway on
//! `exp`, `iat` and `auth_time`.

pub mod keys;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use crate::config::FirebaseConfig;
use keys::{KeyLookup, KeyStore};

/// The claims of a verified token that the product uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirebaseUser {
    pub uid: String,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub sign_in_provider: Option<String>,
}

impl FirebaseUser {
    /// A still-anonymous sign-in carries no real identity to link.
    pub fn is_anonymous(&self) -> bool {
        self.phone_number.is_none() && matches!(self.sign_in_provider.as_deref(), None | Some("anonymous"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is not acceptable; the reason is for logs only.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// No signing keys could be had: a dependency failure, not the caller's fault.
    #[error("Firebase signing keys are unavailable")]
    KeysUnavailable(#[source] anyhow::Error),
}

#[derive(Deserialize)]
struct Claims {
    aud: String,
    iss: String,
    sub: String,
    exp: i64,
    iat: i64,
    auth_time: i64,
    phone_number: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    firebase: Option<FirebaseClaim>,
}

#[derive(Deserialize)]
struct FirebaseClaim {
    sign_in_provider: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

pub struct FirebaseVerifier {
    project_id: String,
    issuer: String,
    leeway: Duration,
    accept_emulator_tokens: bool,
    keys: KeyStore,
    validation: Validation,
}

impl FirebaseVerifier {
    pub fn new(config: &FirebaseConfig) -> anyhow::Result<Self> {
        let mut validation = Validation::new(Algorithm::RS256);
        // Claims are checked below as exact strings with our own leeway; the library only checks the signature.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(Self {
            project_id: config.project_id.clone(),
            issuer: format!("https://securetoken.google.com/{}", config.project_id),
            leeway: config.leeway,
            accept_emulator_tokens: config.accept_emulator_tokens,
            keys: KeyStore::new(config.certs_url.clone(), config.fetch_timeout, config.unknown_kid_cooldown)?,
            validation,
        })
    }

    pub fn key_store(&self) -> &KeyStore {
        &self.keys
    }

    /// Fetches the signing keys ahead of the first request (Lambda's init phase has CPU to spare).
    pub async fn warm_up(&self) {
        let _ = self.keys.key("").await;
    }

    pub async fn verify(&self, token: &str) -> Result<FirebaseUser, TokenError> {
        let header = decode_segment::<Header>(token.split('.').next().unwrap_or_default())
            .ok_or(TokenError::Invalid("malformed header"))?;
        if header.alg == "none" && self.accept_emulator_tokens {
            return self.verify_emulator_token(token);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid("malformed header"))?;
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::Invalid("alg is not RS256"));
        }
        let kid = header.kid.filter(|k| !k.is_empty()).ok_or(TokenError::Invalid("kid missing"))?;
        let key = match self.keys.key(&kid).await {
            KeyLookup::Found(key) => key,
            KeyLookup::UnknownKid => return Err(TokenError::Invalid("unknown kid")),
            KeyLookup::Unavailable(e) => return Err(TokenError::KeysUnavailable(e)),
        };
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|_| TokenError::Invalid("bad signature or claims"))?;
        self.check_claims(data.claims)
    }

    /// Emulator tokens are unsigned (`alg: none`), which jsonwebtoken refuses to parse,
    /// so they get this claims-only path; it exists only on local stages.
    fn verify_emulator_token(&self, token: &str) -> Result<FirebaseUser, TokenError> {
        let mut parts = token.split('.');
        let (Some(_), Some(payload), Some(""), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(TokenError::Invalid("malformed emulator token"));
        };
        let claims = decode_segment::<Claims>(payload).ok_or(TokenError::Invalid("malformed claims"))?;
        self.check_claims(claims)
    }

    fn check_claims(&self, claims: Claims) -> Result<FirebaseUser, TokenError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
        let leeway = self.leeway.as_secs() as i64;
        if claims.aud != self.project_id {
            return Err(TokenError::Invalid("aud mismatch"));
        }
        if claims.iss != self.issuer {
            return Err(TokenError::Invalid("iss mismatch"));
        }
        if claims.sub.is_empty() || claims.sub.chars().count() > 128 {
            return Err(TokenError::Invalid("sub must be 1-128 characters"));
        }
        if claims.exp <= now - leeway {
            return Err(TokenError::Invalid("expired"));
        }
        if claims.iat > now + leeway || claims.auth_time > now + leeway {
            return Err(TokenError::Invalid("issued in the future"));
        }
        Ok(FirebaseUser {
            uid: claims.sub,
            phone_number: claims.phone_number,
            email: claims.email,
            email_verified: claims.email_verified.unwrap_or(false),
            sign_in_provider: claims.firebase.and_then(|f| f.sign_in_provider),
        })
    }
}

fn decode_segment<T: serde::de::DeserializeOwned>(segment: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}
