//! GET, PATCH, DELETE /internal/control-center-users/{id} and revoke-sessions: the user
//! object, the four guards, the last active super admin under concurrency, what a change
//! does to the user's next request, and session revocation.

use serde_json::json;
use shared::domain::{Action, Permissions, Resource};
use shared::store::roles::{Role, seeded_role_id};

use super::*;
use crate::helpers::{is_rfc3339_utc, spawn_app};

/// A user created through the API by `admin` and bound by a first verify: (id, email, uid, token).
pub async fn new_user(app: &TestApp, admin: &str, role_id: &str) -> (String, String, String, String) {
    let email = new_email();
    let created = app
        .internal(
            "POST",
            CONTROL_CENTER_USERS,
            Some(admin),
            Some(json!({ "email": email, "display_name": "Staff", "role_id": role_id })),
        )
        .await;
    let id = created.assert_ok(201)["id"].as_str().unwrap().to_owned();
    let uid = unique("uid-staff");
    let token = app.control_center_user_token(&uid, &email);
    app.internal("POST", VERIFY, Some(&token), None).await.assert_ok(200);
    (id, email, uid, token)
}

/// A token of `uid`/`email` that says it was signed in at `auth_time` (epoch seconds).
fn token_signed_in_at(app: &TestApp, uid: &str, email: &str, auth_time: i64) -> String {
    let persona =
        infra::devtoken::Persona::ControlCenter { uid: uid.into(), email: email.into(), email_verified: true };
    let mut claims = app.minter.claims(&persona);
    claims["auth_time"] = json!(auth_time);
    app.minter.sign(&claims)
}

/// A role stored beside the seeded ones, as a later phase's role editor would.
async fn custom_role(app: &TestApp, name: &str, grants: &[(Resource, &[Action])]) -> String {
    let role = Role { id: seeded_role_id(name), name: name.into(), permissions: Permissions::new(grants) };
    app.app.roles().upsert(&role).await.unwrap();
    role.id.to_string()
}

/// Every permission of super_admin, under another role: such a user may act on super admins
/// without being one, which is the only way to reach the last one without acting on oneself.
async fn root_role(app: &TestApp) -> String {
    use Action::*;
    custom_role(
        app,
        "root",
        &[
            (Resource::Mitra, &[Create, Read, Update, Delete]),
            (Resource::ControlCenterUsers, &[Create, Read, Update, Delete]),
            (Resource::Config, &[Read, Update]),
            (Resource::AuditLog, &[Read]),
        ],
    )
    .await
}

async fn admin_id(app: &TestApp, admin: &str) -> String {
    app.internal("POST", VERIFY, Some(admin), None).await.assert_ok(200)["id"].as_str().unwrap().to_owned()
}

async fn active_super_admins(app: &TestApp, admin: &str) -> usize {
    let list = app.internal("GET", &format!("{CONTROL_CENTER_USERS}?limit=100"), Some(admin), None).await;
    let items = list.assert_ok(200)["items"].as_array().unwrap().clone();
    items.iter().filter(|u| u["role"]["name"] == "super_admin" && u["is_active"] == true).count()
}

#[tokio::test]
async fn get_answers_the_user_object_field_by_field_and_new_users_are_active() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, email, _, _) = new_user(&app, &admin, &operator_role_id()).await;
    let answer = app.internal("GET", &user_path(&id), Some(&admin), None).await;
    let user = answer.assert_ok(200);
    assert_eq!(Answer::keys(user), ["created_at", "display_name", "email", "id", "is_active", "role"]);
    assert_eq!(user["id"], id.as_str());
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["display_name"], "Staff");
    assert_eq!(user["role"], json!({ "id": operator_role_id(), "name": "operator" }));
    assert_eq!(user["is_active"], true);
    assert!(is_rfc3339_utc(&user["created_at"]));
    let listed = app.internal("GET", CONTROL_CENTER_USERS, Some(&admin), None).await;
    assert!(listed.assert_ok(200)["items"].as_array().unwrap().iter().all(|u| u["is_active"] == true));
}

