//! The audit log: one record per change, in the change's own transaction; GET
//! /internal/audit-log with its cursor and its three filters.

use std::collections::HashSet;

use serde_json::{Value, json};
use shared::clock::Clock;

use super::control_center_user_lifecycle::new_user;
use super::*;
use crate::helpers::{is_rfc3339_utc, spawn_app, spawn_app_behind};
use infra::fault_proxy::{FaultProxy, Mode};

/// Every record, newest first, following the cursor.
async fn all_records(app: &TestApp, admin: &str, query: &str) -> Vec<Value> {
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{AUDIT_LOG}?limit=100{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.internal("GET", &path, Some(admin), None).await;
        let page = page.assert_ok(200).clone();
        records.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return records,
        }
    }
}

async fn records_about(app: &TestApp, admin: &str, target: &str) -> Vec<Value> {
    all_records(app, admin, &format!("&target_id={target}")).await
}

/// PATCHes the anonymity flag `times` times, alternating true and false: a record each.
async fn flip_anonymity(app: &TestApp, admin: &str, times: usize) {
    for i in 0..times {
        let body = json!({ "anonymity_enabled": i % 2 == 1 });
        app.internal("PATCH", ANONYMITY, Some(admin), Some(body)).await.assert_ok(200);
    }
}

#[track_caller]
fn assert_record(record: &Value, actor: &str, action: &str, target: (&str, &str), changes: Value, request_id: &str) {
    assert_eq!(Answer::keys(record), ["action", "actor", "at", "changes", "id", "request_id", "target"], "{record}");
    assert!(is_uuid(&record["id"]) && is_rfc3339_utc(&record["at"]), "{record}");
    assert_eq!(record["actor"]["id"], actor, "{record}");
    assert!(record["actor"]["email"].as_str().is_some_and(|e| e.contains('@')), "{record}");
    assert_eq!(record["action"], action, "{record}");
    assert_eq!(record["target"], json!({ "type": target.0, "id": target.1 }), "{record}");
    assert_eq!(record["changes"], changes, "{record}");
    assert_eq!(record["request_id"], request_id, "{record}");
}

fn request_id(answer: &Answer) -> String {
    answer.headers.get("x-request-id").unwrap().to_str().unwrap().to_owned()
}

