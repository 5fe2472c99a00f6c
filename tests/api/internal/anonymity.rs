//! `GET` and `PATCH /internal/config/anonymity`, and how a change reaches the
//! apps' `GET /api/shared/config/anonymity` in this process and in another one.

use std::time::Duration;

use serde_json::json;
use shared::clock::Clock;

use super::*;
use crate::helpers::{spawn_app, spawn_app_at};

async fn patch(app: &TestApp, token: &str, enabled: bool) -> Answer {
    app.internal("PATCH", ANONYMITY, Some(token), Some(json!({ "anonymity_enabled": enabled }))).await
}

/// What the internal GET answers `token`.
async fn internal_get(app: &TestApp, token: &str) -> Value {
    app.internal("GET", ANONYMITY, Some(token), None).await.assert_ok(200).clone()
}

async fn public_flag(app: &TestApp, token: &str) -> Value {
    let answer = app.public("GET", PUBLIC_ANONYMITY, Some(token), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(Answer::keys(data), ["anonymity_enabled"]);
    data["anonymity_enabled"].clone()
}

#[tokio::test]
async fn anonymity_get_answers_the_phase_1_default_true_to_the_super_admin_and_an_operator() {
    let app = spawn_app().await;
    for token in [app.super_admin_token().await, app.operator_token().await] {
        assert_eq!(internal_get(&app, &token).await, json!({ "anonymity_enabled": true }));
    }
}

#[tokio::test]
async fn anonymity_patch_sets_the_flag_and_the_internal_get_reads_it_back() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let operator = app.operator_token().await;
    for enabled in [false, true, false] {
        let answer = patch(&app, &admin, enabled).await;
        assert_eq!(answer.assert_ok(200), &json!({ "anonymity_enabled": enabled }));
        for token in [&admin, &operator] {
            assert_eq!(internal_get(&app, token).await, json!({ "anonymity_enabled": enabled }));
        }
    }
    // It lives in SSM: a fresh process of the same stage reads the last value.
    let other = app.second_process().await;
    assert_eq!(internal_get(&other, &admin).await, json!({ "anonymity_enabled": false }));
}

#[tokio::test]
async fn anonymity_patch_accepts_only_a_json_boolean() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let cases = [
        json!({ "anonymity_enabled": "false" }),
        json!({ "anonymity_enabled": "true" }),
        json!({ "anonymity_enabled": 0 }),
        json!({ "anonymity_enabled": 1 }),
        json!({ "anonymity_enabled": null }),
        json!({ "anonymity_enabled": [false] }),
        json!({}),
        json!({ "anonymity": false }),
    ];
    for body in cases {
        let answer = app.internal("PATCH", ANONYMITY, Some(&admin), Some(body.clone())).await;
        assert_validation(&answer, &["anonymity_enabled"]);
    }
    for raw in ["{\"anonymity_enabled\": fals", "false", "[false]", "{\"anonymity_enabled\": false}}"] {
        assert_validation(&app.internal_raw("PATCH", ANONYMITY, Some(&admin), raw).await, &["body"]);
    }
    assert_eq!(
        internal_get(&app, &admin).await,
        json!({ "anonymity_enabled": true }),
        "no rejected PATCH changed the flag"
    );
}

#[tokio::test]
async fn anonymity_patch_is_visible_to_the_public_get_of_the_same_process_at_once() {
    // A stopped clock: the cache never expires on its own, so only the PATCH can change what is served.
    let app = spawn_app_at(&Clock::manual()).await;
    let admin = app.super_admin_token().await;
    let customer = app.anonymous_token(&unique("uid-anon"));
    assert_eq!(public_flag(&app, &customer).await, true);
    for enabled in [false, true] {
        patch(&app, &admin, enabled).await.assert_ok(200);
        assert_eq!(public_flag(&app, &customer).await, enabled);
    }
}

/// Process A takes the PATCH; process B (same stage, its own `App` and cache)
/// serves its cached value until the TTL has passed since it read SSM, and the
/// new value from then on.
#[tokio::test]
async fn anonymity_patch_reaches_another_process_within_the_ttl_and_not_before_its_cache_expires() {
    let clock = Clock::manual();
    let a = spawn_app_at(&clock).await;
    let b = a.second_process().await;
    let ttl = b.app.config.anonymity_cache_ttl;
    let admin = a.super_admin_token().await;
    let customer = a.anonymous_token(&unique("uid-anon"));
    let mut current = true;
    assert_eq!(public_flag(&b, &customer).await, current);
    for _ in 0..2 {
        let reads = b.app.anonymity.ssm_reads();
        let next = !current;
        assert_eq!(patch(&a, &admin, next).await.assert_ok(200), &json!({ "anonymity_enabled": next }));
        assert_eq!(public_flag(&a, &customer).await, next, "process A sees its own write at once");

        clock.advance(ttl - Duration::from_millis(1));
        assert_eq!(public_flag(&b, &customer).await, current, "B within its TTL serves its cached value");
        assert_eq!(b.app.anonymity.ssm_reads(), reads, "B within its TTL does not read SSM");

        clock.advance(Duration::from_millis(1));
        assert_eq!(public_flag(&b, &customer).await, next, "B sees the PATCH once its TTL has passed");
        assert_eq!(b.app.anonymity.ssm_reads(), reads + 1, "an expired cache is refilled from SSM, once");
        current = next;
    }
}
