//! The request pipeline shared by every function: request id, body cap,
//! authorization, the handler, and the envelope — in Lambda and in the local gateway alike.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::app::App;
use crate::auth::authorize;
use crate::endpoint::{CallerKind, Ctx, Endpoint, Input, Refusal, Resolved};
use crate::error::ApiError;

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
    let caller = authorize(app, &E::ROUTE, req.headers(), request_id).await?;
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

/// `Content-Type: application/json`, parameters such as `charset=utf-8` allowed; exactly one.
pub fn is_json(headers: &http::HeaderMap) -> bool {
    let mut values = headers.get_all(http::header::CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else { return false };
    let media_type = value.to_str().ok().and_then(|v| v.split(';').next()).unwrap_or_default();
    media_type.trim().eq_ignore_ascii_case("application/json")
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

/// The caller's `x-request-id` when it is a sane token, else API Gateway's, else a fresh UUID.
pub fn request_id(req: &Request) -> String {
    let sane = is_sane_request_id;
    if let Some(id) = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).filter(|id| sane(id)) {
        return id.to_owned();
    }
    let gateway_id = req.request_context_ref().and_then(|ctx| match ctx {
        lambda_http::request::RequestContext::ApiGatewayV1(c) => c.request_id.clone(),
        lambda_http::request::RequestContext::ApiGatewayV2(c) => c.request_id.clone(),
        _ => None,
    });
    gateway_id.filter(|id| sane(id)).unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// 1–128 characters of letters, digits and `-_.:`: safe to log and echo.
pub fn is_sane_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// Parses the JSON body; an empty body reads as `{}`. Every failure is a 422 with details,
/// a key given twice in one object included (serde would keep the last one).
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = body_bytes(req);
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    let value = match serde_json::from_slice::<NoDuplicates>(bytes) {
        Ok(NoDuplicates(value)) => value,
        Err(err) if err.is_data() => {
            let message = err.to_string();
            let key = message.split('`').nth(1).unwrap_or("body").to_owned();
            return Err(ApiError::validation(key, "is given more than once"));
        }
        Err(_) => return Err(ApiError::validation("body", "body is not valid JSON")),
    };
    // serde would read an array as positional fields; a request body is an object or nothing.
    if !value.is_object() {
        return Err(ApiError::validation("body", "body must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::validation(field, message)
    })
}

/// A JSON value read with every object's keys checked for duplicates, at any depth.
struct NoDuplicates(serde_json::Value);

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor).map(NoDuplicates)
    }
}

struct NoDuplicatesVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicatesVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(NoDuplicates(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let NoDuplicates(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// A query-string lookup usable by [`crate::domain::ListQuery::parse`]; a parameter given
/// more than once is refused rather than resolved to one of its values.
pub fn query<'r>(req: &'r Request) -> Result<impl Fn(&str) -> Option<&'r str>, ApiError> {
    let params = req.query_string_parameters_ref();
    if let Some(params) = params {
        let mut repeated: Vec<String> = params
            .iter()
            .filter(|(k, _)| params.all(k).is_some_and(|v| v.len() > 1))
            .map(|(k, _)| k.to_owned())
            .collect();
        repeated.sort();
        repeated.dedup();
        if !repeated.is_empty() {
            return Err(ApiError::Validation(
                repeated.into_iter().map(|k| crate::error::FieldError::new(k, "is given more than once")).collect(),
            ));
        }
    }
    Ok(move |name: &str| params.and_then(|p| p.first(name)))
}

/// Collects every field's failure so one 422 reports them all.
#[derive(Default)]
pub struct Fields {
    errors: crate::domain::InvalidFields,
}

impl Fields {
    /// Parses a required field; a missing one is reported as such.
    pub fn required<R, T>(
        &mut self,
        name: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, crate::domain::Invalid>,
    ) -> Option<T> {
        match raw {
            None => {
                self.errors.0.push((name.to_owned(), "is required".into()));
                None
            }
            Some(raw) => parse(raw).map_err(|invalid| self.errors.0.push((name.to_owned(), invalid))).ok(),
        }
    }

    /// The parsed values (pass them `zip`ped), or one 422 listing every failure.
    pub fn finish<T>(self, values: Option<T>) -> Result<T, ApiError> {
        match values {
            Some(values) if self.errors.0.is_empty() => Ok(values),
            _ => Err(self.errors.into()),
        }
    }
}