async fn me(app: &TestApp, token: &str) -> String {
    app.internal("POST", VERIFY, Some(token), None).await.assert_ok(200)["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn each_control_center_user_mutation_leaves_exactly_one_record_of_what_changed() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let admin_id = me(&app, &admin).await;
    let email = new_email();
    let body = json!({ "email": email, "display_name": "Staff", "role_id": operator_role_id() });
    let created = app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await;
    let id = created.assert_ok(201)["id"].as_str().unwrap().to_owned();
    let target = ("control_center_user", id.as_str());
    let records = records_about(&app, &admin, &id).await;
    assert_eq!(records.len(), 1);
    let create_changes = json!({
        "id": { "from": null, "to": id }, "email": { "from": null, "to": email },
        "display_name": { "from": null, "to": "Staff" }, "role_id": { "from": null, "to": operator_role_id() },
        "is_active": { "from": null, "to": true }, "created_at": { "from": null, "to": created.body["data"]["created_at"] },
    });
    assert_record(&records[0], &admin_id, "control_center_user.create", target, create_changes, &request_id(&created));

    // First login: the user binds their own uid.
    let uid = unique("uid");
    let verified = app.internal("POST", VERIFY, Some(&app.control_center_user_token(&uid, &email)), None).await;
    verified.assert_ok(200);
    let records = records_about(&app, &admin, &id).await;
    assert_eq!(records.len(), 2);
    let bind = json!({ "firebase_uid": { "from": null, "to": uid } });
    assert_record(&records[0], &id, "control_center_user.bind", target, bind, &request_id(&verified));

    let patch = json!({ "display_name": "Staff", "is_active": false });
    let updated = app.internal("PATCH", &user_path(&id), Some(&admin), Some(patch)).await;
    updated.assert_ok(200);
    let records = records_about(&app, &admin, &id).await;
    assert_eq!(records.len(), 3);
    let only_active = json!({ "is_active": { "from": true, "to": false } });
    assert_record(&records[0], &admin_id, "control_center_user.update", target, only_active, &request_id(&updated));
    // A PATCH that changes nothing writes nothing.
    let same = json!({ "display_name": "Staff" });
    app.internal("PATCH", &user_path(&id), Some(&admin), Some(same)).await.assert_ok(200);
    assert_eq!(records_about(&app, &admin, &id).await.len(), 3);

    let revoked = app.internal("POST", &revoke_path(&id), Some(&admin), None).await;
    let at = revoked.assert_ok(200)["tokens_valid_after"].clone();
    let records = records_about(&app, &admin, &id).await;
    assert_eq!(records.len(), 4);
    let revocation = json!({ "tokens_valid_after": { "from": null, "to": at.as_str().unwrap().replace('Z', ".000Z") }, "firebase_uid": { "from": uid, "to": null } });
    let rid = request_id(&revoked);
    assert_record(&records[0], &admin_id, "control_center_user.revoke_sessions", target, revocation, &rid);

    let deleted = app.internal("DELETE", &user_path(&id), Some(&admin), None).await;
    deleted.assert_ok(200);
    let records = records_about(&app, &admin, &id).await;
    assert_eq!(records.len(), 5);
    let gone = json!({
        "id": { "from": id, "to": null }, "email": { "from": email, "to": null },
        "display_name": { "from": "Staff", "to": null }, "role_id": { "from": operator_role_id(), "to": null },
        "is_active": { "from": false, "to": null },
        "tokens_valid_after": { "from": at.as_str().unwrap().replace('Z', ".000Z"), "to": null },
        "created_at": { "from": created.body["data"]["created_at"], "to": null },
    });
    assert_record(&records[0], &admin_id, "control_center_user.delete", target, gone, &request_id(&deleted));
}

#[tokio::test]
async fn the_anonymity_patch_leaves_one_record_with_the_flags_change() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let admin_id = me(&app, &admin).await;
    let answer = app.internal("PATCH", ANONYMITY, Some(&admin), Some(json!({ "anonymity_enabled": false }))).await;
    answer.assert_ok(200);
    let records = records_about(&app, &admin, "anonymity").await;
    assert_eq!(records.len(), 1);
    let changes = json!({ "anonymity_enabled": { "from": true, "to": false } });
    assert_record(
        &records[0],
        &admin_id,
        "config.anonymity.update",
        ("config", "anonymity"),
        changes,
        &request_id(&answer),
    );
}

async fn behind_proxy() -> (TestApp, std::sync::Arc<FaultProxy>) {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap()).await;
    (spawn_app_behind(Some(&proxy.url), None, &[], Clock::system()).await, proxy)
}

#[tokio::test]
async fn a_failing_audit_write_leaves_no_change_behind() {
    let (app, proxy) = behind_proxy().await;
    let admin = app.super_admin_token().await;
    let (id, _, _, token) = new_user(&app, &admin, &operator_role_id()).await;
    let before = records_about(&app, &admin, &id).await.len();
    proxy.set(Mode::ThrottleWhen("-audit-log"));
    let email = new_email();
    let body = json!({ "email": email, "display_name": "Never", "role_id": operator_role_id() });
    let attempts = [
        ("POST", CONTROL_CENTER_USERS.to_owned(), Some(body.clone())),
        ("PATCH", user_path(&id), Some(json!({ "display_name": "Changed", "is_active": false }))),
        ("POST", revoke_path(&id), None),
        ("DELETE", user_path(&id), None),
    ];
    for (method, path, body) in attempts {
        let answer = app.internal(method, &path, Some(&admin), body).await;
        answer.assert_error(503, "SERVICE_UNAVAILABLE");
    }
    proxy.set(Mode::Forward);
    let user = app.internal("GET", &user_path(&id), Some(&admin), None).await;
    let user = user.assert_ok(200);
    assert_eq!((user["display_name"].clone(), user["is_active"].clone()), (json!("Staff"), json!(true)));
    app.internal("GET", MITRAS, Some(&token), None).await.assert_ok(200);
    assert_eq!(list_total(&app, &admin, CONTROL_CENTER_USERS).await, 2);
    assert_eq!(records_about(&app, &admin, &id).await.len(), before);
    let body = json!({ "email": email, "display_name": "Now", "role_id": operator_role_id() });
    app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await.assert_ok(201);
}

