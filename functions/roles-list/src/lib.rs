//! `GET /internal/roles` (`control_center_users:read`): every role with its permissions.

use shared::views::RoleView;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct ListRoles;

impl Endpoint for ListRoles {
    const ROUTE: routes::Route = routes::ROLES_LIST;

    async fn handle(app: &App, _ctx: Ctx, _req: Request) -> Result<Reply, ApiError> {
        let roles = app.roles().all().await?;
        Reply::ok(roles.iter().map(RoleView::from).collect::<Vec<_>>())
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListRoles;
