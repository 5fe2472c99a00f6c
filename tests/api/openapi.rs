//! The OpenAPI specs: the spec's routes are the handlers' routes,
//! the committed files are the generated ones, the gateway serves them, and every
//! answer of a scripted tour of both surfaces matches what its spec documents.
//! `scripts/schemathesis.sh` fuzzes the same specs against a running gateway.

use std::path::PathBuf;

use infra::devtoken::Persona;
use infra::{openapi, specs};
use serde_json::{Value, json};
use shared::routes::Surface;

use crate::helpers::{Answer, phone, spawn_app, unique};

const SURFACES: [(Surface, &str); 2] = [(Surface::Public, "public"), (Surface::Internal, "internal")];

#[test]
fn openapi_spec_routes_equal_the_handler_routes_per_surface() {
    for (surface, name) in SURFACES {
        let in_spec = openapi::operations(&specs::spec(surface));
        let handled: std::collections::BTreeSet<(String, String)> = infra::endpoints::all()
            .into_iter()
            .map(|mount| mount.route)
            .filter(|route| route.surface == surface)
            .map(|route| (route.method.to_owned(), route.path.to_owned()))
            .collect();
        assert_eq!(in_spec, handled, "{name} surface: spec routes differ from the handlers' routes");
        assert!(!handled.is_empty());
    }
}

#[test]
fn openapi_committed_specs_equal_the_generated_ones() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    let update = std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1");
    for (surface, name) in SURFACES {
        let file = dir.join(format!("{name}.json"));
        let generated = specs::to_json(surface);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == generated,
            "openapi/{name}.json is not the generated spec; regenerate it with \
             `halo-dev gen` (or `UPDATE_OPENAPI=1 cargo test -p api-tests --test api openapi`) and review the diff"
        );
    }
}

#[test]
fn openapi_specs_are_well_formed_and_describe_every_error_with_the_envelope() {
    for (surface, name) in SURFACES {
        let spec = specs::spec(surface);
        assert_eq!(spec["openapi"], "3.0.3");
        for (path, item) in spec["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let label = format!("{name}: {method} {path}");
                let responses = op["responses"].as_object().unwrap();
                for status in ["401", "413", "500", "503"] {
                    assert!(responses.contains_key(status), "{label} lacks {status}");
                }
                assert!(responses["503"]["headers"]["Retry-After"].is_object(), "{label}");
                for (status, response) in responses {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert_eq!(schema["additionalProperties"], false, "{label} {status}");
                    assert!(response["headers"]["x-request-id"].is_object(), "{label} {status}");
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(schema["properties"]["success"]["enum"], json!([false]), "{label} {status}");
                    }
                }
                assert!(op["security"].is_array(), "{label}");
            }
        }
        // Every `$ref` resolves, and every object schema of a response is closed.
        for (schema_name, schema) in spec["components"]["schemas"].as_object().unwrap() {
            if schema["type"] == "object" && !schema_name.ends_with("Request") {
                assert_eq!(schema["additionalProperties"], false, "{name}: {schema_name}");
                assert!(schema["required"].is_array(), "{name}: {schema_name}");
            }
        }
        let text = spec.to_string();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap();
            let pointer = target.strip_prefix('#').unwrap();
            assert!(spec.pointer(pointer).is_some(), "{name}: dangling {target}");
        }
    }
}

