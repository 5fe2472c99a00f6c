//! operations.md §6–10 over HTTP: account deletion, identity from the token, strict input,
//! CORS and the headers of every answer, on the local gateway and through the Lambda pipeline.

use std::sync::Arc;

use infra::devtoken::Persona;
use serde_json::{Value, json};
use shared::clock::Clock;
use shared::routes::{self, Surface};

use crate::helpers::{Answer, TestApp, phone, spawn_app, spawn_app_behind, spawn_app_with, unique};
use infra::fault_proxy::{FaultProxy, Mode};

const CREATE: &str = "/api/shared/customer/anonymous";
const LINK: &str = "/api/shared/customer/link";
const VERIFY: &str = "/api/client/auth/verify";
const ACCOUNT: &str = "/api/client/account";
const ALLOWED: &str = "http://localhost:5173";

async fn create_customer(app: &TestApp, uid: &str) -> String {
    let answer =
        app.public("POST", CREATE, Some(&app.anonymous_token(uid)), Some(json!({ "display_name": "Angin" }))).await;
    answer.assert_ok(201)["id"].as_str().unwrap().to_owned()
}

/// The `Authorization` value of a new anonymous customer.
async fn customer_bearer(app: &TestApp) -> String {
    let uid = unique("uid");
    create_customer(app, &uid).await;
    format!("Bearer {}", app.anonymous_token(&uid))
}

async fn link(app: &TestApp, token: &str, customer_id: &str, uid: &str) -> Answer {
    app.public("POST", LINK, Some(token), Some(json!({ "customer_id": customer_id, "firebase_uid": uid }))).await
}

/// A token with exactly these identity claims besides the standard ones.
fn token_with(app: &TestApp, uid: &str, identity: Value) -> String {
    let mut claims = app.minter.claims(&Persona::Anonymous { uid: uid.into() });
    claims.as_object_mut().unwrap().extend(identity.as_object().unwrap().clone());
    app.minter.sign(&claims)
}

/// A raw request: any method, headers and body; the answer read whole (an empty body is `null`).
async fn raw(
    app: &TestApp,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let mut request = app.http.request(method.parse().unwrap(), format!("{base}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Answer { status, headers, body }
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer.headers.get(name).map(|v| v.to_str().unwrap())
}

/// The headers of every answer, with the caller's request id echoed.
#[track_caller]
fn assert_every_answer_headers(answer: &Answer, request_id: &str) {
    assert_eq!(header(answer, "cache-control"), Some("no-store"), "{} {}", answer.status, answer.body);
    assert_eq!(header(answer, "x-content-type-options"), Some("nosniff"), "{}", answer.status);
    assert_eq!(header(answer, "x-request-id"), Some(request_id), "{}", answer.status);
}

/// An allowed origin's CORS headers on an ordinary answer.
#[track_caller]
fn assert_cors_allowed(answer: &Answer, origin: &str) {
    assert_eq!(header(answer, "access-control-allow-origin"), Some(origin), "{} {}", answer.status, answer.body);
    assert_eq!(header(answer, "vary"), Some("Origin"), "{}", answer.status);
    assert_eq!(header(answer, "access-control-expose-headers"), Some("x-request-id"), "{}", answer.status);
    assert_eq!(header(answer, "access-control-allow-credentials"), None, "bearer tokens, not cookies");
}

// ------------------------------------------------------------------ §6 account deletion

#[tokio::test]
async fn a_customer_deletes_their_account_then_verify_and_a_second_delete_answer_404() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, &uid).await;
    let token = app.anonymous_token(&uid);
    let deleted = app.public("DELETE", ACCOUNT, Some(&token), None).await;
    assert_eq!(deleted.assert_ok(200), &json!({ "id": id, "deleted": true }));
    app.public("POST", VERIFY, Some(&token), None).await.assert_error(404, "NOT_FOUND");
    app.public("DELETE", ACCOUNT, Some(&token), None).await.assert_error(404, "NOT_FOUND");
    assert!(app.app.customers().by_id(&id.parse().unwrap()).await.unwrap().is_none());
}

