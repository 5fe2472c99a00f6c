//! A stand-in for Google's x509 key endpoint: serves `{kid: certificate PEM}` with
//! `Cache-Control: max-age`, counts fetches, and can be taken down — for the local
//! run and for the verifier's tests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::response::IntoResponse;
use http::StatusCode;

use crate::devtoken::{DEV_CERT_PEM, DEV_KID};

pub const PATH: &str = "/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";

pub struct CertServer {
    certs: RwLock<HashMap<String, String>>,
    max_age_secs: AtomicU64,
    up: AtomicBool,
    fetches: AtomicU64,
    url: String,
}

impl CertServer {
    /// Binds to `addr` (port 0 picks one) and serves in the background.
    pub async fn start(addr: &str, certs: HashMap<String, String>, max_age_secs: u64) -> anyhow::Result<Arc<Self>> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let url = format!("http://{}{PATH}", listener.local_addr()?);
        let server = Arc::new(Self {
            certs: RwLock::new(certs),
            max_age_secs: AtomicU64::new(max_age_secs),
            up: AtomicBool::new(true),
            fetches: AtomicU64::new(0),
            url,
        });
        let router = axum::Router::new().route(PATH, axum::routing::get(serve_certs)).with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(server)
    }

    /// Serves the dev key's certificate, under `DEV_KID`, as the local run and tests use it.
    pub async fn dev_key(addr: &str, max_age_secs: u64) -> anyhow::Result<Arc<Self>> {
        let certs = HashMap::from([(DEV_KID.to_owned(), DEV_CERT_PEM.to_owned())]);
        Self::start(addr, certs, max_age_secs).await
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// While down, every fetch answers 503.
    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    pub fn set_max_age(&self, secs: u64) {
        self.max_age_secs.store(secs, Ordering::SeqCst);
    }

    pub fn insert(&self, kid: &str, cert_pem: &str) {
        self.certs.write().unwrap_or_else(|e| e.into_inner()).insert(kid.to_owned(), cert_pem.to_owned());
    }
}

async fn serve_certs(State(server): State<Arc<CertServer>>) -> axum::response::Response {
    server.fetches.fetch_add(1, Ordering::SeqCst);
    if !server.up.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let body = serde_json::to_string(&*server.certs.read().unwrap_or_else(|e| e.into_inner())).unwrap_or_default();
    let cache =
        format!("public, max-age={}, must-revalidate, no-transform", server.max_age_secs.load(Ordering::SeqCst));
    axum::response::Response::builder()
        .header(http::header::CONTENT_TYPE, "application/json; charset=UTF-8")
        .header(http::header::CACHE_CONTROL, cache)
        .body(axum::body::Body::from(body))
        .unwrap_or_default()
}
