//! A process remembers whom a Firebase uid resolved to (user and role) and reads the claim,
//! that user and that role in one batch. What it remembers is never believed: each test
//! warms the caller's process, changes the caller behind its back (another process, or the
//! table itself), and the very next request of that caller to the warm process must follow
//! what is stored now.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use shared::domain::{Action, Permissions, Resource};
use shared::store::roles::{Role, seeded_role_id};

use super::control_center_user_lifecycle::new_user;
use super::*;
use crate::helpers::spawn_app;

/// A stage, its super admin's token, and a new control-center user of `role_id` whose first
/// request has taught the process whom their uid resolves to: (app, admin, id, email, uid, token).
async fn remembered_caller(role_id: &str) -> (TestApp, String, String, String, String, String) {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, email, uid, token) = new_user(&app, &admin, role_id).await;
    app.internal("GET", MITRAS, Some(&token), None).await.assert_ok(200);
    (app, admin, id, email, uid, token)
}

#[tokio::test]
async fn a_role_changed_by_another_process_is_the_one_enforced_on_the_callers_next_request() {
    let (app, admin, id, _, _, token) = remembered_caller(&operator_role_id()).await;
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
    let other = app.second_process().await;

    let promote = Some(json!({ "role_id": super_admin_role_id() }));
    other.internal("PATCH", &user_path(&id), Some(&admin), promote).await.assert_ok(200);
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_ok(200);

    let demote = Some(json!({ "role_id": operator_role_id() }));
    other.internal("PATCH", &user_path(&id), Some(&admin), demote).await.assert_ok(200);
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
    let verified = app.internal("POST", VERIFY, Some(&token), None).await;
    assert_eq!(verified.assert_ok(200)["role"]["name"], "operator");
}

#[tokio::test]
async fn a_role_changed_on_the_user_alone_is_enforced_though_claim_and_memory_name_the_old_one() {
    let (app, _, id, _, _, token) = remembered_caller(&super_admin_role_id()).await;
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_ok(200);
    rewrite_control_center_user_item(
        &app,
        format!("USER#{id}"),
        "SET role_id = :v",
        &[(":v", AttributeValue::S(operator_role_id()))],
    )
    .await;
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn a_user_deactivated_by_another_process_gets_account_inactive_on_the_next_request() {
    let (app, admin, id, _, _, token) = remembered_caller(&operator_role_id()).await;
    let other = app.second_process().await;
    other.internal("PATCH", &user_path(&id), Some(&admin), Some(json!({ "is_active": false }))).await.assert_ok(200);
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");
    app.internal("POST", VERIFY, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");
}

#[tokio::test]
async fn sessions_revoked_by_another_process_are_refused_on_the_next_request() {
    let (app, admin, id, _, _, token) = remembered_caller(&operator_role_id()).await;
    // The token was signed in at least a second before the revocation's instant.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let other = app.second_process().await;
    other.internal("POST", &revoke_path(&id), Some(&admin), None).await.assert_ok(200);
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn tokens_valid_after_set_on_the_user_alone_refuses_an_older_token_on_the_next_request() {
    let (app, _, id, _, _, token) = remembered_caller(&operator_role_id()).await;
    let later = (infra::devtoken::now() + 60).to_string();
    rewrite_control_center_user_item(
        &app,
        format!("USER#{id}"),
        "SET tokens_valid_after = :v",
        &[(":v", AttributeValue::N(later))],
    )
    .await;
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_uid_whose_user_was_deleted_and_rebound_elsewhere_resolves_to_the_new_user() {
    let (app, admin, old_id, email, uid, _) = remembered_caller(&operator_role_id()).await;
    let other = app.second_process().await;
    other.internal("DELETE", &user_path(&old_id), Some(&admin), None).await.assert_ok(200);
    let body = json!({ "email": email, "display_name": "Again", "role_id": super_admin_role_id() });
    let created = other.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await;
    let new_id = created.assert_ok(201)["id"].clone();
    // The same uid binds to the new user, through the other process.
    let again = app.control_center_user_token(&uid, &email);
    assert_eq!(other.internal("POST", VERIFY, Some(&again), None).await.assert_ok(200)["id"], new_id);

    app.internal("GET", CONTROL_CENTER_USERS, Some(&again), None).await.assert_ok(200);
    let verified = app.internal("POST", VERIFY, Some(&again), None).await;
    assert_eq!(verified.assert_ok(200)["id"], new_id);
    assert_eq!(verified.data()["role"]["name"], "super_admin");
}

#[tokio::test]
async fn a_deleted_users_remembered_uid_binds_again_only_by_verified_email_at_verify() {
    let (app, admin, old_id, email, uid, token) = remembered_caller(&operator_role_id()).await;
    let other = app.second_process().await;
    other.internal("DELETE", &user_path(&old_id), Some(&admin), None).await.assert_ok(200);
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
    let body = json!({ "email": email, "display_name": "Again", "role_id": operator_role_id() });
    let new_id =
        other.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await.assert_ok(201)["id"].clone();
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
    // An unverified email binds nothing; the verified one binds the new user.
    let unverified = app.token(infra::devtoken::Persona::ControlCenter {
        uid: uid.clone(),
        email: email.clone(),
        email_verified: false,
    });
    app.internal("POST", VERIFY, Some(&unverified), None).await.assert_error(404, "NOT_FOUND");
    assert_eq!(app.internal("POST", VERIFY, Some(&token), None).await.assert_ok(200)["id"], new_id);
    app.internal("GET", MITRAS, Some(&token), None).await.assert_ok(200);
}

#[tokio::test]
async fn a_users_role_deleted_behind_the_back_is_403_and_logged_on_the_next_request() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let role = Role {
        id: seeded_role_id("reader"),
        name: "reader".into(),
        permissions: Permissions::new(&[(Resource::Mitra, &[Action::Read])]),
    };
    app.app.roles().upsert(&role).await.unwrap();
    let (id, _, _, token) = new_user(&app, &admin, &role.id.to_string()).await;
    app.internal("GET", MITRAS, Some(&token), None).await.assert_ok(200);
    app.app
        .dynamo
        .delete_item()
        .table_name(&app.app.tables.roles)
        .key("pk", AttributeValue::S(format!("ROLE#{}", role.id)))
        .send()
        .await
        .expect("the role is deleted");

    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
    let logged = crate::helpers::captured_logs().lines().any(|line| {
        let line: Value = serde_json::from_str(line).unwrap_or_default();
        line["level"] == "ERROR" && line["fields"]["user_id"] == id.as_str()
    });
    assert!(logged, "an error naming the user is logged");
}

#[tokio::test]
async fn a_user_bound_to_another_uid_since_is_not_the_remembered_callers() {
    let (app, _, id, _, _, token) = remembered_caller(&operator_role_id()).await;
    // The claim still names the user, the user another uid.
    rewrite_control_center_user_item(
        &app,
        format!("USER#{id}"),
        "SET firebase_uid = :v",
        &[(":v", AttributeValue::S(unique("uid")))],
    )
    .await;
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
}
