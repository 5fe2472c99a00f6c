//! The OpenAPI 3 description of each surface, derived from the endpoints themselves: the
//! route table gives method, path and access; each [`Endpoint`]'s types give its request
//! body, parameters, answer and error codes (schemars), and its doc comment gives the
//! summary and description. Nothing here restates a route.
//!
//! `openapi/public.json` and `openapi/internal.json` are this module's output, committed
//! so reviewers see every change; a test keeps them equal to it. Regenerate them with
//! `halo-dev gen` (or `halo-dev openapi public|internal` to print one).
//!
//! Request schemas are exactly as strict as the handlers (the domain parsers' schemas live
//! in `shared::schema`); Schemathesis (`scripts/schemathesis.sh`) holds the code to that.

use std::collections::{BTreeMap, BTreeSet};

use schemars::generate::{Contract, SchemaSettings};
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};
use shared::endpoint::{CallerKind, Endpoint, Input, Refusal};
use shared::error::Code;
use shared::routes::{Access, Route, Surface};

pub const OPENAPI_VERSION: &str = "3.0.3";
/// The version of the Phase 1 contract these specs describe.
pub const API_VERSION: &str = "1.0.0";
/// Where the local gateway serves each surface's spec.
pub const SPEC_PATH: &str = "/openapi.json";

/// What any route can answer: a body over 64 KiB, a non-empty body that is not JSON, a
/// dependency down, a bug.
const PIPELINE_CODES: [Code; 4] =
    [Code::PayloadTooLarge, Code::UnsupportedMediaType, Code::Unavailable, Code::Internal];

/// One generator for request schemas (what may be sent) and one for answers (what is
/// always sent): an optional field is optional in a request but present, maybe null, in
/// an answer.
pub struct Generators {
    request: SchemaGenerator,
    response: SchemaGenerator,
}

impl Generators {
    fn new() -> Self {
        let with = |contract| {
            let mut settings = SchemaSettings::openapi3();
            settings.contract = contract;
            settings.into_generator()
        };
        Self { request: with(Contract::Deserialize), response: with(Contract::Serialize) }
    }
}

/// How one endpoint describes itself: [`operation`] of its type.
pub type Describe = fn(&mut Generators) -> Value;

/// The spec of one surface, from its endpoints' routes and descriptions.
pub fn spec(surface: Surface, endpoints: &[(Route, Describe)]) -> Value {
    let mut generators = Generators::new();
    let mut paths = Map::new();
    for (route, describe) in endpoints.iter().filter(|(route, _)| route.surface == surface) {
        let item = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        item[route.method.to_ascii_lowercase()] = describe(&mut generators);
    }
    let (title, description, production, port) = match surface {
        Surface::Public => (
            "HaloBestie public API",
            "Called by the client app (customers) and the mitra app. Phase 1.",
            "https://api.halobestie.com",
            3000,
        ),
        Surface::Internal => (
            "HaloBestie internal API",
            "Called by the control center (admins). Every route needs a control-center user whose role is \
             verified server-side. Phase 1.",
            "https://internal.halobestie.com",
            3001,
        ),
    };
    let common = "\n\nEvery response is the envelope `{\"success\": true, \"data\": …}` or \
         `{\"success\": false, \"error\": {\"code\", \"message\"}}`; `error.details` lists `{field, message}` \
         for `VALIDATION_ERROR` only. Every response carries `x-request-id`. An unknown path answers 404 \
         `NOT_FOUND` and a known path with another method 405 `METHOD_NOT_ALLOWED` (with `Allow`), both with \
         the envelope. Request bodies are JSON objects; properties not described here are ignored.";
    let components = components(generators);
    add_links(&mut paths, &components["schemas"], surface);
    json!({
        "openapi": OPENAPI_VERSION,
        "x-generated": "by `halo-dev gen` from the endpoints' declarations (infra/src/openapi.rs); do not edit by hand",
        "info": { "title": title, "version": API_VERSION, "description": format!("{description}{common}") },
        "servers": [
            { "url": production, "description": "production" },
            { "url": format!("http://127.0.0.1:{port}"), "description": "local gateway (scripts/run.sh)" },
        ],
        "paths": paths,
        "components": components,
    })
}

/// The spec as the committed file and the gateway serve it: pretty JSON and a final newline.
pub fn to_json(surface: Surface, endpoints: &[(Route, Describe)]) -> String {
    let mut text = serde_json::to_string_pretty(&spec(surface, endpoints)).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// The spec's `(METHOD, path template)` pairs, for comparing with the handlers' table.
pub fn operations(spec: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            found.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    found
}

/// The codes a route's access rule can answer with, before its handler runs.
pub fn access_codes(access: Access) -> &'static [Code] {
    match access {
        // A token is optional, but one that is sent must be valid.
        Access::Open | Access::Token => &[Code::Unauthorized],
        // 403 when the user's role no longer exists; 404 when the token maps to no user.
        Access::ControlCenterLogin => &[Code::Unauthorized, Code::Forbidden, Code::AccountInactive, Code::NotFound],
        Access::ControlCenter(_) => &[Code::Unauthorized, Code::Forbidden, Code::AccountInactive],
    }
}

