//! The OpenAPI 3 description of each surface, generated from the route table
//! (`shared::routes::ALL`) and, per route, a description of its request, its success
//! answers and the error codes it can give. Error statuses come from [`ApiError`]
//! itself, so the spec cannot disagree with the pipeline about a code's status.
//!
//! `openapi/public.json` and `openapi/internal.json` at the repository root are this
//! module's output, committed so reviewers see every change; the test
//! `openapi::committed_specs_equal_the_generated_ones` keeps them equal. Regenerate with
//! `cargo run -q -p infra --bin halo-dev -- openapi public > openapi/public.json` (and
//! `internal`), or `UPDATE_OPENAPI=1 cargo test -p api-tests --test api openapi`.
//!
//! Request schemas are exactly as strict as the handlers: what a schema admits is
//! accepted (or refused only for state: 401/403/404/409), and what it rejects is a 4xx.
//! Schemathesis (`scripts/schemathesis.sh`) holds the code to that, in both directions.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use shared::ApiError;
use shared::domain::{CustomerDisplayName, DisplayName, Email};
use shared::routes::{ALL, Access, Route, Surface};

pub const OPENAPI_VERSION: &str = "3.0.3";
/// The version of the Phase 1 contract these specs describe.
pub const API_VERSION: &str = "1.0.0";
/// Where the local gateway serves each surface's spec.
pub const SPEC_PATH: &str = "/openapi.json";

/// Customers' names: trimmed, 1–50 characters, no control characters.
const CUSTOMER_NAME_MAX: usize = CustomerDisplayName::MAX_CHARS;
/// Mitras' and control-center users' names: trimmed, 1–100 characters.
const STAFF_NAME_MAX: usize = DisplayName::MAX_CHARS;

/// What `str::trim` removes: Unicode `White_Space` (Rust's `char::is_whitespace`).
const WHITESPACE: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Neither whitespace nor a control character (`char::is_control`: U+0000–U+001F, U+007F–U+009F).
const VISIBLE: &str = r"[^\x00-\x20\x7F-\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]";
/// Not a control character.
const NOT_CONTROL: &str = r"[^\x00-\x1F\x7F-\x9F]";

/// A name as the handlers accept it: any surrounding whitespace (trimmed away), then
/// 1..=`max` characters with no control characters that start and end visibly.
pub fn name_input_pattern(max: usize) -> String {
    format!("^[{WHITESPACE}]*{VISIBLE}(?:{NOT_CONTROL}{{0,{}}}{VISIBLE})?[{WHITESPACE}]*$", max - 2)
}

/// A name as the API returns it: already trimmed.
pub fn name_output_pattern(max: usize) -> String {
    format!("^{VISIBLE}(?:{NOT_CONTROL}{{0,{}}}{VISIBLE})?$", max - 2)
}

/// A phone number in any form `Phone::parse` accepts: `+628…`, `628…` or `08…`.
pub const PHONE_INPUT_PATTERN: &str = r"^(?:\+62|62|0)8[0-9]{7,11}$";
/// A stored phone number: E.164, `+628` and 7–11 more digits.
pub const PHONE_E164_PATTERN: &str = r"^\+628[0-9]{7,11}$";
/// RFC 3339 in UTC with a trailing `Z`, fractional seconds allowed.
pub const TIMESTAMP_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?Z$";

