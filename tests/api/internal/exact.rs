//! Exact under concurrency (operations.md §11): races answer as some order of the requests
//! would, never 500; audit records hold what storage replaced and wrote, form one chain per
//! target in commit order, and a change that changes nothing records nothing.

use futures::future::join_all;
use serde_json::{Value, json};

use super::*;
use crate::helpers::{is_rfc3339_utc, spawn_app};

/// Every record of a target, newest first.
async fn records_of(app: &TestApp, admin: &str, target: &str) -> Vec<Value> {
    let page = app.internal("GET", &format!("{AUDIT_LOG}?limit=100&target_id={target}"), Some(admin), None).await;
    page.assert_ok(200)["items"].as_array().unwrap().clone()
}

/// Newest first, each record's `from` of `field` is the next older record's `to`, and the
/// newest's `to` is `current`.
#[track_caller]
fn assert_chain(records: &[Value], field: &str, current: &Value) {
    let changes: Vec<&Value> = records.iter().map(|r| &r["changes"][field]).collect();
    assert!(changes.iter().all(|c| c.is_object()), "every record changes {field}: {records:#?}");
    assert_eq!(&changes[0]["to"], current, "the newest record ends at the stored value");
    for pair in changes.windows(2) {
        assert_eq!(pair[0]["from"], pair[1]["to"], "a broken chain: {changes:#?}");
        assert_ne!(pair[0]["from"], pair[0]["to"], "a record that changes nothing");
    }
}

#[tokio::test]
async fn twenty_parallel_status_toggles_of_one_mitra_leave_one_chain_in_commit_order() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let mitra = create_mitra(&app, &admin, &crate::helpers::phone()).await;
    let toggles = (0..20).map(|i| set_status(&app, &admin, &mitra["id"], i % 2 == 0));
    for answer in join_all(toggles).await {
        assert!([200, 503].contains(&answer.status), "{answer:?}");
    }
    let id = mitra["id"].as_str().unwrap();
    let stored = app.internal("GET", &format!("{MITRAS}/{id}"), Some(&admin), None).await.assert_ok(200).clone();
    let records: Vec<Value> =
        records_of(&app, &admin, id).await.into_iter().filter(|r| r["action"] == "mitra.status").collect();
    assert!(!records.is_empty());
    assert_chain(&records, "is_active", &stored["is_active"]);
}

#[tokio::test]
async fn twenty_parallel_anonymity_patches_through_two_processes_leave_one_exact_chain() {
    let app = spawn_app().await;
    let other = app.second_process().await;
    let admin = app.super_admin_token().await;
    // Each process first reads the flag, so a cache would hold a value to trust wrongly.
    for process in [&app, &other] {
        process.internal("GET", ANONYMITY, Some(&admin), None).await.assert_ok(200);
    }
    let patches = (0..20).map(|i| {
        let process = if i % 2 == 0 { &app } else { &other };
        process.internal("PATCH", ANONYMITY, Some(&admin), Some(json!({ "anonymity_enabled": i % 3 == 0 })))
    });
    for answer in join_all(patches).await {
        assert!([200, 503].contains(&answer.status), "{answer:?}");
    }
    // A process without a cache reads what SSM holds now.
    let fresh = other.second_process().await;
    let current =
        fresh.internal("GET", ANONYMITY, Some(&admin), None).await.assert_ok(200)["anonymity_enabled"].clone();
    let records = records_of(&app, &admin, "anonymity").await;
    assert!(!records.is_empty());
    assert_chain(&records, "anonymity_enabled", &current);
}

#[tokio::test]
async fn setting_the_anonymity_flag_to_the_value_it_has_writes_no_record() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for enabled in [false, false, true, true] {
        app.internal("PATCH", ANONYMITY, Some(&admin), Some(json!({ "anonymity_enabled": enabled })))
            .await
            .assert_ok(200);
    }
    let records = records_of(&app, &admin, "anonymity").await;
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[1]["changes"], json!({ "anonymity_enabled": { "from": true, "to": false } }));
}

