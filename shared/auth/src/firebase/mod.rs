//! Firebase ID-token verification, matching firebase-admin's checks and closing
//! the gaps its users hit: `alg` pinned to RS256, `kid` required, `aud`/`iss`
//! compared as exact strings, `sub` 1–128 characters, and an explicit leeway on
//! `exp`, `iat` and `auth_time`.
//!
//! A verified token is remembered by its exact bytes until it expires ([`TokenCache`]),
//! so a client that sends the same token on every request pays for the RSA check once.
//! A hit re-checks the time claims and that the key which verified the token is still
//! the key published under its `kid`, so the cache never accepts a token that a full
//! verification would now refuse.

pub mod keys;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::config::FirebaseConfig;
use halo_domain::clock::Clock;
use keys::{KeyLookup, KeyStore};

/// The claims of a verified token that the product uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirebaseUser {
    pub uid: String,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    pub sign_in_provider: Option<String>,
    /// When the user signed in (seconds since the epoch); a refreshed token keeps it, so a
    /// session revoked after it can be refused.
    pub auth_time: i64,
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
    verified: TokenCache,
    clock: Clock,
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
            verified: TokenCache::new(TOKEN_CACHE_ENTRIES),
            clock: Clock::system(),
        })
    }

    /// Judges token times, key freshness and cooldowns by `clock` instead of the system clock.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { keys: self.keys.with_clock(clock.clone()), clock, ..self }
    }

    /// (verified tokens held, their insertion-order entries, signing keys held); `None`
    /// for the keys while a fetch holds them.
    pub fn cache_sizes(&self) -> (usize, usize, Option<usize>) {
        let entries = self.verified.lock();
        (entries.by_token.len(), entries.order.len(), self.keys.held())
    }

    /// Fetches the signing keys ahead of the first request (Lambda's init phase has CPU to spare).
    pub async fn warm_up(&self) {
        let _ = self.keys.key("").await;
    }

    pub async fn verify(&self, token: &str) -> Result<FirebaseUser, TokenError> {
        if let Some(hit) = self.verified.get(token, self.clock.unix_secs(), self.leeway_secs()) {
            // Only while the key that verified it is still the one published under its kid;
            // otherwise the token goes through the full check (which then decides).
            if let KeyLookup::Found(key) = self.keys.key(&hit.kid).await
                && Arc::ptr_eq(&key, &hit.key)
            {
                return Ok(hit.user);
            }
            self.verified.remove(token);
        }
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
        let times = data.claims.times();
        let user = self.check_claims(data.claims)?;
        self.verified.insert(token, Verified { user: user.clone(), kid, key, times });
        Ok(user)
    }

    fn leeway_secs(&self) -> i64 {
        self.leeway.as_secs() as i64
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
        if claims.aud != self.project_id {
            return Err(TokenError::Invalid("aud mismatch"));
        }
        if claims.iss != self.issuer {
            return Err(TokenError::Invalid("iss mismatch"));
        }
        if claims.sub.is_empty() || claims.sub.chars().count() > 128 {
            return Err(TokenError::Invalid("sub must be 1-128 characters"));
        }
        claims.times().check(self.clock.unix_secs(), self.leeway_secs())?;
        Ok(FirebaseUser {
            uid: claims.sub,
            phone_number: claims.phone_number,
            email: claims.email,
            email_verified: claims.email_verified.unwrap_or(false),
            sign_in_provider: claims.firebase.and_then(|f| f.sign_in_provider),
            auth_time: claims.auth_time,
        })
    }
}

impl Claims {
    fn times(&self) -> Times {
        Times { exp: self.exp, iat: self.iat, auth_time: self.auth_time }
    }
}

/// The time claims of a token, checked on every verification, cached or not.
#[derive(Debug, Clone, Copy)]
struct Times {
    exp: i64,
    iat: i64,
    auth_time: i64,
}

impl Times {
    fn check(&self, now: i64, leeway: i64) -> Result<(), TokenError> {
        if self.exp <= now - leeway {
            return Err(TokenError::Invalid("expired"));
        }
        if self.iat > now + leeway || self.auth_time > now + leeway {
            return Err(TokenError::Invalid("issued in the future"));
        }
        Ok(())
    }
}

/// How many verified tokens one process remembers: about 1.3 KB each with Firebase's
/// ~1 KB tokens (≈ 1.3 MB in all), at most ≈ 4.5 MB at the length cap.
pub const TOKEN_CACHE_ENTRIES: usize = 1024;
/// Longer tokens are verified every time rather than cached.
const TOKEN_CACHE_MAX_LEN: usize = 4096;

#[derive(Clone)]
struct Verified {
    user: FirebaseUser,
    kid: String,
    key: Arc<DecodingKey>,
    times: Times,
}