/// The operation object of one endpoint.
pub fn operation<E: Endpoint>(generators: &mut Generators) -> Value {
    let route = E::ROUTE;
    let input = E::Input::describe(&mut generators.request);
    let (summary, description) = doc::<E>(&mut generators.response);

    let mut codes: Vec<Code> = E::Error::CODES.to_vec();
    codes.extend(input.codes);
    codes.extend_from_slice(access_codes(route.access));
    codes.extend(PIPELINE_CODES);
    let mut by_status: BTreeMap<u16, BTreeSet<Code>> = BTreeMap::new();
    for code in codes {
        by_status.entry(code.status().as_u16()).or_default().insert(code);
    }

    let data = generators.response.subschema_for::<E::Output>();
    let mut responses = Map::new();
    let mut success = E::SUCCESS.to_vec();
    success.sort_by_key(|(status, _)| *status);
    for (status, meaning) in success {
        let mut response = success_response(meaning, data.as_value());
        if let Some(location) = location_header(&route).filter(|_| status.as_u16() == 201) {
            response["headers"]["Location"] = location;
        }
        responses.insert(status.as_u16().to_string(), response);
    }
    for (status, codes) in by_status {
        responses.insert(status.to_string(), error_response(status, &codes.into_iter().collect::<Vec<_>>()));
    }

    let security = match CallerKind::of(route.access) {
        CallerKind::Anyone => json!([{}, { "bearerAuth": [] }]),
        _ => json!([{ "bearerAuth": [] }]),
    };
    let mut description = description;
    if let Access::ControlCenter(permission) = route.access {
        let needs = format!("Needs `{permission}`.");
        description = if description.is_empty() { needs } else { format!("{needs} {description}") };
    }
    let mut operation = json!({
        "operationId": route.name,
        "tags": [E::TAG],
        "summary": summary,
        "description": description,
        "security": security,
    });
    if let Access::ControlCenter(permission) = route.access {
        operation["x-permission"] = json!(permission.to_string());
    }
    let parameters: Vec<Value> = input
        .params
        .into_iter()
        .map(|p| {
            let mut schema = p.schema;
            let description = schema.as_object_mut().and_then(|s| s.remove("description"));
            let mut param = json!({ "name": p.name, "in": p.location, "required": p.required, "schema": schema });
            if let Some(description) = description {
                param["description"] = description;
            }
            param
        })
        .collect();
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = input.body {
        operation["requestBody"] =
            json!({ "required": true, "content": { "application/json": { "schema": body.to_value() } } });
    }
    operation["responses"] = Value::Object(responses);
    operation
}

/// The `Location` of a create's 201, when what it creates has its own `GET` route.
fn location_header(route: &Route) -> Option<Value> {
    let read = route.location("{id}")?;
    let uuid = shared::schema::UUID_PATTERN.trim_start_matches('^').trim_end_matches('$');
    Some(json!({
        "description": format!("The path of what was created: `GET {read}`."),
        "required": true,
        "schema": { "type": "string", "pattern": format!("^{}$", read.replace("{id}", uuid)) },
    }))
}

/// OpenAPI links from each create's 201 to the operations that take the new id, so a client
/// or a fuzzer can follow them: the routes under `<path>/{id}`, as `id`, and each request body
/// property named after a segment of the create's path plus `_id` (`customer_id`).
fn add_links(paths: &mut Map<String, Value>, schemas: &Value, surface: Surface) {
    // Only the mounted routes: a route just declared has no operation until the generator's
    // next build mounts it.
    let mounted = |r: &&Route| paths.get(r.path).and_then(|p| p.get(r.method.to_ascii_lowercase())).is_some();
    let routes: Vec<&Route> = shared::routes::ALL.iter().filter(|r| r.surface == surface).filter(mounted).collect();
    for create in &routes {
        let mut links = Map::new();
        for target in create.id_routes().filter(|t| routes.contains(t)) {
            links.insert(target.name.into(), link(target, json!({ "parameters": { "id": NEW_ID } })));
        }
        let words: Vec<&str> = create.path.split('/').filter(|s| !s.is_empty() && !s.starts_with('{')).collect();
        for target in routes.iter().filter(|r| r.name != create.name) {
            let body = &paths[target.path][target.method.to_ascii_lowercase()]["requestBody"];
            let schema = &body["content"]["application/json"]["schema"];
            let schema = schema["$ref"].as_str().and_then(|r| schemas.get(r.rsplit('/').next()?)).unwrap_or(schema);
            for property in schema["properties"].as_object().into_iter().flatten().map(|(name, _)| name) {
                if property.strip_suffix("_id").is_some_and(|word| words.contains(&word)) {
                    links.insert(target.name.into(), link(target, json!({ "requestBody": { property: NEW_ID } })));
                }
            }
        }
        let method = create.method.to_ascii_lowercase();
        let created = paths.get_mut(create.path).and_then(|item| item.get_mut(&method)?["responses"].get_mut("201"));
        if let Some(created) = created.filter(|_| !links.is_empty()) {
            created["links"] = Value::Object(links);
        }
    }
}