#[tokio::test]
async fn the_anonymity_patch_answers_503_when_its_record_cannot_be_written() {
    let (app, proxy) = behind_proxy().await;
    let admin = app.super_admin_token().await;
    proxy.set(Mode::ThrottleWhen("-audit-log"));
    let answer = app.internal("PATCH", ANONYMITY, Some(&admin), Some(json!({ "anonymity_enabled": false }))).await;
    answer.assert_error(503, "SERVICE_UNAVAILABLE");
    proxy.set(Mode::Forward);
    // The documented state: the parameter holds the new value without a record; a retry records it.
    assert!(records_about(&app, &admin, "anonymity").await.is_empty());
    let retry = app.internal("PATCH", ANONYMITY, Some(&admin), Some(json!({ "anonymity_enabled": false }))).await;
    retry.assert_ok(200);
    assert_eq!(records_about(&app, &admin, "anonymity").await.len(), 1);
}

#[tokio::test]
async fn a_retried_anonymity_patch_records_every_change_that_an_outage_left_unrecorded() {
    let (app, proxy) = behind_proxy().await;
    let admin = app.super_admin_token().await;
    proxy.set(Mode::ThrottleWhen("-audit-log"));
    // Six changes SSM took while their records could not be written: more than a few.
    for i in 0..6 {
        let body = json!({ "anonymity_enabled": i % 2 == 1 });
        let answer = app.internal("PATCH", ANONYMITY, Some(&admin), Some(body)).await;
        answer.assert_error(503, "SERVICE_UNAVAILABLE");
    }
    proxy.set(Mode::Forward);
    let retry = app.internal("PATCH", ANONYMITY, Some(&admin), Some(json!({ "anonymity_enabled": true }))).await;
    retry.assert_ok(200);
    let records = records_about(&app, &admin, "anonymity").await;
    let chain: Vec<(Value, Value)> = records
        .iter()
        .rev()
        .map(|r| (r["changes"]["anonymity_enabled"]["from"].clone(), r["changes"]["anonymity_enabled"]["to"].clone()))
        .collect();
    let flips = |from: bool| (json!(from), json!(!from));
    assert_eq!(chain, [flips(true), flips(false), flips(true), flips(false), flips(true), flips(false)]);
}