/// Verified tokens by their exact bytes, bounded in count and length; the oldest
/// entry goes first when full, and an expired one goes when it is next looked up.
struct TokenCache {
    capacity: usize,
    inner: Mutex<CacheEntries>,
}

#[derive(Default)]
struct CacheEntries {
    by_token: HashMap<Arc<str>, Verified>,
    /// Insertion order; may hold tokens already removed from `by_token`.
    order: VecDeque<Arc<str>>,
}

impl TokenCache {
    fn new(capacity: usize) -> Self {
        Self { capacity, inner: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheEntries> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry for exactly these bytes, while its time claims still pass at `now`.
    fn get(&self, token: &str, now: i64, leeway: i64) -> Option<Verified> {
        let mut entries = self.lock();
        let hit = entries.by_token.get(token)?;
        if hit.times.check(now, leeway).is_ok() {
            return Some(hit.clone());
        }
        entries.by_token.remove(token);
        None
    }

    fn insert(&self, token: &str, verified: Verified) {
        if self.capacity == 0 || token.len() > TOKEN_CACHE_MAX_LEN {
            return;
        }
        let mut entries = self.lock();
        if entries.by_token.contains_key(token) {
            return;
        }
        while entries.by_token.len() >= self.capacity || entries.order.len() >= 2 * self.capacity {
            let Some(oldest) = entries.order.pop_front() else { break };
            // Only when it is this very entry (not a later re-insert of the same bytes).
            if entries.by_token.get_key_value(&*oldest).is_some_and(|(k, _)| Arc::ptr_eq(k, &oldest)) {
                entries.by_token.remove(&*oldest);
            }
        }
        let token: Arc<str> = Arc::from(token);
        entries.order.push_back(token.clone());
        entries.by_token.insert(token, verified);
    }

    fn remove(&self, token: &str) {
        self.lock().by_token.remove(token);
    }
}

fn decode_segment<T: serde::de::DeserializeOwned>(segment: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(exp: i64) -> Verified {
        Verified {
            user: FirebaseUser {
                uid: "uid-1".into(),
                phone_number: None,
                email: None,
                email_verified: false,
                sign_in_provider: Some("anonymous".into()),
                auth_time: 1_000,
            },
            kid: "kid-1".into(),
            key: Arc::new(DecodingKey::from_secret(b"unused")),
            times: Times { exp, iat: 1_000, auth_time: 1_000 },
        }
    }

    fn len(cache: &TokenCache) -> usize {
        cache.lock().by_token.len()
    }

    #[test]
    fn a_cached_token_is_served_until_it_expires_and_then_dropped() {
        let cache = TokenCache::new(4);
        cache.insert("a.b.c", verified(2_000));
        assert_eq!(cache.get("a.b.c", 1_500, 60).map(|v| v.user.uid).as_deref(), Some("uid-1"));
        // Within the leeway after exp, exactly as the full check allows.
        assert!(cache.get("a.b.c", 2_059, 60).is_some());
        assert!(cache.get("a.b.c", 2_060, 60).is_none());
        assert_eq!(len(&cache), 0, "an expired entry is removed on lookup");
    }

    #[test]
    fn only_the_exact_bytes_hit() {
        let cache = TokenCache::new(4);
        cache.insert("a.b.c", verified(2_000));
        for other in ["a.b.c ", "a.b.C", "a.b", ""] {
            assert!(cache.get(other, 1_500, 60).is_none(), "{other:?}");
        }
    }

    #[test]
    fn a_token_issued_in_the_future_is_not_served() {
        let cache = TokenCache::new(4);
        cache.insert("a.b.c", verified(9_000));
        // A clock now before iat - leeway: the full check would refuse it too.
        assert!(cache.get("a.b.c", 900, 60).is_none());
    }

    #[test]
    fn the_cache_is_bounded_in_entries_and_token_length() {
        let cache = TokenCache::new(3);
        for i in 0..10 {
            cache.insert(&format!("token-{i}"), verified(2_000));
        }
        assert_eq!(len(&cache), 3);
        assert!(cache.get("token-9", 1_500, 60).is_some(), "the newest entries stay");
        assert!(cache.get("token-0", 1_500, 60).is_none(), "the oldest go first");
        for i in 0..100 {
            cache.insert(&format!("churn-{i}"), verified(2_000));
            cache.remove(&format!("churn-{i}"));
        }
        assert!(cache.lock().order.len() <= 6, "the order queue is bounded too");
        let long = "x".repeat(TOKEN_CACHE_MAX_LEN + 1);
        cache.insert(&long, verified(2_000));
        assert!(cache.get(&long, 1_500, 60).is_none());
        let none = TokenCache::new(0);
        none.insert("a", verified(2_000));
        assert!(none.get("a", 1_500, 60).is_none());
    }
}