#[tokio::test]
async fn account_deletion_needs_a_token_bound_to_a_customer() {
    let app = spawn_app().await;
    app.public("DELETE", ACCOUNT, None, None).await.assert_error(401, "UNAUTHORIZED");
    let stranger = app.anonymous_token(&unique("uid"));
    app.public("DELETE", ACCOUNT, Some(&stranger), None).await.assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn after_deletion_the_same_phone_and_email_register_again_with_a_new_customer() {
    let app = spawn_app().await;
    let (uid, phone) = (unique("uid"), phone());
    let first = create_customer(&app, &uid).await;
    link(&app, &app.phone_token(&uid, &phone), &first, &uid).await.assert_ok(200);
    let google = unique("uid");
    let email = format!("{}@example.com", unique("angin"));
    let with_email = create_customer(&app, &google).await;
    let google_token = app.token(Persona::GoogleCustomer { uid: google.clone(), email: email.clone() });
    link(&app, &google_token, &with_email, &google).await.assert_ok(200);

    // While they exist, the phone and the email belong to them.
    let (other, taken) = (unique("uid"), unique("uid"));
    let blocked = create_customer(&app, &other).await;
    link(&app, &app.phone_token(&other, &phone), &blocked, &other).await.assert_error(409, "ALREADY_REGISTERED");
    let blocked = create_customer(&app, &taken).await;
    let same_email = app.token(Persona::GoogleCustomer { uid: taken.clone(), email: email.clone() });
    link(&app, &same_email, &blocked, &taken).await.assert_error(409, "ALREADY_REGISTERED");

    app.public("DELETE", ACCOUNT, Some(&app.phone_token(&uid, &phone)), None).await.assert_ok(200);
    app.public("DELETE", ACCOUNT, Some(&google_token), None).await.assert_ok(200);
    // The same Firebase uid, phone and email make a new customer.
    let again = create_customer(&app, &uid).await;
    assert_ne!(again, first);
    let relinked = link(&app, &app.phone_token(&uid, &phone), &again, &uid).await;
    assert_eq!(relinked.assert_ok(200)["phone"], phone.as_str());
    let again = create_customer(&app, &google).await;
    assert_eq!(link(&app, &google_token, &again, &google).await.assert_ok(200)["email"], email.as_str());
}

#[tokio::test]
async fn concurrent_delete_and_link_on_one_customer_never_leave_a_half_deleted_customer() {
    let app = Arc::new(spawn_app().await);
    let customers = app.app.customers();
    let table = app.app.tables.customers.clone();
    for round in 0..8 {
        let (uid, phone) = (unique("uid"), phone());
        let id = create_customer(&app, &uid).await;
        let (anonymous, with_phone) = (app.anonymous_token(&uid), app.phone_token(&uid, &phone));
        let (a, b) = (app.clone(), app.clone());
        let delete = tokio::spawn(async move { a.public("DELETE", ACCOUNT, Some(&anonymous), None).await });
        let (id2, uid2) = (id.clone(), uid.clone());
        let linking = tokio::spawn(async move { link(&b, &with_phone, &id2, &uid2).await });
        let (deleted, linked) = (delete.await.unwrap(), linking.await.unwrap());
        assert!(matches!(deleted.status, 200 | 404), "round {round}: {}", deleted.body);
        assert!(matches!(linked.status, 200 | 404 | 409), "round {round}: {}", linked.body);

        let claim = |pk: String| {
            let (client, table) = (app.app.dynamo.clone(), table.clone());
            async move { shared::store::get(&client, &table, &pk).await.unwrap() }
        };
        let uid_claim = claim(format!("UID#{uid}")).await;
        let phone_claim = claim(format!("PHONE#{phone}")).await;
        match customers.by_id(&id.parse().unwrap()).await.unwrap() {
            // Gone: so are its claims, and the phone is free for a new customer.
            None => {
                assert_eq!(deleted.status, 200, "round {round}: the delete won");
                assert!(uid_claim.is_none() && phone_claim.is_none(), "round {round}: a claim outlived its customer");
                let next = unique("uid");
                let fresh = create_customer(&app, &next).await;
                link(&app, &app.phone_token(&next, &phone), &fresh, &next).await.assert_ok(200);
            }
            // Still there: whole, with a claim for what it holds and none for what it does not.
            Some(customer) => {
                assert!(uid_claim.is_some(), "round {round}: a customer without its uid claim");
                assert_eq!(customer.phone.is_some(), phone_claim.is_some(), "round {round}: {customer:?}");
                assert_eq!(customer.is_anonymous, customer.phone.is_none(), "round {round}: {customer:?}");
                let after = app.public("DELETE", ACCOUNT, Some(&app.anonymous_token(&uid)), None).await;
                after.assert_ok(200);
                assert!(claim(format!("PHONE#{phone}")).await.is_none(), "round {round}");
            }
        }
    }
}

// ------------------------------------------------------------- §7 identity from the token

#[tokio::test]
async fn link_normalises_a_spaced_token_phone_and_takes_numbers_from_any_country() {
    let app = spawn_app().await;
    for (typed, stored) in [("+62 812-9999-0001", "+6281299990001"), ("+1 (555) 010.0123", "+15550100123")] {
        let uid = unique("uid");
        let id = create_customer(&app, &uid).await;
        let linked = link(&app, &app.phone_token(&uid, typed), &id, &uid).await;
        assert_eq!(linked.assert_ok(200)["phone"], stored, "{typed}");
    }
    for bad in ["+0 555 0100", "6281299990001", "+62 812 abc", "+1234"] {
        let uid = unique("uid");
        let id = create_customer(&app, &uid).await;
        let refused = link(&app, &app.phone_token(&uid, bad), &id, &uid).await;
        refused.assert_error(422, "VALIDATION_ERROR");
        assert_eq!(refused.body["error"]["details"][0]["field"], "phone_number", "{bad}");
    }
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

#[tokio::test]
async fn linking_needs_a_phone_or_a_verified_email_and_an_unverified_email_is_never_stored() {
    let app = spawn_app().await;
    let custom = json!({ "firebase": { "identities": {}, "sign_in_provider": "custom" } });
    let unverified = |email: &str| {
        json!({ "email": email, "email_verified": false,
                "firebase": { "identities": { "email": [email] }, "sign_in_provider": "password" } })
    };
    let squatted = format!("{}@example.com", unique("victim"));
    for identity in [custom, unverified(&squatted)] {
        let uid = unique("uid");
        let id = create_customer(&app, &uid).await;
        let refused = link(&app, &token_with(&app, &uid, identity.clone()), &id, &uid).await;
        refused.assert_error(422, "VALIDATION_ERROR");
        let still = app.public("POST", VERIFY, Some(&app.anonymous_token(&uid)), None).await;
        assert_eq!(still.assert_ok(200)["is_anonymous"], true, "{identity}");
    }

    // A phone sign-in that also carries an unverified email links by the phone alone.
    let uid = unique("uid");
    let id = create_customer(&app, &uid).await;
    let mut identity = unverified(&squatted);
    identity["phone_number"] = json!(phone());
    let linked = link(&app, &token_with(&app, &uid, identity), &id, &uid).await;
    assert!(linked.assert_ok(200).get("email").is_none(), "{}", linked.body);

    // So the address was not claimed: its owner, once verified, links with it.
    let owner = unique("uid");
    let id = create_customer(&app, &owner).await;
    let verified = json!({ "email": squatted, "email_verified": true,
                           "firebase": { "identities": { "email": [squatted] }, "sign_in_provider": "password" } });
    let linked = link(&app, &token_with(&app, &owner, verified), &id, &owner).await;
    assert_eq!(linked.assert_ok(200)["email"], squatted.as_str());
}

// ------------------------------------------------------------------- §8 strict input

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
    let role = shared::seed::operator_role().id.to_string();
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

// ------------------------------------------------------------------ §9–10 browsers

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_is_answered_on_every_known_path_of_both_surfaces() {
    let app = spawn_app().await;
    let mut paths: Vec<(Surface, &str, Vec<&str>)> = Vec::new();
    for route in routes::ALL {
        match paths.iter_mut().find(|(s, p, _)| *s == route.surface && *p == route.path) {
            Some((_, _, methods)) => methods.push(route.method),
            None => paths.push((route.surface, route.path, vec![route.method])),
        }
    }
    paths.push((Surface::Public, "/openapi.json", vec!["GET"]));
    for (surface, path, methods) in paths {
        let base = if surface == Surface::Public { &app.public_url } else { &app.internal_url };
        let path = path.replace("{id}", "0190a6f4-e89b-72d3-a456-426614174000");
        let request_id = unique("pre");
        let headers =
            [("origin", ALLOWED), ("access-control-request-method", methods[0]), ("x-request-id", &request_id)];
        let answer = raw(&app, base, "OPTIONS", &path, &headers, None).await;
        assert_eq!(answer.status, 204, "{path}: {}", answer.body);
        assert_eq!(header(&answer, "access-control-allow-origin"), Some(ALLOWED), "{path}");
        assert_eq!(
            header(&answer, "access-control-allow-methods"),
            Some(format!("{}, OPTIONS", methods.join(", "))).as_deref(),
            "{path}"
        );
        assert_eq!(header(&answer, "access-control-allow-headers"), Some("authorization, content-type, x-request-id"));
        assert_eq!(header(&answer, "access-control-max-age"), Some("600"));
        assert_eq!(header(&answer, "vary"), Some("Origin"));
        assert_eq!(header(&answer, "access-control-allow-credentials"), None);
        assert_every_answer_headers(&answer, &request_id);
    }
    // The other loopback name of the dev server is allowed too.
    let other = [("origin", "http://127.0.0.1:5173")];
    assert_eq!(raw(&app, &app.internal_url, "OPTIONS", "/internal/mitras", &other, None).await.status, 204);
}

#[tokio::test]
async fn a_preflight_from_any_other_origin_is_403_without_any_allow_header() {
    let app = spawn_app().await;
    for origin in ["https://evil.example", "http://localhost:5174", "null", "http://localhost:5173.evil.example", "*"] {
        let request_id = unique("refused");
        let headers = [("origin", origin), ("access-control-request-method", "POST"), ("x-request-id", &request_id)];
        let answer = raw(&app, &app.internal_url, "OPTIONS", "/internal/mitras", &headers, None).await;
        answer.assert_error(403, "FORBIDDEN");
        assert!(
            answer.headers.keys().all(|k| !k.as_str().starts_with("access-control-allow")),
            "{origin}: {:?}",
            answer.headers
        );
        assert_eq!(header(&answer, "vary"), Some("Origin"));
        assert_every_answer_headers(&answer, &request_id);
    }
    // Without an Origin it is no preflight, just a method the path lacks.
    let plain = raw(&app, &app.internal_url, "OPTIONS", "/internal/mitras", &[], None).await;
    plain.assert_error(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn the_allowed_list_comes_from_cors_allowed_origins() {
    let app = spawn_app_with(&[("CORS_ALLOWED_ORIGINS", "https://control.halobestie.example")]).await;
    let origin = [("origin", "https://control.halobestie.example")];
    assert_eq!(raw(&app, &app.internal_url, "OPTIONS", "/internal/roles", &origin, None).await.status, 204);
    let dev = [("origin", ALLOWED)];
    raw(&app, &app.internal_url, "OPTIONS", "/internal/roles", &dev, None).await.assert_error(403, "FORBIDDEN");
}

/// Every kind of answer of the local gateway, with an allowed origin and a request id.
#[tokio::test]
async fn every_kind_of_answer_carries_cors_for_an_allowed_origin_no_store_nosniff_and_the_request_id() {
    let app = spawn_app().await;
    let bearer = customer_bearer(&app).await;
    let json_type = ("content-type", "application/json");
    let big = format!(r#"{{"display_name":"{}"}}"#, "x".repeat(70 * 1024));
    let cases: Vec<(u16, &str, &str, &str, Vec<(&str, &str)>, Option<&str>)> = vec![
        (201, "public", "POST", CREATE, vec![json_type], Some(r#"{"display_name":"Angin"}"#)),
        (200, "public", "POST", VERIFY, vec![("authorization", &bearer)], None),
        (401, "public", "POST", VERIFY, vec![], None),
        (403, "internal", "GET", "/internal/mitras", vec![("authorization", &bearer)], None),
        (404, "public", "GET", "/api/nowhere", vec![], None),
        (404, "internal", "GET", "/internal/nowhere", vec![], None),
        (405, "public", "GET", CREATE, vec![], None),
        (413, "public", "POST", CREATE, vec![json_type], Some(&big)),
        (415, "public", "POST", CREATE, vec![("content-type", "text/plain")], Some("{}")),
        (422, "public", "POST", CREATE, vec![json_type], Some(r#"{"display_name":"\u202e"}"#)),
        (200, "public", "GET", "/openapi.json", vec![], None),
    ];
    for (status, surface, method, path, mut headers, body) in cases {
        let base = if surface == "public" { &app.public_url } else { &app.internal_url };
        let request_id = unique("every");
        headers.extend([("origin", ALLOWED), ("x-request-id", request_id.as_str())]);
        let answer = raw(&app, base, method, path, &headers, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        assert_every_answer_headers(&answer, &request_id);
        assert_cors_allowed(&answer, ALLOWED);

        // Another origin gets the same answer without CORS, but still Vary: Origin.
        let headers: Vec<(&str, &str)> = headers
            .into_iter()
            .map(|(k, v)| if k == "origin" { (k, "https://evil.example") } else { (k, v) })
            .collect();
        let answer = raw(&app, base, method, path, &headers, body).await;
        assert_eq!(answer.status, status, "{method} {path}");
        assert_eq!(header(&answer, "access-control-allow-origin"), None, "{method} {path}");
        assert_eq!(header(&answer, "vary"), Some("Origin"), "{method} {path}");
        assert_every_answer_headers(&answer, &request_id);
    }
}

#[tokio::test]
async fn a_503_carries_cors_for_an_allowed_origin_and_the_headers_of_every_answer() {
    let proxy = FaultProxy::start(&std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap()).await;
    let app = spawn_app_behind(Some(&proxy.url), None, &[], Clock::system()).await;
    proxy.set(Mode::Refuse);
    let request_id = unique("down");
    let headers = [("content-type", "application/json"), ("origin", ALLOWED), ("x-request-id", request_id.as_str())];
    let answer = raw(&app, &app.public_url, "POST", CREATE, &headers, Some(r#"{"display_name":"Angin"}"#)).await;
    answer.assert_error(503, "SERVICE_UNAVAILABLE");
    assert_every_answer_headers(&answer, &request_id);
    assert_cors_allowed(&answer, ALLOWED);
    proxy.set(Mode::Forward);
}

/// The Lambda path: the function answers OPTIONS and adds the same headers, with no gateway in front.
#[tokio::test]
async fn in_lambda_the_pipeline_answers_preflights_and_adds_cors_and_the_headers_of_every_answer() {
    let app = spawn_app().await;
    let mount = infra::endpoints::all().into_iter().find(|m| m.route == routes::MITRAS_LIST).unwrap();
    let request = |method: &str, origin: &str| {
        http::Request::builder()
            .method(method)
            .uri("https://api.example/dev/internal/mitras")
            .header("origin", origin)
            .header("x-request-id", "lambda-1")
            .body(lambda_http::Body::Empty)
            .unwrap()
    };
    let preflight = (mount.handler)(&app.app, request("OPTIONS", ALLOWED)).await;
    assert_eq!(preflight.status(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], ALLOWED);
    assert_eq!(h["access-control-allow-methods"], "POST, GET, OPTIONS");
    assert_eq!(
        (&h["cache-control"], &h["x-content-type-options"], &h["x-request-id"]),
        (
            &"no-store".parse::<http::HeaderValue>().unwrap(),
            &"nosniff".parse::<http::HeaderValue>().unwrap(),
            &"lambda-1".parse::<http::HeaderValue>().unwrap()
        )
    );
    let refused = (mount.handler)(&app.app, request("OPTIONS", "https://evil.example")).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    let unauthorized = (mount.handler)(&app.app, request("GET", ALLOWED)).await;
    assert_eq!(unauthorized.status(), 401);
    let h = unauthorized.headers();
    assert_eq!(
        (&h["access-control-allow-origin"], &h["vary"], &h["access-control-expose-headers"]),
        (
            &ALLOWED.parse::<http::HeaderValue>().unwrap(),
            &"Origin".parse::<http::HeaderValue>().unwrap(),
            &"x-request-id".parse::<http::HeaderValue>().unwrap()
        )
    );
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
}
