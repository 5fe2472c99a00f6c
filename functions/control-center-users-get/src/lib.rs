//! `GET /internal/control-center-users/:id` (`control_center_users:read`).

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::{ControlCenterCaller, user_with_role};
use shared::inputs::ControlCenterUserId;
use shared::views::{ControlCenterUserView, MISSING_ROLE_NAME};
use shared::{App, Call, Endpoint, Path, Reply, routes};

/// Get a control-center user
///
/// The user object, with `is_active`.
#[derive(JsonSchema)]
pub struct GetControlCenterUser;

shared::refusals! {
    pub enum Refused {
        UserNotFound => NotFound("control-center user not found"),
    }
}

impl Endpoint for GetControlCenterUser {
    const ROUTE: routes::Route = routes::CONTROL_CENTER_USERS_GET;
    const TAG: &'static str = "Control-center users";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The user.")];
    type Caller = ControlCenterCaller;
    type Input = Path<ControlCenterUserId>;
    type Output = ControlCenterUserView;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<ControlCenterUserView>, Refused> {
        let Call { caller, input: Path(ControlCenterUserId { id }), .. } = call;
        let (user, role) = user_with_role(app, &caller, &id, None).await?.0.ok_or(Refused::UserNotFound)?;
        let name = role.as_ref().map_or(MISSING_ROLE_NAME, |r| r.name.as_str());
        Ok(Reply::ok(ControlCenterUserView::new(&user, name)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = GetControlCenterUser;
