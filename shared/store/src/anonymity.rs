//! The anonymity flag: one SSM parameter, read through a short in-memory cache so
//! polling apps do not meet SSM's throughput limit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;

use halo_domain::audit::{Actor, AuditAction, Changes, Target};
use halo_domain::clock::Clock;
use serde::{Deserialize, Serialize};

use crate::audit::{Audit, AuditEntry};
use crate::{StoreError, classify};

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

    /// Whether a value is held (the cache's one entry).
    pub fn holds_value(&self) -> bool {
        self.cached().is_some()
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
    /// makes sure this write and every version before it that SSM still holds have their
    /// records (a write answered 503 after SSM took it left its record to the next one, and
    /// an outage may leave many); this process sees the new value at once.
    ///
    /// SSM orders the writes: each is a parameter version, and its description names who made
    /// it. Records follow the versions, never a cache: `from` is the value the version
    /// replaced, a version that changed nothing has no record, and a version's record has
    /// one id, derived from the version and the time SSM gave it, so any request may write it
    /// and it is written once, sorted among the others in version order.
    pub async fn set(
        &self,
        value: bool,
        audit: &Audit<'_>,
        dynamo: &aws_sdk_dynamodb::Client,
    ) -> Result<bool, StoreError> {
        let author = Author {
            actor_id: audit.actor.id,
            actor_email: audit.actor.email.clone(),
            request_id: audit.request_id.to_owned(),
        };
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
        let version = out.version.max(1) as u64;
        let history = self.history().await?;
        let oldest = history.first().map_or(1, |v| v.number);
        // This version and the few before it at once; further back only while none of those
        // had its record already, which is where an outage's unrecorded versions end.
        let mut newest = version;
        loop {
            let from = newest.saturating_sub(BACKFILL).max(oldest);
            let records = versions_records(&self.parameter, &history, from..=newest);
            let puts = records.iter().map(|record| put_once(dynamo, audit.table, record));
            let written = futures::future::try_join_all(puts).await?;
            if from <= oldest || written.contains(&false) {
                return Ok(value);
            }
            newest = from - 1;
        }
    }

    /// Every retained version of the parameter, oldest first.
    async fn history(&self) -> Result<Vec<Version>, StoreError> {
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
                versions.push(Version {
                    number: p.version().max(0) as u64,
                    value: parse_flag(p.value().unwrap_or_default()),
                    author: p.description().and_then(|d| serde_json::from_str(d).ok()),
                    at_ms: p.last_modified_date().map_or(0, |d| d.to_millis().unwrap_or(0).max(0) as u64),
                });
            }
            next = out.next_token;
            if next.is_none() {
                versions.sort_by_key(|v| v.number);
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

/// One version of the parameter, as its history tells it.
struct Version {
    number: u64,
    value: bool,
    author: Option<Author>,
    /// When SSM wrote it, in unix milliseconds.
    at_ms: u64,
}

/// The records of the versions in `wanted` that changed the value.
fn versions_records(parameter: &str, history: &[Version], wanted: std::ops::RangeInclusive<u64>) -> Vec<AuditEntry> {
    let find = |number: u64| history.iter().find(|v| v.number == number);
    let mut records = Vec::new();
    for number in wanted.filter(|n| *n >= 1) {
        let Some(version) = find(number) else { continue };
        let before = if number == 1 { Some(DEFAULT) } else { find(number - 1).map(|v| v.value) };
        let Some(before) = before.filter(|b| *b != version.value) else { continue };
        let (actor, request_id) = match &version.author {
            Some(a) => (Actor { id: a.actor_id, email: a.actor_email.clone() }, a.request_id.clone()),
            None => (Actor { id: uuid::Uuid::nil(), email: String::new() }, String::new()),
        };
        let changes = Changes::default().field("anonymity_enabled", before, version.value);
        let id = version_record_id(parameter, version);
        records.push(AuditEntry::with_id(
            id,
            actor,
            AuditAction::ConfigAnonymityUpdate,
            Target::config("anonymity"),
            changes,
            &request_id,
        ));
    }
    records
}

/// The one id of a version's record: a UUIDv7 at the time SSM wrote the version, whose next
/// 12 bits are the version (so versions written within one millisecond sort in order) and
/// whose rest is derived from the parameter and the version.
fn version_record_id(parameter: &str, version: &Version) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::uuid!("3b0f7c3e-9a53-4c0e-8f0a-5d2a61c0a7e1");
    let derived = uuid::Uuid::new_v5(&NAMESPACE, format!("{parameter}#{}", version.number).as_bytes());
    let mut bytes = *derived.as_bytes();
    bytes[..6].copy_from_slice(&version.at_ms.to_be_bytes()[2..]);
    let sequence = (version.number & 0x0fff) as u16;
    bytes[6] = 0x70 | (sequence >> 8) as u8;
    bytes[7] = (sequence & 0xff) as u8;
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    uuid::Uuid::from_bytes(bytes)
}

/// How many versions before the newest a write records at once when their records are missing.
const BACKFILL: u64 = 4;

/// Writes a record unless it is there already (another request wrote it); true when written.
async fn put_once(client: &aws_sdk_dynamodb::Client, table: &str, record: &AuditEntry) -> Result<bool, StoreError> {
    let Some(put) = record.put(table)?.put else { return Ok(false) };
    let result = client
        .put_item()
        .table_name(put.table_name)
        .set_item(Some(put.item))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
        Err(e) => Err(classify(e, "writing an anonymity record")),
    }
}
