//! A minimal Lambda Runtime API (the `2018-06-01` interface a custom runtime polls):
//! `GET /runtime/invocation/next` hands out queued events, `POST …/{id}/response` and
//! `…/{id}/error` complete them, `POST /runtime/init/error` records an init failure.
//! One emulator serves one function process, as the Lambda service does.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";

/// How one invocation ended, and when the emulator received the answer.
#[derive(Debug)]
pub struct Outcome {
    pub body: Bytes,
    pub error: bool,
    pub received_at: Instant,
}

struct Pending {
    id: String,
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

struct Inner {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<String>>,
    /// Run once, when the process first asks for an event: where Lambda's init phase ends.
    on_first_poll: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    first_poll: std::sync::OnceLock<Instant>,
}

pub struct RuntimeApi {
    addr: SocketAddr,
    inner: Arc<Inner>,
    submit: mpsc::UnboundedSender<Pending>,
    server: tokio::task::JoinHandle<()>,
    next_id: std::sync::atomic::AtomicU64,
}

impl RuntimeApi {
    /// Binds to a free loopback port and serves in the background.
    pub async fn start() -> anyhow::Result<Self> {
        Self::serve(crate::listen().await?)
    }

    /// Serves on `address` (a soak names its ports).
    pub async fn start_on(address: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?;
        Self::serve(listener)
    }

    fn serve(listener: tokio::net::TcpListener) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let (submit, queue) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            queue: tokio::sync::Mutex::new(queue),
            in_flight: Mutex::default(),
            init_error: Mutex::default(),
            on_first_poll: Mutex::default(),
            first_poll: std::sync::OnceLock::new(),
        });
        let router = axum::Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(&format!("{PREFIX}/invocation/{{id}}/response"), post(response))
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { addr, inner, submit, server, next_id: Default::default() })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Queues one event; the receiver resolves when the function answers.
    pub fn submit(&self, event: impl Into<Bytes>) -> oneshot::Receiver<Outcome> {
        let n = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (reply, outcome) = oneshot::channel();
        let _ = self.submit.send(Pending {
            id: format!("bench-{n:08}-{}", uuid::Uuid::new_v4().simple()),
            event: event.into(),
            reply,
        });
        outcome
    }

    /// Queues one event and waits for its answer.
    pub async fn invoke(&self, event: impl Into<Bytes>) -> anyhow::Result<Outcome> {
        let outcome = self.submit(event);
        self.wait(outcome).await
    }

    pub async fn wait(&self, outcome: oneshot::Receiver<Outcome>) -> anyhow::Result<Outcome> {
        match tokio::time::timeout(std::time::Duration::from_secs(30), outcome).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) => bail!("the invocation was dropped"),
            Err(_) => bail!("no answer within 30 s (init error: {:?})", self.init_error()),
        }
    }

    /// Runs `hook` when the process first calls `invocation/next`, before it gets an event
    /// (e.g. to throttle it from the end of its init phase on).
    pub fn on_first_poll(&self, hook: impl FnOnce() + Send + 'static) {
        *self.inner.on_first_poll.lock().unwrap_or_else(|e| e.into_inner()) = Some(Box::new(hook));
    }

    /// When the process first called `invocation/next` (the end of its init phase).
    pub fn first_poll(&self) -> Option<Instant> {
        self.inner.first_poll.get().copied()
    }

    pub fn init_error(&self) -> Option<String> {
        self.inner.init_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> Response {
    if inner.first_poll.set(Instant::now()).is_ok() {
        let hook = inner.on_first_poll.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(hook) = hook {
            hook();
        }
    }
    let pending = inner.queue.lock().await.recv().await;
    let Some(Pending { id, event, reply }) = pending else {
        return StatusCode::GONE.into_response();
    };
    inner.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), reply);
    let deadline =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64 + 30_000).unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set("lambda-runtime-invoked-function-arn", "arn:aws:lambda:ap-southeast-3:123456789012:function:bench".into());
    set("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into());
    set("content-type", "application/json".into());
    (StatusCode::OK, headers, event).into_response()
}

fn complete(inner: &Inner, id: &str, body: Bytes, error: bool) -> StatusCode {
    let received_at = Instant::now();
    let reply = inner.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    match reply {
        Some(reply) => {
            let _ = reply.send(Outcome { body, error, received_at });
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    complete(&inner, &id, body, false)
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    complete(&inner, &id, body, true)
}

async fn init_error(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    *inner.init_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(String::from_utf8_lossy(&body).into_owned());
    StatusCode::ACCEPTED
}

/// The status code inside an API Gateway proxy response.
pub fn status_of(outcome: &Outcome) -> anyhow::Result<u16> {
    if outcome.error {
        bail!("function error: {}", String::from_utf8_lossy(&outcome.body));
    }
    let value: serde_json::Value = serde_json::from_slice(&outcome.body).context("response is not JSON")?;
    value["statusCode"].as_u64().map(|s| s as u16).with_context(|| format!("no statusCode in {value}"))
}