/// The runtime expression of a create's new id.
const NEW_ID: &str = "$response.body#/data/id";

fn link(target: &Route, mut with: Value) -> Value {
    with["operationId"] = json!(target.name);
    with["description"] = json!(format!("{} {} of what was created.", target.method, target.path));
    with
}

/// The endpoint type's doc comment: its first paragraph is the summary, the rest the description.
fn doc<E: JsonSchema>(generator: &mut SchemaGenerator) -> (String, String) {
    let schema = E::json_schema(generator);
    let text = ["title", "description"].map(|key| schema.get(key).and_then(Value::as_str).unwrap_or_default());
    let text = text.into_iter().filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n\n");
    let (summary, description) = text.split_once("\n\n").unwrap_or((&text, ""));
    (summary.trim().to_owned(), description.trim().replace('\n', " "))
}

fn success_response(meaning: &str, data: &Value) -> Value {
    json!({
        "description": meaning,
        "headers": { "x-request-id": { "$ref": "#/components/headers/XRequestId" } },
        "content": { "application/json": { "schema": {
            "type": "object",
            "required": ["success", "data"],
            "additionalProperties": false,
            "properties": { "success": { "type": "boolean", "enum": [true] }, "data": data },
        } } },
    })
}

fn error_response(status: u16, codes: &[Code]) -> Value {
    let description = codes.iter().map(|c| format!("`{c}`: {}.", c.meaning())).collect::<Vec<_>>().join(" ");
    let mut headers = json!({ "x-request-id": { "$ref": "#/components/headers/XRequestId" } });
    if status == 503 {
        headers["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfter" });
    }
    json!({
        "description": description,
        "headers": headers,
        "content": { "application/json": { "schema": error_envelope(codes) } },
    })
}

/// The error envelope for the codes one status can carry; `details` only with `VALIDATION_ERROR`.
fn error_envelope(codes: &[Code]) -> Value {
    let error = |codes: &[&str], details: bool| {
        let mut error = json!({
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": false,
            "properties": {
                "code": { "type": "string", "enum": codes },
                "message": { "type": "string", "minLength": 1 },
            },
        });
        if details {
            error["required"] = json!(["code", "message", "details"]);
            error["properties"]["details"] =
                json!({ "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/FieldError" } });
        }
        error
    };
    let validation = codes.contains(&Code::Validation);
    let others: Vec<&str> = codes.iter().filter(|c| **c != Code::Validation).map(|c| c.as_str()).collect();
    let error = match (validation, others.is_empty()) {
        (true, true) => error(&[Code::Validation.as_str()], true),
        (true, false) => json!({ "oneOf": [error(&[Code::Validation.as_str()], true), error(&others, false)] }),
        (false, _) => error(&others, false),
    };
    json!({
        "type": "object",
        "required": ["success", "error"],
        "additionalProperties": false,
        "properties": { "success": { "type": "boolean", "enum": [false] }, "error": error },
    })
}

/// The named schemas: request bodies stay open (an older server accepts a newer app's
/// request), answers are closed (`additionalProperties: false`).
fn components(mut generators: Generators) -> Value {
    let mut schemas = Map::new();
    for (name, mut schema) in generators.response.take_definitions(true) {
        close_objects(&mut schema);
        schemas.insert(name, schema);
    }
    for (name, schema) in generators.request.take_definitions(true) {
        if let Some(answer) = schemas.get(&name) {
            assert_eq!(answer, &schema, "schema {name} differs between requests and answers: rename one");
        }
        schemas.insert(name, schema);
    }
    schemas.insert(
        "FieldError".into(),
        json!({ "type": "object", "required": ["field", "message"], "additionalProperties": false,
                "properties": { "field": { "type": "string" }, "message": { "type": "string" } } }),
    );
    schemas.sort_keys();
    json!({
        "securitySchemes": { "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Firebase Authentication ID token: `Authorization: Bearer <firebase_jwt>`.",
        } },
        "headers": {
            "XRequestId": {
                "description": "The request id: the caller's `x-request-id` when it is a sane token, else the API \
                                Gateway request id, else a fresh UUID. Every log line of the request carries it.",
                "required": true,
                "schema": { "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$" },
            },
            "RetryAfter": {
                "description": "Seconds to wait before retrying.",
                "required": true,
                "schema": { "type": "string", "pattern": "^[0-9]+$" },
            },
        },
        "schemas": schemas,
    })
}

/// Every object schema with properties gets `additionalProperties: false`.
fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") {
                map.entry("additionalProperties").or_insert(Value::Bool(false));
            }
            map.values_mut().for_each(close_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}