#[tokio::test]
async fn deleting_the_account_while_the_same_uid_creates_answers_200_201_or_404_never_500() {
    let app = spawn_app().await;
    for round in 0..10 {
        let uid = crate::helpers::unique(&format!("race-{round}"));
        let token = app.anonymous_token(&uid);
        let body = json!({ "display_name": "Angin" });
        app.public("POST", "/api/shared/customer/anonymous", Some(&token), Some(body.clone())).await.assert_ok(201);
        let (deleted, created) = tokio::join!(
            app.public("DELETE", "/api/client/account", Some(&token), None),
            app.public("POST", "/api/shared/customer/anonymous", Some(&token), Some(body)),
        );
        assert!([200, 404].contains(&deleted.status), "{deleted:?}");
        assert!([200, 201].contains(&created.status), "{created:?}");
    }
}

#[tokio::test]
async fn revoking_a_mitras_sessions_twice_in_one_second_records_once_with_rfc3339_millis() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    // The two revokes start just after a second begins; on a machine slow enough to carry
    // them into the next second, that pair holds two seconds (and two records), and the
    // test tries again with another mitra.
    for _ in 0..5 {
        let mitra = create_mitra(&app, &admin, &crate::helpers::phone()).await;
        let id = mitra["id"].as_str().unwrap();
        let into_second = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_millis();
        tokio::time::sleep(std::time::Duration::from_millis(u64::from(1_020 - into_second))).await;
        let first = app.internal("POST", &format!("{MITRAS}/{id}/revoke-sessions"), Some(&admin), None).await;
        let again = app.internal("POST", &format!("{MITRAS}/{id}/revoke-sessions"), Some(&admin), None).await;
        let same_second = first.assert_ok(200)["tokens_valid_after"] == again.assert_ok(200)["tokens_valid_after"];
        let records: Vec<Value> =
            records_of(&app, &admin, id).await.into_iter().filter(|r| r["action"] == "mitra.revoke_sessions").collect();
        assert_eq!(records.len(), if same_second { 1 } else { 2 }, "{records:#?}");
        let to = &records[0]["changes"]["tokens_valid_after"]["to"];
        assert!(is_rfc3339_utc(to) && to.as_str().unwrap().contains('.'), "RFC 3339 with milliseconds: {to}");
        if same_second {
            return;
        }
    }
    panic!("five pairs of revokes each straddled a second");
}

#[tokio::test]
async fn a_delete_record_holds_every_stored_field_for_mitras_and_control_center_users() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let mitra = create_mitra(&app, &admin, &crate::helpers::phone()).await;
    let id = mitra["id"].as_str().unwrap();
    app.internal("POST", &format!("{MITRAS}/{id}/revoke-sessions"), Some(&admin), None).await.assert_ok(200);
    app.internal("DELETE", &format!("{MITRAS}/{id}"), Some(&admin), None).await.assert_ok(200);
    let user = app
        .internal(
            "POST",
            CONTROL_CENTER_USERS,
            Some(&admin),
            Some(json!({
                "email": new_email(), "display_name": "Leaving", "role_id": operator_role_id()
            })),
        )
        .await
        .assert_ok(201)
        .clone();
    let user_id = user["id"].as_str().unwrap();
    app.internal("POST", &revoke_path(user_id), Some(&admin), None).await.assert_ok(200);
    app.internal("DELETE", &user_path(user_id), Some(&admin), None).await.assert_ok(200);
    for (target, fields) in [
        (id, &["id", "phone", "display_name", "is_active", "created_at", "tokens_valid_after"][..]),
        (user_id, &["id", "email", "display_name", "role_id", "is_active", "created_at", "tokens_valid_after"][..]),
    ] {
        let records = records_of(&app, &admin, target).await;
        let deleted = records.iter().find(|r| r["action"].as_str().unwrap().ends_with(".delete")).unwrap();
        for field in fields {
            let change = &deleted["changes"][*field];
            assert!(!change["from"].is_null() && change["to"].is_null(), "{field}: {deleted:#}");
        }
    }
}

