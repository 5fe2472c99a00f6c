//! The API Gateway REST (v1 proxy) events in `events/`, one per function, fed
//! through `lambda_http`'s own event parser to that function's real handler —
//! the Lambda path a deployed function takes, with its stage prefix, path
//! parameters and request context, not the local gateway's.
//!
//! Fixtures hold `{{NAME}}` placeholders for what only a live stage knows (a
//! token, an id); each test fills them from a freshly spawned app.

use std::collections::BTreeSet;
use std::path::PathBuf;

use infra::fixture::Prepared;
use lambda_http::RequestExt;
use serde_json::Value;
use shared::routes::{self, Route};
use shared::store::audit::AuditFilter;

use crate::helpers::{TestApp, spawn_app};

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

    let handler =
        infra::endpoints::all().into_iter().find(|m| m.route == route).map(|m| m.handler).expect("route has a handler");
    let response = handler(&t.app, request).await;

    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap_or_else(|_| {
        panic!("{name}: non-JSON answer ({status}): {:?}", String::from_utf8_lossy(response.body().as_ref()))
    });
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
    // One at a time: each spawns its own stage, and the other tests run beside this one.
    for route in routes::ALL {
        drive(route).await;
    }
}
