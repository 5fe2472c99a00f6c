//! The customer routes of the public surface.

use futures::future::join_all;
use infra::devtoken::Persona;
use serde::Serialize;
use serde_json::json;

use shared::clock::Clock;

use crate::helpers::{Answer, TestApp, is_rfc3339_utc, phone, spawn_app, spawn_app_at, unique};

const CREATE: &str = "/api/shared/customer/anonymous";
const LINK: &str = "/api/shared/customer/link";
const VERIFY: &str = "/api/client/auth/verify";

async fn create_customer(app: &crate::helpers::TestApp, token: Option<&str>) -> String {
    let answer = app.public("POST", CREATE, token, Some(json!({ "display_name": "Angin Malam" }))).await;
    answer.data()["id"].as_str().expect("customer id").to_owned()
}

/// POSTs a link request with exactly the contract's two fields.
async fn link(app: &TestApp, token: Option<&str>, customer_id: impl Serialize, firebase_uid: impl Serialize) -> Answer {
    let body = json!({ "customer_id": customer_id, "firebase_uid": firebase_uid });
    app.public("POST", LINK, token, Some(body)).await
}

#[tokio::test]
async fn a_function_configured_from_the_lambda_environment_serves_the_same_stage() {
    let app = spawn_app().await;
    let lambda = app.lambda_process().await;
    let token = app.anonymous_token(&unique("lambda-env"));
    let body = json!({ "display_name": "Angin Malam" });

    let created = lambda.public("POST", "/api/shared/customer/anonymous", Some(&token), Some(body.clone())).await;
    let again = app.public("POST", "/api/shared/customer/anonymous", Some(&token), Some(body)).await;

    assert_eq!(again.assert_ok(200)["id"], created.assert_ok(201)["id"]);
    let flag = lambda.public("GET", "/api/shared/config/anonymity", Some(&token), None).await;
    assert!(flag.assert_ok(200)["anonymity_enabled"].is_boolean(), "{:?}", flag.body);
    assert_eq!(flag.data(), app.public("GET", "/api/shared/config/anonymity", Some(&token), None).await.data());
}

#[tokio::test]
async fn anonymous_create_returns_201_with_exactly_the_contract_fields() {
    let app = spawn_app().await;
    let answer = app.public("POST", CREATE, None, Some(json!({ "display_name": "  Angin Malam  " }))).await;
    let data = answer.assert_ok(201);
    assert_eq!(Answer::keys(data), ["created_at", "display_name", "id", "is_anonymous"]);
    assert_eq!(data["display_name"], "Angin Malam");
    assert_eq!(data["is_anonymous"], true);
    assert!(uuid::Uuid::parse_str(data["id"].as_str().unwrap()).is_ok());
    assert!(is_rfc3339_utc(&data["created_at"]), "{}", data["created_at"]);
    assert!(answer.headers.get("x-request-id").is_some());
}

#[tokio::test]
async fn anonymous_create_answers_no_location_as_a_customer_has_no_get_route_of_its_own() {
    let app = spawn_app().await;
    let answer = app.public("POST", CREATE, None, Some(json!({ "display_name": "Angin Malam" }))).await;
    answer.assert_ok(201);
    assert!(answer.headers.get("location").is_none(), "{:?}", answer.headers);
}

#[tokio::test]
async fn anonymous_create_returns_display_name_required_when_missing_null_or_blank() {
    let app = spawn_app().await;
    for body in
        [json!({}), json!({ "display_name": null }), json!({ "display_name": "   " }), json!({ "display_name": "" })]
    {
        app.public("POST", CREATE, None, Some(body)).await.assert_error(422, "DISPLAY_NAME_REQUIRED");
    }
    app.public_raw("POST", CREATE, None, "").await.assert_error(422, "DISPLAY_NAME_REQUIRED");
}

#[tokio::test]
async fn anonymous_create_returns_validation_error_for_long_or_control_character_names() {
    let app = spawn_app().await;
    let too_long = "a".repeat(51);
    for name in [too_long.as_str(), "Angin\u{0}Malam", "Angin\nMalam"] {
        let answer = app.public("POST", CREATE, None, Some(json!({ "display_name": name }))).await;
        answer.assert_error(422, "VALIDATION_ERROR");
        assert_eq!(answer.body["error"]["details"][0]["field"], "display_name");
    }
    app.public("POST", CREATE, None, Some(json!({ "display_name": "a".repeat(50) }))).await.assert_ok(201);
}