/// The spec of one surface.
pub fn spec(surface: Surface) -> Value {
    let mut paths = Map::new();
    for route in ALL.iter().filter(|r| r.surface == surface) {
        let item = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        item[route.method.to_ascii_lowercase()] = operation(route);
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
    let mut spec = json!({
        "openapi": OPENAPI_VERSION,
        "info": { "title": title, "version": API_VERSION, "description": format!("{description}{common}") },
        "servers": [
            { "url": production, "description": "production" },
            { "url": format!("http://127.0.0.1:{port}"), "description": "local gateway (scripts/run.sh)" },
        ],
        "paths": paths,
        "components": {},
    });
    spec["components"] = components(&spec);
    spec
}

/// The spec as the committed file and the gateway serve it: pretty JSON and a final newline.
pub fn to_json(surface: Surface) -> String {
    let mut text = serde_json::to_string_pretty(&spec(surface)).expect("a JSON value serialises");
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

/// What one route takes and answers, beyond what its access rule implies.
struct Op {
    tag: &'static str,
    summary: &'static str,
    description: &'static str,
    query: Vec<Value>,
    /// Component schema of the JSON request body.
    body: Option<&'static str>,
    /// Status, description and component schema of `data`, for each success.
    success: Vec<(u16, &'static str, &'static str)>,
    /// Error codes of this route's own checks (input and state).
    errors: &'static [&'static str],
}

fn describe(route: &Route) -> Op {
    let op = |tag, summary, description, body, success, errors| Op {
        tag,
        summary,
        description,
        query: Vec::new(),
        body,
        success,
        errors,
    };
    let list_query = |with_is_active: bool| {
        let mut params = vec![
            json!({ "name": "page", "in": "query", "required": false, "description": "1-based page number.",
                    "schema": { "type": "integer", "minimum": 1, "maximum": u32::MAX, "default": 1 } }),
            json!({ "name": "limit", "in": "query", "required": false, "description": "Items per page.",
                    "schema": { "type": "integer", "minimum": 1,
                                "maximum": shared::domain::ListQuery::MAX_LIMIT, "default": 20 } }),
        ];
        if with_is_active {
            params.push(json!({ "name": "is_active", "in": "query", "required": false,
                                "description": "Only active (`true`) or inactive (`false`) mitras.",
                                "schema": { "type": "boolean" } }));
        }
        params
    };
    match route.name {
        "customer-anonymous" => op(
            "Customer",
            "Create an anonymous customer",
            "No token is needed. When the app sends a valid token anyway (it signed in anonymously first), the \
             customer is bound to that uid: the first call answers 201, later calls for the same uid answer 200 \
             with the same customer.",
            Some("CreateAnonymousCustomerRequest"),
            vec![
                (201, "The new customer.", "NewCustomer"),
                (200, "The customer already bound to the token's uid.", "NewCustomer"),
            ],
            &["DISPLAY_NAME_REQUIRED", "VALIDATION_ERROR"],
        ),
        "customer-link" => op(
            "Customer",
            "Link a phone or social login to an anonymous customer",
            "`firebase_uid` must be the token's uid (else 403). The phone and email come from the verified token, \
             which must carry a real identity (phone or a non-anonymous provider; else 422). 404 when the \
             customer does not exist; 403 when it was created by another uid; 409 when it is already linked or \
             the identity belongs to another customer.",
            Some("LinkCustomerRequest"),
            vec![(200, "The linked customer.", "CustomerProfile")],
            &["FORBIDDEN", "VALIDATION_ERROR", "NOT_FOUND", "ALREADY_REGISTERED"],
        ),
        "client-auth-verify" => op(
            "Customer",
            "Verify the token and return the customer profile",
            "Called after every login. Request: empty body. 404 when no customer is bound to the token's uid.",
            None,
            vec![(200, "The customer bound to the token.", "CustomerProfile")],
            &["NOT_FOUND"],
        ),
        "mitra-auth-verify" => op(
            "Mitra",
            "Verify the token and return the mitra profile",
            "Called after OTP login. Request: empty body. The token's `phone_number` is the lookup key: no phone \
             number → 401, no mitra → 404 `ACCOUNT_NOT_FOUND`, inactive → 403 `ACCOUNT_INACTIVE`.",
            None,
            vec![(200, "The mitra registered for the token's phone number.", "Mitra")],
            &["ACCOUNT_NOT_FOUND", "ACCOUNT_INACTIVE"],
        ),
        "public-anonymity-get" => op(
            "Config",
            "Read the anonymity setting",
            "Apps poll this to decide whether to show the force-register wall. Any valid Firebase token.",
            None,
            vec![(200, "The current setting.", "Anonymity")],
            &[],
        ),
        "internal-auth-verify" => op(
            "Auth",
            "Verify the token and return the control-center user",
            "Request: empty body. On the first login an unbound account is matched by the token's verified email \
             and bound to its uid. 404 when the token maps to no control-center user.",
            None,
            vec![(200, "The caller with their role and permissions.", "ControlCenterUserProfile")],
            &[],
        ),
        "mitras-create" => op(
            "Mitras",
            "Onboard a mitra",
            "New mitras are inactive. The phone is accepted as `+628…`, `628…` or `08…` and stored in E.164. \
             409 `CONFLICT` when a mitra with that phone exists.",
            Some("CreateMitraRequest"),
            vec![(201, "The new mitra.", "Mitra")],
            &["VALIDATION_ERROR", "CONFLICT"],
        ),
        "mitras-list" => Op {
            query: list_query(true),
            ..op(
                "Mitras",
                "List mitras",
                "Newest first. Past the last page: empty `items`, same `total`.",
                None,
                vec![(200, "One page of mitras.", "MitraPage")],
                &["VALIDATION_ERROR"],
            )
        },
        "mitras-status" => op(
            "Mitras",
            "Activate or deactivate a mitra",
            "A deactivated mitra is refused on its very next call.",
            Some("SetMitraStatusRequest"),
            vec![(200, "The mitra's id and status.", "MitraStatus")],
            &["VALIDATION_ERROR", "NOT_FOUND"],
        ),
        "control-center-users-create" => op(
            "Control-center users",
            "Create a control-center user",
            "The role's permissions must be a subset of the caller's (else 403). The email is stored lower-case; \
             409 `CONFLICT` when a user with that email exists.",
            Some("CreateControlCenterUserRequest"),
            vec![(201, "The new user.", "ControlCenterUser")],
            &["VALIDATION_ERROR", "CONFLICT"],
        ),
        "control-center-users-list" => Op {
            query: list_query(false),
            ..op(
                "Control-center users",
                "List control-center users",
                "Newest first. Past the last page: empty `items`, same `total`.",
                None,
                vec![(200, "One page of users.", "ControlCenterUserPage")],
                &["VALIDATION_ERROR"],
            )
        },
        "roles-list" => op(
            "Roles",
            "List roles",
            "Every role with its permissions.",
            None,
            vec![(200, "Every role.", "RoleList")],
            &[],
        ),
        "anonymity-get" => {
            op("Config", "Read the anonymity setting", "", None, vec![(200, "The current setting.", "Anonymity")], &[])
        }
        "anonymity-patch" => op(
            "Config",
            "Change the anonymity setting",
            "`anonymity_enabled` must be a JSON boolean.",
            Some("UpdateAnonymityRequest"),
            vec![(200, "The new setting.", "Anonymity")],
            &["VALIDATION_ERROR"],
        ),
        other => panic!("route {other} has no OpenAPI description in infra/src/openapi.rs"),
    }
}

/// The codes a route's access rule can answer with, before its handler runs.
fn access_errors(access: Access) -> &'static [&'static str] {
    match access {
        // A token is optional, but one that is sent must be valid.
        Access::Open | Access::Token => &["UNAUTHORIZED"],
        // 403 when the user's role no longer exists; 404 when the token maps to no user.
        Access::ControlCenterLogin => &["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"],
        Access::ControlCenter(_) => &["UNAUTHORIZED", "FORBIDDEN"],
    }
}