#[tokio::test]
async fn openapi_json_is_served_on_each_port_and_other_paths_still_404_and_405() {
    let app = spawn_app().await;
    for (surface, base) in [(Surface::Public, &app.public_url), (Surface::Internal, &app.internal_url)] {
        let response = app.http.get(format!("{base}/openapi.json")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert!(response.headers().contains_key("x-request-id"));
        assert_eq!(response.text().await.unwrap(), specs::to_json(surface));
        let post = app.call(base, "POST", "/openapi.json", None, None).await;
        post.assert_error(405, "METHOD_NOT_ALLOWED");
        assert_eq!(post.headers["allow"], "GET");
        app.call(base, "GET", "/openapi.yaml", None, None).await.assert_error(404, "NOT_FOUND");
        app.call(base, "GET", "/openapi.json/x", None, None).await.assert_error(404, "NOT_FOUND");
    }
}

/// Every answer of a tour through both surfaces — successes and each kind of error —
/// has a status its operation documents and a body and headers its schema admits.
#[tokio::test]
async fn openapi_every_answer_of_a_tour_of_both_surfaces_matches_the_spec() {
    let app = spawn_app().await;
    let public = specs::spec(Surface::Public);
    let internal = specs::spec(Surface::Internal);
    let mut checked = 0;
    let mut check = |spec: &Value, method: &str, template: &str, answer: Answer| {
        if let Err(problem) = conforms(spec, method, template, &answer) {
            panic!("{method} {template} answered {}: {problem}\nbody: {}", answer.status, answer.body);
        }
        checked += 1;
    };

    // Public surface.
    let create = "/api/shared/customer/anonymous";
    let link = "/api/shared/customer/link";
    let verify = "/api/client/auth/verify";
    let mitra_verify = "/api/mitra/auth/verify";
    let anonymity = "/api/shared/config/anonymity";
    let uid = unique("uid-tour");
    let anonymous = app.anonymous_token(&uid);
    let name = json!({ "display_name": "Angin Malam" });
    check(&public, "POST", create, app.public("POST", create, None, Some(name.clone())).await);
    let created = app.public("POST", create, Some(&anonymous), Some(name.clone())).await;
    let customer_id = created.data()["id"].as_str().unwrap().to_owned();
    check(&public, "POST", create, created);
    check(&public, "POST", create, app.public("POST", create, Some(&anonymous), Some(name.clone())).await);
    check(&public, "POST", create, app.public("POST", create, None, Some(json!({}))).await);
    check(
        &public,
        "POST",
        create,
        app.public("POST", create, None, Some(json!({ "display_name": "x".repeat(51) }))).await,
    );
    check(&public, "POST", create, app.public_raw("POST", create, None, "{").await);
    check(&public, "POST", create, app.public("POST", create, Some("not-a-jwt"), Some(name.clone())).await);
    check(&public, "POST", verify, app.public("POST", verify, Some(&anonymous), None).await);
    check(&public, "POST", verify, app.public("POST", verify, None, None).await);
    check(&public, "POST", verify, app.public("POST", verify, Some(&app.anonymous_token(&unique("u"))), None).await);
    let linker = app.phone_token(&uid, &phone());
    let body = json!({ "customer_id": customer_id, "firebase_uid": uid });
    check(
        &public,
        "POST",
        link,
        app.public("POST", link, Some(&linker), Some(json!({ "customer_id": customer_id, "firebase_uid": "x" }))).await,
    );
    check(
        &public,
        "POST",
        link,
        app.public("POST", link, Some(&linker), Some(json!({ "customer_id": "nope", "firebase_uid": uid }))).await,
    );
    check(
        &public,
        "POST",
        link,
        app.public(
            "POST",
            link,
            Some(&linker),
            Some(json!({ "customer_id": uuid::Uuid::new_v4(), "firebase_uid": uid })),
        )
        .await,
    );
    let linked = app.public("POST", link, Some(&linker), Some(body.clone())).await;
    assert_eq!(linked.status, 200, "{}", linked.body);
    check(&public, "POST", link, linked);
    check(&public, "POST", link, app.public("POST", link, Some(&linker), Some(body.clone())).await);
    check(&public, "POST", verify, app.public("POST", verify, Some(&linker), None).await);
    let google = app.token(Persona::GoogleCustomer { uid: unique("uid-google"), email: "someone@example.com".into() });
    check(&public, "POST", verify, app.public("POST", verify, Some(&google), None).await);
    check(&public, "POST", link, app.public_raw("POST", link, Some(&linker), &"x".repeat(70_000)).await);
    let active = phone();
    app.insert_mitra(&active, true).await;
    let inactive = phone();
    app.insert_mitra(&inactive, false).await;
    for token in [
        app.mitra_token(&unique("uid-mitra"), &active),
        app.mitra_token(&unique("uid-mitra"), &inactive),
        app.mitra_token(&unique("uid-mitra"), &phone()),
        anonymous.clone(),
    ] {
        check(&public, "POST", mitra_verify, app.public("POST", mitra_verify, Some(&token), None).await);
    }
    check(&public, "GET", anonymity, app.public("GET", anonymity, Some(&anonymous), None).await);
    check(&public, "GET", anonymity, app.public("GET", anonymity, None, None).await);

    // Internal surface.
    let admin = app.super_admin_token().await;
    let operator = app.operator_token().await;
    let stranger = crate::internal::stranger_token(&app);
    let control_center_user_verify = "/internal/auth/verify";
    check(
        &internal,
        "POST",
        control_center_user_verify,
        app.internal("POST", control_center_user_verify, Some(&admin), None).await,
    );
    check(
        &internal,
        "POST",
        control_center_user_verify,
        app.internal("POST", control_center_user_verify, Some(&operator), None).await,
    );
    check(
        &internal,
        "POST",
        control_center_user_verify,
        app.internal("POST", control_center_user_verify, Some(&stranger), None).await,
    );
    check(
        &internal,
        "POST",
        control_center_user_verify,
        app.internal("POST", control_center_user_verify, None, None).await,
    );
    let mitras = "/internal/mitras";
    let mitra_phone = phone();
    let mitra_body = json!({ "phone": mitra_phone.replace("+62", "0"), "display_name": " Dr. Budi " });
    let created = app.internal("POST", mitras, Some(&admin), Some(mitra_body.clone())).await;
    let mitra_id = created.data()["id"].as_str().unwrap().to_owned();
    check(&internal, "POST", mitras, created);
    check(&internal, "POST", mitras, app.internal("POST", mitras, Some(&admin), Some(mitra_body.clone())).await);
    check(&internal, "POST", mitras, app.internal("POST", mitras, Some(&admin), Some(json!({ "phone": "12" }))).await);
    check(&internal, "POST", mitras, app.internal("POST", mitras, Some(&stranger), Some(mitra_body.clone())).await);
    check(&internal, "POST", mitras, app.internal("POST", mitras, None, Some(mitra_body.clone())).await);
    // `page` may be as large as u32::MAX: past the last page is an empty page, not a crash.
    for query in ["", "?page=1&limit=5&is_active=false", "?page=0", "?limit=101", "?is_active=yes", "?page=4294967295"]
    {
        check(&internal, "GET", mitras, app.internal("GET", &format!("{mitras}{query}"), Some(&admin), None).await);
    }
    let status = "/internal/mitras/{id}/status";
    for (id, body) in [
        (mitra_id.as_str(), json!({ "is_active": true })),
        (mitra_id.as_str(), json!({ "is_active": "yes" })),
        ("not-a-uuid", json!({ "is_active": true })),
        (&*uuid::Uuid::new_v4().to_string(), json!({ "is_active": false })),
    ] {
        let path = format!("/internal/mitras/{id}/status");
        check(&internal, "PATCH", status, app.internal("PATCH", &path, Some(&admin), Some(body)).await);
    }
    let users = "/internal/control-center-users";
    let email = format!("{}@HaloBestie.com", unique("Op"));
    let (operator_role, super_role) = (crate::internal::operator_role_id(), crate::internal::super_admin_role_id());
    let control_center_user_body = json!({ "email": email, "display_name": "Operator 1", "role_id": operator_role });
    check(
        &internal,
        "POST",
        users,
        app.internal("POST", users, Some(&admin), Some(control_center_user_body.clone())).await,
    );
    check(
        &internal,
        "POST",
        users,
        app.internal("POST", users, Some(&admin), Some(control_center_user_body.clone())).await,
    );
    check(&internal, "POST", users, app.internal("POST", users, Some(&admin), Some(json!({ "email": "x" }))).await);
    let escalate =
        json!({ "email": format!("{}@halobestie.com", unique("e")), "display_name": "E", "role_id": super_role });
    check(&internal, "POST", users, app.internal("POST", users, Some(&operator), Some(escalate)).await);
    for query in ["", "?page=2&limit=1", "?limit=0", "?page=4294967295&limit=100", "?page=4294967296"] {
        check(&internal, "GET", users, app.internal("GET", &format!("{users}{query}"), Some(&admin), None).await);
    }
    check(&internal, "GET", users, app.internal("GET", users, Some(&operator), None).await);
    let roles = "/internal/roles";
    check(&internal, "GET", roles, app.internal("GET", roles, Some(&admin), None).await);
    check(&internal, "GET", roles, app.internal("GET", roles, Some(&stranger), None).await);
    let config = "/internal/config/anonymity";
    check(&internal, "GET", config, app.internal("GET", config, Some(&operator), None).await);
    check(
        &internal,
        "PATCH",
        config,
        app.internal("PATCH", config, Some(&admin), Some(json!({ "anonymity_enabled": false }))).await,
    );
    check(
        &internal,
        "PATCH",
        config,
        app.internal("PATCH", config, Some(&admin), Some(json!({ "anonymity_enabled": "false" }))).await,
    );
    check(
        &internal,
        "PATCH",
        config,
        app.internal("PATCH", config, Some(&operator), Some(json!({ "anonymity_enabled": true }))).await,
    );
    check(&internal, "GET", config, app.internal("GET", config, Some(&admin), None).await);
    assert!(checked >= 55, "{checked}");
}

/// A staff email on an IDNA domain (`xn--…`, or any label with hyphens third and fourth) is a
/// real address: it is stored, and its answer still matches the spec (`format: email`
/// validators refuse such labels, so the spec states the grammar as a pattern instead).
#[tokio::test]
async fn openapi_a_staff_email_on_an_idna_domain_is_created_and_its_answer_matches_the_spec() {
    let app = spawn_app().await;
    let admin = app.super_admin_token().await;
    let internal = specs::spec(Surface::Internal);
    let role = shared::domain::roles::operator_role().id.to_string();
    for domain in ["xn--bcher-kva.com", "mail.c0--h7jh.com"] {
        let email = format!("{}@{domain}", unique("x"));
        let body = json!({ "email": email, "display_name": "Operator", "role_id": role });
        let created = app.internal("POST", "/internal/control-center-users", Some(&admin), Some(body)).await;
        created.assert_ok(201);
        assert_eq!(created.body["data"]["email"], email);
        if let Err(problem) = conforms(&internal, "POST", "/internal/control-center-users", &created) {
            panic!("{domain}: {problem}\nbody: {}", created.body);
        }
    }
}

/// Whether the spec documents this answer: its status, its required headers, its body.
fn conforms(spec: &Value, method: &str, template: &str, answer: &Answer) -> Result<(), String> {
    let operation = &spec["paths"][template][method.to_ascii_lowercase()];
    let response = &operation["responses"][answer.status.to_string()];
    if !response.is_object() {
        return Err("status not documented".into());
    }
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let header = resolve(spec, header);
        if header["required"] == true && !answer.headers.contains_key(name.as_str()) {
            return Err(format!("required header {name} missing"));
        }
    }
    let validator = validator(spec, &response["content"]["application/json"]["schema"]);
    let errors: Vec<String> =
        validator.iter_errors(&answer.body).map(|e| format!("{}: {e}", e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

fn resolve<'a>(spec: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        schema = spec.pointer(target.trim_start_matches('#')).unwrap_or_else(|| panic!("dangling {target}"));
    }
    schema
}

/// A JSON Schema (draft 7) validator for one of the spec's schemas, its `$ref`s resolved
/// against the spec's components. OpenAPI 3.0's `nullable` becomes a `null` type.
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = json!({ "allOf": [schema], "components": spec["components"] });
    openapi_to_json_schema(&mut root);
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&root)
        .unwrap_or_else(|e| panic!("the spec's schema does not compile: {e}"))
}

