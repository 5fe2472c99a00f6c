//! `PATCH /internal/control-center-users/:id` (`control_center_users:update`): any of
//! `display_name`, `role_id`, `is_active`, at least one.
//!
//! Guards, each a 403: no granting a role beyond the caller's own permissions, no acting on
//! a user whose role is beyond them, no changing one's own role or deactivating oneself.
//! Demoting or deactivating the last active super admin is a 409, decided by DynamoDB in
//! the write's own transaction (see `shared::store::control_center_users`).

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::auth::{ControlCenterCaller, can_act_on, can_grant, user_with_role};
use shared::domain::{DisplayName, InvalidFields, parse_uuid};
use shared::endpoint::Body;
use shared::inputs::ControlCenterUserId;
use shared::request::{Fields, Sent};
use shared::store::change::{self, Conflict, Outcome};
use shared::store::control_center_users::UserPatch;
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
#[schemars(extend("anyOf" = [
    { "required": ["display_name"] }, { "required": ["role_id"] }, { "required": ["is_active"] }
]))]
pub struct Raw {
    #[serde(default)]
    #[schemars(schema_with = "schema::display_name_input")]
    display_name: Sent<String>,
    #[serde(default)]
    #[schemars(schema_with = "schema::role_id_input")]
    role_id: Sent<String>,
    #[serde(default)]
    #[schemars(schema_with = "is_active")]
    is_active: Sent<bool>,
}

fn is_active(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "boolean", "description": "`false` deactivates the user." })
}

/// The fields as parsed, and what failed: the guards on one's own role and activation come
/// before validation, so a body's failures are answered only after them.
pub struct Patch {
    display_name: Option<DisplayName>,
    role_id: Option<Uuid>,
    is_active: Option<bool>,
    /// `role_id` was sent, valid or not.
    role_sent: bool,
    /// `is_active` was sent as anything but `true`.
    deactivates: bool,
    invalid: InvalidFields,
}

impl Body for Patch {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let role_sent = !raw.role_id.is_absent();
        let deactivates = !matches!(raw.is_active, Sent::Absent | Sent::Value(true));
        let mut fields = Fields::default();
        if raw.display_name.is_absent() && role_sent == false && raw.is_active.is_absent() {
            fields.refuse("body", "send at least one of display_name, role_id, is_active".into());
        }
        let display_name = fields.optional("display_name", raw.display_name, |n| DisplayName::parse(&n));
        let role_id = fields.optional("role_id", raw.role_id, |r| parse_uuid(&r));
        let is_active = fields.optional("is_active", raw.is_active, Ok);
        Ok(Self {
            display_name: display_name.flatten(),
            role_id: role_id.flatten(),
            is_active: is_active.flatten(),
            role_sent,
            deactivates,
            invalid: fields.into_errors(),
        })
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
        let own = id == caller.user.id;
        if own && ((patch.role_sent && patch.role_id != Some(caller.user.role_id)) || patch.deactivates) {
            return Err(Refused::OwnAccount);
        }
        let (caller, patch) = (&caller, &patch);
        let (updated, role) = change::retry("updating a control-center user", || async move {
            let (found, new_role) = user_with_role(app, caller, &id, patch.role_id.as_ref()).await?;
            if let Some((_, current_role)) = &found
                && !own
                && !can_act_on(caller, current_role.as_ref())
            {
                return Err(Refused::Superior);
            }
            if !patch.invalid.0.is_empty() {
                return Err(Refused::Invalid(patch.invalid.clone()));
            }
            // An unknown role is refused before a missing user.
            if patch.role_id.is_some() && new_role.is_none() {
                return Err(Refused::UnknownRole);
            }
            if new_role.as_ref().is_some_and(|role| !can_grant(caller, &role.permissions)) {
                return Err(Refused::Escalation);
            }
            let (read, current_role) = found.ok_or(Refused::UserNotFound)?;
            let change = UserPatch {
                display_name: patch.display_name.clone(),
                role_id: patch.role_id,
                is_active: patch.is_active,
            };
            let updated = match users.update(&read, &change, audit).await? {
                Some(Outcome::Changed(updated) | Outcome::Unchanged(updated)) => updated,
                Some(Outcome::Refused(Conflict::LastSuperAdmin)) => return Err(Refused::LastSuperAdmin),
                Some(_) => return Err(Outcome::<()>::impossible("updating a control-center user").into()),
                None => return Ok(None),
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