#[tokio::test]
async fn anonymous_create_returns_422_for_malformed_json_and_wrong_types() {
    let app = spawn_app().await;
    for raw in [
        "{",
        "not json",
        "[]",
        "[\"Angin\"]",
        "\"name\"",
        "{\"display_name\": \"a\"} trailing",
        "{\"display_name\": 5}",
    ] {
        let answer = app.public_raw("POST", CREATE, None, raw).await;
        answer.assert_error(422, "VALIDATION_ERROR");
        assert!(answer.body["error"]["details"].as_array().is_some_and(|d| !d.is_empty()), "{raw}: {}", answer.body);
    }
}

#[tokio::test]
async fn anonymous_create_with_a_token_binds_the_uid_and_is_idempotent() {
    let app = spawn_app().await;
    let token = app.anonymous_token(&unique("anon"));
    let first = app.public("POST", CREATE, Some(&token), Some(json!({ "display_name": "Angin" }))).await;
    let again = app.public("POST", CREATE, Some(&token), Some(json!({ "display_name": "Another" }))).await;
    assert_eq!(first.assert_ok(201)["id"], again.assert_ok(200)["id"]);
    assert_eq!(again.data()["display_name"], "Angin");
    let other = app
        .public("POST", CREATE, Some(&app.anonymous_token(&unique("anon"))), Some(json!({ "display_name": "B" })))
        .await;
    assert_ne!(other.assert_ok(201)["id"], first.data()["id"]);
}

#[tokio::test]
async fn anonymous_create_rejects_an_invalid_token_instead_of_ignoring_it() {
    let app = spawn_app().await;
    let answer = app.public("POST", CREATE, Some("not.a.token"), Some(json!({ "display_name": "A" }))).await;
    answer.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let app = spawn_app().await;
    let body = json!({ "display_name": "x".repeat(70 * 1024) });
    app.public("POST", CREATE, None, Some(body)).await.assert_error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_as_json_envelopes() {
    let app = spawn_app().await;
    app.public("GET", "/api/nope", None, None).await.assert_error(404, "NOT_FOUND");
    app.public("POST", "/internal/auth/verify", None, None).await.assert_error(404, "NOT_FOUND");
    let answer = app.public("GET", CREATE, None, None).await;
    answer.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(answer.headers.get("allow").unwrap(), "POST");
}

#[tokio::test]
async fn the_gateway_takes_trailing_slashes_and_path_parameters_and_refuses_head_and_options() {
    let app = spawn_app().await;
    let token = app.super_admin_token().await;
    let listed = app.internal("GET", "/internal/mitras/?page=1&limit=5", Some(&token), None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["data"]["limit"], 5, "the query survives the trimmed slash");
    let mitra = app.insert_mitra(&phone(), false).await;
    let path = format!("/internal/mitras/{}/status", mitra.id);
    let patched = app.internal("PATCH", &path, Some(&token), Some(json!({ "is_active": true }))).await;
    assert_eq!((patched.status, &patched.body["data"]["id"]), (200, &json!(mitra.id)), "{}", patched.body);
    app.internal("PATCH", "/internal/mitras//status", Some(&token), None).await.assert_error(404, "NOT_FOUND");

    // Both methods of a path in Allow, in the route table's order; HEAD is not GET here.
    let options = app.internal("OPTIONS", "/internal/mitras", Some(&token), None).await;
    options.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(options.headers["allow"], "POST, GET");
    let head = app.http.head(format!("{}/internal/roles", app.internal_url)).send().await.unwrap();
    assert_eq!(head.status(), 405);
    assert_eq!(head.headers()["allow"], "GET");
}

#[tokio::test]
async fn the_callers_sane_request_id_is_echoed_and_an_insane_one_replaced() {
    let app = spawn_app().await;
    let url = format!("{}{CREATE}", app.public_url);
    let sane = app.http.post(&url).header("x-request-id", "req-123.abc").body("{}").send().await.unwrap();
    assert_eq!(sane.headers()["x-request-id"], "req-123.abc");
    let insane = app.http.post(&url).header("x-request-id", "bad id <script>").body("{}").send().await.unwrap();
    let id = insane.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(id, "bad id <script>");
    assert!(uuid::Uuid::parse_str(&id).is_ok());
}

#[tokio::test]
async fn link_returns_200_with_the_phone_from_the_token() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, Some(&app.anonymous_token(&uid))).await;
    let number = phone();
    let token = app.phone_token(&uid, &number);
    let answer = app
        .public(
            "POST",
            LINK,
            Some(&token),
            Some(json!({ "customer_id": id, "firebase_uid": uid, "phone": "+6289999" })),
        )
        .await;
    let data = answer.assert_ok(200);
    assert_eq!(Answer::keys(data), ["created_at", "display_name", "id", "is_anonymous", "phone"]);
    assert_eq!(data["id"], id.as_str());
    assert_eq!(data["is_anonymous"], false);
    assert_eq!(data["phone"], number.as_str());
    assert_eq!(data["display_name"], "Angin Malam");
    assert!(is_rfc3339_utc(&data["created_at"]));
}

