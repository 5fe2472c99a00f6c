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
    envelope(status, &body, &request_id)
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
    let caller = authorize(app, &E::ROUTE, req.headers(), request_id).await?;
    *uid = caller.uid().map(str::to_owned);
    let caller = E::Caller::from_caller(caller)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the caller does not fit the route's access rule")))?;
    let input = E::Input::parse(req)?;
    let ctx = Ctx { request_id: request_id.to_owned() };
    let reply = E::handle(app, &ctx, caller, input).await.map_err(Refusal::into_api_error)?;
    let data = serde_json::to_value(&reply.data)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("serialising a reply")))?;
    Ok((reply.status, data))
}

/// An envelope response with the request id and, for 503, a `Retry-After`.
pub fn envelope(status: StatusCode, body: &serde_json::Value, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
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
    let sane = |id: &str| {
        (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    };
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

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// Parses the JSON body; an empty body reads as `{}`. Every failure is a 422 with details.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = body_bytes(req);
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::validation("body", "body is not valid JSON"))?;
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

/// A query-string lookup usable by [`crate::domain::ListQuery::parse`].
pub fn query<'r>(req: &'r Request) -> impl Fn(&str) -> Option<&'r str> {
    let params = req.query_string_parameters_ref();
    move |name| params.and_then(|p| p.first(name))
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
