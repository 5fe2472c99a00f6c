//! `GET /internal/control-center-users` (`control_center_users:read`): newest first.
//! A user whose role no longer exists is listed with `shared::views::MISSING_ROLE_NAME`.

use shared::domain::ListQuery;
use shared::http::query;
use shared::views::{ListPage, staff_list};
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct ListControlCenterUsers;

impl Endpoint for ListControlCenterUsers {
    const ROUTE: routes::Route = routes::STAFF_LIST;

    async fn handle(app: &App, _ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let list = ListQuery::parse(query(&req), false)?;
        let (users, roles) = (app.control_center_users(), app.roles());
        let (page, roles) = tokio::try_join!(users.list(&list), roles.all())?;
        let (users, total) = page;
        let items = staff_list(&users, &roles);
        Reply::ok(ListPage { items, total, page: list.page, limit: list.limit })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListControlCenterUsers;