#[tokio::test]
async fn get_and_revoke_sessions_answer_404_for_an_unknown_user_and_422_for_an_id_that_is_no_uuid() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let routes: [(&str, fn(&str) -> String); 2] = [("GET", |id| user_path(id)), ("POST", |id| revoke_path(id))];
    for (method, path) in routes {
        let unknown = app.internal(method, &path(&Uuid::new_v4().to_string()), Some(&admin), None).await;
        unknown.assert_error(404, "NOT_FOUND");
        for bad in ["not-a-uuid", "x"] {
            app.internal(method, &path(bad), Some(&admin), None).await.assert_error(422, "VALIDATION_ERROR");
        }
    }
}

#[tokio::test]
async fn patch_changes_what_is_sent_and_answers_the_updated_user() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, email, _, _) = new_user(&app, &admin, &operator_role_id()).await;
    let answer =
        app.internal("PATCH", &user_path(&id), Some(&admin), Some(json!({ "display_name": "  Budi  " }))).await;
    let user = answer.assert_ok(200);
    assert_eq!(user["display_name"], "Budi");
    assert_eq!(user["email"], email.as_str());
    assert_eq!(user["role"]["name"], "operator");
    assert_eq!(user["is_active"], true);
    let body = json!({ "role_id": super_admin_role_id(), "is_active": false });
    let user = app.internal("PATCH", &user_path(&id), Some(&admin), Some(body)).await;
    let user = user.assert_ok(200);
    assert_eq!(user["role"], json!({ "id": super_admin_role_id(), "name": "super_admin" }));
    assert_eq!((user["is_active"].clone(), user["display_name"].clone()), (json!(false), json!("Budi")));
    let read = app.internal("GET", &user_path(&id), Some(&admin), None).await;
    assert_eq!(read.assert_ok(200), user);
}

#[tokio::test]
async fn patch_refuses_each_invalid_body_with_422_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, _, _, _) = new_user(&app, &admin, &operator_role_id()).await;
    let cases = [
        (json!({}), "body"),
        (json!({ "unknown": 1 }), "body"),
        (json!({ "display_name": null }), "display_name"),
        (json!({ "display_name": "   " }), "display_name"),
        (json!({ "display_name": "x".repeat(101) }), "display_name"),
        (json!({ "display_name": 5 }), "display_name"),
        (json!({ "role_id": "not-a-uuid" }), "role_id"),
        (json!({ "role_id": Uuid::new_v4() }), "role_id"),
        (json!({ "role_id": null }), "role_id"),
        (json!({ "is_active": "false" }), "is_active"),
        (json!({ "is_active": null }), "is_active"),
    ];
    for (body, field) in cases {
        let answer = app.internal("PATCH", &user_path(&id), Some(&admin), Some(body.clone())).await;
        answer.assert_error(422, "VALIDATION_ERROR");
        assert!(answer.body["error"]["details"].to_string().contains(field), "{body}: {}", answer.body);
    }
    app.internal_raw("PATCH", &user_path(&id), Some(&admin), "{ not json").await.assert_error(422, "VALIDATION_ERROR");
    let unknown =
        app.internal("PATCH", &user_path(Uuid::new_v4()), Some(&admin), Some(json!({ "is_active": true }))).await;
    unknown.assert_error(404, "NOT_FOUND");
    let user = app.internal("GET", &user_path(&id), Some(&admin), None).await;
    assert_eq!(user.assert_ok(200)["display_name"], "Staff", "no refused PATCH changed anything");
}

