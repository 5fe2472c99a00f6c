//! `GET /internal/roles` (`control_center_users:read`): every role with its permissions.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::views::RoleView;
use shared::{App, Call, Endpoint, NoRefusal, Reply, routes};

/// List roles
///
/// Every role with its permissions.
#[derive(JsonSchema)]
pub struct ListRoles;

impl Endpoint for ListRoles {
    const ROUTE: routes::Route = routes::ROLES_LIST;
    const TAG: &'static str = "Roles";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "Every role.")];
    type Caller = ControlCenterCaller;
    type Input = ();
    type Output = Vec<RoleView>;
    type Error = NoRefusal;

    async fn handle(app: &App, _: Call<Self>) -> Result<Reply<Vec<RoleView>>, NoRefusal> {
        let roles = app.roles().all().await?;
        Ok(Reply::ok(roles.iter().map(RoleView::from).collect()))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListRoles;