#[tokio::test]
async fn patch_of_role_id_takes_only_the_canonical_uuid_form_as_post_does() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let user = app
        .internal(
            "POST",
            CONTROL_CENTER_USERS,
            Some(&admin),
            Some(json!({
                "email": new_email(), "display_name": "Op", "role_id": operator_role_id()
            })),
        )
        .await
        .assert_ok(201)
        .clone();
    let role = super_admin_role_id();
    for form in [format!("{{{role}}}"), format!("urn:uuid:{role}"), role.replace('-', "")] {
        let answer = app
            .internal("PATCH", &user_path(user["id"].as_str().unwrap()), Some(&admin), Some(json!({ "role_id": form })))
            .await;
        assert_validation(&answer, &["role_id"]);
    }
}

#[tokio::test]
async fn changing_ones_own_role_or_activation_is_403_before_any_validation() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let me = app.internal("POST", VERIFY, Some(&admin), None).await.assert_ok(200)["id"].as_str().unwrap().to_owned();
    for body in [
        json!({ "role_id": uuid::Uuid::new_v4().to_string() }),
        json!({ "is_active": false, "display_name": "" }),
        json!({ "role_id": "not a uuid" }),
    ] {
        app.internal("PATCH", &user_path(&me), Some(&admin), Some(body)).await.assert_error(403, "FORBIDDEN");
    }
}

#[tokio::test]
async fn an_inactive_control_center_user_is_told_the_control_center_account_is_inactive() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let email = new_email();
    let user = app
        .internal(
            "POST",
            CONTROL_CENTER_USERS,
            Some(&admin),
            Some(json!({
                "email": email, "display_name": "Op", "role_id": operator_role_id()
            })),
        )
        .await
        .assert_ok(201)
        .clone();
    let token = app.control_center_user_token(&crate::helpers::unique("uid-op"), &email);
    app.internal("POST", VERIFY, Some(&token), None).await.assert_ok(200);
    let path = user_path(user["id"].as_str().unwrap());
    app.internal("PATCH", &path, Some(&admin), Some(json!({ "is_active": false }))).await.assert_ok(200);
    let answer = app.internal("GET", MITRAS, Some(&token), None).await;
    answer.assert_error(403, "ACCOUNT_INACTIVE");
    let message = answer.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("control-center") && !message.contains("mitra"), "{message}");
}

#[tokio::test]
async fn deleting_a_revoked_control_center_user_removes_its_revocation_marker() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let email = new_email();
    let user = app
        .internal(
            "POST",
            CONTROL_CENTER_USERS,
            Some(&admin),
            Some(json!({
                "email": email, "display_name": "Op", "role_id": operator_role_id()
            })),
        )
        .await
        .assert_ok(201)
        .clone();
    let uid = crate::helpers::unique("uid-marked");
    app.internal("POST", VERIFY, Some(&app.control_center_user_token(&uid, &email)), None).await.assert_ok(200);
    let id = user["id"].as_str().unwrap();
    app.internal("POST", &revoke_path(id), Some(&admin), None).await.assert_ok(200);
    let users = app.app.control_center_users();
    assert!(users.uid_claim(&uid).await.unwrap().is_some_and(|c| c.revoked_before.is_some()));
    app.internal("DELETE", &user_path(id), Some(&admin), None).await.assert_ok(200);
    assert!(users.uid_claim(&uid).await.unwrap().is_none(), "nothing stays under the uid");
}

#[tokio::test]
async fn a_list_page_deeper_than_ten_thousand_items_is_a_validation_error_on_page() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for path in [MITRAS, CONTROL_CENTER_USERS] {
        let answer = app.internal("GET", &format!("{path}?page=4294967295&limit=100"), Some(&admin), None).await;
        assert_validation(&answer, &["page"]);
        app.internal("GET", &format!("{path}?page=100&limit=100"), Some(&admin), None).await.assert_ok(200);
    }
}

#[tokio::test]
async fn a_staff_email_with_whitespace_other_than_ascii_spaces_is_refused() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for email in [format!("\u{a0}{}", new_email()), format!("{}\t", new_email())] {
        let body = json!({ "email": email, "display_name": "Op", "role_id": operator_role_id() });
        assert_validation(&app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await, &["email"]);
    }
    let body = json!({ "email": format!("  {}  ", new_email()), "display_name": "Op", "role_id": operator_role_id() });
    app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await.assert_ok(201);
}
