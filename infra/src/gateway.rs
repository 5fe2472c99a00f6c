//! An API Gateway stand-in: exact contract paths, path parameters, request ids,
//! JSON 404/405 envelopes, a 64 KiB body cap, CORS preflights and the headers of every
//! answer, in front of the same handlers the Lambda binaries run.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::routing::{MethodFilter, MethodRouter, get};
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, Limited};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use shared::http::{MAX_BODY_BYTES, envelope};
use shared::routes::{Route, Surface};
use shared::{ApiError, App};

use crate::endpoints;
use crate::mount::Handler;

pub struct Gateway {
    app: Arc<App>,
    routes: Vec<(Route, Handler)>,
    /// This surface's OpenAPI spec, served at `GET /openapi.json`.
    spec: String,
}

impl Gateway {
    pub fn new(app: Arc<App>, surface: Surface) -> Arc<Self> {
        let routes =
            endpoints::all().into_iter().filter(|m| m.route.surface == surface).map(|m| (m.route, m.handler)).collect();
        Arc::new(Self { app, routes, spec: crate::specs::to_json(surface) })
    }

    /// One axum route per path template (axum's `{id}` syntax is the route table's), each
    /// method of it a handler; other methods get the envelope's 405, other paths its 404.
    pub fn router(self: Arc<Self>) -> Router {
        let mut paths: Vec<&'static str> = Vec::new();
        for (route, _) in &self.routes {
            if !paths.contains(&route.path) {
                paths.push(route.path);
            }
        }
        let mut router = Router::new();
        for path in paths {
            let here: Vec<(Route, Handler)> = self.routes.iter().filter(|(r, _)| r.path == path).copied().collect();
            let allow: Vec<&'static str> = here.iter().map(|(r, _)| r.method).collect();
            let mut methods = MethodRouter::new();
            let gateway = self.clone();
            let preflight_methods = allow.clone();
            methods = methods.on(MethodFilter::OPTIONS, move |req: Request| async move {
                options(&gateway, &req, &preflight_methods)
            });
            for (route, handler) in here {
                let gateway = self.clone();
                let filter = http::Method::from_bytes(route.method.as_bytes())
                    .ok()
                    .and_then(|m| MethodFilter::try_from(m).ok())
                    .unwrap_or_else(|| panic!("{}: no axum method filter for {}", route.name, route.method));
                methods = methods.on(filter, move |req: Request| call(gateway, route, handler, req));
            }
            router = router.route(path, refuse_others(methods, allow));
        }
        let gateway = self.clone();
        let spec = get(move |req: Request| async move { into_axum(spec_response(&gateway, &request_id_of(&req))) });
        let gateway = self.clone();
        let spec = spec.on(MethodFilter::OPTIONS, move |req: Request| async move { options(&gateway, &req, &["GET"]) });
        let router = router
            .route(crate::openapi::SPEC_PATH, refuse_others(spec, vec!["GET"]))
            .fallback(|req: Request| async move { into_axum(no_route(&req, ApiError::RouteNotFound, &[])) });
        let gateway = self.clone();
        Router::new()
            .fallback_service(router)
            .layer(axum::middleware::from_fn(normalise_path))
            .layer(axum::middleware::from_fn(move |req: Request, next: Next| every_answer(gateway.clone(), req, next)))
    }
}

/// Serves one surface on `listener` until the task is dropped.
pub async fn serve(gateway: Arc<Gateway>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, gateway.router()).await
}

/// Routing sees the path without its trailing slashes, as API Gateway matches `/internal/mitras/`;
/// an empty segment inside it matches no route (axum would take it for an empty `{id}`).
async fn normalise_path(mut req: Request, next: Next) -> axum::response::Response {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = match path.trim_end_matches('/') {
            "" => "/",
            t => t,
        };
        let uri = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = uri.parse() {
            *req.uri_mut() = uri;
        }
    }
    if req.uri().path().contains("//") {
        return into_axum(no_route(&req, ApiError::RouteNotFound, &[]));
    }
    next.run(req).await
}

