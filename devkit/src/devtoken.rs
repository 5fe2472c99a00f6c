//! Firebase-shaped RS256 ID tokens for local use, signed by the dev key whose
//! certificate the local run serves in place of Google's.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const DEV_KID: &str = "halobestie-local-dev-1";
pub const DEV_KEY_PEM: &str = include_str!("../../infra/dev-keys/dev-signing-key.pem");
pub const DEV_CERT_PEM: &str = include_str!("../../infra/dev-keys/dev-signing-cert.pem");

/// Who a token speaks for.
#[derive(Debug, Clone)]
pub enum Persona {
    /// A customer who signed in anonymously.
    Anonymous { uid: String },
    /// A customer who signed in with a phone OTP.
    PhoneCustomer { uid: String, phone: String },
    /// A customer who signed in with Google.
    GoogleCustomer { uid: String, email: String },
    /// A mitra who signed in with a phone OTP.
    Mitra { uid: String, phone: String },
    /// A control-center user who signed in with email and password.
    ControlCenter { uid: String, email: String, email_verified: bool },
}

impl Persona {
    /// The uid of a dev persona of `kind` (`admin`, `mitra`, ...) when none is given: the same
    /// on every mint, because the first `POST /internal/auth/verify` (or mitra sign-in) binds
    /// the seeded email or phone to the uid it sees, and a token with another uid then finds
    /// no user. So the tokens `halo-dev serve` prints and every later `halo-dev token` agree.
    pub fn default_uid(kind: &str) -> String {
        format!("local-{kind}")
    }

    pub fn uid(&self) -> &str {
        match self {
            Self::Anonymous { uid }
            | Self::PhoneCustomer { uid, .. }
            | Self::GoogleCustomer { uid, .. }
            | Self::Mitra { uid, .. }
            | Self::ControlCenter { uid, .. } => uid,
        }
    }

    fn identity_claims(&self) -> Value {
        match self {
            Self::Anonymous { .. } => {
                json!({ "provider_id": "anonymous", "firebase": { "identities": {}, "sign_in_provider": "anonymous" } })
            }
            Self::PhoneCustomer { phone, .. } | Self::Mitra { phone, .. } => json!({
                "phone_number": phone,
                "firebase": { "identities": { "phone": [phone] }, "sign_in_provider": "phone" }
            }),
            Self::GoogleCustomer { email, .. } => json!({
                "email": email, "email_verified": true,
                "firebase": { "identities": { "google.com": ["1234567890"], "email": [email] }, "sign_in_provider": "google.com" }
            }),
            Self::ControlCenter { email, email_verified, .. } => json!({
                "email": email, "email_verified": email_verified,
                "firebase": { "identities": { "email": [email] }, "sign_in_provider": "password" }
            }),
        }
    }
}

pub struct Minter {
    key: EncodingKey,
    kid: String,
    project_id: String,
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

impl Minter {
    pub fn new(private_key_pem: &str, kid: &str, project_id: &str) -> anyhow::Result<Self> {
        let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes()).context("reading the RSA private key")?;
        Ok(Self { key, kid: kid.to_owned(), project_id: project_id.to_owned() })
    }

    pub fn dev(project_id: &str) -> anyhow::Result<Self> {
        Self::new(DEV_KEY_PEM, DEV_KID, project_id)
    }

    /// The claims Firebase would put in a fresh ID token for `persona`, valid for an hour.
    pub fn claims(&self, persona: &Persona) -> Value {
        let now = now();
        let mut claims = json!({
            "iss": format!("https://securetoken.google.com/{}", self.project_id),
            "aud": self.project_id,
            "auth_time": now,
            "user_id": persona.uid(),
            "sub": persona.uid(),
            "iat": now,
            "exp": now + 3600,
        });
        if let (Some(all), Value::Object(extra)) = (claims.as_object_mut(), persona.identity_claims()) {
            all.extend(extra);
        }
        claims
    }

    pub fn token(&self, persona: &Persona) -> String {
        self.sign(&self.claims(persona))
    }

    /// Signs any claims with RS256 and this minter's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).expect("RS256 signing with a parsed key cannot fail")
    }
}
