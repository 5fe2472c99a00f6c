//! The API Gateway REST (v1 proxy) events in `events/`, one per function, fed
//! through `lambda_http`'s own event parser to that function's real handler —
//! the Lambda path a deployed function takes, with its stage prefix, path
//! parameters and request context, not the local gateway's.
//!
//! Fixtures hold `{{NAME}}` placeholders for what only a live stage knows (a
//! token, an id); each test fills them from a freshly spawned app.
//!
//! With `EVENTS_BOOTSTRAPS=<dir>` the same test drives the built functions instead:
//! `<dir>/<name>/bootstrap` under AWS's Runtime Interface Emulator (`scripts/rie.sh`,
//! arm64 ones under qemu), on the route's stage, each answer checked the same way
//! (`scripts/smoke-lambda-build.sh`); `EVENTS_ROUTES=a,b` picks routes.

use std::collections::BTreeSet;
use std::path::PathBuf;

use infra::fixture::Prepared;
use lambda_http::RequestExt;
use serde_json::Value;
use shared::routes::{self, Route};
use shared::store::audit::AuditFilter;

use crate::helpers::{TestApp, spawn_app, unique};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// What every example's answer shows, whatever its route: its `data` names what it acted on,
/// echoes each field the body set, and a change leaves its audit record.
async fn check_data(t: &TestApp, route: &Route, prepared: &Prepared, body: Option<&Value>, data: &Value) {
    let name = route.name;
    if let Some(subject) = &prepared.subject {
        let named = match (data.get("items"), data.get("id")) {
            (Some(items), _) => items.as_array().into_iter().flatten().any(|item| item["id"] == subject.as_str()),
            (None, Some(id)) => id == subject.as_str(),
            // An answer about no entity (the anonymity flag).
            (None, None) => true,
        };
        assert!(named, "{name}: data does not name {subject}: {data}");
    }
    for (field, sent) in body.and_then(Value::as_object).into_iter().flatten() {
        match (field.as_str(), data.get(field)) {
            ("role_id", _) => assert_eq!(&data["role"]["id"], sent, "{name}: role"),
            (_, Some(answered)) => assert_eq!(answered, sent, "{name}: {field}"),
            (_, None) => {}
        }
    }
    if route.method == "DELETE" {
        assert_eq!(data["deleted"], true, "{name}: {data}");
    }
    if let Some(action) = route.audit {
        let filter = AuditFilter { action: Some(action), target: prepared.subject.clone(), ..Default::default() };
        let (records, _) = shared::store::audit::page(&t.app.dynamo, &t.app.tables.audit_log, &filter, 10, None)
            .await
            .expect("audit log reads");
        assert!(!records.is_empty(), "{name}: no {} record", action.as_str());
    }
}

/// Fills the fixture, parses it as Lambda would, runs the route's handler and checks the answer.
async fn drive(route: Route) {
    let name = route.name;
    let t = spawn_app().await;
    let prepared = t.stage().prepare(&route).await.expect("the example's state is stored");

    let text = std::fs::read_to_string(events_dir().join(format!("{name}.json"))).expect("fixture exists");
    let text = prepared.fill(&text);
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
        Some(dir) => under_rie(&t, name, &PathBuf::from(dir).join(name).join("bootstrap"), text).await,
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
    assert_eq!(status, route.example.status, "{name}: {body}");
    assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"), "{name}");
    // No x-request-id header in the event: the API Gateway request id is the request's id.
    assert_eq!(headers.get("x-request-id").and_then(|v| v.to_str().ok()), context["requestId"].as_str(), "{name}");
    let envelope: BTreeSet<&str> =
        body.as_object().expect("envelope is an object").keys().map(String::as_str).collect();
    assert_eq!(envelope, BTreeSet::from(["data", "success"]), "{name}: {body}");
    assert_eq!(body["success"], true, "{name}: {body}");
    assert!(body["data"].is_object() || body["data"].is_array(), "{name}: {body}");
    let sent = event["body"].as_str().map(|b| serde_json::from_str::<Value>(b).expect("the body is JSON"));
    check_data(&t, &route, &prepared, sent.as_ref(), &body["data"]).await;
}

/// One invocation of `bootstrap` with `event` under `scripts/rie.sh`, configured for `t`'s stage:
/// the API Gateway response it returned, as status, headers and body.
async fn under_rie(
    t: &TestApp,
    name: &str,
    bootstrap: &std::path::Path,
    event: String,
) -> (u16, http::HeaderMap, Vec<u8>) {
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

#[tokio::test]
async fn every_route_answers_its_event_fixture_through_its_own_handler() {
    let only: Option<Vec<String>> =
        std::env::var("EVENTS_ROUTES").ok().map(|names| names.split(',').map(str::to_owned).collect());
    for name in only.iter().flatten() {
        assert!(routes::ALL.iter().any(|r| r.name == name), "EVENTS_ROUTES names no route {name}");
    }
    let mut failed = Vec::new();
    // One at a time: each spawns its own stage, and the other tests run beside this one. Each in
    // its own task, so that one failing route still lets the others report.
    for route in routes::ALL.into_iter().filter(|r| only.as_ref().is_none_or(|o| o.iter().any(|n| n == r.name))) {
        let passed = tokio::spawn(drive(route)).await.is_ok();
        println!("events: {} {}", route.name, if passed { "passed" } else { "failed" });
        if !passed {
            failed.push(route.name);
        }
    }
    assert!(failed.is_empty(), "these routes did not answer their fixtures: {failed:?}");
}