/// What any route can answer: a body over 64 KiB, a dependency down, a bug.
const PIPELINE_ERRORS: [&str; 3] = ["PAYLOAD_TOO_LARGE", "SERVICE_UNAVAILABLE", "INTERNAL_ERROR"];

/// Every error the API has, so each code's status comes from [`ApiError::status`].
fn all_errors() -> Vec<ApiError> {
    vec![
        ApiError::Unauthorized(""),
        ApiError::Forbidden(""),
        ApiError::NotFound(""),
        ApiError::Validation(Vec::new()),
        ApiError::AccountNotFound,
        ApiError::AccountInactive,
        ApiError::DisplayNameRequired,
        ApiError::AlreadyRegistered(""),
        ApiError::Conflict(""),
        ApiError::PayloadTooLarge,
        ApiError::MethodNotAllowed,
        ApiError::RouteNotFound,
        ApiError::Unavailable(anyhow::anyhow!("")),
        ApiError::Internal(anyhow::anyhow!("")),
    ]
}

fn status_of(code: &str) -> u16 {
    all_errors()
        .iter()
        .find(|e| e.code() == code)
        .map(|e| e.status().as_u16())
        .unwrap_or_else(|| panic!("unknown error code {code}"))
}

fn meaning(code: &str) -> &'static str {
    match code {
        "UNAUTHORIZED" => "missing or invalid Firebase ID token",
        "FORBIDDEN" => "valid token but insufficient role or permission",
        "NOT_FOUND" => "resource not found",
        "VALIDATION_ERROR" => "request body or parameters failed validation; `details` names each field",
        "ACCOUNT_NOT_FOUND" => "phone number not registered as mitra",
        "ACCOUNT_INACTIVE" => "mitra account is inactive",
        "DISPLAY_NAME_REQUIRED" => "display name missing, null or blank",
        "ALREADY_REGISTERED" => "customer already linked, or the identity belongs to another customer",
        "CONFLICT" => "the phone or email is already registered",
        "PAYLOAD_TOO_LARGE" => "request body over 64 KiB",
        "SERVICE_UNAVAILABLE" => "a dependency is throttling or unreachable; retry after `Retry-After` seconds",
        "INTERNAL_ERROR" => "unexpected server error (a bug)",
        other => panic!("no meaning written for {other}"),
    }
}