/// Outermost: fixes the request id before anything answers (the caller's sane one, else a
/// new one) and gives every answer, the gateway's own 404/405/413 included, the request id,
/// the headers of every answer and, for an allowed origin, CORS.
async fn every_answer(gateway: Arc<Gateway>, mut req: Request, next: Next) -> axum::response::Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| shared::request::is_sane_request_id(id))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert("x-request-id", value);
    }
    let origin_headers = req.headers().clone();
    let is_preflight = req.method() == http::Method::OPTIONS;
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-request-id", value);
    }
    shared::http::security_headers(headers);
    headers.insert(http::header::VARY, HeaderValue::from_static("Origin"));
    // A refused preflight carries no Access-Control-Allow-* header at all.
    let refused_preflight = is_preflight && !headers.contains_key(http::header::ACCESS_CONTROL_ALLOW_METHODS);
    if !refused_preflight
        && let Some(origin) =
            shared::http::allowed_origin(&origin_headers, &gateway.app.config.cors_allowed_origins).cloned()
    {
        headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if !is_preflight {
            headers.insert(http::header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("x-request-id"));
        }
    }
    response
}

/// `OPTIONS` with an `Origin` is a CORS preflight; without one it is a method the path lacks.
fn options(gateway: &Gateway, req: &Request, methods: &[&'static str]) -> axum::response::Response {
    let allowed = &gateway.app.config.cors_allowed_origins;
    into_axum(shared::http::options(req.headers(), methods, allowed, &request_id_of(req)))
}

/// The request id [`every_answer`] fixed.
fn request_id_of(req: &Request) -> String {
    req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned).unwrap_or_else(new_request_id)
}

/// `methods` answering any method it lacks with a 405 naming `allow`; HEAD too, which axum
/// would otherwise hand to a GET handler.
fn refuse_others(methods: MethodRouter, allow: Vec<&'static str>) -> MethodRouter {
    let has_head = allow.contains(&"HEAD");
    let refuse = move |req: Request| async move { into_axum(no_route(&req, ApiError::MethodNotAllowed, &allow)) };
    let methods = if has_head { methods } else { methods.on(MethodFilter::HEAD, refuse.clone()) };
    methods.fallback(refuse)
}

fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn call(gateway: Arc<Gateway>, route: Route, handler: Handler, req: Request) -> axum::response::Response {
    let request_id = request_id_of(&req);
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return into_axum(envelope(StatusCode::PAYLOAD_TOO_LARGE, &ApiError::PayloadTooLarge.body(), &request_id));
        }
    };
    let body = match String::from_utf8(bytes.to_vec()) {
        _ if bytes.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    // The segments as sent (not percent-decoded), as API Gateway's path parameters were taken here before.
    let params: HashMap<String, String> = route
        .path
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(template, segment)| {
            let name = template.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_owned(), segment.to_owned()))
        })
        .collect();
    let mut context = ApiGatewayProxyRequestContext::default();
    context.request_id = Some(request_id);
    context.http_method = parts.method.clone();
    context.resource_path = Some(path);
    let query: HashMap<String, Vec<String>> = parts.uri.query().map(parse_query).unwrap_or_default();
    let req = lambda_http::Request::from_parts(parts, body)
        .with_query_string_parameters(query)
        .with_path_parameters(params)
        .with_request_context(RequestContext::ApiGatewayV1(context));
    into_axum(handler(&gateway.app, req).await)
}

/// `GET /openapi.json`: the surface's spec in the envelope's headers.
fn spec_response(gateway: &Gateway, request_id: &str) -> lambda_http::Response<Body> {
    let mut response = envelope(StatusCode::OK, &serde_json::Value::Null, request_id);
    *response.body_mut() = Body::Text(gateway.spec.clone());
    response
}

/// A 404 or 405 in the envelope; a 405 names the methods the path takes in `Allow`.
fn no_route(req: &Request, error: ApiError, allow: &[&str]) -> lambda_http::Response<Body> {
    let request_id = request_id_of(req);
    let status = error.status().as_u16();
    tracing::info!(request_id, method = %req.method(), path = req.uri().path(), status, "no route");
    let mut response = envelope(error.status(), &error.body(), &request_id);
    if let Ok(allow) = HeaderValue::from_str(&allow.join(", "))
        && !allow.is_empty()
    {
        response.headers_mut().insert(http::header::ALLOW, allow);
    }
    response
}

fn parse_query(query: &str) -> HashMap<String, Vec<String>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        map.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    map
}

fn into_axum(response: lambda_http::Response<Body>) -> axum::response::Response {
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Text(text) => axum::body::Body::from(text),
        Body::Binary(bytes) => axum::body::Body::from(bytes),
        _ => axum::body::Body::empty(),
    };
    axum::response::Response::from_parts(parts, body)
}
