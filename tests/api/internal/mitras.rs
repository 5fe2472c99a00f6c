//! `POST /internal/mitras` and `PATCH /internal/mitras/:id/status`, and what
//! they mean for `POST /api/mitra/auth/verify`.

use futures::future::join_all;
use serde_json::json;

use super::*;
use crate::helpers::{is_rfc3339_utc, spawn_app};

/// `+628…` → (`+628…`, `628…`, `08…`).
fn forms(e164: &str) -> [String; 3] {
    let national = e164.strip_prefix("+62").expect("E.164 Indonesian number");
    [e164.to_owned(), format!("62{national}"), format!("0{national}")]
}

#[tokio::test]
async fn mitra_create_returns_201_with_an_e164_phone_a_trimmed_name_and_an_inactive_mitra() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let e164 = phone();
    let [_, _, local] = forms(&e164);
    let answer = app
        .internal("POST", MITRAS, Some(&admin), Some(json!({ "phone": local, "display_name": "  Dr. Budi  " })))
        .await;
    let data = answer.assert_ok(201);
    assert_eq!(Answer::keys(data), ["created_at", "display_name", "id", "is_active", "phone"]);
    assert!(is_uuid(&data["id"]), "{data}");
    assert_eq!(data["phone"], e164);
    assert_eq!(data["display_name"], "Dr. Budi");
    assert_eq!(data["is_active"], false);
    assert!(is_rfc3339_utc(&data["created_at"]), "{data}");
    // It is stored as answered.
    let listed = app.internal("GET", MITRAS, Some(&admin), None).await;
    assert_eq!(listed.assert_ok(200)["items"], json!([data]));
}

#[tokio::test]
async fn mitra_create_answers_201_with_a_location_that_gets_the_new_mitra() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let body = json!({ "phone": phone(), "display_name": "Dr. Budi" });
    let answer = app.internal("POST", MITRAS, Some(&admin), Some(body)).await;
    let data = answer.assert_ok(201);
    let location = answer.headers.get("location").expect("a Location header").to_str().unwrap();
    assert_eq!(location, format!("/internal/mitras/{}", data["id"].as_str().unwrap()));
    assert_eq!(app.internal("GET", location, Some(&admin), None).await.assert_ok(200), data);
}

#[tokio::test]
async fn mitra_create_normalises_each_of_the_three_phone_forms_to_e164() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for i in 0..3 {
        let e164 = phone();
        let raw = forms(&e164)[i].clone();
        let data = create_mitra(&app, &admin, &raw).await;
        assert_eq!(data["phone"], e164, "{raw}");
    }
}

#[tokio::test]
async fn mitra_create_works_for_an_operator() {
    let app = spawn_app().await;
    let operator = app.operator_token().await;
    let e164 = phone();
    let data = create_mitra(&app, &operator, &e164).await;
    assert_eq!(Answer::keys(&data), ["created_at", "display_name", "id", "is_active", "phone"]);
    assert_eq!(data["phone"], e164);
    assert_eq!(data["is_active"], false);
}

#[tokio::test]
async fn mitra_create_returns_409_when_phone_already_registered() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let e164 = phone();
    create_mitra(&app, &admin, &e164).await;
    for raw in forms(&e164) {
        let answer =
            app.internal("POST", MITRAS, Some(&admin), Some(json!({ "phone": raw, "display_name": "Dr. Lain" }))).await;
        answer.assert_error(409, "CONFLICT");
    }
    assert_eq!(list_total(&app, &admin, MITRAS).await, 1);
}