fn operation(route: &Route) -> Value {
    let op = describe(route);
    let mut codes: Vec<&str> = op.errors.to_vec();
    codes.extend_from_slice(access_errors(route.access));
    codes.extend_from_slice(&PIPELINE_ERRORS);
    let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for code in codes {
        let entry = by_status.entry(status_of(code)).or_default();
        if !entry.contains(&code) {
            entry.push(code);
        }
    }

    let mut responses = Map::new();
    let mut success = op.success.clone();
    success.sort_by_key(|(status, _, _)| *status);
    for (status, description, data) in success {
        responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "headers": { "x-request-id": { "$ref": "#/components/headers/XRequestId" } },
                "content": { "application/json": { "schema": {
                    "type": "object",
                    "required": ["success", "data"],
                    "additionalProperties": false,
                    "properties": {
                        "success": { "type": "boolean", "enum": [true] },
                        "data": { "$ref": format!("#/components/schemas/{data}") },
                    },
                } } },
            }),
        );
    }
    for (status, mut codes) in by_status {
        codes.sort_unstable();
        let description = codes.iter().map(|c| format!("`{c}`: {}.", meaning(c))).collect::<Vec<_>>().join(" ");
        let mut headers = json!({ "x-request-id": { "$ref": "#/components/headers/XRequestId" } });
        if status == 503 {
            headers["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfter" });
        }
        responses.insert(
            status.to_string(),
            json!({
                "description": description,
                "headers": headers,
                "content": { "application/json": { "schema": error_envelope(&codes) } },
            }),
        );
    }

    let security = match route.access {
        Access::Open => json!([{}, { "bearerAuth": [] }]),
        _ => json!([{ "bearerAuth": [] }]),
    };
    let mut description = op.description.to_owned();
    if let Access::ControlCenter(permission) = route.access {
        let needs = format!("Needs `{permission}`.");
        description = if description.is_empty() { needs } else { format!("{needs} {description}") };
    }
    let mut operation = json!({
        "operationId": route.name,
        "tags": [op.tag],
        "summary": op.summary,
        "description": description,
        "security": security,
    });
    if let Access::ControlCenter(permission) = route.access {
        operation["x-permission"] = json!(permission.to_string());
    }
    let mut parameters = op.query;
    if route.path.contains("{id}") {
        parameters.insert(
            0,
            json!({ "name": "id", "in": "path", "required": true, "description": "The mitra's id.",
                    "schema": { "$ref": "#/components/schemas/Id" } }),
        );
    }
    if !parameters.is_empty() {
        operation["parameters"] = Value::Array(parameters);
    }
    if let Some(body) = op.body {
        operation["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") } } },
        });
    }
    operation["responses"] = Value::Object(responses);
    operation
}

