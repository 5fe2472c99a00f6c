//! The request pipeline shared by every function: request id, body cap,
//! authorization, the handler, and the envelope — in Lambda and in the local gateway alike.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

use crate::app::App;
use crate::auth::authorize;
use crate::endpoint::{CallerKind, Ctx, Endpoint, Input, Refusal, Resolved};
use crate::error::ApiError;
use crate::request::{body_bytes, is_json, request_id};

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Runs one request through the pipeline and always answers with the envelope.
pub async fn run<E: Endpoint>(app: &App, req: Request) -> Response<Body> {
    const {
        assert!(
            E::Caller::KIND.is(CallerKind::of(E::ROUTE.access)),
            "the endpoint's Caller type does not fit its route's access rule"
        )
    };
    let started = Instant::now();
    let counted = crate::metrics::Snapshot::now();
    let request_id = request_id(&req);
    // In Lambda, the function of a path's first route in the table also answers its OPTIONS.
    if req.method() == http::Method::OPTIONS {
        let methods: Vec<&str> =
            crate::routes::ALL.iter().filter(|r| r.path == E::ROUTE.path).map(|r| r.method).collect();
        return options(req.headers(), &methods, &app.config.cors_allowed_origins, &request_id);
    }
    let lambda_request_id = req.lambda_context_ref().map(|c| c.request_id.clone());
    let route = E::ROUTE;
    let span = tracing::info_span!("request", request_id = %request_id, route = route.name);
    let mut uid = None;
    let pipeline = pipeline::<E>(app, &req, &request_id, &mut uid);
    let result = match AssertUnwindSafe(pipeline.instrument(span.clone())).catch_unwind().await {
        Ok(result) => result,
        Err(_) => Err(ApiError::Internal(anyhow::anyhow!("handler panicked"))),
    };
    let (status, body) = match &result {
        Ok((status, data)) => (*status, serde_json::json!({ "success": true, "data": data })),
        Err(e) => (e.status(), e.body()),
    };
    crate::telemetry::log_request(crate::telemetry::RequestLine {
        request_id: &request_id,
        uid: uid.as_deref(),
        lambda_request_id: lambda_request_id.as_deref(),
        error: result.as_ref().err().and_then(ApiError::cause).map(|cause| format!("{cause:#}")),
        metrics: crate::metrics::RequestMetrics {
            stage: &app.config.stage,
            route: route.name,
            status: status.as_u16(),
            code: result.as_ref().err().map(|e| e.code().as_str()),
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            counts: crate::metrics::Snapshot::now().since(&counted),
        },
    });
    let mut response = envelope(status, &body, &request_id);
    if let Ok((StatusCode::CREATED, data)) = &result {
        let location = data["id"].as_str().and_then(|id| route.location(id));
        if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(http::header::LOCATION, location);
        }
    }
    cors(&mut response, req.headers(), &app.config.cors_allowed_origins);
    response
}

/// Authentication → permission (the route's access rule) → input → the handler.
async fn pipeline<E: Endpoint>(
    app: &App,
    req: &Request,
    request_id: &str,
    uid: &mut Option<String>,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    if body_bytes(req).len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    // Before anything else reads it: a plain HTML form (text/plain, no preflight) must not get in.
    if !body_bytes(req).is_empty() && !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let caller = authorize(app, E::ROUTE.access, req.headers(), request_id).await?;
    *uid = caller.uid().map(str::to_owned);
    let caller = E::Caller::from_caller(caller)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the caller does not fit the route's access rule")))?;
    let input = E::Input::parse(req)?;
    let ctx = Ctx { request_id: request_id.to_owned() };
    let reply = E::handle(app, crate::endpoint::Call { ctx, caller, input }).await.map_err(Refusal::into_api_error)?;
    let data = serde_json::to_value(&reply.data)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("serialising a reply")))?;
    Ok((reply.status, data))
}

/// The headers every answer carries (operations.md §10).
pub fn security_headers(headers: &mut http::HeaderMap) {
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(http::header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// The request's `Origin` when it is one of `allowed` (exact match).
pub fn allowed_origin<'h>(request: &'h http::HeaderMap, allowed: &[String]) -> Option<&'h HeaderValue> {
    let mut origins = request.get_all(http::header::ORIGIN).iter();
    let (Some(origin), None) = (origins.next(), origins.next()) else { return None };
    let text = origin.to_str().ok()?;
    allowed.iter().any(|a| a == text).then_some(origin)
}

/// CORS on an ordinary answer (errors included): an allowed origin is echoed, with the
/// request id exposed to the page. `Vary: Origin` always, as the answer depends on it.
pub fn cors(response: &mut Response<Body>, request: &http::HeaderMap, allowed: &[String]) {
    let origin = allowed_origin(request, allowed).cloned();
    let headers = response.headers_mut();
    headers.insert(http::header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(http::header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("x-request-id"));
    }
}

/// The headers a preflight may ask for.
pub const CORS_ALLOW_HEADERS: &str = "authorization, content-type, x-request-id";
/// How long a browser may cache a preflight, in seconds.
pub const CORS_MAX_AGE: &str = "600";

/// The answer to `OPTIONS` on a known path whose methods are `methods`. With an `Origin` it is
/// a CORS preflight: 204 with the `Access-Control-Allow-*` headers for an allowed origin, else
/// `403 FORBIDDEN` without them. Without one it is a method the path lacks: 405 naming them.
pub fn options(request: &http::HeaderMap, methods: &[&str], allowed: &[String], request_id: &str) -> Response<Body> {
    if !request.contains_key(http::header::ORIGIN) {
        let error = ApiError::MethodNotAllowed;
        let mut response = envelope(error.status(), &error.body(), request_id);
        response.headers_mut().insert(http::header::VARY, HeaderValue::from_static("Origin"));
        if let Ok(allow) = HeaderValue::from_str(&methods.join(", ")) {
            response.headers_mut().insert(http::header::ALLOW, allow);
        }
        return response;
    }
    let Some(origin) = allowed_origin(request, allowed).cloned() else {
        let refused = ApiError::Forbidden("this origin may not call the API from a browser");
        let mut response = envelope(refused.status(), &refused.body(), request_id);
        response.headers_mut().insert(http::header::VARY, HeaderValue::from_static("Origin"));
        return response;
    };
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    let mut methods = methods.to_vec();
    methods.push("OPTIONS");
    let headers = response.headers_mut();
    security_headers(headers);
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", id);
    }
    headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if let Ok(methods) = HeaderValue::from_str(&methods.join(", ")) {
        headers.insert(http::header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    }
    headers.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(CORS_ALLOW_HEADERS));
    headers.insert(http::header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(CORS_MAX_AGE));
    headers.insert(http::header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// An envelope response with the request id, the headers of every answer and, for 503, a `Retry-After`.
pub fn envelope(status: StatusCode, body: &serde_json::Value, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    security_headers(headers);
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-request-id", id);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}
