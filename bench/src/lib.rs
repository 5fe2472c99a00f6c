//! Benchmarks for the HaloBestie functions: a minimal Lambda Runtime API emulator,
//! a recording proxy for the AWS stand-ins, API Gateway events and statistics.
//! `scripts/bench.sh` is the one command that runs them.

pub mod emulator;
pub mod function;
pub mod recorder;

use std::time::Duration;

use serde_json::{Value, json};

/// The `p`-th percentile (0–100) of `samples`, nearest-rank; `samples` need not be sorted.
pub fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn median(samples: &[Duration]) -> Duration {
    percentile(samples, 50.0)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// An API Gateway REST (v1) proxy event, as the deployed `Type: Api` events send it.
pub fn apigw_event(
    method: &str,
    path: &str,
    resource: &str,
    token: Option<&str>,
    body: Option<&Value>,
    query: &[(&str, &str)],
    path_params: &[(&str, &str)],
) -> Vec<u8> {
    let mut headers = json!({
        "Accept": "application/json",
        "Content-Type": "application/json",
        "Host": "abcdef1234.execute-api.ap-southeast-3.amazonaws.com",
        "User-Agent": "halobestie-bench",
        "X-Forwarded-For": "10.0.12.34",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https"
    });
    if let Some(token) = token {
        headers["Authorization"] = json!(format!("Bearer {token}"));
    }
    let multi: serde_json::Map<String, Value> =
        headers.as_object().map(|h| h.iter().map(|(k, v)| (k.clone(), json!([v]))).collect()).unwrap_or_default();
    let object = |pairs: &[(&str, &str)]| -> Value {
        if pairs.is_empty() {
            Value::Null
        } else {
            Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
        }
    };
    let multi_query = if query.is_empty() {
        Value::Null
    } else {
        Value::Object(query.iter().map(|(k, v)| (k.to_string(), json!([v]))).collect())
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let event = json!({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": multi,
        "queryStringParameters": object(query),
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": object(path_params),
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "resourceId": "abc123",
            "stage": "bench",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": "22/Nov/2026:03:00:00 +0000",
            "requestTimeEpoch": 1_795_143_600_000u64,
            "path": format!("/bench{path}"),
            "resourcePath": resource,
            "httpMethod": method,
            "protocol": "HTTP/1.1",
            "domainName": "abcdef1234.execute-api.ap-southeast-3.amazonaws.com",
            "identity": { "sourceIp": "10.0.12.34", "userAgent": "halobestie-bench" }
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    });
    serde_json::to_vec(&event).unwrap_or_default()
}