/// The error envelope for the codes one status can carry; `details` only with `VALIDATION_ERROR`.
fn error_envelope(codes: &[&str]) -> Value {
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
    let others: Vec<&str> = codes.iter().copied().filter(|c| *c != "VALIDATION_ERROR").collect();
    let error = match (codes.contains(&"VALIDATION_ERROR"), others.is_empty()) {
        (true, true) => error(&["VALIDATION_ERROR"], true),
        (true, false) => json!({ "oneOf": [error(&["VALIDATION_ERROR"], true), error(&others, false)] }),
        (false, _) => error(&others, false),
    };
    json!({
        "type": "object",
        "required": ["success", "error"],
        "additionalProperties": false,
        "properties": {
            "success": { "type": "boolean", "enum": [false] },
            "error": error,
        },
    })
}

/// Every named schema; a surface's spec keeps those its paths reach.
///
/// Response objects are closed (`additionalProperties: false`, every field `required`
/// except the customer profile's `email`). Request objects are deliberately open
/// (`additionalProperties: true`): the handlers ignore properties they do not know, so
/// an older server accepts a newer app's request.
fn all_schemas() -> Map<String, Value> {
    let object = |required: &[&str], properties: Value| json!({ "type": "object", "required": required, "additionalProperties": false, "properties": properties });
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let actions = |resource: &str| {
        json!({
            "type": "array",
            "uniqueItems": true,
            "description": format!("What the role may do with `{resource}`."),
            "items": { "type": "string", "enum": ["create", "read", "update", "delete"] },
        })
    };
    let page = |item: &str| {
        object(
            &["items", "total", "page", "limit"],
            json!({
                "items": { "type": "array", "maxItems": shared::domain::ListQuery::MAX_LIMIT, "items": r(item) },
                "total": { "type": "integer", "minimum": 0, "description": "How many items the filter matches." },
                "page": { "type": "integer", "minimum": 1, "maximum": u32::MAX },
                "limit": { "type": "integer", "minimum": 1, "maximum": shared::domain::ListQuery::MAX_LIMIT },
            }),
        )
    };
    let role_ids: Vec<String> =
        [shared::seed::super_admin_role(), shared::seed::operator_role()].iter().map(|r| r.id.to_string()).collect();
    let schemas = [
        ("Id", json!({ "type": "string", "format": "uuid", "example": "0190a6f4-e89b-72d3-a456-426614174000" })),
        (
            "Timestamp",
            json!({ "type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN,
                    "description": "RFC 3339 in UTC with a trailing `Z`.", "example": "2026-04-04T00:00:00Z" }),
        ),
        (
            "PhoneE164",
            json!({ "type": "string", "pattern": PHONE_E164_PATTERN, "example": "+6281234567890",
                    "description": "An Indonesian mobile number in E.164." }),
        ),
        (
            "CustomerDisplayName",
            json!({ "type": "string", "minLength": 1, "maxLength": CUSTOMER_NAME_MAX,
                    "pattern": name_output_pattern(CUSTOMER_NAME_MAX), "example": "Angin Malam" }),
        ),
        (
            "DisplayName",
            json!({ "type": "string", "minLength": 1, "maxLength": STAFF_NAME_MAX,
                    "pattern": name_output_pattern(STAFF_NAME_MAX), "example": "Dr. Budi" }),
        ),
        (
            "Email",
            json!({ "type": "string", "format": "email", "maxLength": Email::MAX_LEN, "example": "operator@halobestie.com" }),
        ),
        (
            "NewCustomer",
            object(
                &["id", "display_name", "is_anonymous", "created_at"],
                json!({ "id": r("Id"), "display_name": r("CustomerDisplayName"),
                        "is_anonymous": { "type": "boolean" }, "created_at": r("Timestamp") }),
            ),
        ),
        (
            "CustomerProfile",
            object(
                &["id", "display_name", "is_anonymous", "phone", "created_at"],
                json!({
                    "id": r("Id"),
                    "display_name": r("CustomerDisplayName"),
                    "is_anonymous": { "type": "boolean" },
                    "phone": { "type": "string", "nullable": true, "pattern": PHONE_E164_PATTERN,
                               "description": "E.164; null until a phone login is linked.",
                               "example": "+6281234567890" },
                    "email": { "type": "string", "description": "Present when a social login with an email is \
                               linked.", "example": "customer@example.com" },
                    "created_at": r("Timestamp"),
                }),
            ),
        ),
        (
            "Mitra",
            object(
                &["id", "phone", "display_name", "is_active", "created_at"],
                json!({ "id": r("Id"), "phone": r("PhoneE164"), "display_name": r("DisplayName"),
                        "is_active": { "type": "boolean" }, "created_at": r("Timestamp") }),
            ),
        ),
        ("MitraPage", page("Mitra")),
        ("MitraStatus", object(&["id", "is_active"], json!({ "id": r("Id"), "is_active": { "type": "boolean" } }))),
        (
            "Permissions",
            object(
                &["mitra", "control_center_users", "config"],
                json!({ "mitra": actions("mitra"), "control_center_users": actions("control_center_users"),
                        "config": actions("config") }),
            ),
        ),
        (
            "Role",
            object(
                &["id", "name", "permissions"],
                json!({ "id": r("Id"), "name": { "type": "string", "minLength": 1, "example": "super_admin" },
                        "permissions": r("Permissions") }),
            ),
        ),
        ("RoleList", json!({ "type": "array", "items": r("Role") })),
        (
            "RoleRef",
            object(
                &["id", "name"],
                json!({ "id": r("Id"), "name": { "type": "string", "minLength": 1, "example": "operator" } }),
            ),
        ),
        (
            "ControlCenterUser",
            object(
                &["id", "email", "display_name", "role", "created_at"],
                json!({ "id": r("Id"), "email": r("Email"), "display_name": r("DisplayName"), "role": r("RoleRef"),
                        "created_at": r("Timestamp") }),
            ),
        ),
        ("ControlCenterUserPage", page("ControlCenterUser")),
        (
            "ControlCenterUserProfile",
            object(
                &["id", "email", "display_name", "role"],
                json!({ "id": r("Id"), "email": r("Email"), "display_name": r("DisplayName"), "role": r("Role") }),
            ),
        ),
        ("Anonymity", object(&["anonymity_enabled"], json!({ "anonymity_enabled": { "type": "boolean" } }))),
        (
            "FieldError",
            object(&["field", "message"], json!({ "field": { "type": "string" }, "message": { "type": "string" } })),
        ),
        (
            "CreateAnonymousCustomerRequest",
            json!({
                "type": "object",
                "additionalProperties": true,
                "required": ["display_name"],
                "properties": { "display_name": {
                    "type": "string",
                    "pattern": name_input_pattern(CUSTOMER_NAME_MAX),
                    "description": "Trimmed; then 1–50 characters without control characters. Missing, null or \
                                    blank: `DISPLAY_NAME_REQUIRED`; too long or with control characters: \
                                    `VALIDATION_ERROR`.",
                    "example": "Angin Malam",
                } },
            }),
        ),
        (
            "LinkCustomerRequest",
            json!({
                "type": "object",
                "additionalProperties": true,
                "required": ["customer_id", "firebase_uid"],
                "properties": {
                    "customer_id": r("Id"),
                    "firebase_uid": { "type": "string", "description": "Must equal the token's uid." },
                },
            }),
        ),
        (
            "CreateMitraRequest",
            json!({
                "type": "object",
                "additionalProperties": true,
                "required": ["phone", "display_name"],
                "properties": {
                    "phone": { "type": "string", "pattern": PHONE_INPUT_PATTERN, "example": "+6281234567890",
                               "description": "`+628…`, `628…` or `08…` with 7–11 digits after the `8`; stored \
                                               as `+628…`." },
                    "display_name": { "type": "string", "pattern": name_input_pattern(STAFF_NAME_MAX),
                                      "description": "Trimmed; then 1–100 characters without control characters.",
                                      "example": "Dr. Budi" },
                },
            }),
        ),
        (
            "SetMitraStatusRequest",
            json!({ "type": "object", "additionalProperties": true, "required": ["is_active"],
                    "properties": { "is_active": { "type": "boolean" } } }),
        ),
        (
            "CreateControlCenterUserRequest",
            json!({
                "type": "object",
                "additionalProperties": true,
                "required": ["email", "display_name", "role_id"],
                "properties": {
                    "email": { "type": "string", "format": "email", "maxLength": Email::MAX_LEN,
                               "description": "Case-insensitive; stored lower-case.",
                               "example": "operator@halobestie.com" },
                    "display_name": { "type": "string", "pattern": name_input_pattern(STAFF_NAME_MAX),
                                      "description": "Trimmed; then 1–100 characters without control characters.",
                                      "example": "Operator 1" },
                    "role_id": { "type": "string", "format": "uuid", "enum": role_ids,
                                 "description": "The id of a role listed by `GET /internal/roles` (in Phase 1, the \
                                                 seeded `super_admin` and `operator`); any other id is \
                                                 `VALIDATION_ERROR`." },
                },
            }),
        ),
        (
            "UpdateAnonymityRequest",
            json!({ "type": "object", "additionalProperties": true, "required": ["anonymity_enabled"],
                    "properties": { "anonymity_enabled": { "type": "boolean" } } }),
        ),
    ];
    schemas.into_iter().map(|(name, schema)| (name.to_owned(), schema)).collect()
}

