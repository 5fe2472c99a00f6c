//! Every entity item carries a version; items stored before versions existed migrate as
//! they are written. The legacy items here are written attribute for attribute as the code
//! before versions wrote them.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, phone, spawn_app, unique};
use crate::internal::{MITRAS, user_path};

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

async fn item(app: &TestApp, table: &str, pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    let out = app.app.dynamo.get_item().table_name(table).key("pk", s(pk)).consistent_read(true).send().await.unwrap();
    out.item.expect("the item exists")
}

fn version(item: &std::collections::HashMap<String, AttributeValue>) -> Option<&str> {
    item.get("version").map(|v| v.as_n().unwrap().as_str())
}

/// A mitra as stored before versions: its item, phone claim and list keys, no `version`.
async fn legacy_mitra(app: &TestApp) -> (Uuid, String) {
    let (id, phone) = (Uuid::now_v7(), phone());
    let table = &app.app.tables.mitras;
    let items = [
        [
            ("pk", s(&format!("MITRA#{id}"))),
            ("id", s(&id.to_string())),
            ("phone", s(&phone)),
            ("display_name", s("Dr. Lama")),
            ("is_active", AttributeValue::Bool(false)),
            ("created_at", s("2026-04-04T00:00:00.000Z")),
            ("list_pk", s("MITRA")),
            ("list_sk", s(&format!("001775260800000#{id}"))),
            ("status_pk", s("MITRA#INACTIVE")),
        ]
        .to_vec(),
        [("pk", s(&format!("PHONE#{phone}"))), ("mitra_id", s(&id.to_string()))].to_vec(),
    ];
    for attributes in items {
        let item = attributes.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        app.app.dynamo.put_item().table_name(table).set_item(Some(item)).send().await.unwrap();
    }
    (id, phone)
}

#[tokio::test]
async fn a_mitra_stored_before_versions_is_changed_and_gets_version_1_keeping_its_list_keys() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let (id, _) = legacy_mitra(&app).await;
    let pk = format!("MITRA#{id}");
    let answer = app
        .internal("PATCH", &format!("{MITRAS}/{id}"), Some(&admin), Some(json!({ "display_name": "Dr. Baru" })))
        .await;
    assert_eq!(answer.assert_ok(200)["display_name"], "Dr. Baru");
    let stored = item(&app, &app.app.tables.mitras, &pk).await;
    assert_eq!(version(&stored), Some("1"));
    assert_eq!(stored["list_sk"], s(&format!("001775260800000#{id}")), "list keys stay");
    assert_eq!(stored["status_pk"], s("MITRA#INACTIVE"));

    let answer =
        app.internal("PATCH", &format!("{MITRAS}/{id}/status"), Some(&admin), Some(json!({ "is_active": true }))).await;
    answer.assert_ok(200);
    let stored = item(&app, &app.app.tables.mitras, &pk).await;
    assert_eq!(version(&stored), Some("2"));
    assert_eq!(stored["status_pk"], s("MITRA#ACTIVE"), "the status index key follows the status");
}

#[tokio::test]
async fn a_write_decided_on_a_legacy_item_fails_once_another_write_has_versioned_it() {
    use shared::store::change::{self, Next, Outcome, Read};
    use shared::store::mitras::Mitra;
    let app = spawn_app().await;
    let (id, _) = legacy_mitra(&app).await;
    let (client, table, pk) = (&app.app.dynamo, &app.app.tables.mitras, format!("MITRA#{id}"));
    let stale: Read<Mitra> = change::read(client, table, &pk).await.unwrap().unwrap();
    assert_eq!(stale.version(), None);
    let first = Mitra { display_name: shared::domain::DisplayName::parse("First").unwrap(), ..stale.value.clone() };
    let written = change::write(client, table, Some(&stale), (Next::Update(first.clone()), Vec::new(), ()), "t").await;
    assert_eq!(written.unwrap(), Some(Outcome::Changed(())));
    let second = Mitra { display_name: shared::domain::DisplayName::parse("Second").unwrap(), ..stale.value.clone() };
    let written = change::write(client, table, Some(&stale), (Next::Update(second), Vec::new(), ()), "t").await;
    assert_eq!(written.unwrap(), None, "decided on the unversioned item: read again");
    let now: Read<Mitra> = change::read(client, table, &pk).await.unwrap().unwrap();
    assert_eq!((now.version(), now.display_name.as_str()), (Some(1), "First"));
}

#[tokio::test]
async fn a_control_center_user_stored_before_versions_and_activation_is_updated_and_migrated() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let id = Uuid::now_v7();
    let email = format!("{}@halobestie.com", unique("legacy"));
    let table = &app.app.tables.control_center_users;
    let operator = shared::domain::roles::operator_role().id.to_string();
    let items = [
        [
            ("pk", s(&format!("USER#{id}"))),
            ("id", s(&id.to_string())),
            ("email", s(&email)),
            ("display_name", s("Old Operator")),
            ("role_id", s(&operator)),
            ("created_at", s("2026-04-04T00:00:00.000Z")),
            ("list_pk", s("USER")),
            ("list_sk", s(&format!("001775260800000#{id}"))),
        ]
        .to_vec(),
        [("pk", s(&format!("EMAIL#{email}"))), ("user_id", s(&id.to_string()))].to_vec(),
    ];
    for attributes in items {
        let item = attributes.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        app.app.dynamo.put_item().table_name(table).set_item(Some(item)).send().await.unwrap();
    }
    let answer = app.internal("GET", &user_path(id), Some(&admin), None).await;
    assert_eq!(answer.assert_ok(200)["is_active"], true, "stored before deactivation existed: active");
    let answer = app.internal("PATCH", &user_path(id), Some(&admin), Some(json!({ "display_name": "Renamed" }))).await;
    answer.assert_ok(200);
    let stored = item(&app, table, &format!("USER#{id}")).await;
    assert_eq!(version(&stored), Some("1"));
    assert_eq!(stored["is_active"], AttributeValue::Bool(true), "written out on its first change");
    assert_eq!(stored["list_pk"], s("USER"));
}
