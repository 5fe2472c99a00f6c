//! `PATCH /internal/control-center-users/:id` (`control_center_users:update`): any of
//! `display_name`, `role_id`, `is_active`, at least one.
//!
//! Guards, each a 403: no granting a role beyond the caller's own permissions, no acting on
//! a user whose role is beyond them, no changing one's own role or deactivating oneself.
//! Demoting or deactivating the last active super admin is a 409, decided by DynamoDB in
//! the write's own transaction (see `shared::store::control_center_users`).

use http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use shared::auth::{ControlCenterCaller, can_act_on, can_grant, user_with_role};
use shared::domain::{DisplayName, Invalid};
use shared::endpoint::Body;
use shared::http::Fields;
use shared::inputs::ControlCenterUserId;
use shared::store::control_center_users::{Change, UserPatch, retry_user_change};
use shared::views::{ControlCenterUserView, MISSING_ROLE_NAME};
use shared::{ApiError, App, Call, Endpoint, Json, Path, Reply, routes, schema};
use uuid::Uuid;

/// Update a control-center user
///
/// Send at least one of `display_name`, `role_id` and `is_active`. 403 when the new role's
/// permissions, or the user's current role's, are not within the caller's, or when callers
/// change their own role or deactivate themselves (their own `display_name` they may change).
/// 409 `CONFLICT` when it would leave no active super admin. Takes effect on the user's next request.
#[derive(JsonSchema)]
pub struct UpdateControlCenterUser;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "UpdateControlCenterUserRequest")]
#[schemars(transform = no_defaults)]
#[schemars(extend("anyOf" = [
    { "required": ["display_name"] }, { "required": ["role_id"] }, { "required": ["is_active"] }
]))]
pub struct Raw {
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "schema::display_name_input")]
    display_name: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "schema::role_id_input")]
    role_id: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "is_active")]
    is_active: Option<Value>,
}

/// `#[serde(default)]` makes schemars write `"default": null`, which no field accepts.
fn no_defaults(schema: &mut schemars::Schema) {
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for property in properties.values_mut() {
            if let Some(property) = property.as_object_mut() {
                property.remove("default");
            }
        }
    }
}

fn is_active(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "boolean", "description": "`false` deactivates the user." })
}

/// A field that is present, `null` included (`null` is refused, not read as absent).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

pub struct Patch {
    display_name: Option<DisplayName>,
    role_id: Option<Uuid>,
    is_active: Option<bool>,
}

fn string(value: Value) -> Result<String, Invalid> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err("must be a string".into()),
    }
}

impl Body for Patch {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        if raw.display_name.is_none() && raw.role_id.is_none() && raw.is_active.is_none() {
            return Err(ApiError::validation("body", "send at least one of display_name, role_id, is_active"));
        }
        let mut fields = Fields::default();
        let name =
            optional(&mut fields, "display_name", raw.display_name, |v| string(v).and_then(|s| DisplayName::parse(&s)));
        let role = optional(&mut fields, "role_id", raw.role_id, |v| {
            string(v).and_then(|s| Uuid::parse_str(&s).map_err(|_| "must be a UUID".into()))
        });
        let active =
            optional(&mut fields, "is_active", raw.is_active, |v| v.as_bool().ok_or("must be a boolean".into()));
        let (display_name, (role_id, is_active)) = fields.finish(name.zip(role.zip(active)))?;
        Ok(Self { display_name, role_id, is_active })
    }
}

/// An absent field is `Some(None)`; a present one is parsed (`None` when it failed).
fn optional<T>(
    fields: &mut Fields,
    name: &str,
    raw: Option<Value>,
    parse: impl FnOnce(Value) -> Result<T, Invalid>,
) -> Option<Option<T>> {
    match raw {
        None => Some(None),
        Some(value) => fields.required(name, Some(value), parse).map(Some),
    }
}

shared::refusals! {
    pub enum Refused {
        UnknownRole => Validation("role_id", "no role has this id"),
        Escalation => Forbidden("you cannot grant a role with permissions you do not have"),
        Superior => Forbidden("you cannot change a user whose role has permissions you do not have"),
        OwnAccount => Forbidden("you cannot change your own role or deactivate yourself"),
        UserNotFound => NotFound("control-center user not found"),
        LastSuperAdmin => Conflict("this would leave no active super admin"),
    }
}

impl Endpoint for UpdateControlCenterUser {
    const ROUTE: routes::Route = routes::CONTROL_CENTER_USERS_UPDATE;
    const TAG: &'static str = "Control-center users";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The updated user.")];
    type Caller = ControlCenterCaller;
    type Input = (Path<ControlCenterUserId>, Json<Patch>);
    type Output = ControlCenterUserView;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<ControlCenterUserView>, Refused> {
        let Call { ctx, caller, input: (Path(ControlCenterUserId { id }), Json(patch)) } = call;
        let (users, audit) = (&app.control_center_users(), &caller.audit(app, &ctx.request_id));
        let (caller, patch) = (&caller, &patch);
        let (updated, role) = retry_user_change("update", || async move {
            let (found, new_role) = user_with_role(app, caller, &id, patch.role_id.as_ref()).await?;
            // An unknown role is refused before a missing user.
            if patch.role_id.is_some() && new_role.is_none() {
                return Err(Refused::UnknownRole);
            }
            let (user, current_role) = found.ok_or(Refused::UserNotFound)?;
            let own = user.id == caller.user.id;
            if own && (patch.role_id.is_some_and(|r| r != user.role_id) || patch.is_active == Some(false)) {
                return Err(Refused::OwnAccount);
            }
            if !own && !can_act_on(caller, current_role.as_ref()) {
                return Err(Refused::Superior);
            }
            if new_role.as_ref().is_some_and(|role| !can_grant(caller, &role.permissions)) {
                return Err(Refused::Escalation);
            }
            let change = UserPatch {
                display_name: patch.display_name.clone(),
                role_id: patch.role_id,
                is_active: patch.is_active,
            };
            let updated = match users.update(&user, &change, audit).await? {
                Change::Done(updated) => updated.unwrap_or(user),
                Change::NotFound => return Err(Refused::UserNotFound),
                Change::LastSuperAdmin => return Err(Refused::LastSuperAdmin),
                Change::Stale => return Ok(None),
            };
            let role = match new_role {
                Some(role) if role.id == updated.role_id => Some(role),
                _ => current_role.filter(|r| r.id == updated.role_id),
            };
            Ok(Some((updated, role)))
        })
        .await?;
        tracing::info!(user_id = %id, by = %caller.user.id, "control-center user updated");
        let name = role.as_ref().map_or(MISSING_ROLE_NAME, |r| r.name.as_str());
        Ok(Reply::ok(ControlCenterUserView::new(&updated, name)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = UpdateControlCenterUser;