fn openapi_to_json_schema(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(kind)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([kind, "null"]));
                }
                if let Some(Value::Array(allowed)) = map.get_mut("enum") {
                    allowed.push(Value::Null);
                }
            }
            map.values_mut().for_each(openapi_to_json_schema);
        }
        Value::Array(items) => items.iter_mut().for_each(openapi_to_json_schema),
        _ => {}
    }
}

#[test]
fn openapi_response_validation_rejects_what_the_schema_does_not_admit() {
    let spec = specs::spec(Surface::Internal);
    let mitra = json!({ "$ref": "#/components/schemas/Mitra" });
    let good = json!({ "id": "0190a6f4-e89b-72d3-a456-426614174000", "phone": "+6281234567890",
                       "display_name": "Dr. Budi", "is_active": false, "created_at": "2026-04-04T00:00:00.123Z" });
    assert!(validator(&spec, &mitra).is_valid(&good));
    for (field, bad) in [("phone", json!("081234567890")), ("created_at", json!("yesterday")), ("extra", json!(1))] {
        let mut value = good.clone();
        value[field] = bad;
        assert!(!validator(&spec, &mitra).is_valid(&value), "{field}");
    }
    let profile = json!({ "$ref": "#/components/schemas/CustomerProfile" });
    let public = specs::spec(Surface::Public);
    let customer = json!({ "id": "0190a6f4-e89b-72d3-a456-426614174000", "display_name": "Angin", "is_anonymous": true,
                           "phone": null, "created_at": "2026-04-04T00:00:00Z" });
    assert!(validator(&public, &profile).is_valid(&customer));
}

