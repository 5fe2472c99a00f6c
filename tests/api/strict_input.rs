//! Strict input (operations.md §8): names, UUIDs and emails as the contract spells them,
//! duplicate keys and parameters, two Authorization headers, and only JSON bodies.

use serde_json::json;

use crate::calls::{CREATE, VERIFY, create_customer, customer_bearer, link, raw};
use crate::helpers::{phone, spawn_app, unique};

#[tokio::test]
async fn names_count_grapheme_clusters_need_a_visible_character_and_refuse_bidi_controls() {
    let app = spawn_app().await;
    let create = |name: String| {
        let app = &app;
        async move { app.public("POST", CREATE, None, Some(json!({ "display_name": name }))).await }
    };
    // 50 user-perceived characters of two code points each are 50, not 100.
    create("e\u{301}".repeat(50)).await.assert_ok(201);
    create("e\u{301}".repeat(51)).await.assert_error(422, "VALIDATION_ERROR");
    let family = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
    create(family.repeat(3)).await.assert_ok(201);
    // Few clusters, but over 400 bytes.
    create(family.repeat(20)).await.assert_error(422, "VALIDATION_ERROR");
    for blank in ["\u{200b}\u{200c}\u{200d}", "\u{feff}", " \u{2060} ", "\u{00ad}"] {
        create(blank.to_owned()).await.assert_error(422, "DISPLAY_NAME_REQUIRED");
    }
    for bidi in ["\u{202e}Budi", "Budi\u{2066}", "\u{202a}\u{202c}"] {
        let refused = create(bidi.to_owned()).await;
        refused.assert_error(422, "VALIDATION_ERROR");
        assert_eq!(refused.body["error"]["details"][0]["field"], "display_name");
    }
    // Mitra and control-center user names: blank is a plain validation error.
    let token = app.super_admin_token().await;
    for name in ["\u{200b}", "A\u{202e}B"] {
        let refused = app
            .internal("POST", "/internal/mitras", Some(&token), Some(json!({ "phone": phone(), "display_name": name })))
            .await;
        refused.assert_error(422, "VALIDATION_ERROR");
    }
    let mitra = app
        .internal(
            "POST",
            "/internal/mitras",
            Some(&token),
            Some(json!({ "phone": phone(), "display_name": "e\u{301}".repeat(100) })),
        )
        .await;
    mitra.assert_ok(201);
}

#[tokio::test]
async fn uuids_are_accepted_only_in_the_canonical_hyphenated_form() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, &uid).await;
    let token = app.phone_token(&uid, &phone());
    for form in [format!("{{{id}}}"), format!("urn:uuid:{id}"), id.replace('-', "")] {
        let refused = link(&app, &token, &form, &uid).await;
        refused.assert_error(422, "VALIDATION_ERROR");
        assert_eq!(refused.body["error"]["details"][0]["field"], "customer_id", "{form}");
    }
    let admin = app.super_admin_token().await;
    let mitra = app.insert_mitra(&phone(), true).await;
    for form in [format!("urn:uuid:{}", mitra.id), mitra.id.simple().to_string(), format!("%7B{}%7D", mitra.id)] {
        let path = format!("/internal/mitras/{form}/status");
        app.internal("PATCH", &path, Some(&admin), Some(json!({ "is_active": false })))
            .await
            .assert_error(422, "VALIDATION_ERROR");
    }
    link(&app, &token, &id.to_uppercase(), &uid).await.assert_ok(200);
}

#[tokio::test]
async fn control_center_emails_follow_the_practical_grammar() {
    let app = spawn_app().await;
    let token = app.super_admin_token().await;
    let role = shared::domain::roles::operator_role().id.to_string();
    let create = |email: String| {
        let (app, token, role) = (&app, &token, &role);
        async move {
            let body = json!({ "email": email, "display_name": "Operator", "role_id": role });
            app.internal("POST", "/internal/control-center-users", Some(token), Some(body)).await
        }
    };
    for bad in [
        "a@-bad-.com",
        "a@[127.0.0.1]",
        "\"a b\"@example.com",
        "a..b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a@localhost",
        "a@example.c0m",
        "a@exa_mple.com",
        "ä@example.com",
        "a@example..com",
    ] {
        let refused = create(bad.to_owned()).await;
        refused.assert_error(422, "VALIDATION_ERROR");
        assert_eq!(refused.body["error"]["details"][0]["field"], "email", "{bad}");
    }
    create(format!("{}@example.com", "l".repeat(65))).await.assert_error(422, "VALIDATION_ERROR");
    create(format!("o'neil+{}@mail.example-1.co.id", unique("x"))).await.assert_ok(201);
}

#[tokio::test]
async fn duplicate_json_keys_and_repeated_query_parameters_are_validation_errors() {
    let app = spawn_app().await;
    let duplicate = app.public_raw("POST", CREATE, None, r#"{"display_name":"A","display_name":"B"}"#).await;
    duplicate.assert_error(422, "VALIDATION_ERROR");
    assert_eq!(duplicate.body["error"]["details"][0]["field"], "display_name");
    let token = app.super_admin_token().await;
    let nested = app
        .internal_raw(
            "PATCH",
            "/internal/config/anonymity",
            Some(&token),
            r#"{"anonymity_enabled":true,"x":{"a":1,"a":2}}"#,
        )
        .await;
    nested.assert_error(422, "VALIDATION_ERROR");
    let repeated = app.internal("GET", "/internal/mitras?page=1&page=2", Some(&token), None).await;
    repeated.assert_error(422, "VALIDATION_ERROR");
    assert_eq!(repeated.body["error"]["details"][0]["field"], "page");
    app.internal("GET", "/internal/mitras?page=1&limit=5", Some(&token), None).await.assert_ok(200);
}

#[tokio::test]
async fn two_authorization_headers_are_unauthorized_even_when_both_are_valid() {
    let app = spawn_app().await;
    let bearer = customer_bearer(&app).await;
    let headers = [("authorization", bearer.as_str()), ("authorization", bearer.as_str())];
    let answer = raw(&app, &app.public_url, "POST", VERIFY, &headers, None).await;
    answer.assert_error(401, "UNAUTHORIZED");
    raw(&app, &app.public_url, "POST", VERIFY, &headers[..1], None).await.assert_ok(200);
}

#[tokio::test]
async fn a_form_style_text_plain_post_is_refused_with_415_and_creates_nothing() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let bearer = format!("Bearer {}", app.anonymous_token(&uid));
    let body = Some(r#"{"display_name":"Angin"}"#);
    for content_type in
        [Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("multipart/form-data; boundary=x"), None]
    {
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend(content_type.map(|c| ("content-type", c)));
        let refused = raw(&app, &app.public_url, "POST", CREATE, &headers, body).await;
        refused.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    app.public("POST", VERIFY, Some(&app.anonymous_token(&uid)), None).await.assert_error(404, "NOT_FOUND");
    let headers = [("authorization", bearer.as_str()), ("content-type", "Application/JSON; charset=utf-8")];
    raw(&app, &app.public_url, "POST", CREATE, &headers, body).await.assert_ok(201);
    // An empty body needs no content type.
    raw(&app, &app.public_url, "POST", VERIFY, &headers[..1], None).await.assert_ok(200);
}
