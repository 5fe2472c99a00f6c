//! An API Gateway stand-in: exact contract paths, path parameters, request ids,
//! JSON 404/405 envelopes and a 64 KiB body cap, in front of the same handlers
//! the Lambda binaries run.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt, Limited};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use shared::http::{MAX_BODY_BYTES, envelope};
use shared::routes::Surface;
use shared::{ApiError, App};

use crate::endpoints::{self, Handler};

pub struct Gateway {
    app: Arc<App>,
    surface: Surface,
    routes: Vec<(shared::routes::Route, Handler)>,
    /// This surface's OpenAPI spec, served at `GET /openapi.json`.
    spec: String,
}

impl Gateway {
    pub fn new(app: Arc<App>, surface: Surface) -> Arc<Self> {
        let routes =
            endpoints::all().into_iter().filter(|m| m.route.surface == surface).map(|m| (m.route, m.handler)).collect();
        Arc::new(Self { app, surface, routes, spec: crate::openapi::to_json(surface) })
    }

    pub fn router(self: Arc<Self>) -> axum::Router {
        axum::Router::new().fallback(dispatch).with_state(self)
    }

    pub fn surface(&self) -> Surface {
        self.surface
    }
}

/// Serves one surface on `listener` until the task is dropped.
pub async fn serve(gateway: Arc<Gateway>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, gateway.router()).await
}

async fn dispatch(State(gateway): State<Arc<Gateway>>, req: axum::extract::Request) -> axum::response::Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    if path == crate::openapi::SPEC_PATH {
        return into_axum(spec_response(&gateway, &parts.method, &request_id));
    }
    let matching: Vec<_> =
        gateway.routes.iter().filter_map(|(route, h)| Some((route, h, route.match_path(&path)?))).collect();
    let Some((_, handler, params)) = matching.iter().find(|(route, _, _)| route.method == parts.method.as_str()) else {
        let error = if matching.is_empty() { ApiError::RouteNotFound } else { ApiError::MethodNotAllowed };
        tracing::info!(request_id, method = %parts.method, path, status = error.status().as_u16(), "no route");
        let allow: Vec<_> = matching.iter().map(|(route, _, _)| route.method).collect();
        return into_axum(no_route(error, &allow, &request_id));
    };
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
    let mut context = ApiGatewayProxyRequestContext::default();
    context.request_id = Some(request_id);
    context.http_method = parts.method.clone();
    context.resource_path = Some(path);
    let query: HashMap<String, Vec<String>> = parts.uri.query().map(parse_query).unwrap_or_default();
    let params: HashMap<String, String> = params.iter().cloned().collect();
    let req = lambda_http::Request::from_parts(parts, body)
        .with_query_string_parameters(query)
        .with_path_parameters(params)
        .with_request_context(RequestContext::ApiGatewayV1(context));
    into_axum(handler(&gateway.app, req).await)
}

/// `GET /openapi.json`: the surface's spec; any other method is a 405 like any known path's.
fn spec_response(gateway: &Gateway, method: &http::Method, request_id: &str) -> lambda_http::Response<Body> {
    if method != http::Method::GET {
        return no_route(ApiError::MethodNotAllowed, &["GET"], request_id);
    }
    let mut response = envelope(StatusCode::OK, &serde_json::Value::Null, request_id);
    *response.body_mut() = Body::Text(gateway.spec.clone());
    response
}

/// A 404 or 405 in the envelope; a 405 names the methods the path takes in `Allow`.
fn no_route(error: ApiError, allow: &[&str], request_id: &str) -> lambda_http::Response<Body> {
    let mut response = envelope(error.status(), &error.body(), request_id);
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
