//! The anonymity flag: one SSM parameter, read through a short in-memory cache so
//! polling apps do not meet SSM's throughput limit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use halo_domain::audit::{Actor, AuditAction, Changes, Target};
use halo_domain::clock::Clock;
use serde::{Deserialize, Serialize};

use crate::audit::{Audit, AuditEntry};
use crate::{Item, StoreError, change, classify, get, s};

/// Phase 1 launches with anonymity on; a missing parameter reads as this.
const DEFAULT: bool = true;

#[derive(Clone, Copy)]
struct Cached {
    value: bool,
    read_at: Instant,
    /// After a failed read, the stale value is served without retrying SSM until then.
    retry_after: Option<Instant>,
}

pub struct AnonymityFlag {
    ssm: aws_sdk_ssm::Client,
    parameter: String,
    ttl: Duration,
    stale_for: Duration,
    cached: Mutex<Option<Cached>>,
    reading: tokio::sync::Mutex<()>,
    reads: AtomicU64,
    clock: Clock,
}

impl AnonymityFlag {
    pub fn new(ssm: aws_sdk_ssm::Client, parameter: String, ttl: Duration, stale_for: Duration, clock: Clock) -> Self {
        Self {
            ssm,
            parameter,
            ttl,
            stale_for,
            cached: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
            reads: AtomicU64::new(0),
            clock,
        }
    }

    /// How many `GetParameter` calls this process has made.
    pub fn ssm_reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<Cached> {
        *self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn store(&self, value: Option<Cached>) {
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = value;
    }

    fn usable(&self, cached: Option<Cached>, now: Instant) -> Option<bool> {
        let c = cached?;
        let fresh = now < c.read_at + self.ttl;
        let resting = c.retry_after.is_some_and(|t| now < t) && now < c.read_at + self.stale_for;
        (fresh || resting).then_some(c.value)
    }

    pub async fn get(&self) -> Result<bool, StoreError> {
        if let Some(value) = self.usable(self.cached(), self.clock.now()) {
            return Ok(value);
        }
        let _one_reader = self.reading.lock().await;
        if let Some(value) = self.usable(self.cached(), self.clock.now()) {
            return Ok(value);
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        match self.read().await {
            Ok(value) => {
                self.store(Some(Cached { value, read_at: self.clock.now(), retry_after: None }));
                Ok(value)
            }
            Err(error) => {
                let now = self.clock.now();
                match self.cached() {
                    Some(c) if now < c.read_at + self.stale_for => {
                        halo_telemetry::metrics::count(halo_telemetry::metrics::Counter::StaleAnonymityServes);
                        tracing::warn!(
                            error = format!("{error:#}"),
                            "SSM read failed; serving the last known anonymity flag"
                        );
                        self.store(Some(Cached { retry_after: Some(now + self.ttl), ..c }));
                        Ok(c.value)
                    }
                    _ => Err(error),
                }
            }
        }
    }

    async fn read(&self) -> Result<bool, StoreError> {
        match self.ssm.get_parameter().name(&self.parameter).send().await {
            Ok(out) => Ok(parse_flag(&out.parameter.and_then(|p| p.value).unwrap_or_default())),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => Ok(DEFAULT),
            Err(e) => Err(classify(e, "reading the anonymity parameter")),
        }
    }

    /// Writes the flag (creating the parameter if needed) on behalf of `audit`'s actor, then
    /// makes sure every change up to this write has its record; this process sees it at once.
    ///
    /// SSM orders the writes: each is a parameter version, and its description names who made
    /// it. The records follow the versions, not a cache: `from` is the value the version
    /// replaced, a version that changed nothing has no record, and whichever request gets
    /// there first writes the records of every version up to its own, in version order, once.
    pub async fn set(&self, value: bool, audit: &Audit<'_>, dynamo: &aws_sdk_dynamodb::Client) -> Result<bool, StoreError> {
        let author = Author { actor_id: audit.actor.id, actor_email: audit.actor.email.clone(), request_id: audit.request_id.to_owned() };
        let out = self
            .ssm
            .put_parameter()
            .name(&self.parameter)
            .value(value.to_string())
            .description(serde_json::to_string(&author).unwrap_or_default())
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| classify(e, "writing the anonymity parameter"))?;
        self.store(Some(Cached { value, read_at: self.clock.now(), retry_after: None }));
        self.record_up_to(out.version.max(1) as u64, audit.table, dynamo).await?;
        Ok(value)
    }

    /// Records the flag's changes through SSM version `version`, under the one retry policy.
    async fn record_up_to(&self, version: u64, table: &str, dynamo: &aws_sdk_dynamodb::Client) -> Result<(), StoreError> {
        change::retry("recording the anonymity flag's changes", || async move {
            let head = get(dynamo, table, CHAIN_PK).await?;
            let recorded = head.as_ref().and_then(|h| number(h, "recorded_version"));
            if recorded.is_some_and(|r| r >= version) {
                return Ok(Some(()));
            }
            let last_ms = head.as_ref().and_then(|h| number(h, "last_ms")).unwrap_or(0);
            // Without a head (a stage from before it), the chain starts at this very write.
            let from = recorded.unwrap_or(version - 1);
            let history = self.history().await?;
            let (records, last_ms) = chain_records(&history, from, version, last_ms)?;
            let mut writes = vec![head_put(table, head.is_some().then_some(from), version, last_ms)];
            writes.extend(records.iter().map(|r| r.put(table)).collect::<Result<Vec<_>, _>>()?);
            match transact_all(dynamo, writes).await? {
                true => Ok(Some(())),
                false => Ok(None),
            }
        })
        .await
    }

    /// Every retained version of the parameter, oldest first: (version, value, author).
    async fn history(&self) -> Result<Vec<(u64, bool, Option<Author>)>, StoreError> {
        let mut versions = Vec::new();
        let mut next = None;
        loop {
            let out = self
                .ssm
                .get_parameter_history()
                .name(&self.parameter)
                .max_results(50)
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| classify(e, "reading the anonymity parameter's history"))?;
            for p in out.parameters() {
                let author = p.description().and_then(|d| serde_json::from_str(d).ok());
                versions.push((p.version().max(0) as u64, parse_flag(p.value().unwrap_or_default()), author));
            }
            next = out.next_token;
            if next.is_none() {
                versions.sort_by_key(|(v, _, _)| *v);
                return Ok(versions);
            }
        }
    }

