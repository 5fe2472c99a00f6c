//! The API Gateway REST (v1 proxy) events in `events/`, one per function, fed
//! through `lambda_http`'s own event parser to that function's real handler —
//! the Lambda path a deployed function takes, with its stage prefix, path
//! parameters and request context, not the local gateway's.
//!
//! Fixtures hold `{{NAME}}` placeholders for what only a live stage knows (a
//! token, an id); each test fills them from a freshly spawned app.
//!
//! With `EVENTS_BOOTSTRAPS=<dir>` the same tests drive the built functions instead:
//! `<dir>/<name>/bootstrap` under AWS's Runtime Interface Emulator (`scripts/rie.sh`,
//! arm64 ones under qemu), on the test's stage, each answer checked the same way
//! (`scripts/smoke-lambda-build.sh`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use lambda_http::RequestExt;
use serde_json::Value;
use shared::domain::CustomerDisplayName;
use shared::routes::{self, Route};

use crate::helpers::{SUPER_ADMIN_EMAIL, TestApp, phone, spawn_app, unique};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn route(name: &str) -> Route {
    routes::ALL.into_iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no route named {name}"))
}

/// Checks `data` against the variables the fixture was filled with.
type DataCheck = Box<dyn Fn(&Value, &[(&'static str, String)])>;

/// What one fixture needs filled in, and what its handler must answer.
struct Case {
    vars: Vec<(&'static str, String)>,
    status: u16,
    /// Further checks on `data`, showing the event's body, query or path parameters arrived.
    check: DataCheck,
}

impl Case {
    fn new(status: u16, vars: Vec<(&'static str, String)>) -> Self {
        Self { vars, status, check: Box::new(|_, _| {}) }
    }

    fn check(mut self, check: impl Fn(&Value, &[(&'static str, String)]) + 'static) -> Self {
        self.check = Box::new(check);
        self
    }
}

fn var<'v>(vars: &'v [(&'static str, String)], name: &str) -> &'v str {
    vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
}

/// The super admin's request about the mitra or user `id`, the fixture's variable `key`: its
/// `data` names that id and passes `more`.
async fn about(t: &TestApp, key: &'static str, id: String, more: impl Fn(&Value) + 'static) -> Case {
    Case::new(200, vec![("TOKEN", t.super_admin_token().await), (key, id)]).check(move |data, vars| {
        assert_eq!(data["id"], var(vars, key));
        more(data);
    })
}

/// A customer bound to `uid`, as `POST /api/shared/customer/anonymous` with a token makes one.
async fn bound_customer(t: &TestApp, uid: &str) -> uuid::Uuid {
    let name = CustomerDisplayName::parse(Some("Angin Malam")).unwrap();
    match t.app.customers().create_anonymous(name, Some(uid)).await.unwrap().value() {
        Some(customer) => customer.id,
        None => panic!("a customer is created or found"),
    }
}

/// Sets up the state the fixture's request needs on `t`.
async fn prepare(t: &TestApp, name: &str) -> Case {
    match name {
        "customer-anonymous" => Case::new(201, vec![]).check(|data, _| {
            assert_eq!(data["display_name"], "Angin Malam");
            assert_eq!(data["is_anonymous"], true);
        }),
        "customer-link" => {
            let uid = unique("uid-link");
            let customer = bound_customer(t, &uid).await;
            let token = t.phone_token(&uid, &phone());
            Case::new(200, vec![("TOKEN", token), ("CUSTOMER_ID", customer.to_string()), ("UID", uid)]).check(
                |data, vars| {
                    assert_eq!(data["id"], var(vars, "CUSTOMER_ID"));
                    assert_eq!(data["is_anonymous"], false);
                },
            )
        }
        "client-auth-verify" => {
            let uid = unique("uid-client");
            let customer = bound_customer(t, &uid).await;
            Case::new(200, vec![("TOKEN", t.anonymous_token(&uid)), ("CUSTOMER_ID", customer.to_string())])
                .check(|data, vars| assert_eq!(data["id"], var(vars, "CUSTOMER_ID")))
        }
        "client-account-delete" => {
            let uid = unique("uid-client");
            let customer = bound_customer(t, &uid).await;
            Case::new(200, vec![("TOKEN", t.anonymous_token(&uid)), ("CUSTOMER_ID", customer.to_string())]).check(
                |data, vars| {
                    assert_eq!((&data["id"], &data["deleted"]), (&var(vars, "CUSTOMER_ID").into(), &true.into()))
                },
            )
        }
        "mitra-auth-verify" => {
            let phone = phone();
            let mitra = t.insert_mitra(&phone, true).await;
            Case::new(
                200,
                vec![("TOKEN", t.mitra_token(&unique("uid-mitra"), &phone)), ("MITRA_ID", mitra.id.to_string())],
            )
            .check(|data, vars| assert_eq!(data["id"], var(vars, "MITRA_ID")))
        }
        "public-anonymity-get" => Case::new(200, vec![("TOKEN", t.anonymous_token(&unique("uid-anon")))])
            .check(|data, _| assert_eq!(data["anonymity_enabled"], true)),
        // The seeded super admin's first login: the fixture itself binds the uid by verified email.
        "internal-auth-verify" => {
            Case::new(200, vec![("TOKEN", t.control_center_user_token("uid-super-admin", SUPER_ADMIN_EMAIL))]).check(
                |data, _| {
                    assert_eq!(data["email"], SUPER_ADMIN_EMAIL);
                    assert_eq!(data["role"]["name"], "super_admin");
                },
            )
        }
        "mitras-create" => {
            Case::new(201, vec![("TOKEN", t.super_admin_token().await), ("PHONE", phone())]).check(|data, vars| {
                assert_eq!(data["phone"], var(vars, "PHONE"));
                assert_eq!(data["is_active"], false);
            })
        }
        "mitras-list" => {
            let inactive = t.insert_mitra(&phone(), false).await;
            t.insert_mitra(&phone(), true).await;
            // The fixture asks for is_active=false: only the inactive mitra comes back.
            Case::new(200, vec![("TOKEN", t.super_admin_token().await), ("MITRA_ID", inactive.id.to_string())]).check(
                |data, vars| {
                    assert_eq!(data["total"], 1, "{data}");
                    assert_eq!(data["items"][0]["id"], var(vars, "MITRA_ID"));
                    assert_eq!((data["page"].as_u64(), data["limit"].as_u64()), (Some(1), Some(20)));
                },
            )
        }
        "mitras-status" => {
            let mitra = t.insert_mitra(&phone(), false).await;
            Case::new(200, vec![("TOKEN", t.super_admin_token().await), ("MITRA_ID", mitra.id.to_string())]).check(
                |data, vars| {
                    assert_eq!(data["id"], var(vars, "MITRA_ID"));
                    assert_eq!(data["is_active"], true);
                },
            )
        }
        "control-center-users-create" => {
            let email = format!("{}@halobestie.com", unique("operator"));
            let role = shared::domain::roles::operator_role().id.to_string();
            Case::new(201, vec![("TOKEN", t.super_admin_token().await), ("EMAIL", email), ("ROLE_ID", role)]).check(
                |data, vars| {
                    assert_eq!(data["email"], var(vars, "EMAIL"));
                    assert_eq!(data["role"]["name"], "operator");
                },
            )
        }
        "control-center-users-list" => Case::new(200, vec![("TOKEN", t.super_admin_token().await)]).check(|data, _| {
            assert_eq!(data["total"], 1, "{data}");
            assert_eq!(data["items"][0]["email"], SUPER_ADMIN_EMAIL);
        }),
        "roles-list" => Case::new(200, vec![("TOKEN", t.super_admin_token().await)]).check(|data, _| {
            let names: BTreeSet<&str> = data.as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
            assert_eq!(names, BTreeSet::from(["operator", "super_admin"]));
        }),
        "anonymity-get" => Case::new(200, vec![("TOKEN", t.super_admin_token().await)])
            .check(|data, _| assert_eq!(data["anonymity_enabled"], true)),
        "anonymity-patch" => Case::new(200, vec![("TOKEN", t.super_admin_token().await)])
            .check(|data, _| assert_eq!(data["anonymity_enabled"], false)),
        "mitras-get" => {
            let mitra = t.insert_mitra(&phone(), true).await;
            about(t, "MITRA_ID", mitra.id.to_string(), |data| assert_eq!(data["is_active"], true)).await
        }
        "mitras-update" => {
            let mitra = t.insert_mitra(&phone(), false).await;
            let vars =
                vec![("TOKEN", t.super_admin_token().await), ("MITRA_ID", mitra.id.to_string()), ("PHONE", phone())];
            Case::new(200, vars).check(|data, vars| {
                assert_eq!(data["id"], var(vars, "MITRA_ID"));
                assert_eq!(data["phone"], var(vars, "PHONE"));
                assert_eq!(data["display_name"], "Dr. Budi Santoso");
            })
        }
        "mitras-delete" => {
            let mitra = t.insert_mitra(&phone(), true).await;
            about(t, "MITRA_ID", mitra.id.to_string(), |data| assert_eq!(data["deleted"], true)).await
        }
        "mitras-revoke-sessions" => {
            let mitra = t.insert_mitra(&phone(), true).await;
            about(t, "MITRA_ID", mitra.id.to_string(), |data| {
                assert!(data["tokens_valid_after"].as_str().is_some_and(|t| t.ends_with('Z')), "{data}");
            })
            .await
        }
        "control-center-users-get" => {
            about(t, "USER_ID", operator(t).await, |data| assert_eq!(data["is_active"], true)).await
        }
        "control-center-users-update" => {
            about(t, "USER_ID", operator(t).await, |data| assert_eq!(data["display_name"], "Operator Satu")).await
        }
        "control-center-users-delete" => {
            about(t, "USER_ID", operator(t).await, |data| assert_eq!(data["deleted"], true)).await
        }
        "control-center-users-revoke-sessions" => {
            about(t, "USER_ID", operator(t).await, |data| assert!(data["tokens_valid_after"].is_string())).await
        }
        // The super admin's first login is the one record; the fixture asks for limit=20.
        "audit-log-list" => Case::new(200, vec![("TOKEN", t.super_admin_token().await)]).check(|data, _| {
            assert_eq!(data["limit"], 20);
            assert_eq!(data["items"][0]["action"], "control_center_user.bind");
            assert_eq!(data["next_cursor"], Value::Null);
        }),
        other => panic!("events/{other}.json has no set-up in tests/api/events.rs"),
    }
}

/// An operator stored directly (the user-lifecycle fixtures act on one); its id.
async fn operator(t: &TestApp) -> String {
    let email = shared::domain::Email::parse(&format!("{}@halobestie.com", unique("operator"))).unwrap();
    let name = shared::domain::DisplayName::parse("Operator").unwrap();
    let role = shared::domain::roles::operator_role().id;
    let user = t.app.control_center_users().create(&email, name, role, None).await.unwrap().value().unwrap();
    user.id.to_string()
}

/// Fills the fixture, parses it as Lambda would, runs the route's handler and checks the answer.
async fn drive(name: &str) {
    let route = route(name);
    let t = spawn_app().await;
    let case = prepare(&t, name).await;

    let mut text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).expect("fixture exists");
    for (key, value) in &case.vars {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    assert!(!text.contains("{{"), "events/{name}.json has a placeholder the test does not fill: {text}");

    // The fixture is the event API Gateway sends for this route on the dev stage.
    let event: Value = serde_json::from_str(&text).expect("fixture is JSON");
    let context = &event["requestContext"];
    assert_eq!(event["resource"], route.path, "resource template");
    assert_eq!(context["resourcePath"], route.path);
    assert_eq!(event["httpMethod"], route.method);
    assert_eq!(context["httpMethod"], route.method);
    assert_eq!(context["stage"], "dev");
    let path = event["path"].as_str().expect("path");
    assert_eq!(context["path"].as_str(), Some(format!("/dev{path}").as_str()), "requestContext.path carries the stage");
    assert!(route.match_path(path).is_some(), "{path} does not match {}", route.path);

    let request =
        lambda_http::request::from_str(&text).expect("lambda_http parses the fixture as an API Gateway event");
    assert!(
        matches!(request.request_context_ref(), Some(lambda_http::request::RequestContext::ApiGatewayV1(_))),
        "parsed as a REST API (v1) event"
    );
    // lambda_http puts the stage into the URI; handlers never route on it, only on path parameters.
    assert_eq!(request.uri().path(), format!("/dev{path}"));
    assert_eq!(request.raw_http_path(), path);

    let (status, headers, raw) = match std::env::var_os("EVENTS_BOOTSTRAPS") {
        Some(dir) => under_rie(&t, &PathBuf::from(dir).join(name).join("bootstrap"), text).await,
        None => {
            let handler = infra::endpoints::all()
                .into_iter()
                .find(|m| m.route == route)
                .map(|m| m.handler)
                .expect("route has a handler");
            let response = handler(&t.app, request).await;
            (response.status().as_u16(), response.headers().clone(), response.body().to_vec())
        }
    };
    let body: Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|_| panic!("{name}: non-JSON answer ({status}): {:?}", String::from_utf8_lossy(&raw)));
    assert_eq!(status, case.status, "{name}: {body}");
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"), "{name}");
    // No x-request-id header in the event: the API Gateway request id is the request's id.
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), context["requestId"].as_str(), "{name}");
    let envelope: BTreeSet<&str> =
        body.as_object().expect("envelope is an object").keys().map(String::as_str).collect();
    assert_eq!(envelope, BTreeSet::from(["data", "success"]), "{name}: {body}");
    assert_eq!(body["success"], true, "{name}: {body}");
    assert!(body["data"].is_object() || body["data"].is_array(), "{name}: {body}");
    (case.check)(&body["data"], &case.vars);
}

/// One invocation of `bootstrap` with `event` under `scripts/rie.sh`, configured for `t`'s stage:
/// the API Gateway response it returned, as status, headers and body.
async fn under_rie(t: &TestApp, bootstrap: &std::path::Path, event: String) -> (u16, http::HeaderMap, Vec<u8>) {
    let name = bootstrap.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    assert!(bootstrap.is_file(), "no built function at {}", bootstrap.display());
    let work = std::env::temp_dir().join(unique("rie"));
    std::fs::create_dir_all(&work).unwrap();
    let (event_file, answer_file) = (work.join("event.json"), work.join("answer.json"));
    std::fs::write(&event_file, event).unwrap();
    let mut rie = std::process::Command::new(events_dir().join("../scripts/rie.sh"));
    rie.arg("--answer").arg(&answer_file).arg(bootstrap).arg(&event_file).envs(t.env());
    // Blocking off the runtime: the function fetches its keys from this test's certificate server.
    let output = tokio::task::spawn_blocking(move || rie.output()).await.unwrap().expect("scripts/rie.sh runs");
    let answer = std::fs::read(&answer_file);
    std::fs::remove_dir_all(&work).ok();
    assert!(output.status.success(), "{name} under the RIE failed:\n{}", String::from_utf8_lossy(&output.stderr));
    // The RIE's figures for this cold invocation, one line per function (shown with --nocapture).
    println!("rie: {name}: {}", String::from_utf8_lossy(&output.stdout).trim().replace('\n', " | "));

    let answer: Value = serde_json::from_slice(&answer.expect("rie.sh wrote the answer")).expect("a JSON answer");
    let status = answer["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()).expect("statusCode");
    // A REST API (v1) response carries its headers in multiValueHeaders.
    let mut headers = http::HeaderMap::new();
    for (key, values) in answer["multiValueHeaders"].as_object().into_iter().flatten() {
        for value in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
            headers.append(http::HeaderName::try_from(key.as_str()).unwrap(), value.parse().unwrap());
        }
    }
    assert_eq!(answer["isBase64Encoded"], false, "{name}: {answer}");
    (status, headers, answer["body"].as_str().unwrap_or_default().as_bytes().to_vec())
}

#[test]
fn every_route_has_exactly_one_event_fixture_and_every_fixture_a_route() {
    let fixtures: BTreeSet<String> = std::fs::read_dir(events_dir())
        .expect("events/ exists")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| !file.starts_with('.'))
        .map(|file| {
            file.strip_suffix(".json").unwrap_or_else(|| panic!("events/{file} is not a .json fixture")).to_owned()
        })
        .collect();
    let routes: BTreeSet<String> = routes::ALL.iter().map(|r| r.name.to_owned()).collect();
    assert_eq!(fixtures, routes, "events/<route name>.json, one per route");
}

macro_rules! fixtures {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[tokio::test]
            async fn $test() {
                drive($name).await;
            }
        )*

        #[test]
        fn every_fixture_is_driven_by_a_test() {
            let driven = BTreeSet::from([$($name),*]);
            let routes: BTreeSet<&str> = routes::ALL.iter().map(|r| r.name).collect();
            assert_eq!(driven, routes);
        }
    };
}

fixtures! {
    customer_anonymous => "customer-anonymous",
    customer_link => "customer-link",
    client_auth_verify => "client-auth-verify",
    client_account_delete => "client-account-delete",
    mitra_auth_verify => "mitra-auth-verify",
    public_anonymity_get => "public-anonymity-get",
    internal_auth_verify => "internal-auth-verify",
    mitras_create => "mitras-create",
    mitras_list => "mitras-list",
    mitras_status => "mitras-status",
    control_center_users_create => "control-center-users-create",
    control_center_users_list => "control-center-users-list",
    roles_list => "roles-list",
    anonymity_get => "anonymity-get",
    anonymity_patch => "anonymity-patch",
    mitras_get => "mitras-get",
    mitras_update => "mitras-update",
    mitras_delete => "mitras-delete",
    mitras_revoke_sessions => "mitras-revoke-sessions",
    control_center_users_get => "control-center-users-get",
    control_center_users_update => "control-center-users-update",
    control_center_users_delete => "control-center-users-delete",
    control_center_users_revoke_sessions => "control-center-users-revoke-sessions",
    audit_log_list => "audit-log-list",
}
