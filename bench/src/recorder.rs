//! A recording HTTP proxy in front of an AWS stand-in. It counts the calls a function
//! makes (by `X-Amz-Target`, e.g. `AmazonSSM.GetParameter`) and keeps their exact
//! bytes, so the same storage work can be replayed directly as the "raw" floor.
//!
//! A replayed write is made new each time ([`Script::fresh`]): the ids the function
//! generated, the `ClientRequestToken` and the request's one-use values (a new user's uid,
//! phone, email) are replaced, so DynamoDB really redoes the writes instead of treating
//! them as an idempotent repeat or failing their conditions.

use std::collections::HashSet;
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
    pub status: u16,
    pub response: Bytes,
    pub started: Instant,
    pub ended: Instant,
}

struct Inner {
    upstream: String,
    http: reqwest::Client,
    calls: Mutex<Vec<Call>>,
    hold: Duration,
}

pub struct Recorder {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub async fn start(upstream: &str) -> anyhow::Result<Self> {
        Self::holding(upstream, Duration::ZERO).await
    }

    /// A recorder that holds every answer for `hold` before passing it on. Calls a function
    /// makes concurrently then overlap in time however fast the stand-in answers: without
    /// it, a fast first answer could end before a second call on a new connection began,
    /// and two concurrent calls were counted as one after the other.
    pub async fn holding(upstream: &str, hold: Duration) -> anyhow::Result<Self> {
        let listener = crate::listen().await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder().pool_max_idle_per_host(8).build()?,
            calls: Mutex::default(),
            hold,
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
    let (response, status, answer_body) = match answer {
        Ok(answer) => {
            let status = answer.status();
            let mut headers = HeaderMap::new();
            for (name, value) in answer.headers() {
                if !matches!(name.as_str(), "content-length" | "transfer-encoding" | "connection") {
                    headers.append(name.clone(), value.clone());
                }
            }
            let bytes = answer.bytes().await.unwrap_or_default();
            ((status, headers, bytes.clone()).into_response(), status, bytes)
        }
        Err(_) => (StatusCode::BAD_GATEWAY.into_response(), StatusCode::BAD_GATEWAY, Bytes::new()),
    };
    tokio::time::sleep(inner.hold).await;
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    inner.calls.lock().unwrap_or_else(|e| e.into_inner()).push(Call {
        target,
        headers,
        body,
        status: status.as_u16(),
        response: answer_body,
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
    /// Values replaced on every replay: ids the function generated for its writes (and the
    /// writes' `ClientRequestToken`s), each by a new UUID of the same version.
    generated: Vec<String>,
    /// The recorded request's one-use values that its calls contain (see [`Script::fresh`]).
    one_use: Vec<String>,
    /// All of the recorded request's one-use values, in the order its fixture gave them.
    one_use_recorded: Vec<String>,
}

/// Storage calls that change something.
pub fn is_write(target: &str) -> bool {
    let operation = target.rsplit('.').next().unwrap_or(target);
    matches!(
        operation,
        "TransactWriteItems"
            | "PutItem"
            | "UpdateItem"
            | "DeleteItem"
            | "BatchWriteItem"
            | "ExecuteStatement"
            | "ExecuteTransaction"
            | "BatchExecuteStatement"
            | "PutParameter"
            | "DeleteParameter"
    )
}

/// Every UUID (8-4-4-4-12 hex) written in `text`.
fn uuids(text: &[u8]) -> Vec<String> {
    const DASHES: [usize; 4] = [8, 13, 18, 23];
    text.windows(36)
        .filter(|w| {
            w.iter().enumerate().all(|(i, b)| if DASHES.contains(&i) { *b == b'-' } else { b.is_ascii_hexdigit() })
        })
        .filter_map(|w| std::str::from_utf8(w).ok().map(str::to_owned))
        .collect()
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
        Self { groups, ..Self::default() }
    }

    /// Makes every replay's writes new. `event` is the recorded request and `one_use` its
    /// one-use values (a new user's uid, phone, email, the customer it links …), in the order
    /// the replacements will be given to [`Script::replay`]. A UUID counts as generated by the
    /// function when it first shows up in a write, neither in the event nor in an earlier
    /// call or answer; each write's `ClientRequestToken` is always replaced.
    pub fn fresh(mut self, event: &[u8], one_use: Vec<String>) -> Self {
        let mut known: HashSet<String> = uuids(event).into_iter().collect();
        let mut generated = Vec::new();
        for (_, call) in self.groups.iter().flatten() {
            if is_write(&call.target) {
                let token = serde_json::from_slice::<serde_json::Value>(&call.body)
                    .ok()
                    .and_then(|b| b.get("ClientRequestToken").and_then(|t| t.as_str()).map(str::to_owned));
                for id in uuids(&call.body).into_iter().chain(token) {
                    if !known.contains(&id) && !generated.contains(&id) {
                        generated.push(id);
                    }
                }
            }
            known.extend(uuids(&call.body));
            known.extend(uuids(&call.response));
        }
        let has_writes = self.groups.iter().flatten().any(|(_, c)| is_write(&c.target));
        self.generated = if has_writes { generated } else { Vec::new() };
        self.one_use_recorded = one_use.clone();
        // Only what the calls contain is worth replacing.
        self.one_use = if has_writes {
            one_use
                .into_iter()
                .filter(|v| !v.is_empty() && self.groups.iter().flatten().any(|(_, c)| contains(&c.body, v.as_bytes())))
                .collect()
        } else {
            Vec::new()
        };
        self
    }

    /// Whether a replay needs new one-use values (the script writes with some).
    pub fn needs_one_use(&self) -> bool {
        !self.one_use.is_empty()
    }

    /// The values a replay replaces: (recorded, replacement).
    fn substitutions(&self, one_use: &[(String, String)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .generated
            .iter()
            .map(|old| {
                let new = match uuid::Uuid::parse_str(old).map(|u| u.get_version_num()) {
                    Ok(7) => uuid::Uuid::now_v7(),
                    _ => uuid::Uuid::new_v4(),
                };
                (old.clone(), new.to_string())
            })
            .collect();
        pairs.extend(one_use.iter().filter(|(old, _)| self.one_use.contains(old)).cloned());
        pairs
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

    /// The recorded one-use values a replay must be given new ones for.
    pub fn one_use(&self) -> &[String] {
        &self.one_use
    }

    /// All the recorded request's one-use values, in its fixture's order: zip them with a new
    /// request's to make the (recorded, new) pairs of [`Script::replay`].
    pub fn one_use_recorded(&self) -> &[String] {
        &self.one_use_recorded
    }

    /// Sends the recorded calls straight to the stand-ins and returns the wall time. Unless
    /// `as_recorded`, generated ids and tokens are new and `one_use` (recorded → new) replaced,
    /// all before the clock starts. Every call must answer the status it answered when recorded
    /// (a write whose condition failed then, e.g. a status set to what it already was, fails
    /// the same way again).
    pub async fn replay(
        &self,
        http: &reqwest::Client,
        one_use: &[(String, String)],
        as_recorded: bool,
    ) -> anyhow::Result<Duration> {
        let pairs = if as_recorded { Vec::new() } else { self.substitutions(one_use) };
        let groups: Vec<Vec<(&String, &Call, Bytes)>> = self
            .groups
            .iter()
            .map(|g| g.iter().map(|(upstream, call)| (upstream, call, substitute(&call.body, &pairs))).collect())
            .collect();
        let started = Instant::now();
        for group in &groups {
            let sends = group.iter().map(|(upstream, call, body)| async move {
                let mut request = http.post(format!("{upstream}/")).body(body.clone());
                for (name, value) in &call.headers {
                    request = request.header(name, value);
                }
                let response = request.send().await?;
                let status = response.status();
                let answer = response.bytes().await?;
                if status.as_u16() != call.status {
                    anyhow::bail!(
                        "replayed {} answered {status}, recorded {}: {}",
                        call.target,
                        call.status,
                        String::from_utf8_lossy(&answer).chars().take(300).collect::<String>()
                    );
                }
                anyhow::Ok(())
            });
            futures::future::try_join_all(sends).await?;
        }
        Ok(started.elapsed())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `body` with every recorded value replaced by its new one.
fn substitute(body: &Bytes, pairs: &[(String, String)]) -> Bytes {
    if pairs.is_empty() {
        return body.clone();
    }
    let mut text = String::from_utf8_lossy(body).into_owned();
    for (old, new) in pairs {
        if text.contains(old.as_str()) {
            text = text.replace(old.as_str(), new);
        }
    }
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(target: &str, body: &str, response: &str) -> (String, Call) {
        let now = Instant::now();
        let call = Call {
            target: target.into(),
            headers: Vec::new(),
            body: Bytes::from(body.to_owned()),
            status: 200,
            response: Bytes::from(response.to_owned()),
            started: now,
            ended: now,
        };
        ("http://stand-in".into(), call)
    }

    const NEW_ID: &str = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
    const TOKEN: &str = "5f2b7c9e-1d3a-4b6c-8e0f-2a4c6e8a0b1d";
    const EXISTING: &str = "11111111-2222-4333-8444-555555555555";

    #[test]
    fn a_replayed_write_gets_new_generated_ids_a_new_request_token_and_new_one_use_values() {
        let write = format!(
            r#"{{"ClientRequestToken":"{TOKEN}","TransactItems":[{{"Put":{{"Item":{{"pk":{{"S":"CUSTOMER#{NEW_ID}"}},"role":{{"S":"{EXISTING}"}}}}}}}},{{"Put":{{"Item":{{"pk":{{"S":"UID#bench-new-1"}}}}}}}}]}}"#
        );
        let read = format!(r#"{{"Key":{{"pk":{{"S":"CUSTOMER#{NEW_ID}"}}}}}}"#);
        let script = Script {
            groups: vec![
                vec![call("DynamoDB_20120810.TransactWriteItems", &write, "{}")],
                vec![call("DynamoDB_20120810.GetItem", &read, "{}")],
            ],
            ..Script::default()
        }
        .fresh(format!(r#"{{"body":"{EXISTING}"}}"#).as_bytes(), vec!["bench-new-1".into(), "unused".into()]);
        assert_eq!(script.generated, [TOKEN, NEW_ID]);
        assert_eq!(script.one_use(), ["bench-new-1"]);
        let pairs = script.substitutions(&[("bench-new-1".into(), "bench-new-2".into())]);
        let replayed = String::from_utf8(substitute(&script.groups[0][0].1.body, &pairs).to_vec()).unwrap();
        assert!(!replayed.contains(NEW_ID) && !replayed.contains(TOKEN), "{replayed}");
        assert!(replayed.contains(EXISTING) && replayed.contains("UID#bench-new-2"), "{replayed}");
        let new_id = &pairs.iter().find(|(old, _)| old == NEW_ID).unwrap().1;
        assert_eq!(uuid::Uuid::parse_str(new_id).unwrap().get_version_num(), 7);
        let read_back = String::from_utf8(substitute(&script.groups[1][0].1.body, &pairs).to_vec()).unwrap();
        assert!(read_back.contains(new_id.as_str()), "the read after the write follows the new id: {read_back}");
        assert_ne!(script.substitutions(&[])[1].1, *new_id, "every replay gets its own ids");
    }

    #[test]
    fn ids_read_before_a_write_are_kept_and_a_read_only_script_is_replayed_as_recorded() {
        let read = call("DynamoDB_20120810.GetItem", "{}", &format!(r#"{{"Item":{{"id":{{"S":"{EXISTING}"}}}}}}"#));
        let write = call("DynamoDB_20120810.UpdateItem", &format!(r#"{{"Key":"{EXISTING}"}}"#), "{}");
        let script = Script { groups: vec![vec![read.clone()], vec![write]], ..Script::default() }.fresh(b"{}", vec![]);
        assert!(script.generated.is_empty());
        let reads = Script { groups: vec![vec![read]], ..Script::default() }.fresh(b"{}", vec![EXISTING.into()]);
        assert!(reads.generated.is_empty() && !reads.needs_one_use());
    }
}