/// The components the spec's paths reach, transitively.
fn components(spec: &Value) -> Value {
    let all = all_schemas();
    let mut used = BTreeSet::new();
    let mut pending = refs(&spec["paths"]);
    while let Some(name) = pending.pop() {
        if used.insert(name.clone()) {
            let schema = all.get(&name).unwrap_or_else(|| panic!("schema {name} is referenced but not defined"));
            pending.extend(refs(schema));
        }
    }
    // Keep the definition order of `all_schemas`, which reads top-down.
    let schemas: Map<String, Value> = all.into_iter().filter(|(name, _)| used.contains(name)).collect();
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

/// The component schema names a value references.
fn refs(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(name) =
                    map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    found.push(name.to_owned());
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_and_every_status_is_the_error_types_own() {
        for surface in [Surface::Public, Surface::Internal] {
            let spec = spec(surface);
            assert_eq!(operations(&spec).len(), ALL.iter().filter(|r| r.surface == surface).count());
        }
        assert_eq!(status_of("DISPLAY_NAME_REQUIRED"), 422);
        assert_eq!(status_of("ACCOUNT_INACTIVE"), 403);
        assert_eq!(status_of("SERVICE_UNAVAILABLE"), 503);
    }

    #[test]
    fn the_anonymous_create_route_alone_has_optional_security() {
        let spec = spec(Surface::Public);
        assert_eq!(
            spec["paths"]["/api/shared/customer/anonymous"]["post"]["security"],
            json!([{}, { "bearerAuth": [] }])
        );
        assert_eq!(spec["paths"]["/api/shared/customer/link"]["post"]["security"], json!([{ "bearerAuth": [] }]));
    }
}
