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

#[tokio::test]
async fn roles_list_returns_every_role_oldest_first_when_there_are_more_than_a_hundred() {
    use futures::StreamExt;
    use shared::domain::Permissions;
    use shared::store::roles::Role;

    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let extra: Vec<Role> = (0..150)
        .map(|i| Role { id: Uuid::new_v4(), name: format!("custom-{i:03}"), permissions: Permissions::default() })
        .collect();
    let roles = app.app.roles();
    let stored: Vec<_> =
        futures::stream::iter(&extra).map(|role| roles.upsert(role)).buffer_unordered(8).collect().await;
    assert!(stored.iter().all(Result::is_ok), "{stored:?}");

    let answer = app.internal("GET", ROLES, Some(&admin), None).await;
    let listed = answer.assert_ok(200).as_array().unwrap_or_else(|| panic!("data is an array: {}", answer.body));
    let ids: Vec<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 152, "both seeded roles and all 150 others");
    let unique_ids: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique_ids.len(), ids.len(), "no role twice");
    for role in &extra {
        assert!(unique_ids.contains(role.id.to_string().as_str()), "{} is listed", role.name);
    }
    let mut seeded = [ids[0], ids[1]];
    seeded.sort_unstable();
    let mut expected = [super_admin_role_id(), operator_role_id()];
    expected.sort_unstable();
    assert_eq!(seeded, [expected[0].as_str(), expected[1].as_str()], "the seeded roles are the oldest");
}
