//! A TCP proxy on loopback between the functions and a stand-in, whose behaviour
//! a test or a chaos run switches: forward, refuse, hang, or answer every request with a throttle.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    /// Connections are accepted and closed at once: the dependency is unreachable.
    Refuse,
    /// Connections are accepted and never answered: the dependency hangs.
    Hang,
    /// Every request gets DynamoDB's `ThrottlingException`.
    Throttle,
    /// Requests whose body contains this text get DynamoDB's `ThrottlingException`; the
    /// others are forwarded. Fails one kind of write (say, any touching the audit table).
    ThrottleWhen(&'static str),
}

pub struct FaultProxy {
    pub url: String,
    mode: watch::Sender<Mode>,
}

impl FaultProxy {
    /// On a free loopback port.
    pub async fn start(upstream: &str) -> Arc<Self> {
        Self::bind("127.0.0.1:0", upstream).await.expect("a free loopback port")
    }

    pub async fn bind(address: &str, upstream: &str) -> std::io::Result<Arc<Self>> {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_owned();
        let listener = TcpListener::bind(address).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (mode, _) = watch::channel(Mode::Forward);
        let proxy = Arc::new(Self { url, mode });
        let modes = proxy.mode.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(handle(client, upstream.clone(), modes.subscribe()));
            }
        });
        Ok(proxy)
    }

    /// Switches mode; connections opened under the old mode are cut.
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

async fn handle(mut client: TcpStream, upstream: String, mut modes: watch::Receiver<Mode>) {
    let mode = *modes.borrow_and_update();
    let work = async {
        match mode {
            Mode::Refuse => {}
            Mode::Hang => tokio::time::sleep(Duration::from_secs(3600)).await,
            Mode::Throttle => throttle(&mut client).await,
            Mode::ThrottleWhen(needle) => throttle_when(&mut client, &upstream, needle).await,
            Mode::Forward => {
                if let Ok(mut server) = TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            }
        }
    };
    tokio::select! {
        _ = work => {}
        _ = modes.changed() => {}
    }
}

/// One HTTP/1.1 message (headers and a `Content-Length` body) off `stream`, consuming it from `buffer`.
pub async fn read_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(header_end) = find(buffer, b"\r\n\r\n") {
            let headers = String::from_utf8_lossy(&buffer[..header_end]).to_lowercase();
            let length: usize = headers
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buffer.len() >= header_end + 4 + length {
                return Some(buffer.drain(..header_end + 4 + length).collect());
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn throttle_when(client: &mut TcpStream, upstream: &str, needle: &str) {
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
    while let Some(request) = read_message(client, &mut from_client).await {
        let response = if find(&request, needle.as_bytes()).is_some() {
            throttled()
        } else {
            if server.write_all(&request).await.is_err() {
                return;
            }
            let Some(response) = read_message(&mut server, &mut from_server).await else { return };
            response
        };
        if client.write_all(&response).await.is_err() {
            return;
        }
    }
}

/// Answers each HTTP request on the connection as a throttled DynamoDB would.
async fn throttle(client: &mut TcpStream) {
    let mut buffer = Vec::new();
    while read_message(client, &mut buffer).await.is_some() {
        if client.write_all(&throttled()).await.is_err() {
            return;
        }
    }
}

/// A throttled DynamoDB's answer.
fn throttled() -> Vec<u8> {
    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: throttled\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
