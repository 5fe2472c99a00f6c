//! `POST` and `GET /internal/control-center-users`, and the no-escalation rule.

use serde_json::json;
use shared::domain::{Action, Email, Permissions, Resource};
use shared::store::roles::Role;

use super::*;
use crate::helpers::{SUPER_ADMIN_EMAIL, is_rfc3339_utc, spawn_app};

async fn create_user(app: &TestApp, token: &str, email: &str, name: &str, role_id: &str) -> Answer {
    app.internal(
        "POST",
        CONTROL_CENTER_USERS,
        Some(token),
        Some(json!({ "email": email, "display_name": name, "role_id": role_id })),
    )
    .await
}

async fn custom_role(app: &TestApp, grants: &[(Resource, &[Action])]) -> Role {
    let role = Role { id: uuid::Uuid::new_v4(), name: unique("custom"), permissions: Permissions::new(grants) };
    app.app.roles().upsert(&role).await.expect("role is stored");
    role
}

#[tokio::test]
async fn control_center_user_create_lower_cases_the_email_and_answers_the_role_by_id_and_name() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let email = new_email();
    let mixed = format!("  {}  ", email.to_uppercase());
    let answer = create_user(&app, &admin, &mixed, "  Operator 1 ", &operator_role_id()).await;
    let data = answer.assert_ok(201);
    assert_eq!(Answer::keys(data), ["created_at", "display_name", "email", "id", "is_active", "role"]);
    assert!(is_uuid(&data["id"]), "{data}");
    assert_eq!(data["email"], email);
    assert_eq!(data["display_name"], "Operator 1");
    assert_eq!(data["role"], json!({ "id": operator_role_id(), "name": "operator" }));
    assert_eq!(ordered_keys(&data["role"]), ["id", "name"]);
    assert!(is_rfc3339_utc(&data["created_at"]), "{data}");
    // Stored lower-case: the new user signs in with its verified email and gets the role.
    let token = app.control_center_user_token(&unique("uid-new"), &email);
    let me = app.internal("POST", VERIFY, Some(&token), None).await;
    assert_eq!(me.assert_ok(200)["id"], data["id"]);
    assert_eq!(me.data()["role"]["name"], "operator");
}

#[tokio::test]
async fn control_center_user_create_answers_201_with_a_location_that_gets_the_new_user() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let answer = create_user(&app, &admin, &new_email(), "Operator 1", &operator_role_id()).await;
    let data = answer.assert_ok(201);
    let location = answer.headers.get("location").expect("a Location header").to_str().unwrap();
    assert_eq!(location, user_path(data["id"].as_str().unwrap()));
    assert_eq!(app.internal("GET", location, Some(&admin), None).await.assert_ok(200), data);
}

#[tokio::test]
async fn control_center_user_create_returns_409_for_a_duplicate_email_in_another_case() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let email = new_email();
    create_user(&app, &admin, &email, "First", &operator_role_id()).await.assert_ok(201);
    create_user(&app, &admin, &email.to_uppercase(), "Second", &super_admin_role_id())
        .await
        .assert_error(409, "CONFLICT");
    create_user(&app, &admin, &email, "Third", &operator_role_id()).await.assert_error(409, "CONFLICT");
    // The seeded super admin's address is taken too.
    create_user(&app, &admin, &SUPER_ADMIN_EMAIL.to_uppercase(), "Impostor", &operator_role_id())
        .await
        .assert_error(409, "CONFLICT");
    assert_eq!(list_total(&app, &admin, CONTROL_CENTER_USERS).await, 2, "the super admin and the first user only");
    let stored = app.app.control_center_users().by_email(&Email::parse(&email).unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.display_name.as_str(), "First");
}

