//! Google's x509 signing certificates for Firebase ID tokens, cached by `max-age`.
//!
//! One fetch is in flight at a time; a failed fetch keeps the last good keys; an
//! unknown `kid` refetches at most once per cooldown so random kids cannot hammer
//! the endpoint, while a freshly rotated key is still picked up within seconds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use http_body_util::{BodyExt, Limited};
use jsonwebtoken::DecodingKey;
use tokio::sync::{Mutex, RwLock};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use halo_domain::clock::Clock;

/// Used when the response carries no `max-age`.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// Google's map of a few certificates is about 4 KB; anything near this is not it.
const MAX_CERTIFICATE_MAP_BYTES: usize = 256 * 1024;

#[derive(Debug)]
pub enum KeyLookup {
    Found(Arc<DecodingKey>),
    /// Keys are available, but none has this `kid`.
    UnknownKid,
    /// No keys at all and the endpoint cannot be reached.
    Unavailable(anyhow::Error),
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<DecodingKey>>,
    fresh_until: Option<Instant>,
    /// No fetch (of any reason) before this instant; set after failures and unknown-kid fetches.
    quiet_until: Option<Instant>,
    generation: u64,
}

pub struct KeyStore {
    url: String,
    /// The AWS SDK's own HTTPS connector: one TLS stack in the binary, and the system's root
    /// certificates read from disk once per process for both (the SDK caches them).
    http: Connector,
    fetch_timeout: Duration,
    cooldown: Duration,
    set: RwLock<KeySet>,
    fetching: Mutex<()>,
    clock: Clock,
}

impl KeyStore {
    pub fn new(url: String, fetch_timeout: Duration, cooldown: Duration) -> anyhow::Result<Self> {
        http::Uri::try_from(url.as_str()).with_context(|| format!("FIREBASE_CERTS_URL {url:?} is not a URL"))?;
        let http = crate::tls::connector(crate::tls::extra_ca_file().as_deref())?;
        Ok(Self {
            url,
            http,
            fetch_timeout,
            cooldown,
            set: RwLock::default(),
            fetching: Mutex::new(()),
            clock: Clock::system(),
        })
    }

    /// Judges freshness and cooldowns by `clock` instead of the system clock.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// How many keys are held; `None` while a writer holds them.
    pub fn held(&self) -> Option<usize> {
        self.set.try_read().ok().map(|set| set.keys.len())
    }

    pub async fn key(&self, kid: &str) -> KeyLookup {
        let (found, fresh, generation, quiet) = {
            let set = self.set.read().await;
            let now = self.clock.now();
            (
                set.keys.get(kid).cloned(),
                set.fresh_until.is_some_and(|t| now < t),
                set.generation,
                set.quiet_until.is_some_and(|t| now < t),
            )
        };
        match found {
            Some(key) if fresh || quiet => return KeyLookup::Found(key),
            None if quiet => return self.lookup_without_fetch(kid).await,
            _ => {}
        }
        // Stale keys, or an unknown kid outside the cooldown: refresh once, then answer.
        let reason = if found.is_some() || !fresh { Refresh::Expired } else { Refresh::UnknownKid };
        if let Err(error) = self.refresh(generation, reason).await {
            tracing::warn!(error = format!("{error:#}"), url = %self.url, "firebase certificate fetch failed");
            let lookup = self.lookup_without_fetch(kid).await;
            return match lookup {
                KeyLookup::Unavailable(_) => KeyLookup::Unavailable(error),
                other => other,
            };
        }
        self.lookup_without_fetch(kid).await
    }

    async fn lookup_without_fetch(&self, kid: &str) -> KeyLookup {
        let set = self.set.read().await;
        match set.keys.get(kid) {
            Some(key) => KeyLookup::Found(key.clone()),
            None if set.keys.is_empty() => {
                KeyLookup::Unavailable(anyhow!("no Firebase signing keys have been fetched"))
            }
            None => KeyLookup::UnknownKid,
        }
    }