#[tokio::test]
async fn delete_answers_id_and_deleted_and_the_list_total_drops() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, _, _, _) = new_user(&app, &admin, &operator_role_id()).await;
    let total = |a: Answer| a.assert_ok(200)["total"].as_u64().unwrap();
    assert_eq!(total(app.internal("GET", CONTROL_CENTER_USERS, Some(&admin), None).await), 2);
    let answer = app.internal("DELETE", &user_path(&id), Some(&admin), None).await;
    assert_eq!(answer.assert_ok(200), &json!({ "id": id, "deleted": true }));
    assert_eq!(total(app.internal("GET", CONTROL_CENTER_USERS, Some(&admin), None).await), 1);
    app.internal("GET", &user_path(&id), Some(&admin), None).await.assert_error(404, "NOT_FOUND");
    app.internal("DELETE", &user_path(&id), Some(&admin), None).await.assert_error(404, "NOT_FOUND");
    app.internal("DELETE", &user_path("nope"), Some(&admin), None).await.assert_error(422, "VALIDATION_ERROR");
}

#[tokio::test]
async fn no_escalation_a_caller_cannot_grant_a_role_beyond_their_own_permissions() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    use Action::*;
    let manager = custom_role(&app, "manager", &[(Resource::ControlCenterUsers, &[Read, Update, Delete])]).await;
    let (_, _, _, manager_token) = new_user(&app, &admin, &manager).await;
    let (target, _, _, _) = new_user(&app, &admin, &manager).await;
    let body = json!({ "role_id": super_admin_role_id() });
    let answer = app.internal("PATCH", &user_path(&target), Some(&manager_token), Some(body)).await;
    answer.assert_error(403, "FORBIDDEN");
    let user = app.internal("GET", &user_path(&target), Some(&admin), None).await;
    assert_eq!(user.assert_ok(200)["role"]["name"], "manager");
}

#[tokio::test]
async fn no_acting_on_superiors_update_delete_and_revoke_of_a_user_with_more_permissions_are_403() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    use Action::*;
    let manager = custom_role(&app, "manager", &[(Resource::ControlCenterUsers, &[Read, Update, Delete])]).await;
    let (_, _, _, manager_token) = new_user(&app, &admin, &manager).await;
    let superior = admin_id(&app, &admin).await;
    let attempts = [
        ("PATCH", user_path(&superior), Some(json!({ "display_name": "Demoted" }))),
        ("DELETE", user_path(&superior), None),
        ("POST", revoke_path(&superior), None),
    ];
    for (method, path, body) in attempts {
        app.internal(method, &path, Some(&manager_token), body).await.assert_error(403, "FORBIDDEN");
    }
    app.internal("POST", VERIFY, Some(&admin), None).await.assert_ok(200);
    let user = app.internal("GET", &user_path(&superior), Some(&admin), None).await;
    assert_eq!(user.assert_ok(200)["display_name"], "Super Admin");
}

#[tokio::test]
async fn not_on_oneself_own_role_deactivation_and_deletion_are_403_but_the_own_name_may_change() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let me = admin_id(&app, &admin).await;
    let refused = [
        ("PATCH", Some(json!({ "role_id": operator_role_id() }))),
        ("PATCH", Some(json!({ "is_active": false }))),
        ("DELETE", None),
    ];
    for (method, body) in refused {
        app.internal(method, &user_path(&me), Some(&admin), body).await.assert_error(403, "FORBIDDEN");
    }
    let renamed = app.internal("PATCH", &user_path(&me), Some(&admin), Some(json!({ "display_name": "Me" }))).await;
    assert_eq!(renamed.assert_ok(200)["display_name"], "Me");
    assert_eq!(renamed.data()["role"]["name"], "super_admin");
}

#[tokio::test]
async fn demoting_deactivating_or_deleting_the_last_active_super_admin_is_409() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let last = admin_id(&app, &admin).await;
    let (_, _, _, root) = new_user(&app, &admin, &root_role(&app).await).await;
    let attempts = [
        ("PATCH", Some(json!({ "role_id": operator_role_id() }))),
        ("PATCH", Some(json!({ "is_active": false }))),
        ("DELETE", None),
    ];
    for (method, body) in attempts.clone() {
        app.internal(method, &user_path(&last), Some(&root), body).await.assert_error(409, "CONFLICT");
    }
    app.internal("POST", VERIFY, Some(&admin), None).await.assert_ok(200);
    // With a second active super admin, the first may go.
    let (_, _, _, _) = new_user(&app, &admin, &super_admin_role_id()).await;
    let (method, body) = attempts[1].clone();
    app.internal(method, &user_path(&last), Some(&root), body).await.assert_ok(200);
    app.internal("POST", VERIFY, Some(&admin), None).await.assert_error(403, "ACCOUNT_INACTIVE");
}