#[tokio::test]
async fn mitra_create_rejects_malformed_json_missing_fields_and_wrong_types_with_422() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for raw in ["{ \"phone\": ", "not json", "{\"phone\": \"+6281234567890\"} trailing"] {
        assert_validation(&app.internal_raw("POST", MITRAS, Some(&admin), raw).await, &["body"]);
    }
    assert_validation(&app.internal_raw("POST", MITRAS, Some(&admin), "").await, &["display_name", "phone"]);
    let cases = [
        (json!({}), vec!["display_name", "phone"]),
        (json!({ "display_name": "Dr. Budi" }), vec!["phone"]),
        (json!({ "phone": phone() }), vec!["display_name"]),
        (json!({ "phone": null, "display_name": "Dr. Budi" }), vec!["phone"]),
        (json!({ "phone": 6281234567890u64, "display_name": "Dr. Budi" }), vec!["phone"]),
        (json!({ "phone": phone(), "display_name": 42 }), vec!["display_name"]),
        (json!({ "phone": phone(), "display_name": ["Dr. Budi"] }), vec!["display_name"]),
        (json!("a string"), vec!["body"]),
        (json!(null), vec!["body"]),
        (json!([phone(), "Dr. Array"]), vec!["body"]),
    ];
    for (body, fields) in cases {
        let answer = app.internal("POST", MITRAS, Some(&admin), Some(body.clone())).await;
        assert_validation(&answer, &fields);
    }
    assert_eq!(list_total(&app, &admin, MITRAS).await, 0, "nothing was created");
}

#[tokio::test]
async fn mitra_create_rejects_a_phone_that_is_not_an_indonesian_mobile_number_with_422() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for bad in [
        "",
        "12345",
        "+6221234567890",
        "+1 555 0100",
        "0812-3456-7890",
        "+62812",
        "+628123456789012",
        "+62 812 3456 7890",
        "8123456789",
    ] {
        let answer =
            app.internal("POST", MITRAS, Some(&admin), Some(json!({ "phone": bad, "display_name": "Dr. Budi" }))).await;
        assert_validation(&answer, &["phone"]);
    }
}

#[tokio::test]
async fn mitra_create_rejects_a_blank_or_over_100_character_display_name_with_422() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for bad in [String::new(), "   \t ".into(), "x".repeat(101), "é".repeat(101), "Dr.\u{7}Budi".into()] {
        let answer =
            app.internal("POST", MITRAS, Some(&admin), Some(json!({ "phone": phone(), "display_name": bad }))).await;
        assert_validation(&answer, &["display_name"]);
    }
    // 100 characters (200 bytes) is still fine: the limit counts characters.
    let name = "é".repeat(100);
    let answer =
        app.internal("POST", MITRAS, Some(&admin), Some(json!({ "phone": phone(), "display_name": name }))).await;
    assert_eq!(answer.assert_ok(201)["display_name"], name);
    // Both wrong at once: both reported.
    let answer = app.internal("POST", MITRAS, Some(&admin), Some(json!({ "phone": "123", "display_name": " " }))).await;
    assert_validation(&answer, &["display_name", "phone"]);
}

#[tokio::test]
async fn sixteen_simultaneous_creates_of_one_phone_in_mixed_forms_give_one_201_and_fifteen_409s() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let e164 = phone();
    let forms = forms(&e164);
    let requests = (0..16).map(|i| {
        let body = json!({ "phone": forms[i % 3], "display_name": format!("Dr. Budi {i}") });
        app.internal("POST", MITRAS, Some(&admin), Some(body))
    });
    let answers = join_all(requests).await;
    let created: Vec<_> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(created.len(), 1, "statuses: {:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    for answer in answers.iter().filter(|a| a.status != 201) {
        answer.assert_error(409, "CONFLICT");
    }
    let winner = created[0].data();
    assert_eq!(winner["phone"], e164);
    let listed = app.internal("GET", MITRAS, Some(&admin), None).await;
    let data = listed.assert_ok(200);
    assert_eq!(data["total"], 1);
    assert_eq!(data["items"], json!([winner]));
    assert_eq!(list_total(&app, &admin, &format!("{MITRAS}?is_active=false")).await, 1);
}