#[tokio::test]
async fn control_center_user_create_rejects_invalid_input_with_422_naming_the_field() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let role = operator_role_id();
    for raw in ["{ \"email\": ", "{\"email\": \"a@b.com\",}", "email=a@b.com"] {
        assert_validation(&app.internal_raw("POST", CONTROL_CENTER_USERS, Some(&admin), raw).await, &["body"]);
    }
    let email = new_email();
    let cases = [
        (json!({}), vec!["display_name", "email", "role_id"]),
        (json!({ "display_name": "Op", "role_id": role }), vec!["email"]),
        (json!({ "email": email, "role_id": role }), vec!["display_name"]),
        (json!({ "email": email, "display_name": "Op" }), vec!["role_id"]),
        (json!({ "email": 7, "display_name": "Op", "role_id": role }), vec!["email"]),
        (json!({ "email": email, "display_name": true, "role_id": role }), vec!["display_name"]),
        (json!({ "email": email, "display_name": "Op", "role_id": 12 }), vec!["role_id"]),
        (json!({ "email": email, "display_name": "Op", "role_id": { "id": role } }), vec!["role_id"]),
        (json!({ "email": "not-an-email", "display_name": "Op", "role_id": role }), vec!["email"]),
        (json!({ "email": "op@localhost", "display_name": "Op", "role_id": role }), vec!["email"]),
        (json!({ "email": "a b@halobestie.com", "display_name": "Op", "role_id": role }), vec!["email"]),
        (json!({ "email": "", "display_name": "Op", "role_id": role }), vec!["email"]),
        (json!({ "email": email, "display_name": "   ", "role_id": role }), vec!["display_name"]),
        (json!({ "email": email, "display_name": "x".repeat(101), "role_id": role }), vec!["display_name"]),
        (json!({ "email": email, "display_name": "Op", "role_id": "operator" }), vec!["role_id"]),
        (json!({ "email": email, "display_name": "Op", "role_id": "" }), vec!["role_id"]),
        (json!({ "email": email, "display_name": "Op", "role_id": uuid::Uuid::new_v4().to_string() }), vec!["role_id"]),
        (json!({ "email": "bad", "display_name": "", "role_id": "bad" }), vec!["display_name", "email", "role_id"]),
    ];
    for (body, fields) in cases {
        let answer = app.internal("POST", CONTROL_CENTER_USERS, Some(&admin), Some(body.clone())).await;
        assert_validation(&answer, &fields);
    }
    // 100 characters is the longest name allowed.
    create_user(&app, &admin, &email, &"x".repeat(100), &role).await.assert_ok(201);
    assert_eq!(list_total(&app, &admin, CONTROL_CENTER_USERS).await, 2, "none of the invalid requests created a user");
}

#[tokio::test]
async fn control_center_user_list_includes_the_role_by_id_and_name_newest_first() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let first = create_user(&app, &admin, &new_email(), "First", &operator_role_id()).await.assert_ok(201).clone();
    let second = create_user(&app, &admin, &new_email(), "Second", &super_admin_role_id()).await.assert_ok(201).clone();
    let answer = app.internal("GET", CONTROL_CENTER_USERS, Some(&admin), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(Answer::keys(data), ["items", "limit", "page", "total"]);
    assert_eq!((&data["total"], &data["page"], &data["limit"]), (&json!(3), &json!(1), &json!(20)));
    let items = data["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0], second, "newest first, exactly as created");
    assert_eq!(items[1], first);
    let seeded = &items[2];
    assert_eq!(Answer::keys(seeded), ["created_at", "display_name", "email", "id", "is_active", "role"]);
    assert_eq!(seeded["email"], SUPER_ADMIN_EMAIL);
    assert!(is_uuid(&seeded["id"]));
    assert!(is_rfc3339_utc(&seeded["created_at"]));
    assert_eq!(seeded["role"], json!({ "id": super_admin_role_id(), "name": "super_admin" }));
    assert_eq!(items[0]["role"], json!({ "id": super_admin_role_id(), "name": "super_admin" }));
    assert_eq!(items[1]["role"], json!({ "id": operator_role_id(), "name": "operator" }));

    let page2 = app.internal("GET", &format!("{CONTROL_CENTER_USERS}?page=2&limit=1"), Some(&admin), None).await;
    let page2 = page2.assert_ok(200);
    assert_eq!(page2["items"], json!([first]));
    assert_eq!((&page2["total"], &page2["page"], &page2["limit"]), (&json!(3), &json!(2), &json!(1)));
    let past = app.internal("GET", &format!("{CONTROL_CENTER_USERS}?page=4&limit=1"), Some(&admin), None).await;
    assert_eq!(past.assert_ok(200)["items"], json!([]));
    assert_eq!(past.data()["total"], 3);
}

#[tokio::test]
async fn control_center_user_list_rejects_out_of_range_and_malformed_query_values_with_422() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for (query, field) in
        [("page=0", "page"), ("page=x", "page"), ("limit=101", "limit"), ("limit=0", "limit"), ("limit=abc", "limit")]
    {
        let answer = app.internal("GET", &format!("{CONTROL_CENTER_USERS}?{query}"), Some(&admin), None).await;
        assert_validation(&answer, &[field]);
    }
}