/// The request patterns admit exactly what the handlers accept, on samples of each edge.
#[test]
fn openapi_request_patterns_agree_with_the_domain_parsers() {
    let matches = |pattern: &str, s: &str| fancy_regex::Regex::new(pattern).unwrap().is_match(s).unwrap();
    let names = [
        "Angin Malam",
        " a ",
        "\t\u{3000}Budi\u{85}",
        "a\u{7}b",
        "",
        "   ",
        "x\u{a0}y",
        "\u{a0}",
        "é",
        "\u{200b}",
        "\u{200b}a",
        "a\u{200b}",
        "\u{202e}x",
        "x\u{2066}",
        "\u{60911}",
        "\u{e000}b",
        "\u{f0000}",
        " \u{853c3}\r",
        "\u{2028}a\u{2029}",
    ];
    let long = ["x".repeat(50), "x".repeat(51), format!("  {}  ", "y".repeat(50)), "z".repeat(100), "z".repeat(101)];
    for name in names.iter().map(|s| s.to_string()).chain(long) {
        let customer = shared::domain::CustomerDisplayName::parse(Some(&name)).is_ok();
        assert_eq!(matches(&shared::schema::name_input_pattern(50), &name), customer, "customer name {name:?}");
        let other = shared::domain::DisplayName::parse(&name).is_ok();
        assert_eq!(
            matches(&shared::schema::name_input_pattern(100), &name),
            other,
            "mitra or control-center user name {name:?}"
        );
        if let Ok(parsed) = shared::domain::DisplayName::parse(&name) {
            assert!(matches(&shared::schema::name_output_pattern(100), &parsed.into_inner()), "{name:?}");
        }
    }
    for email in [
        "a@b.co",
        " A@B.CO ",
        "\u{a0}a@b.co",
        "a@-bad-.com",
        "a@[127.0.0.1]",
        "\"a\"@b.co",
        "a..b@c.io",
        "a@b.c0",
        "a@b",
        ".a@b.co",
        "a.@b.co",
        "ä@b.co",
        "a@b..co",
        "o'neil+x@mail.example-1.co.id",
        "a@ab--c.com",
        "a@xn--bcher-kva.com",
        "a@a--b.com",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([format!("{}@b.co", vec!["l".repeat(16); 4].join(".")), format!("a@{}.co", "x".repeat(64))])
    {
        let parsed = shared::domain::Email::parse(&email).is_ok();
        assert_eq!(matches(&shared::schema::email_pattern(), &email), parsed, "email {email:?}");
    }
    // The pattern bounds the local part by its atoms, so it is stricter than the parser there:
    // what it admits, the parser accepts.
    for email in [format!("{}@b.co", "l".repeat(64)), format!("{}@b.co", "l".repeat(65)), "a.b.c.d.e@b.co".to_owned()] {
        if matches(&shared::schema::email_pattern(), &email) {
            assert!(shared::domain::Email::parse(&email).is_ok(), "email {email:?}");
        }
    }
    for raw in [
        "+6281234567890",
        "6281234567890",
        "081234567890",
        "0812345678",
        "08123456789012",
        "0812345678901",
        "+62812345678901",
        "+628123456",
        "+6221234567",
        "0812-345-678",
        "62081234567",
        "+1 555 0100",
        "",
    ] {
        let accepted = shared::domain::Phone::parse(raw).is_ok();
        assert_eq!(matches(shared::schema::PHONE_INPUT_PATTERN, raw), accepted, "phone {raw:?}");
        if let Ok(phone) = shared::domain::Phone::parse(raw) {
            assert!(matches(shared::schema::PHONE_E164_PATTERN, phone.as_str()), "{raw:?}");
        }
    }
}
