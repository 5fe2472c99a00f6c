//! `GET /internal/audit-log` (`audit_log:read`): newest first, cursor-paged, filtered by any
//! of `actor_id`, `target_id` and `action`; each combination is a key condition on its own index.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use shared::auth::ControlCenterCaller;
use shared::domain::{Invalid, InvalidFields};
use shared::endpoint::QueryParams;
use shared::store::audit::{AuditAction, AuditFilter, AuditRecord, Cursor, page};
use shared::{ApiError, App, Call, Endpoint, NoRefusal, Query, Reply, routes, schema};
use uuid::Uuid;

/// List the audit log
///
/// Newest first. Pass `next_cursor` back as `cursor` for the next page, with the same
/// filter; a malformed or altered cursor, or one from another filter, is `VALIDATION_ERROR`.
/// `actor_id`, `target_id` and `action` are exact matches; given together, records match all.
#[derive(JsonSchema)]
pub struct ListAuditLog;

pub struct AuditQuery {
    filter: AuditFilter,
    limit: u32,
    cursor: Option<Cursor>,
}

#[derive(JsonSchema)]
#[schemars(transform = true_defaults)]
pub struct AuditQueryParams {
    #[serde(default)]
    #[schemars(schema_with = "schema::page_limit")]
    pub limit: u32,
    #[serde(default)]
    /// `next_cursor` of the previous page.
    #[schemars(schema_with = "cursor_schema")]
    pub cursor: String,
    #[serde(default)]
    /// Only records of this actor (a control-center user id).
    #[schemars(schema_with = "schema::id")]
    pub actor_id: Uuid,
    #[serde(default)]
    /// Only records about this target (a mitra or control-center user id, or `anonymity`).
    #[schemars(schema_with = "target_schema")]
    pub target_id: String,
    #[serde(default)]
    /// Only records of this action.
    #[schemars(schema_with = "schema::audit_action")]
    pub action: String,
}

/// `#[serde(default)]` (what makes a parameter optional) has schemars write the Rust type's
/// default; the defaults the handler applies are: `limit` 20, no cursor, no filter.
fn true_defaults(schema: &mut schemars::Schema) {
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for (name, property) in properties.iter_mut() {
            if let Some(property) = property.as_object_mut() {
                property.remove("default");
                if name == "limit" {
                    property.insert("default".into(), 20.into());
                }
            }
        }
    }
}

fn cursor_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,200}$" })
}

fn target_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "minLength": 1, "maxLength": 100, "example": "anonymity" })
}

impl QueryParams for AuditQuery {
    type Doc = AuditQueryParams;
    fn parse<'r>(get: impl Fn(&str) -> Option<&'r str>) -> Result<Self, ApiError> {
        let mut errors: Vec<(String, Invalid)> = Vec::new();
        let limit = match get("limit") {
            None => 20,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=100).contains(&n) && !raw.starts_with('+') => n,
                _ => {
                    errors.push(("limit".into(), "must be an integer from 1 to 100".into()));
                    20
                }
            },
        };
        let mut filter = AuditFilter::default();
        if let Some(raw) = get("actor_id") {
            match Uuid::try_parse(raw) {
                Ok(id) if raw.len() == 36 => filter.actor = Some(id),
                _ => errors.push(("actor_id".into(), "must be a UUID".into())),
            }
        }
        if let Some(raw) = get("target_id") {
            if raw.is_empty() || raw.len() > 100 {
                errors.push(("target_id".into(), "must be 1 to 100 characters".into()));
            } else {
                filter.target = Some(raw.to_owned());
            }
        }
        if let Some(raw) = get("action") {
            match AuditAction::parse(raw) {
                Some(action) => filter.action = Some(action),
                None => errors.push(("action".into(), "must be one of the documented actions".into())),
            }
        }
        let cursor = match get("cursor") {
            None => None,
            Some(raw) => match Cursor::decode(raw, &filter) {
                Some(cursor) => Some(cursor),
                None => {
                    errors.push(("cursor".into(), "is not a cursor this list gave for this filter".into()));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(InvalidFields(errors).into());
        }
        Ok(Self { filter, limit, cursor })
    }
}

#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "AuditLogPage")]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    /// Where the next page starts; `null` on the last page.
    #[schemars(schema_with = "next_cursor_schema")]
    pub next_cursor: Option<String>,
    #[schemars(schema_with = "schema::page_limit")]
    pub limit: u32,
}

fn next_cursor_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "string", "nullable": true, "pattern": "^[A-Za-z0-9_-]+$" })
}

impl Endpoint for ListAuditLog {
    const ROUTE: routes::Route = routes::AUDIT_LOG_LIST;
    const TAG: &'static str = "Audit log";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "One page of records.")];
    type Caller = ControlCenterCaller;
    type Input = Query<AuditQuery>;
    type Output = AuditPage;
    type Error = NoRefusal;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<AuditPage>, NoRefusal> {
        let Call { input: Query(query), .. } = call;
        let (items, next) =
            page(&app.dynamo, &app.tables.audit_log, &query.filter, query.limit as usize, query.cursor.as_ref())
                .await?;
        Ok(Reply::ok(AuditPage { items, next_cursor: next.map(|c| c.encode()), limit: query.limit }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListAuditLog;
