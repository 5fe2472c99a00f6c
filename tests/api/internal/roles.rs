//! `GET /internal/roles`.

use super::*;
use crate::helpers::spawn_app;

#[tokio::test]
async fn roles_list_returns_both_seeded_roles_with_permissions_for_every_resource() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let answer = app.internal("GET", ROLES, Some(&admin), None).await;
    let roles = answer.assert_ok(200).as_array().unwrap_or_else(|| panic!("data is an array: {}", answer.body));
    assert_eq!(roles.len(), 2, "{roles:?}");
    for role in roles {
        assert_eq!(Answer::keys(role), ["id", "name", "permissions"]);
        assert!(is_uuid(&role["id"]), "{role}");
    }
    let by_name =
        |name: &str| roles.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("no {name} role in {roles:?}"));
    let super_admin = by_name("super_admin");
    assert_eq!(super_admin["id"], super_admin_role_id());
    assert_permissions(&super_admin["permissions"], &super_admin_permissions());
    let operator = by_name("operator");
    assert_eq!(operator["id"], operator_role_id());
    assert_permissions(&operator["permissions"], &operator_permissions());
}

#[tokio::test]
async fn roles_list_shows_the_same_permissions_as_auth_verify() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let me = app.internal("POST", VERIFY, Some(&admin), None).await;
    let roles = app.internal("GET", ROLES, Some(&admin), None).await;
    let listed = roles.assert_ok(200).as_array().unwrap().iter().find(|r| r["id"] == me.data()["role"]["id"]).cloned();
    assert_eq!(listed.as_ref(), Some(&me.assert_ok(200)["role"]));
}
