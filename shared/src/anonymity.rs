//! The anonymity flag: one SSM parameter, read through a short in-memory cache so
//! polling apps do not meet SSM's throughput limit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;

use crate::clock::Clock;
use crate::store::{StoreError, classify};

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
                        crate::metrics::count(crate::metrics::Counter::StaleAnonymityServes);
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
            Ok(out) => {
                let raw = out.parameter.and_then(|p| p.value).unwrap_or_default();
                Ok(match raw.trim() {
                    "true" => true,
                    "false" => false,
                    other => {
                        tracing::error!(
                            value = other,
                            "anonymity parameter is neither true nor false; using the default"
                        );
                        DEFAULT
                    }
                })
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_parameter_not_found()) => Ok(DEFAULT),
            Err(e) => Err(classify(e, "reading the anonymity parameter")),
        }
    }

    /// Writes the flag (creating the parameter if needed); this process sees it at once.
    pub async fn set(&self, value: bool) -> Result<bool, StoreError> {
        self.ssm
            .put_parameter()
            .name(&self.parameter)
            .value(value.to_string())
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| classify(e, "writing the anonymity parameter"))?;
        self.store(Some(Cached { value, read_at: self.clock.now(), retry_after: None }));
        Ok(value)
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