#[tokio::test]
async fn pages_are_disjoint_and_complete_newest_first() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    flip_anonymity(&app, &admin, 7).await;
    // The bind of the super admin is one more.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("{AUDIT_LOG}?limit=3&cursor={c}"),
            None => format!("{AUDIT_LOG}?limit=3"),
        };
        let page = app.internal("GET", &path, Some(&admin), None).await;
        let page = page.assert_ok(200).clone();
        assert_eq!(Answer::keys(&page), ["items", "limit", "next_cursor"]);
        assert_eq!(page["limit"], 3);
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|r| (r["at"].as_str().unwrap().to_owned(), r["id"].as_str().unwrap().to_owned())));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(pages, 3);
    let distinct: HashSet<_> = seen.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(distinct.len(), 8, "pages overlap");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");
    let default = app.internal("GET", AUDIT_LOG, Some(&admin), None).await;
    assert_eq!(default.assert_ok(200)["limit"], 20);
    assert_eq!(default.data()["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_tampered_malformed_or_foreign_cursor_and_bad_parameters_are_422() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    flip_anonymity(&app, &admin, 3).await;
    let page = app.internal("GET", &format!("{AUDIT_LOG}?limit=1"), Some(&admin), None).await;
    let cursor = page.assert_ok(200)["next_cursor"].as_str().unwrap().to_owned();
    app.internal("GET", &format!("{AUDIT_LOG}?limit=1&cursor={cursor}"), Some(&admin), None).await.assert_ok(200);
    let mut flipped = cursor.clone().into_bytes();
    let last = flipped.len() - 3;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1|AUDIT|000000000000001#not-a-uuid");
    let bad = [
        format!("cursor={flipped}"),
        format!("cursor={forged}"),
        "cursor=%%%".to_owned(),
        "cursor=".to_owned(),
        format!("cursor={cursor}&action=mitra.create"),
        "limit=0".to_owned(),
        "limit=101".to_owned(),
        "limit=x".to_owned(),
        "actor_id=not-a-uuid".to_owned(),
        "action=mitra.explode".to_owned(),
        "target_id=".to_owned(),
    ];
    for query in bad {
        let answer = app.internal("GET", &format!("{AUDIT_LOG}?{query}"), Some(&admin), None).await;
        answer.assert_error(422, "VALIDATION_ERROR");
    }
}

#[tokio::test]
async fn each_filter_returns_only_its_matches() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let admin_id = me(&app, &admin).await;
    let (id, _, _, _) = new_user(&app, &admin, &super_admin_role_id()).await;
    let (other, _, _, other_token) = new_user(&app, &admin, &super_admin_role_id()).await;
    app.internal("PATCH", &user_path(&id), Some(&other_token), Some(json!({ "display_name": "X" })))
        .await
        .assert_ok(200);
    app.internal("PATCH", ANONYMITY, Some(&other_token), Some(json!({ "anonymity_enabled": false })))
        .await
        .assert_ok(200);
    app.internal("PATCH", ANONYMITY, Some(&admin), Some(json!({ "anonymity_enabled": true }))).await.assert_ok(200);
    let everything = all_records(&app, &admin, "").await;

    let by_actor = all_records(&app, &admin, &format!("&actor_id={other}")).await;
    let expected: Vec<&Value> = everything.iter().filter(|r| r["actor"]["id"] == other.as_str()).collect();
    assert_eq!(by_actor.iter().collect::<Vec<_>>(), expected);
    assert_eq!(by_actor.len(), 3, "bind, update, anonymity");

    let by_target = all_records(&app, &admin, &format!("&target_id={id}")).await;
    let expected: Vec<&Value> = everything.iter().filter(|r| r["target"]["id"] == id.as_str()).collect();
    assert_eq!(by_target.iter().collect::<Vec<_>>(), expected);
    assert_eq!(by_target.len(), 3, "create, bind, update");

    let by_action = all_records(&app, &admin, "&action=config.anonymity.update").await;
    let expected: Vec<&Value> = everything.iter().filter(|r| r["action"] == "config.anonymity.update").collect();
    assert_eq!(by_action.iter().collect::<Vec<_>>(), expected);
    assert_eq!(by_action.len(), 2);
    assert!(by_action.iter().any(|r| r["actor"]["id"] == admin_id.as_str()));
    let none = all_records(&app, &admin, &format!("&actor_id={}", Uuid::new_v4())).await;
    assert!(none.is_empty());

    // Combined filters match all of them, each combination served by its own index.
    let combos = [
        format!("&actor_id={other}&target_id={id}"),
        format!("&actor_id={other}&action=config.anonymity.update"),
        format!("&target_id={id}&action=control_center_user.update"),
        format!("&actor_id={other}&target_id={id}&action=control_center_user.update"),
    ];
    for query in combos {
        let found = all_records(&app, &admin, &query).await;
        let expected: Vec<&Value> = everything
            .iter()
            .filter(|r| {
                (!query.contains("actor_id") || r["actor"]["id"] == other.as_str())
                    && (!query.contains("target_id") || r["target"]["id"] == id.as_str())
                    && (!query.contains("action=config") || r["action"] == "config.anonymity.update")
                    && (!query.contains("action=control") || r["action"] == "control_center_user.update")
            })
            .collect();
        assert_eq!(found.iter().collect::<Vec<_>>(), expected, "{query}");
        assert!(!found.is_empty(), "{query}");
    }
}
