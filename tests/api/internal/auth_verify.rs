//! `POST /internal/auth/verify`: the caller, their role and permissions; the
//! first login binds the account by verified email.

use infra::devtoken::Persona;
use serde_json::json;

use super::*;
use crate::helpers::{SUPER_ADMIN_EMAIL, spawn_app};

fn unverified_token(app: &TestApp, uid: &str, email: &str) -> String {
    app.token(Persona::ControlCenter { uid: uid.into(), email: email.into(), email_verified: false })
}

/// Creates a control-center user with the operator role as the super admin; returns its `data`.
async fn create_operator_account(app: &TestApp, email: &str) -> Value {
    let admin = app.super_admin_token().await;
    let body = json!({ "email": email, "display_name": "Operator 1", "role_id": operator_role_id() });
    app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await.assert_ok(201).clone()
}

#[tokio::test]
async fn auth_verify_returns_the_super_admin_with_role_and_every_permission() {
    let app = spawn_app().await;
    let token = app.control_center_user_token("uid-super-admin", SUPER_ADMIN_EMAIL);
    let answer = app.internal("POST", VERIFY, Some(&token), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(Answer::keys(data), ["display_name", "email", "id", "role"]);
    let seeded = app
        .app
        .control_center_users()
        .by_email(&shared::domain::Email::parse(SUPER_ADMIN_EMAIL).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(is_uuid(&data["id"]), "{data}");
    assert_eq!(data["id"], seeded.id.to_string());
    assert_eq!(data["email"], SUPER_ADMIN_EMAIL);
    assert_eq!(data["display_name"], "Super Admin");
    let role = &data["role"];
    assert_eq!(Answer::keys(role), ["id", "name", "permissions"]);
    assert!(is_uuid(&role["id"]), "{role}");
    assert_eq!(role["id"], super_admin_role_id());
    assert_eq!(role["name"], "super_admin");
    assert_permissions(&role["permissions"], &super_admin_permissions());
    // The first login bound the uid: the same token now works on a permissioned route.
    app.internal("GET", ROLES, Some(&token), None).await.assert_ok(200);
    // And verifying again answers the same profile.
    let again = app.internal("POST", VERIFY, Some(&token), None).await;
    assert_eq!(again.assert_ok(200), data);
}

#[tokio::test]
async fn auth_verify_returns_an_operator_with_the_operator_permissions() {
    let app = spawn_app().await;
    let email = new_email();
    let created = create_operator_account(&app, &email).await;
    let token = app.control_center_user_token(&unique("uid-op"), &email);
    let answer = app.internal("POST", VERIFY, Some(&token), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(Answer::keys(data), ["display_name", "email", "id", "role"]);
    assert_eq!(data["id"], created["id"]);
    assert_eq!(data["email"], email);
    assert_eq!(data["display_name"], "Operator 1");
    assert_eq!(Answer::keys(&data["role"]), ["id", "name", "permissions"]);
    assert_eq!(data["role"]["id"], operator_role_id());
    assert_eq!(data["role"]["name"], "operator");
    assert_permissions(&data["role"]["permissions"], &operator_permissions());
}

#[tokio::test]
async fn an_unverified_email_token_cannot_claim_a_control_center_account() {
    let app = spawn_app().await;
    let email = new_email();
    let created = create_operator_account(&app, &email).await;
    let sneaky_uid = unique("uid-unverified");
    let unverified = unverified_token(&app, &sneaky_uid, &email);
    let answer = app.internal("POST", VERIFY, Some(&unverified), None).await;
    answer.assert_error(404, "NOT_FOUND");
    // It did not get bound on the side either: elsewhere it is still nobody.
    app.internal("GET", MITRAS, Some(&unverified), None).await.assert_error(403, "FORBIDDEN");
    let stored =
        app.app.control_center_users().by_email(&shared::domain::Email::parse(&email).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.firebase_uid, None);

    // The rightful, verified login still claims the account afterwards.
    let verified = app.control_center_user_token(&unique("uid-verified"), &email);
    let answer = app.internal("POST", VERIFY, Some(&verified), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(data["id"], created["id"]);
    assert_eq!(data["role"]["name"], "operator");
    // And the unverified uid stays locked out.
    app.internal("POST", VERIFY, Some(&unverified), None).await.assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn auth_verify_matches_the_email_case_insensitively_and_binds_only_the_first_uid() {
    let app = spawn_app().await;
    let email = new_email();
    let created = create_operator_account(&app, &email).await;
    let first_uid = unique("uid-first");
    let first = app.control_center_user_token(&first_uid, &email.to_uppercase());
    let answer = app.internal("POST", VERIFY, Some(&first), None).await;
    assert_eq!(answer.assert_ok(200)["id"], created["id"]);
    assert_eq!(answer.data()["email"], email, "stored and answered lower-case");

    // Another Firebase account with the same verified email cannot take it over.
    let second = app.control_center_user_token(&unique("uid-second"), &email);
    app.internal("POST", VERIFY, Some(&second), None).await.assert_error(404, "NOT_FOUND");
    app.internal("GET", MITRAS, Some(&second), None).await.assert_error(403, "FORBIDDEN");
    // The bound uid is recognised by uid, whatever its token says about email.
    let same_uid_other_email = app.control_center_user_token(&first_uid, &format!("{}@example.com", unique("renamed")));
    let answer = app.internal("POST", VERIFY, Some(&same_uid_other_email), None).await;
    assert_eq!(answer.assert_ok(200)["id"], created["id"]);
}