#[tokio::test]
async fn link_of_a_customer_created_without_a_token_works() {
    let app = spawn_app().await;
    let id = create_customer(&app, None).await;
    let uid = unique("uid");
    let answer = link(&app, Some(&app.phone_token(&uid, &phone())), &id, &uid).await;
    answer.assert_ok(200);
}

#[tokio::test]
async fn link_with_a_google_login_adds_the_email_and_a_null_phone() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, Some(&app.anonymous_token(&uid))).await;
    let token = app.token(Persona::GoogleCustomer { uid: uid.clone(), email: "angin@example.com".into() });
    let data = link(&app, Some(&token), &id, &uid).await;
    let data = data.assert_ok(200);
    assert_eq!(data["email"], "angin@example.com");
    assert!(data["phone"].is_null());
    assert_eq!(data["is_anonymous"], false);
}

#[tokio::test]
async fn link_refuses_a_token_phone_that_is_no_e164_number_and_leaves_the_customer_anonymous() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, Some(&app.anonymous_token(&uid))).await;
    let answer = link(&app, Some(&app.phone_token(&uid, "+0 555 0100")), &id, &uid).await;
    answer.assert_error(422, "VALIDATION_ERROR");
    assert_eq!(answer.body["error"]["details"][0]["field"], "phone_number");
    let verify = app.public("POST", VERIFY, Some(&app.anonymous_token(&uid)), None).await;
    assert_eq!(verify.assert_ok(200)["is_anonymous"], true);
}

#[tokio::test]
async fn link_returns_401_without_a_token() {
    let app = spawn_app().await;
    let id = create_customer(&app, None).await;
    link(&app, None, &id, &"x").await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn link_returns_403_when_firebase_uid_does_not_match_the_token() {
    let app = spawn_app().await;
    let id = create_customer(&app, None).await;
    let token = app.phone_token(&unique("uid"), &phone());
    let answer = link(&app, Some(&token), &id, &"someone-else").await;
    answer.assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn link_returns_404_when_the_customer_does_not_exist() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let body = json!({ "customer_id": uuid::Uuid::new_v4(), "firebase_uid": uid });
    app.public("POST", LINK, Some(&app.phone_token(&uid, &phone())), Some(body)).await.assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn link_returns_422_for_a_non_uuid_customer_id_or_missing_fields() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let token = app.phone_token(&uid, &phone());
    let answer = link(&app, Some(&token), &"123", &uid).await;
    answer.assert_error(422, "VALIDATION_ERROR");
    assert_eq!(answer.body["error"]["details"][0]["field"], "customer_id");
    let answer = app.public("POST", LINK, Some(&token), Some(json!({}))).await;
    answer.assert_error(422, "VALIDATION_ERROR");
    assert_eq!(answer.body["error"]["details"].as_array().unwrap().len(), 2, "{}", answer.body);
    app.public_raw("POST", LINK, Some(&token), "{\"customer_id\":").await.assert_error(422, "VALIDATION_ERROR");
}

#[tokio::test]
async fn link_returns_422_when_the_token_is_still_anonymous() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let token = app.anonymous_token(&uid);
    let id = create_customer(&app, Some(&token)).await;
    let answer = link(&app, Some(&token), &id, &uid).await;
    answer.assert_error(422, "VALIDATION_ERROR");
}

#[tokio::test]
async fn link_returns_409_when_the_customer_is_already_linked() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, Some(&app.anonymous_token(&uid))).await;
    let token = app.phone_token(&uid, &phone());
    let body = json!({ "customer_id": id, "firebase_uid": uid });
    app.public("POST", LINK, Some(&token), Some(body.clone())).await.assert_ok(200);
    app.public("POST", LINK, Some(&token), Some(body)).await.assert_error(409, "ALREADY_REGISTERED");
}

#[tokio::test]
async fn link_returns_409_when_phone_already_linked_to_another_customer() {
    let app = spawn_app().await;
    let number = phone();
    let (first_uid, second_uid) = (unique("uid"), unique("uid"));
    let first = create_customer(&app, None).await;
    let second = create_customer(&app, None).await;
    let answer = link(&app, Some(&app.phone_token(&first_uid, &number)), &first, &first_uid).await;
    answer.assert_ok(200);
    let answer = link(&app, Some(&app.phone_token(&second_uid, &number)), &second, &second_uid).await;
    answer.assert_error(409, "ALREADY_REGISTERED");
    let still_anonymous = app.public("POST", CREATE, None, Some(json!({ "display_name": "x" }))).await;
    still_anonymous.assert_ok(201);
}

