//! Who may call what: 401 without a valid token, 403 for strangers and for
//! operators lacking the route's permission, and that order before validation.

use serde_json::json;
use shared::routes::{ALL, Access, Route, Surface};

use super::*;
use crate::helpers::{PROJECT_ID, spawn_app};

#[tokio::test]
async fn every_internal_endpoint_answers_401_unauthorized_without_a_token() {
    let app = spawn_app().await;
    for (method, path, body) in every_endpoint() {
        let answer = app.internal(method, &path, None, body).await;
        answer.assert_error(401, "UNAUTHORIZED");
        // Authentication comes before validation: a broken body changes nothing.
        let answer = app.internal_raw(method, &path, None, "{ not json").await;
        answer.assert_error(401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn every_internal_endpoint_answers_401_for_a_garbage_or_foreign_project_token() {
    let app = spawn_app().await;
    let foreign =
        infra::devtoken::Minter::dev("some-other-project").unwrap().token(&infra::devtoken::Persona::ControlCenter {
            uid: "uid-super-admin".into(),
            email: crate::helpers::SUPER_ADMIN_EMAIL.into(),
            email_verified: true,
        });
    assert_ne!(PROJECT_ID, "some-other-project");
    for (method, path, body) in every_endpoint() {
        for token in ["not-a-jwt", foreign.as_str()] {
            let answer = app.internal(method, &path, Some(token), body.clone()).await;
            answer.assert_error(401, "UNAUTHORIZED");
        }
    }
}

#[tokio::test]
async fn every_internal_endpoint_answers_403_to_a_stranger_and_verify_answers_404() {
    let app = spawn_app().await;
    let strangers = [
        stranger_token(&app),
        app.phone_token(&unique("uid-customer"), &phone()),
        app.anonymous_token(&unique("uid-anon")),
    ];
    for token in &strangers {
        for (method, path, body) in every_endpoint() {
            let answer = app.internal(method, &path, Some(token), body).await;
            if path == VERIFY {
                answer.assert_error(404, "NOT_FOUND");
            } else {
                answer.assert_error(403, "FORBIDDEN");
            }
        }
    }
    // Nothing the strangers sent took effect.
    let admin = app.super_admin_token().await;
    assert_eq!(list_total(&app, &admin, MITRAS).await, 0);
    assert_eq!(list_total(&app, &admin, CONTROL_CENTER_USERS).await, 1, "only the seeded super admin");
    let flag = app.internal("GET", ANONYMITY, Some(&admin), None).await;
    assert_eq!(flag.assert_ok(200)["anonymity_enabled"], true);
}

/// The routes whose permission the seeded operator role lacks, read from the route table.
fn denied_to_operators() -> Vec<&'static str> {
    let operator = shared::domain::roles::operator_role();
    let denied = |route: &&Route| match route.access {
        Access::ControlCenter(permission) => !operator.permissions.allows(permission),
        _ => false,
    };
    ALL.iter().filter(denied).map(|r| r.name).collect()
}

#[tokio::test]
async fn an_operator_is_forbidden_exactly_the_routes_whose_permission_its_role_lacks() {
    let app = spawn_app().await;
    let operator = app.operator_token().await;
    let denied = denied_to_operators();
    assert!(denied.contains(&"anonymity-patch") && denied.contains(&"audit-log-list"), "{denied:?}");
    for ((method, path, body), route) in every_endpoint().into_iter().zip(internal_routes()) {
        let answer = app.internal(method, &path, Some(&operator), body).await;
        if denied.contains(&route.name) {
            answer.assert_error(403, "FORBIDDEN");
        } else {
            // Allowed: it may still find nothing under a made-up id, but it is not refused.
            assert_ne!(answer.status, 403, "{}: {}", route.name, answer.body);
            assert_ne!(answer.status, 401, "{}: {}", route.name, answer.body);
        }
    }
    let admin = app.super_admin_token().await;
    assert_eq!(
        list_total(&app, &admin, CONTROL_CENTER_USERS).await,
        2,
        "the super admin and the operator, nobody else"
    );
    let flag = app.internal("GET", ANONYMITY, Some(&admin), None).await;
    assert_eq!(flag.assert_ok(200)["anonymity_enabled"], true, "the operator's PATCH must not have landed");
}

fn internal_routes() -> impl Iterator<Item = Route> {
    ALL.into_iter().filter(|r| r.surface == Surface::Internal)
}

#[tokio::test]
async fn permission_is_checked_before_input_validation() {
    let app = spawn_app().await;
    let operator = app.operator_token().await;
    let answer = app.internal("PATCH", ANONYMITY, Some(&operator), Some(json!({ "anonymity_enabled": "false" }))).await;
    answer.assert_error(403, "FORBIDDEN");
    let answer = app.internal_raw("POST", CONTROL_CENTER_USERS, Some(&operator), "{ not json").await;
    answer.assert_error(403, "FORBIDDEN");
    let answer = app.internal("GET", &format!("{CONTROL_CENTER_USERS}?page=0"), Some(&operator), None).await;
    answer.assert_error(403, "FORBIDDEN");
    let stranger = stranger_token(&app);
    let answer =
        app.internal("PATCH", &status_path("not-a-uuid"), Some(&stranger), Some(json!({ "is_active": "yes" }))).await;
    answer.assert_error(403, "FORBIDDEN");
    let answer = app.internal("GET", &format!("{MITRAS}?limit=abc"), Some(&stranger), None).await;
    answer.assert_error(403, "FORBIDDEN");
    // …and for a permitted caller the same inputs are 422s, so the 403s above were not accidents.
    let answer =
        app.internal("PATCH", &status_path("not-a-uuid"), Some(&operator), Some(json!({ "is_active": true }))).await;
    assert_validation(&answer, &["id"]);
    let answer = app.internal("GET", &format!("{MITRAS}?limit=abc"), Some(&operator), None).await;
    assert_validation(&answer, &["limit"]);
}

#[tokio::test]
async fn a_role_changed_after_login_binding_is_the_one_enforced() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let email = shared::domain::Email::parse(crate::helpers::SUPER_ADMIN_EMAIL).unwrap();
    let admin_id = app.app.control_center_users().by_email(&email).await.unwrap().expect("seeded").id;

    // Demoted to operator after the uid was bound (its claim still names super_admin).
    let operator = [(":v", aws_sdk_dynamodb::types::AttributeValue::S(operator_role_id()))];
    rewrite_control_center_user_item(&app, format!("USER#{admin_id}"), "SET role_id = :v", &operator).await;

    let answer = app.internal("GET", &format!("{CONTROL_CENTER_USERS}?page=1&limit=20"), Some(&admin), None).await;
    answer.assert_error(403, "FORBIDDEN");
    let verified = app.internal("POST", VERIFY, Some(&admin), None).await;
    assert_eq!(verified.assert_ok(200)["role"]["name"], "operator");
}

#[tokio::test]
async fn a_uid_claim_written_without_a_role_still_resolves_the_user_and_role() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    rewrite_control_center_user_item(&app, "UID#uid-super-admin".into(), "REMOVE role_id", &[]).await;

    let verified = app.internal("POST", VERIFY, Some(&admin), None).await;
    assert_eq!(verified.assert_ok(200)["role"]["name"], "super_admin");
    app.internal("GET", ROLES, Some(&admin), None).await.assert_ok(200);
}
