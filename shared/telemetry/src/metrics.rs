//! Metrics without API calls: each request's log line carries CloudWatch Embedded Metric
//! Format (EMF) fields, which CloudWatch Logs turns into metrics. Requests, latency and
//! error codes come from the request itself; what happened beneath it (Firebase key
//! fetches, DynamoDB retries and throttles, stale anonymity-flag serves) is counted
//! process-wide and reported as the increments since the request began. Those are exactly
//! the request's own only where a process serves one request at a time: a Lambda sandbox as
//! the template deploys it (`run_concurrent` polls one invocation at a time unless
//! `AWS_LAMBDA_MAX_CONCURRENCY` is over 1). Where requests overlap (Lambda Managed Instances,
//! `cargo lambda watch`, the local gateway) an event lands in the line of every request in
//! flight, so sums over lines count it more than once. What the init phase counts (its key
//! fetch) is in no request's line.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "HaloBestie";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    KeyFetches,
    KeyFetchFailures,
    DynamoDbRetries,
    DynamoDbThrottles,
    DynamoDbErrors,
    StaleAnonymityServes,
}

impl Counter {
    pub const ALL: [Counter; 6] = [
        Counter::KeyFetches,
        Counter::KeyFetchFailures,
        Counter::DynamoDbRetries,
        Counter::DynamoDbThrottles,
        Counter::DynamoDbErrors,
        Counter::StaleAnonymityServes,
    ];

    /// The metric's name in CloudWatch.
    pub const fn name(self) -> &'static str {
        match self {
            Self::KeyFetches => "KeyFetches",
            Self::KeyFetchFailures => "KeyFetchFailures",
            Self::DynamoDbRetries => "DynamoDBRetries",
            Self::DynamoDbThrottles => "DynamoDBThrottles",
            Self::DynamoDbErrors => "DynamoDBSystemErrors",
            Self::StaleAnonymityServes => "StaleAnonymityServes",
        }
    }
}

static COUNTS: [AtomicU64; Counter::ALL.len()] = [const { AtomicU64::new(0) }; Counter::ALL.len()];

pub fn count(counter: Counter) {
    COUNTS[counter as usize].fetch_add(1, Ordering::Relaxed);
}

/// The counters at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot([u64; Counter::ALL.len()]);

impl Snapshot {
    pub fn now() -> Self {
        Self(std::array::from_fn(|i| COUNTS[i].load(Ordering::Relaxed)))
    }

    /// What moved since `earlier`, non-zero counters only.
    pub fn since(&self, earlier: &Snapshot) -> Vec<(Counter, u64)> {
        Counter::ALL
            .iter()
            .map(|&c| (c, self.0[c as usize].saturating_sub(earlier.0[c as usize])))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// One request, as its metrics see it.
#[derive(Debug)]
pub struct RequestMetrics<'a> {
    pub stage: &'a str,
    pub route: &'a str,
    pub status: u16,
    /// The error code of a refused or failed request.
    pub code: Option<&'a str>,
    pub latency_ms: f64,
    pub counts: Vec<(Counter, u64)>,
}

/// The EMF members of a request's log line: the `_aws` metadata and, at the root, the
/// dimension values and metric values it names.
pub fn emf(request: &RequestMetrics<'_>, timestamp_ms: u64) -> Map<String, Value> {
    let metric = |name: &str, unit: &str| json!({ "Name": name, "Unit": unit });
    let mut directives = vec![json!({
        "Namespace": NAMESPACE,
        "Dimensions": [["Stage", "Route"]],
        "Metrics": [
            metric("Requests", "Count"),
            metric("Latency", "Milliseconds"),
            metric("ServerErrors", "Count"),
        ],
    })];
    let mut root = Map::new();
    root.insert("Stage".into(), json!(request.stage));
    root.insert("Route".into(), json!(request.route));
    root.insert("Requests".into(), json!(1));
    root.insert("Latency".into(), json!(request.latency_ms));
    root.insert("ServerErrors".into(), json!(u8::from(request.status >= 500)));
    if let Some(code) = request.code {
        directives.push(json!({
            "Namespace": NAMESPACE,
            "Dimensions": [["Stage", "Code"]],
            "Metrics": [metric("ErrorResponses", "Count")],
        }));
        root.insert("Code".into(), json!(code));
        root.insert("ErrorResponses".into(), json!(1));
    }
    if !request.counts.is_empty() {
        directives.push(json!({
            "Namespace": NAMESPACE,
            "Dimensions": [["Stage"]],
            "Metrics": request.counts.iter().map(|(c, _)| metric(c.name(), "Count")).collect::<Vec<_>>(),
        }));
        for (counter, n) in &request.counts {
            root.insert(counter.name().into(), json!(n));
        }
    }
    root.insert("_aws".into(), json!({ "Timestamp": timestamp_ms, "CloudWatchMetrics": directives }));
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_request_reports_its_route_latency_and_code_and_only_the_counters_that_moved() {
        let request = RequestMetrics {
            stage: "dev",
            route: "mitras-create",
            status: 409,
            code: Some("CONFLICT"),
            latency_ms: 12.5,
            counts: vec![(Counter::DynamoDbRetries, 2)],
        };
        let emf = Value::Object(emf(&request, 1_700_000_000_000));
        assert_eq!(emf["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(), 3);
        assert_eq!((emf["Route"].clone(), emf["Code"].clone()), (json!("mitras-create"), json!("CONFLICT")));
        assert_eq!((emf["Requests"].clone(), emf["ServerErrors"].clone()), (json!(1), json!(0)));
        assert_eq!(emf["DynamoDBRetries"], 2);
        assert!(emf.get("KeyFetchFailures").is_none());
    }

    #[test]
    fn a_snapshot_reports_what_moved_since_an_earlier_one() {
        let before = Snapshot::now();
        count(Counter::StaleAnonymityServes);
        let moved = Snapshot::now().since(&before);
        assert!(moved.iter().any(|&(c, n)| c == Counter::StaleAnonymityServes && n >= 1), "{moved:?}");
    }
}