#[tokio::test]
async fn a_user_cannot_grant_a_role_with_permissions_they_lack() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let manager_role = custom_role(
        &app,
        &[(Resource::ControlCenterUsers, &[Action::Create, Action::Read]), (Resource::Mitra, &[Action::Read])],
    )
    .await;
    let viewer_role = custom_role(&app, &[(Resource::Mitra, &[Action::Read])]).await;
    let manager_email = new_email();
    create_user(&app, &admin, &manager_email, "Manager", &manager_role.id.to_string()).await.assert_ok(201);
    let manager = app.control_center_user_token(&unique("uid-manager"), &manager_email);
    let me = app.internal("POST", VERIFY, Some(&manager), None).await;
    assert_eq!(me.assert_ok(200)["role"]["name"], manager_role.name.as_str());

    // A subset of their own permissions, or exactly their own: allowed.
    let viewer = create_user(&app, &manager, &new_email(), "Viewer", &viewer_role.id.to_string()).await;
    assert_eq!(viewer.assert_ok(201)["role"], json!({ "id": viewer_role.id.to_string(), "name": viewer_role.name }));
    create_user(&app, &manager, &new_email(), "Peer", &manager_role.id.to_string()).await.assert_ok(201);

    // Anything more: forbidden, and nothing is created.
    for role in [operator_role_id(), super_admin_role_id()] {
        let email = new_email();
        create_user(&app, &manager, &email, "Escalated", &role).await.assert_error(403, "FORBIDDEN");
        assert!(app.app.control_center_users().by_email(&Email::parse(&email).unwrap()).await.unwrap().is_none());
    }
    // The manager's own limits hold elsewhere too.
    let mitra = json!({ "phone": phone(), "display_name": "Dr. Budi" });
    app.internal("POST", MITRAS, Some(&manager), Some(mitra)).await.assert_error(403, "FORBIDDEN");
    app.internal("GET", MITRAS, Some(&manager), None).await.assert_ok(200);
    app.internal("GET", ROLES, Some(&manager), None).await.assert_ok(200);
    assert_eq!(list_total(&app, &manager, CONTROL_CENTER_USERS).await, 4, "super admin, manager, viewer, peer");
}

#[tokio::test]
async fn control_center_user_list_shows_a_user_whose_role_was_deleted_with_the_placeholder_and_logs_it() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let role = custom_role(&app, &[(Resource::Mitra, &[Action::Read])]).await;
    let orphan = create_user(&app, &admin, &new_email(), "Orphan", &role.id.to_string()).await.assert_ok(201).clone();
    app.app
        .dynamo
        .delete_item()
        .table_name(&app.app.tables.roles)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ROLE#{}", role.id)))
        .send()
        .await
        .expect("the role is deleted");

    let answer = app.internal("GET", CONTROL_CENTER_USERS, Some(&admin), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(data["total"], 2, "the orphan is still counted");
    let items = data["items"].as_array().unwrap();
    let listed = items.iter().find(|u| u["id"] == orphan["id"]).unwrap_or_else(|| panic!("orphan listed: {data}"));
    assert_eq!(listed["role"], json!({ "id": role.id.to_string(), "name": shared::views::MISSING_ROLE_NAME }));
    assert_eq!(listed["display_name"], "Orphan");
    let seeded = items.iter().find(|u| u["id"] != orphan["id"]).unwrap();
    assert_eq!(seeded["role"]["name"], "super_admin", "other users keep their role's name");

    let user_id = orphan["id"].as_str().unwrap();
    let logged = crate::helpers::captured_logs().lines().any(|line| {
        let line: Value = serde_json::from_str(line).unwrap_or_default();
        line["level"] == "ERROR"
            && line["fields"]["user_id"] == user_id
            && line["fields"]["role_id"] == role.id.to_string()
    });
    assert!(logged, "an error naming the user and the missing role is logged");
}