#[tokio::test]
async fn two_super_admins_removing_each_other_at_once_leave_exactly_one_twenty_times() {
    let app = spawn_app().await;
    let mut survivor = (admin_id(&app, &app.super_admin_token().await).await, app.super_admin_token().await);
    for round in 0..20 {
        let (other, _, _, other_token) = new_user(&app, &survivor.1, &super_admin_role_id()).await;
        let (a, b) = (survivor.clone(), (other.clone(), other_token.clone()));
        // Alternate the ways of removing: delete, deactivate, demote.
        let body = match round % 3 {
            0 => None,
            1 => Some(json!({ "is_active": false })),
            _ => Some(json!({ "role_id": operator_role_id() })),
        };
        let method = if body.is_none() { "DELETE" } else { "PATCH" };
        let (path_b, path_a) = (user_path(&b.0), user_path(&a.0));
        let (by_a, by_b) = tokio::join!(
            app.internal(method, &path_b, Some(&a.1), body.clone()),
            app.internal(method, &path_a, Some(&b.1), body.clone()),
        );
        let won: Vec<bool> = [&by_a, &by_b].iter().map(|r| r.status == 200).collect();
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "round {round}: {} / {}", by_a.body, by_b.body);
        let loser = if won[0] { &by_b } else { &by_a };
        assert!([409, 403].contains(&loser.status), "round {round}: {}", loser.body);
        survivor = if won[0] { a } else { b };
        assert_eq!(active_super_admins(&app, &survivor.1).await, 1, "round {round}");
    }
}

#[tokio::test]
async fn a_deactivated_user_gets_403_account_inactive_on_the_very_next_request_verify_included() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, _, _, token) = new_user(&app, &admin, &operator_role_id()).await;
    app.internal("GET", MITRAS, Some(&token), None).await.assert_ok(200);
    let body = Some(json!({ "is_active": false }));
    app.internal("PATCH", &user_path(&id), Some(&admin), body).await.assert_ok(200);
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");
    app.internal("POST", VERIFY, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");
    app.internal("PATCH", &user_path(&id), Some(&admin), Some(json!({ "is_active": true }))).await.assert_ok(200);
    app.internal("GET", MITRAS, Some(&token), None).await.assert_ok(200);
}

