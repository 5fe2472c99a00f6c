//! Browsers (operations.md §9–10): CORS preflights and headers for the allowed origins only,
//! and the headers of every answer, on the local gateway and through the Lambda pipeline.

use shared::clock::Clock;
use shared::routes::{self, Surface};

use crate::calls::{CREATE, VERIFY, customer_bearer, raw};
use crate::helpers::{Answer, spawn_app, spawn_app_behind, spawn_app_with, unique};
use infra::fault_proxy::{FaultProxy, Mode};

const ALLOWED: &str = "http://localhost:5173";

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
