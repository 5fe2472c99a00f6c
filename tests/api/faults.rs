//! Dependency faults: the backend answers 503 with `Retry-After`, never hangs,
//! never leaks internals, and recovers without a restart.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use shared::clock::Clock;

use crate::helpers::{TestApp, captured_logs, spawn_app_at, spawn_app_behind};
use infra::fault_proxy::{FaultProxy, Mode};

const ANONYMITY: &str = "/api/shared/config/anonymity";
const CREATE: &str = "/api/shared/customer/anonymous";

async fn behind_dynamodb_proxy(overrides: &[(&str, &str)]) -> (TestApp, Arc<FaultProxy>) {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap()).await;
    (spawn_app_behind(Some(&proxy.url), None, overrides, Clock::system()).await, proxy)
}

#[track_caller]
fn assert_unavailable_without_internals(answer: &crate::helpers::Answer) {
    answer.assert_error(503, "SERVICE_UNAVAILABLE");
    assert_eq!(answer.headers.get("retry-after").map(|v| v.to_str().unwrap()), Some("1"));
    let body = answer.body.to_string();
    for leak in ["127.0.0.1", "dispatch", "Throttling", "timeout", "dynamodb", "Exception"] {
        assert!(!body.to_lowercase().contains(&leak.to_lowercase()), "{leak} leaked: {body}");
    }
}

#[tokio::test]
async fn dynamodb_unreachable_answers_503_and_the_same_process_recovers() {
    let (app, proxy) = behind_dynamodb_proxy(&[]).await;
    let body = json!({ "display_name": "Angin" });
    app.public("POST", CREATE, None, Some(body.clone())).await.assert_ok(201);
    proxy.set(Mode::Refuse);
    assert_unavailable_without_internals(&app.public("POST", CREATE, None, Some(body.clone())).await);
    proxy.set(Mode::Forward);
    app.public("POST", CREATE, None, Some(body)).await.assert_ok(201);
}

#[tokio::test]
async fn a_hanging_dynamodb_ends_the_request_within_the_configured_deadline() {
    let (app, proxy) =
        behind_dynamodb_proxy(&[("AWS_ATTEMPT_TIMEOUT_MS", "300"), ("AWS_OPERATION_TIMEOUT_MS", "800")]).await;
    proxy.set(Mode::Hang);
    let request = app.public("POST", CREATE, None, Some(json!({ "display_name": "Angin" })));
    let answer = tokio::time::timeout(Duration::from_secs(20), request).await.expect("the request must not hang");
    assert_unavailable_without_internals(&answer);
    proxy.set(Mode::Forward);
    app.public("POST", CREATE, None, Some(json!({ "display_name": "Angin" }))).await.assert_ok(201);
}

#[tokio::test]
async fn a_dynamodb_throttling_error_is_503() {
    let (app, proxy) = behind_dynamodb_proxy(&[]).await;
    let token = app.anonymous_token("throttled");
    proxy.set(Mode::Throttle);
    let answer = app.public("POST", "/api/client/auth/verify", Some(&token), None).await;
    assert_unavailable_without_internals(&answer);
    let request_id = answer.headers["x-request-id"].to_str().unwrap();
    let logged = captured_logs();
    let line =
        logged.lines().find(|l| l.contains(request_id) && l.contains("request failed")).expect("the failure is logged");
    assert!(line.contains("ThrottlingException") && line.contains("\"status\":503"), "{line}");
    let line = crate::logs::request_line(request_id);
    crate::logs::assert_valid_emf(&line);
    assert_eq!((line["ServerErrors"].clone(), line["Code"].clone()), (json!(1), json!("SERVICE_UNAVAILABLE")));
    assert!(line["DynamoDBThrottles"].as_u64().is_some_and(|n| n >= 1), "the throttle is counted: {line}");
    assert_unavailable_without_internals(
        &app.public("POST", CREATE, None, Some(json!({ "display_name": "Angin" }))).await,
    );
}