    /// Fetches unless another caller completed a fetch since `seen_generation`.
    async fn refresh(&self, seen_generation: u64, reason: Refresh) -> anyhow::Result<()> {
        let _in_flight = self.fetching.lock().await;
        if self.set.read().await.generation != seen_generation {
            return Ok(());
        }
        let fetched = self.fetch().await;
        halo_telemetry::metrics::count(halo_telemetry::metrics::Counter::KeyFetches);
        if fetched.is_err() {
            halo_telemetry::metrics::count(halo_telemetry::metrics::Counter::KeyFetchFailures);
        }
        let mut set = self.set.write().await;
        set.generation += 1;
        let now = self.clock.now();
        match fetched {
            Ok((keys, max_age)) => {
                set.keys = keys;
                set.fresh_until = Some(now + max_age);
                set.quiet_until = matches!(reason, Refresh::UnknownKid).then(|| now + self.cooldown);
                Ok(())
            }
            Err(error) => {
                set.quiet_until = Some(now + self.cooldown.min(Duration::from_secs(5)));
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> anyhow::Result<(HashMap<String, Arc<DecodingKey>>, Duration)> {
        let (body, max_age) = tokio::time::timeout(self.fetch_timeout, self.download())
            .await
            .map_err(|_| anyhow!("no answer within {:?}", self.fetch_timeout))??;
        let certs: HashMap<String, String> = serde_json::from_slice(&body).context("decoding the certificate map")?;
        let keys = certs
            .iter()
            .map(|(kid, pem)| {
                Ok((kid.clone(), Arc::new(decoding_key_from_cert(pem).with_context(|| format!("certificate {kid}"))?)))
            })
            .collect::<anyhow::Result<HashMap<_, _>>>()?;
        if keys.is_empty() {
            bail!("certificate endpoint returned no keys");
        }
        Ok((keys, max_age))
    }

    /// GETs the certificate map: its body and how long it may be cached.
    async fn download(&self) -> anyhow::Result<(bytes::Bytes, Duration)> {
        let request = http::Request::get(&self.url).body(SdkBody::empty()).context("building the request")?;
        let request = HttpRequest::try_from(request).context("building the request")?;
        let response = self.http.call(request).await.context("requesting Firebase certificates")?;
        if !response.status().is_success() {
            bail!("certificate endpoint answered {}", response.status().as_u16());
        }
        let max_age = response.headers().get(http::header::CACHE_CONTROL.as_str()).and_then(max_age);
        let body = Limited::new(response.into_body(), MAX_CERTIFICATE_MAP_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow!("reading the certificate map: {e}"))?
            .to_bytes();
        Ok((body, max_age.unwrap_or(DEFAULT_MAX_AGE)))
    }
}

#[derive(Clone, Copy)]
enum Refresh {
    Expired,
    UnknownKid,
}

/// Extracts the RSA public key of a PEM x509 certificate.
pub fn decoding_key_from_cert(pem: &str) -> anyhow::Result<DecodingKey> {
    let (_, pem) = parse_x509_pem(pem.as_bytes()).map_err(|e| anyhow!("not a PEM document: {e}"))?;
    let cert = pem.parse_x509().map_err(|e| anyhow!("not an x509 certificate: {e}"))?;
    let spki = cert.public_key();
    match spki.parsed().map_err(|e| anyhow!("unreadable public key: {e}"))? {
        // The subject key of an RSA certificate is the PKCS#1 RSAPublicKey that jsonwebtoken takes.
        PublicKey::RSA(_) => Ok(DecodingKey::from_rsa_der(&spki.subject_public_key.data)),
        _ => bail!("certificate key is not RSA"),
    }
}

/// Reads `max-age` from a `Cache-Control` value.
fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control
        .split(',')
        .filter_map(|directive| directive.trim().strip_prefix("max-age="))
        .find_map(|secs| secs.trim().parse().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_read_among_other_directives() {
        assert_eq!(max_age("public, max-age=19302, must-revalidate, no-transform"), Some(Duration::from_secs(19302)));
        assert_eq!(max_age("no-cache"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }

    #[test]
    fn a_non_certificate_is_rejected() {
        assert!(decoding_key_from_cert("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
        assert!(decoding_key_from_cert("hello").is_err());
    }
}
