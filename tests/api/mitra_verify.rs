//! `POST /api/mitra/auth/verify`, with mitras inserted through the repository layer.

use infra::devtoken::Persona;
use serde_json::json;

use crate::helpers::{Answer, is_rfc3339_utc, phone, spawn_app, unique};

const VERIFY: &str = "/api/mitra/auth/verify";

#[tokio::test]
async fn mitra_verify_returns_the_active_mitra_for_the_tokens_phone() {
    let app = spawn_app().await;
    let number = phone();
    let mitra = app.insert_mitra(&number, true).await;
    let answer = app.public("POST", VERIFY, Some(&app.mitra_token(&unique("m"), &number)), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(Answer::keys(data), ["created_at", "display_name", "id", "is_active", "phone"]);
    assert_eq!(data["id"], mitra.id.to_string());
    assert_eq!(data["phone"], number.as_str());
    assert_eq!(data["display_name"], "Dr. Budi");
    assert_eq!(data["is_active"], true);
    assert!(is_rfc3339_utc(&data["created_at"]));
}

#[tokio::test]
async fn mitra_verify_binds_the_uid_on_first_login_and_refuses_another_uid_later() {
    let app = spawn_app().await;
    let number = phone();
    let mitra = app.insert_mitra(&number, true).await;
    let uid = unique("m");
    app.public("POST", VERIFY, Some(&app.mitra_token(&uid, &number)), None).await.assert_ok(200);
    let stored = app.app.mitras().by_id(&mitra.id).await.unwrap().unwrap();
    assert_eq!(stored.firebase_uid.as_deref(), Some(uid.as_str()));
    app.public("POST", VERIFY, Some(&app.mitra_token(&uid, &number)), None).await.assert_ok(200);
    let other = app.mitra_token(&unique("m"), &number);
    app.public("POST", VERIFY, Some(&other), None).await.assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn mitra_verify_returns_account_not_found_for_an_unregistered_phone() {
    let app = spawn_app().await;
    app.insert_mitra(&phone(), true).await;
    let answer = app.public("POST", VERIFY, Some(&app.mitra_token(&unique("m"), &phone())), None).await;
    answer.assert_error(404, "ACCOUNT_NOT_FOUND");
    let foreign = app.public("POST", VERIFY, Some(&app.mitra_token(&unique("m"), "+14155550100")), None).await;
    foreign.assert_error(404, "ACCOUNT_NOT_FOUND");
}

#[tokio::test]
async fn mitra_verify_returns_account_inactive_for_an_inactive_mitra() {
    let app = spawn_app().await;
    let number = phone();
    app.insert_mitra(&number, false).await;
    app.public("POST", VERIFY, Some(&app.mitra_token(&unique("m"), &number)), None)
        .await
        .assert_error(403, "ACCOUNT_INACTIVE");
}

#[tokio::test]
async fn mitra_verify_returns_401_without_a_token_or_without_a_phone_in_it() {
    let app = spawn_app().await;
    app.public("POST", VERIFY, None, None).await.assert_error(401, "UNAUTHORIZED");
    let google = app.token(Persona::GoogleCustomer { uid: unique("g"), email: "m@example.com".into() });
    app.public("POST", VERIFY, Some(&google), None).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn mitra_verify_is_refused_on_the_very_next_call_after_deactivation() {
    let app = spawn_app().await;
    let number = phone();
    let mitra = app.insert_mitra(&number, true).await;
    let token = app.mitra_token(&unique("m"), &number);
    app.public("POST", VERIFY, Some(&token), None).await.assert_ok(200);
    app.app.mitras().set_status(&mitra.id, false, None).await.unwrap();
    app.public("POST", VERIFY, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");
}

#[tokio::test]
async fn mitra_verify_finds_a_registered_mitra_by_a_spaced_token_phone() {
    let app = spawn_app().await;
    let mitra = app.insert_mitra("+6281299990001", true).await;
    let token = app.mitra_token(&unique("uid"), "+62 812-9999-0001");
    let found = app.public("POST", "/api/mitra/auth/verify", Some(&token), None).await;
    assert_eq!(found.assert_ok(200)["id"], json!(mitra.id));
    // A token phone that cannot be a mitra's number is no account.
    let foreign = app.mitra_token(&unique("uid"), "+1 555 010 0123");
    app.public("POST", "/api/mitra/auth/verify", Some(&foreign), None).await.assert_error(404, "ACCOUNT_NOT_FOUND");
}