#[tokio::test]
async fn ssm_down_serves_the_last_known_flag_for_a_bounded_time_then_503() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_SSM").unwrap()).await;
    let clock = Clock::manual();
    let app = spawn_app_behind(None, Some(&proxy.url), &[("AWS_OPERATION_TIMEOUT_MS", "400")], clock.clone()).await;
    let (ttl, stale_for) = (app.app.config.anonymity_cache_ttl, app.app.config.anonymity_stale_for);
    let token = app.anonymous_token("ssm");
    let actor = shared::store::audit::Actor { id: uuid::Uuid::now_v7(), email: "admin@halobestie.com".into() };
    let audit = shared::store::audit::Audit { table: &app.app.tables.audit_log, actor, request_id: "test" };
    app.app.anonymity.set(false, &audit, &app.app.dynamo).await.unwrap();
    proxy.set(Mode::Refuse);
    let reads = app.app.anonymity.ssm_reads();
    clock.advance(ttl);
    let answer = app.public("GET", ANONYMITY, Some(&token), None).await;
    assert_eq!(answer.assert_ok(200), &json!({ "anonymity_enabled": false }));
    // The last moment of the stale window, past the rest after the failed read: SSM is tried again.
    clock.advance(stale_for - ttl - Duration::from_millis(1));
    let answer = app.public("GET", ANONYMITY, Some(&token), None).await;
    assert_eq!(answer.assert_ok(200), &json!({ "anonymity_enabled": false }));
    assert_eq!(app.app.anonymity.ssm_reads(), reads + 2, "each GET after a rest tried SSM");
    clock.advance(Duration::from_millis(1));
    assert_unavailable_without_internals(&app.public("GET", ANONYMITY, Some(&token), None).await);
    proxy.set(Mode::Forward);
    assert_eq!(
        app.public("GET", ANONYMITY, Some(&token), None).await.assert_ok(200),
        &json!({ "anonymity_enabled": false })
    );
}

#[tokio::test]
async fn the_key_endpoint_going_down_after_warm_up_does_not_stop_verification() {
    const MAX_AGE: u64 = 60;
    let clock = Clock::manual();
    let app = spawn_app_at(&clock).await;
    app.certs.set_max_age(MAX_AGE);
    read_flag(&app, "keys").await;
    assert_eq!(app.certs.fetches(), 1);
    app.certs.set_up(false);
    clock.advance(Duration::from_secs(MAX_AGE));
    for i in 0..5 {
        read_flag(&app, &format!("keys-{i}")).await;
    }
    assert_eq!(app.certs.fetches(), 2, "the expired keys were refetched once, then rested after the failure");
    let failure = captured_logs()
        .lines()
        .any(|l| l.contains("firebase certificate fetch failed") && l.contains(app.certs.url()) && l.contains("503"));
    assert!(failure, "the failed refetch is logged");
    let counted = captured_logs().lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).any(|l| {
        l["uid"].as_str().is_some_and(|uid| uid.starts_with("keys-")) && l["KeyFetchFailures"].as_u64() >= Some(1)
    });
    assert!(counted, "the request that met the failed refetch counts it in its metrics");
    // Still down after the rest: tried again, and the last good keys still verify.
    clock.advance(Duration::from_secs(5));
    read_flag(&app, "keys-again").await;
    assert_eq!(app.certs.fetches(), 3);
    app.certs.set_up(true);
    clock.advance(Duration::from_secs(5));
    read_flag(&app, "keys-back").await;
    read_flag(&app, "keys-fresh").await;
    assert_eq!(app.certs.fetches(), 4, "once the endpoint is back, one fetch makes the keys fresh again");
}

/// A request with a token never seen before, so it is a full signature check against the keys.
async fn read_flag(app: &TestApp, uid: &str) {
    app.public("GET", ANONYMITY, Some(&app.anonymous_token(uid)), None).await.assert_ok(200);
}
