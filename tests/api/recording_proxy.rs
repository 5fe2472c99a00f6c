//! A proxy on loopback in front of a stand-in that forwards every HTTP request and notes
//! its operation (`X-Amz-Target`) and when it began and ended, so a test can tell how many
//! storage calls a request made one after another.
//!
//! Each answer is held back for a fixed latency, as a distant DynamoDB's would be. Against a
//! stand-in answering in a millisecond, the SDK's own work in a debug build (encoding,
//! signing) is as long as a call, so calls made side by side could otherwise seem to follow
//! each other; with the latency they overlap, and calls made in turn still never do.

use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use infra::fault_proxy::read_message;

#[derive(Debug, Clone)]
pub struct Call {
    pub operation: String,
    /// When the whole request had reached the proxy.
    pub start: Instant,
    /// When the whole answer had come back from the stand-in, before it was passed on.
    pub end: Instant,
}

/// The calls of every proxy sharing it, in the order they began.
#[derive(Default)]
pub struct Recorder {
    calls: Mutex<Vec<Call>>,
}

impl Recorder {
    /// The calls recorded since the last take; the record starts afresh.
    pub fn take(&self) -> Vec<Call> {
        let mut calls = std::mem::take(&mut *self.calls.lock().unwrap());
        calls.sort_by_key(|c| c.start);
        calls
    }
}

/// How many of `calls` happened one after another: the longest chain of calls each begun
/// after the one before it had ended. Calls whose times overlap ran side by side and count once.
pub fn sequential_steps(calls: &[Call]) -> usize {
    let mut depth: Vec<usize> = Vec::with_capacity(calls.len());
    for (i, call) in calls.iter().enumerate() {
        let before = (0..i).filter(|&j| calls[j].end <= call.start).map(|j| depth[j]).max().unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

/// The calls as `operation [start–end ms]`, from the first one's start, for a failure message.
pub fn timeline(calls: &[Call]) -> String {
    let Some(origin) = calls.first().map(|c| c.start) else { return "no calls".into() };
    let ms = |t: Instant| t.duration_since(origin).as_secs_f64() * 1000.0;
    let mut out = String::new();
    for call in calls {
        let _ = write!(out, "{} [{:.1}–{:.1} ms]  ", call.operation, ms(call.start), ms(call.end));
    }
    out
}

/// Starts a proxy to `upstream` recording into `recorder`, each answer `latency` late; its URL.
pub async fn start(upstream: &str, recorder: Arc<Recorder>, latency: Duration) -> String {
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(forward(client, upstream.clone(), recorder.clone(), latency));
        }
    });
    url
}

async fn forward(mut client: TcpStream, upstream: String, recorder: Arc<Recorder>, latency: Duration) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
    let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
    while let Some(request) = read_message(&mut client, &mut from_client).await {
        let start = Instant::now();
        let head = String::from_utf8_lossy(&request[..request.len().min(4096)]).into_owned();
        let operation = head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("x-amz-target")))
            .map(|(_, target)| target.trim().rsplit('.').next().unwrap_or_default().to_owned())
            .unwrap_or_else(|| "unknown".into());
        if server.write_all(&request).await.is_err() {
            return;
        }
        let Some(response) = read_message(&mut server, &mut from_server).await else { return };
        tokio::time::sleep_until((start + latency).into()).await;
        recorder.calls.lock().unwrap().push(Call { operation, start, end: Instant::now() });
        if client.write_all(&response).await.is_err() {
            return;
        }
    }
}

#[test]
fn calls_side_by_side_count_once_and_a_chain_counts_each_link() {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let call = |start, end| Call { operation: "GetItem".into(), start: at(start), end: at(end) };
    // A, then B beside C, then D after C: A → (B ‖ C) → D is three steps.
    let calls = [call(0, 10), call(11, 30), call(12, 20), call(21, 25)];
    assert_eq!(sequential_steps(&calls), 3);
    assert_eq!(sequential_steps(&calls[..3]), 2);
    assert_eq!(sequential_steps(&[]), 0);
}