#[tokio::test]
async fn mitra_status_patch_answers_exactly_id_and_is_active_and_the_list_reflects_it() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let mitra = create_mitra(&app, &admin, &phone()).await;
    let answer = set_status(&app, &admin, &mitra["id"], true).await;
    assert_eq!(answer.assert_ok(200), &json!({ "id": mitra["id"], "is_active": true }));
    assert_eq!(ordered_keys(answer.data()), ["id", "is_active"]);
    let listed = app.internal("GET", MITRAS, Some(&admin), None).await;
    assert_eq!(listed.assert_ok(200)["items"][0]["is_active"], true);
    // Setting the same value again is harmless and answers the same.
    let again = set_status(&app, &admin, &mitra["id"], true).await;
    assert_eq!(again.assert_ok(200), &json!({ "id": mitra["id"], "is_active": true }));
    assert_eq!(
        list_total(&app, &admin, &format!("{MITRAS}?is_active=true")).await,
        1,
        "a repeated activation must not count twice"
    );
    let answer = set_status(&app, &admin, &mitra["id"], false).await;
    assert_eq!(answer.assert_ok(200), &json!({ "id": mitra["id"], "is_active": false }));
}

#[tokio::test]
async fn mitra_status_patch_works_for_an_operator() {
    let app = spawn_app().await;
    let operator = app.operator_token().await;
    let mitra = create_mitra(&app, &operator, &phone()).await;
    let answer = set_status(&app, &operator, &mitra["id"], true).await;
    assert_eq!(answer.assert_ok(200), &json!({ "id": mitra["id"], "is_active": true }));
}

#[tokio::test]
async fn mitra_status_patch_returns_404_for_an_unknown_uuid() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    for active in [true, false] {
        let answer = set_status(&app, &admin, &json!(uuid::Uuid::new_v4().to_string()), active).await;
        answer.assert_error(404, "NOT_FOUND");
    }
    // No phantom item or counter change came of it.
    assert_eq!(list_total(&app, &admin, MITRAS).await, 0);
    assert_eq!(list_total(&app, &admin, &format!("{MITRAS}?is_active=true")).await, 0);
}

#[tokio::test]
async fn mitra_status_patch_rejects_a_non_uuid_id_and_a_non_boolean_is_active_with_422() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let mitra = create_mitra(&app, &admin, &phone()).await;
    for id in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"] {
        let answer = app.internal("PATCH", &status_path(id), Some(&admin), Some(json!({ "is_active": true }))).await;
        assert_validation(&answer, &["id"]);
    }
    let path = status_path(mitra["id"].as_str().unwrap());
    for body in [
        json!({}),
        json!({ "is_active": null }),
        json!({ "is_active": "true" }),
        json!({ "is_active": "yes" }),
        json!({ "is_active": 1 }),
    ] {
        let answer = app.internal("PATCH", &path, Some(&admin), Some(body)).await;
        assert_validation(&answer, &["is_active"]);
    }
    assert_validation(&app.internal_raw("PATCH", &path, Some(&admin), "{\"is_active\": tru").await, &["body"]);
    let listed = app.internal("GET", MITRAS, Some(&admin), None).await;
    assert_eq!(listed.assert_ok(200)["items"][0]["is_active"], false, "nothing was changed");
}

#[tokio::test]
async fn deactivating_a_mitra_locks_them_out_of_mitra_verify_at_once() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let e164 = phone();
    let mitra = create_mitra(&app, &admin, &e164).await;
    let token = app.mitra_token(&unique("uid-mitra"), &e164);
    // New mitras start inactive.
    app.public("POST", MITRA_VERIFY, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");

    set_status(&app, &admin, &mitra["id"], true).await.assert_ok(200);
    let answer = app.public("POST", MITRA_VERIFY, Some(&token), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(data["id"], mitra["id"]);
    assert_eq!(data["phone"], e164);
    assert_eq!(data["is_active"], true);

    set_status(&app, &admin, &mitra["id"], false).await.assert_ok(200);
    app.public("POST", MITRA_VERIFY, Some(&token), None).await.assert_error(403, "ACCOUNT_INACTIVE");

    // And re-activation lets them back in at once.
    set_status(&app, &admin, &mitra["id"], true).await.assert_ok(200);
    app.public("POST", MITRA_VERIFY, Some(&token), None).await.assert_ok(200);
}
