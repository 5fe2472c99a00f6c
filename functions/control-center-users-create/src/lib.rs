//! `POST /internal/control-center-users` (`control_center_users:create`). A user may
//! only grant a role whose permissions are a subset of their own.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::auth::{ControlCenterCaller, can_grant};
use shared::domain::{DisplayName, Email};
use shared::endpoint::Body;
use shared::request::{Fields, Sent};
use shared::store::change::{Conflict, Outcome};
use shared::views::ControlCenterUserView;
use shared::{ApiError, App, Call, Endpoint, Json, Reply, routes, schema};
use uuid::Uuid;

/// Create a control-center user
///
/// The role's permissions must be a subset of the caller's (else 403). The email is stored lower-case;
/// 409 `CONFLICT` when a user with that email exists.
#[derive(JsonSchema)]
pub struct CreateControlCenterUser;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "CreateControlCenterUserRequest")]
#[schemars(transform = shared::schema::require_all)]
pub struct Raw {
    #[serde(default)]
    #[schemars(required, schema_with = "schema::email_input")]
    email: Sent<String>,
    #[serde(default)]
    #[schemars(required, schema_with = "schema::display_name_input")]
    display_name: Sent<String>,
    #[serde(default)]
    #[schemars(required, schema_with = "schema::role_id_input")]
    role_id: Sent<String>,
}

pub struct NewUser {
    email: Email,
    display_name: DisplayName,
    role_id: Uuid,
}

impl Body for NewUser {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let email = fields.required("email", raw.email, |e| Email::parse(&e));
        let name = fields.required("display_name", raw.display_name, |n| DisplayName::parse(&n));
        let role_id = fields.required("role_id", raw.role_id, |r| shared::domain::parse_uuid(&r));
        let ((email, display_name), role_id) = fields.finish(email.zip(name).zip(role_id))?;
        Ok(Self { email, display_name, role_id })
    }
}

shared::refusals! {
    pub enum Refused {
        UnknownRole => Validation("role_id", "no role has this id"),
        Escalation => Forbidden("you cannot grant a role with permissions you do not have"),
        EmailTaken => Conflict("a control-center user with this email already exists"),
    }
}

impl Endpoint for CreateControlCenterUser {
    const ROUTE: routes::Route = routes::CONTROL_CENTER_USERS_CREATE;
    const TAG: &'static str = "Control-center users";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::CREATED, "The new user.")];
    type Caller = ControlCenterCaller;
    type Input = Json<NewUser>;
    type Output = ControlCenterUserView;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<ControlCenterUserView>, Refused> {
        let Call { ctx, caller, input: Json(new) } = call;
        let role = app.roles().by_id(&new.role_id).await?.ok_or(Refused::UnknownRole)?;
        if !can_grant(&caller, &role.permissions) {
            return Err(Refused::Escalation);
        }
        let audit = caller.audit(app, &ctx.request_id);
        let user = match app.control_center_users().create(&new.email, new.display_name, role.id, Some(&audit)).await? {
            Outcome::Changed(user) => user,
            Outcome::Refused(Conflict::Taken) => return Err(Refused::EmailTaken),
            _ => return Err(Outcome::<()>::impossible("creating a control-center user").into()),
        };
        tracing::info!(user_id = %user.id, role = %role.name, by = %caller.user.id, "control-center user created");
        Ok(Reply::created(ControlCenterUserView::new(&user, &role.name)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = CreateControlCenterUser;