#[tokio::test]
async fn link_returns_409_when_the_uid_already_belongs_to_another_linked_customer() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let first = create_customer(&app, None).await;
    let second = create_customer(&app, None).await;
    let token = app.phone_token(&uid, &phone());
    link(&app, Some(&token), &first, &uid).await.assert_ok(200);
    let answer = link(&app, Some(&token), &second, &uid).await;
    answer.assert_error(409, "ALREADY_REGISTERED");
}

#[tokio::test]
async fn link_returns_403_when_the_customer_was_created_by_another_uid() {
    let app = spawn_app().await;
    let id = create_customer(&app, Some(&app.anonymous_token(&unique("owner")))).await;
    let intruder = unique("intruder");
    let answer = link(&app, Some(&app.phone_token(&intruder, &phone())), &id, &intruder).await;
    answer.assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn twelve_simultaneous_links_of_one_customer_yield_exactly_one_200() {
    let app = spawn_app().await;
    let id = create_customer(&app, None).await;
    let app = &app;
    let attempts = (0..12).map(|_| {
        let uid = unique("racer");
        let token = app.phone_token(&uid, &phone());
        let body = json!({ "customer_id": id, "firebase_uid": uid });
        async move { app.public("POST", LINK, Some(&token), Some(body)).await }
    });
    let answers = join_all(attempts).await;
    let ok = answers.iter().filter(|a| a.status == 200).count();
    let conflicts = answers.iter().filter(|a| a.status == 409 && a.code() == "ALREADY_REGISTERED").count();
    assert_eq!((ok, conflicts), (1, 11), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
}

#[tokio::test]
async fn simultaneous_links_of_one_phone_to_different_customers_yield_exactly_one_200() {
    let app = spawn_app().await;
    let number = phone();
    let mut attempts = Vec::new();
    let app = &app;
    for _ in 0..6 {
        let id = create_customer(app, None).await;
        let uid = unique("racer");
        let token = app.phone_token(&uid, &number);
        attempts.push(async move { link(app, Some(&token), &id, &uid).await });
    }
    let answers = join_all(attempts).await;
    assert_eq!(answers.iter().filter(|a| a.status == 200).count(), 1);
    assert!(answers.iter().all(|a| a.status == 200 || a.code() == "ALREADY_REGISTERED"));
}

#[tokio::test]
async fn client_verify_returns_the_customer_bound_to_the_token() {
    let app = spawn_app().await;
    let uid = unique("uid");
    let id = create_customer(&app, Some(&app.anonymous_token(&uid))).await;
    let answer = app.public("POST", VERIFY, Some(&app.anonymous_token(&uid)), None).await;
    let data = answer.assert_ok(200);
    assert_eq!(Answer::keys(data), ["created_at", "display_name", "id", "is_anonymous", "phone"]);
    assert_eq!((data["id"].as_str(), data["is_anonymous"].as_bool()), (Some(id.as_str()), Some(true)));
    assert!(data["phone"].is_null());
    let number = phone();
    let token = app.phone_token(&uid, &number);
    link(&app, Some(&token), &id, &uid).await.assert_ok(200);
    let data = app.public("POST", VERIFY, Some(&token), None).await;
    assert_eq!(data.assert_ok(200)["phone"], number.as_str());
}

#[tokio::test]
async fn client_verify_returns_404_for_a_login_without_a_customer_and_401_without_a_token() {
    let app = spawn_app().await;
    app.public("POST", VERIFY, Some(&app.phone_token(&unique("uid"), &phone())), None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.public("POST", VERIFY, None, None).await.assert_error(401, "UNAUTHORIZED");
    app.public("POST", VERIFY, Some("garbage"), None).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn public_anonymity_get_defaults_to_true_and_needs_a_token() {
    let app = spawn_app().await;
    let answer = app.public("GET", "/api/shared/config/anonymity", Some(&app.anonymous_token("a")), None).await;
    assert_eq!(answer.assert_ok(200), &json!({ "anonymity_enabled": true }));
    app.public("GET", "/api/shared/config/anonymity", None, None).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn public_anonymity_get_reads_the_ssm_parameter() {
    let clock = Clock::manual();
    let app = spawn_app_at(&clock).await;
    let token = app.anonymous_token("a");
    // Written with a plain SSM client, past the flag's cache, as another process or the console would.
    for value in [false, true, false] {
        app.app
            .ssm
            .put_parameter()
            .name(&app.app.config.anonymity_parameter)
            .value(value.to_string())
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
            .await
            .unwrap();
        clock.advance(app.app.config.anonymity_cache_ttl);
        let answer = app.public("GET", "/api/shared/config/anonymity", Some(&token), None).await;
        assert_eq!(answer.assert_ok(200), &json!({ "anonymity_enabled": value }));
    }
}