    /// Creates the parameter with the Phase 1 default when it does not exist.
    pub async fn ensure_exists(&self) -> Result<(), StoreError> {
        let result = self
            .ssm
            .put_parameter()
            .name(&self.parameter)
            .value(DEFAULT.to_string())
            .r#type(ParameterType::String)
            .overwrite(false)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_parameter_already_exists()) => Ok(()),
            Err(e) => Err(classify(e, "creating the anonymity parameter")),
        }
    }
}

fn parse_flag(raw: &str) -> bool {
    match raw.trim() {
        "true" => true,
        "false" => false,
        other => {
            tracing::error!(value = other, "anonymity parameter is neither true nor false; using the default");
            DEFAULT
        }
    }
}

/// Who wrote a version of the parameter, kept in its description.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Author {
    actor_id: uuid::Uuid,
    actor_email: String,
    request_id: String,
}

/// The item that says through which parameter version the records are written, and the
/// time of the newest, so the next record sorts after it.
const CHAIN_PK: &str = "CHAIN#config#anonymity";

fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
}

/// The records of versions `from + 1 ..= upto` that changed the value, each later than the
/// one before (`last_ms` is the newest written so far), and the newest's time.
fn chain_records(
    history: &[(u64, bool, Option<Author>)],
    from: u64,
    upto: u64,
    mut last_ms: u64,
) -> Result<(Vec<AuditEntry>, u64), StoreError> {
    let value_at = |version: u64| history.iter().find(|(v, _, _)| *v == version).map(|(_, value, _)| *value);
    let mut records = Vec::new();
    for version in from + 1..=upto {
        let Some(to) = value_at(version) else { continue };
        let before = if version <= 1 { Some(DEFAULT) } else { value_at(version - 1) };
        let Some(before) = before.filter(|b| *b != to) else { continue };
        let author = history.iter().find(|(v, _, _)| *v == version).and_then(|(_, _, a)| a.clone());
        let (actor, request_id) = match author {
            Some(a) => (Actor { id: a.actor_id, email: a.actor_email }, a.request_id),
            None => (Actor { id: uuid::Uuid::nil(), email: String::new() }, String::new()),
        };
        let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 / 1_000_000;
        last_ms = now_ms.max(last_ms + 1);
        let changes = Changes::default().field("anonymity_enabled", before, to);
        let target = Target::config("anonymity");
        records.push(AuditEntry::at_millis(last_ms, actor, AuditAction::ConfigAnonymityUpdate, target, changes, &request_id));
    }
    if records.len() > 99 {
        return Err(StoreError::Failed(anyhow::anyhow!("more anonymity versions to record than one transaction holds")));
    }
    Ok((records, last_ms))
}

/// The chain head at `upto`, written only while it still is at `from` (absent: `None`).
fn head_put(table: &str, from: Option<u64>, upto: u64, last_ms: u64) -> TransactWriteItem {
    let item: Item = [
        ("pk".to_owned(), s(CHAIN_PK)),
        ("recorded_version".to_owned(), AttributeValue::N(upto.to_string())),
        ("last_ms".to_owned(), AttributeValue::N(last_ms.to_string())),
    ]
    .into();
    let put = Put::builder().table_name(table).set_item(Some(item));
    let put = match from {
        Some(from) => put
            .condition_expression("recorded_version = :from")
            .expression_attribute_values(":from", AttributeValue::N(from.to_string())),
        None => put.condition_expression("attribute_not_exists(pk)"),
    };
    TransactWriteItem::builder().put(put.build().expect("table and item are set")).build()
}

/// One transaction of independent puts: false when a condition failed or another transaction held an item.
async fn transact_all(client: &aws_sdk_dynamodb::Client, writes: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
    change::transact_plain(client, writes, "recording the anonymity flag's changes").await
}