#[tokio::test]
async fn a_deactivated_user_who_never_signed_in_is_refused_at_the_first_verify_and_not_bound() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let email = new_email();
    let body = json!({ "email": email, "display_name": "Later", "role_id": operator_role_id() });
    let id = app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await.assert_ok(201)["id"].clone();
    let id = id.as_str().unwrap().to_owned();
    app.internal("PATCH", &user_path(&id), Some(&admin), Some(json!({ "is_active": false }))).await.assert_ok(200);
    let token = app.control_center_user_token(&unique("uid"), &email);
    app.internal("POST", VERIFY, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");
    let user = app.app.control_center_users().by_id(&id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(user.firebase_uid, None);
}

#[tokio::test]
async fn a_role_change_bites_on_the_users_next_request() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, _, _, token) = new_user(&app, &admin, &operator_role_id()).await;
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
    let promote = Some(json!({ "role_id": super_admin_role_id() }));
    app.internal("PATCH", &user_path(&id), Some(&admin), promote).await.assert_ok(200);
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_ok(200);
    let verified = app.internal("POST", VERIFY, Some(&token), None).await;
    assert_eq!(verified.assert_ok(200)["role"]["name"], "super_admin");
    let demote = Some(json!({ "role_id": operator_role_id() }));
    app.internal("PATCH", &user_path(&id), Some(&admin), demote).await.assert_ok(200);
    app.internal("GET", CONTROL_CENTER_USERS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn a_deleted_users_token_is_a_strangers_and_their_email_and_uid_can_be_used_again() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, email, uid, token) = new_user(&app, &admin, &operator_role_id()).await;
    app.internal("DELETE", &user_path(&id), Some(&admin), None).await.assert_ok(200);
    app.internal("POST", VERIFY, Some(&token), None).await.assert_error(404, "NOT_FOUND");
    app.internal("GET", MITRAS, Some(&token), None).await.assert_error(403, "FORBIDDEN");
    let body = json!({ "email": email, "display_name": "Again", "role_id": operator_role_id() });
    let again = app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body)).await;
    let new_id = again.assert_ok(201)["id"].clone();
    assert_ne!(new_id, json!(id));
    let verified = app.internal("POST", VERIFY, Some(&app.control_center_user_token(&uid, &email)), None).await;
    assert_eq!(verified.assert_ok(200)["id"], new_id);
}

#[tokio::test]
async fn revoke_sessions_answers_the_instant_and_refuses_older_tokens_with_401_everywhere() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, email, uid, _) = new_user(&app, &admin, &operator_role_id()).await;
    let now = infra::devtoken::now();
    let old = token_signed_in_at(&app, &uid, &email, now - 30);
    app.internal("GET", MITRAS, Some(&old), None).await.assert_ok(200);
    let answer = app.internal("POST", &revoke_path(&id), Some(&admin), None).await;
    let revoked = answer.assert_ok(200);
    assert_eq!(Answer::keys(revoked), ["id", "tokens_valid_after"]);
    assert_eq!(revoked["id"], id.as_str());
    let after = revoked["tokens_valid_after"].as_str().unwrap();
    assert!(is_rfc3339_utc(&revoked["tokens_valid_after"]) && !after.contains('.'), "whole seconds: {after}");
    for (method, path) in [("POST", VERIFY), ("GET", MITRAS), ("GET", ANONYMITY)] {
        let answer = app.internal(method, path, Some(&old), None).await;
        answer.assert_error(401, "UNAUTHORIZED");
        assert!(answer.body["error"]["message"].as_str().unwrap().contains("sign in again"));
    }
    // A fresh sign-in (a later auth_time) binds again by verified email, even on the same uid.
    let fresh = token_signed_in_at(&app, &uid, &email, now + 2);
    app.internal("GET", MITRAS, Some(&fresh), None).await.assert_error(403, "FORBIDDEN");
    let verified = app.internal("POST", VERIFY, Some(&fresh), None).await;
    assert_eq!(verified.assert_ok(200)["id"], id.as_str());
    app.internal("GET", MITRAS, Some(&fresh), None).await.assert_ok(200);
    app.internal("GET", MITRAS, Some(&old), None).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn after_a_revocation_a_new_firebase_account_binds_by_verified_email() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, email, uid, _) = new_user(&app, &admin, &operator_role_id()).await;
    let old = token_signed_in_at(&app, &uid, &email, infra::devtoken::now() - 30);
    app.internal("POST", &revoke_path(&id), Some(&admin), None).await.assert_ok(200);
    let new_uid = unique("uid-recreated");
    let fresh = token_signed_in_at(&app, &new_uid, &email, infra::devtoken::now() + 2);
    assert_eq!(app.internal("POST", VERIFY, Some(&fresh), None).await.assert_ok(200)["id"], id.as_str());
    let user = app.app.control_center_users().by_id(&id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(user.firebase_uid.as_deref(), Some(new_uid.as_str()));
    // The old uid's token was signed in before the revocation.
    app.internal("GET", MITRAS, Some(&old), None).await.assert_error(401, "UNAUTHORIZED");
}
