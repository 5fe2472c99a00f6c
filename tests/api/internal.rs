//! The `/internal` endpoints of the control center, over HTTP,
//! against the local gateway, DynamoDB Local and moto.

mod access;
mod anonymity;
mod audit_log;
mod auth_verify;
mod caller_hints;
mod control_center_user_lifecycle;
mod control_center_users;
mod exact;
mod mitras;
mod mitras_lifecycle;
mod mitras_list;
mod roles;

use std::fmt::Display;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, phone, unique};

pub const VERIFY: &str = "/internal/auth/verify";
pub const MITRAS: &str = "/internal/mitras";
pub const CONTROL_CENTER_USERS: &str = "/internal/control-center-users";
pub const ROLES: &str = "/internal/roles";
pub const ANONYMITY: &str = "/internal/config/anonymity";
pub const PUBLIC_ANONYMITY: &str = "/api/shared/config/anonymity";
pub const MITRA_VERIFY: &str = "/api/mitra/auth/verify";

pub const AUDIT_LOG: &str = "/internal/audit-log";

pub fn user_path(id: impl Display) -> String {
    format!("/internal/control-center-users/{id}")
}

pub fn revoke_path(id: impl Display) -> String {
    format!("/internal/control-center-users/{id}/revoke-sessions")
}

pub fn status_path(id: impl Display) -> String {
    format!("/internal/mitras/{id}/status")
}

/// Every internal route's example with made-up values: a request that would pass validation,
/// about ids nothing stores.
pub fn every_endpoint() -> Vec<(&'static str, String, Option<Value>)> {
    let made_up = infra::fixture::Prepared {
        vars: vec![
            ("MITRA_ID", Uuid::new_v4().to_string()),
            ("USER_ID", Uuid::new_v4().to_string()),
            ("PHONE", phone()),
            ("EMAIL", new_email()),
            ("ROLE_ID", operator_role_id()),
        ],
        subject: None,
    };
    let internal = shared::routes::ALL.into_iter().filter(|r| r.surface == shared::routes::Surface::Internal);
    internal
        .map(|route| {
            let body = made_up.body(&route).map(|b| serde_json::from_str(&b).expect("the example body is JSON"));
            (route.method, made_up.path(&route), body)
        })
        .collect()
}

pub fn operator_role_id() -> String {
    shared::domain::roles::operator_role().id.to_string()
}

pub fn super_admin_role_id() -> String {
    shared::domain::roles::super_admin_role().id.to_string()
}

pub fn new_email() -> String {
    format!("{}@halobestie.com", unique("user"))
}

/// A fresh token of a valid Firebase user who is no control-center user.
pub fn stranger_token(app: &TestApp) -> String {
    app.control_center_user_token(&unique("uid-stranger"), &format!("{}@example.com", unique("stranger")))
}

/// True for a canonical, lower-case, hyphenated UUID string.
pub fn is_uuid(value: &Value) -> bool {
    value.as_str().is_some_and(|s| Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == s))
}

/// The object's field names in the order they were sent.
pub fn ordered_keys(value: &Value) -> Vec<&str> {
    value.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default()
}

/// Asserts a 422 `VALIDATION_ERROR` whose `details` name exactly `fields`, each with a message.
#[track_caller]
pub fn assert_validation(answer: &Answer, fields: &[&str]) {
    answer.assert_error(422, "VALIDATION_ERROR");
    let details = answer.body["error"]["details"].as_array().unwrap_or_else(|| panic!("no details: {}", answer.body));
    for detail in details {
        assert_eq!(Answer::keys(detail), ["field", "message"], "detail: {detail}");
        assert!(detail["message"].as_str().is_some_and(|m| !m.is_empty()), "detail: {detail}");
    }
    let mut named: Vec<&str> = details.iter().filter_map(|d| d["field"].as_str()).collect();
    named.sort_unstable();
    named.dedup();
    let mut expected = fields.to_vec();
    expected.sort_unstable();
    assert_eq!(named, expected, "body: {}", answer.body);
}

/// The super admin's permissions, exactly as the contract's `/internal/auth/verify` example.
pub fn super_admin_permissions() -> Value {
    json!({
        "mitra": ["create", "read", "update", "delete"],
        "control_center_users": ["create", "read", "update", "delete"],
        "config": ["read", "update"],
        "audit_log": ["read"],
    })
}

/// The operator's permissions (decisions.md), every resource present.
pub fn operator_permissions() -> Value {
    json!({
        "mitra": ["create", "read", "update"],
        "control_center_users": [],
        "config": ["read"],
        "audit_log": [],
    })
}

/// Asserts the permissions object lists every resource, in the contract's order, with these actions.
#[track_caller]
pub fn assert_permissions(actual: &Value, expected: &Value) {
    assert_eq!(ordered_keys(actual), ["mitra", "control_center_users", "config", "audit_log"], "permissions: {actual}");
    assert_eq!(actual, expected);
}

/// The `total` of the list at `path` (with its query), as `token` sees it.
pub async fn list_total(app: &TestApp, token: &str, path: &str) -> Value {
    app.internal("GET", path, Some(token), None).await.assert_ok(200)["total"].clone()
}

/// Creates a mitra through the API as `token`; returns the response's `data`.
pub async fn create_mitra(app: &TestApp, token: &str, phone: &str) -> Value {
    let body = json!({ "phone": phone, "display_name": "Dr. Budi" });
    app.internal("POST", MITRAS, Some(token), Some(body)).await.assert_ok(201).clone()
}

pub async fn set_status(app: &TestApp, token: &str, id: &Value, active: bool) -> Answer {
    let path = status_path(id.as_str().expect("id is a string"));
    app.internal("PATCH", &path, Some(token), Some(json!({ "is_active": active }))).await
}

/// Sets attributes of an item of the control-center users table behind every process's back.
pub async fn rewrite_control_center_user_item(
    app: &TestApp,
    pk: String,
    update: &str,
    values: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
) {
    let mut request = app
        .app
        .dynamo
        .update_item()
        .table_name(&app.app.tables.control_center_users)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .update_expression(update);
    for (name, value) in values {
        request = request.expression_attribute_values(*name, value.clone());
    }
    request.send().await.expect("item rewritten");
}
