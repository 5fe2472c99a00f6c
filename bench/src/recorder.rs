//! A recording HTTP proxy in front of an AWS stand-in. It counts the calls a function
//! makes (by `X-Amz-Target`, e.g. `AmazonSSM.GetParameter`) and keeps their exact
//! bytes, so the same storage work can be replayed directly as the "raw" floor.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// One call as the function sent it, with when it started and ended.
#[derive(Debug, Clone)]
pub struct Call {
    pub target: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
    pub started: Instant,
    pub ended: Instant,
}

struct Inner {
    upstream: String,
    http: reqwest::Client,
    calls: Mutex<Vec<Call>>,
}

pub struct Recorder {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub async fn start(upstream: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder().pool_max_idle_per_host(8).build()?,
            calls: Mutex::default(),
        });
        let router = axum::Router::new().fallback(forward).with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { addr, inner, server })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Takes what was recorded so far.
    pub fn take(&self) -> Vec<Call> {
        std::mem::take(&mut *self.inner.calls.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn count(&self, target: &str) -> usize {
        let calls = self.inner.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.iter().filter(|c| c.target == target).count()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.server.abort();
    }
}

const KEPT: [&str; 4] = ["x-amz-target", "content-type", "x-amz-date", "authorization"];

async fn forward(State(inner): State<Arc<Inner>>, req: axum::extract::Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let headers: Vec<(HeaderName, HeaderValue)> = parts
        .headers
        .iter()
        .filter(|(name, _)| KEPT.contains(&name.as_str()))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = inner.http.request(parts.method.clone(), format!("{}{path}", inner.upstream)).body(body.clone());
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let answer = request.send().await;
    let response = match answer {
        Ok(answer) => {
            let status = answer.status();
            let mut headers = HeaderMap::new();
            for (name, value) in answer.headers() {
                if !matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection") {
                    headers.append(name.clone(), value.clone());
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            (status, headers, bytes).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    };
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    inner.calls.lock().unwrap_or_else(|e| e.into_inner()).push(Call {
        target,
        headers,
        body,
        started,
        ended: Instant::now(),
    });
    response
}

/// The storage work of one request: calls that overlapped in time ran concurrently
/// and are replayed together; groups run one after another.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub groups: Vec<Vec<(String, Call)>>,
}

impl Script {
    /// `calls` are (upstream base URL, call) pairs from one request, in any order.
    pub fn from_calls(mut calls: Vec<(String, Call)>) -> Self {
        calls.sort_by_key(|(_, c)| c.started);
        let mut groups: Vec<Vec<(String, Call)>> = Vec::new();
        let mut group_end: Option<Instant> = None;
        for (upstream, call) in calls {
            match (groups.last_mut(), group_end) {
                (Some(group), Some(end)) if call.started < end => {
                    group_end = Some(end.max(call.ended));
                    group.push((upstream, call));
                }
                _ => {
                    group_end = Some(call.ended);
                    groups.push(vec![(upstream, call)]);
                }
            }
        }
        Self { groups }
    }

    pub fn calls(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    /// e.g. `2×GetItem → Query ‖ Query → BatchGetItem`.
    pub fn describe(&self) -> String {
        if self.groups.is_empty() {
            return "none".into();
        }
        self.groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|(_, c)| c.target.rsplit('.').next().unwrap_or("?").to_owned())
                    .collect::<Vec<_>>()
                    .join(" ‖ ")
            })
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Sends the recorded bytes straight to the stand-ins; returns the wall time.
    pub async fn replay(&self, http: &reqwest::Client) -> anyhow::Result<Duration> {
        let started = Instant::now();
        for group in &self.groups {
            let sends = group.iter().map(|(upstream, call)| async move {
                let mut request = http.post(format!("{upstream}/")).body(call.body.clone());
                for (name, value) in &call.headers {
                    request = request.header(name, value);
                }
                let response = request.send().await?;
                response.bytes().await?;
                anyhow::Ok(())
            });
            futures::future::try_join_all(sends).await?;
        }
        Ok(started.elapsed())
    }
}
