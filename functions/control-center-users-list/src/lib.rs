//! `GET /internal/control-center-users` (`control_center_users:read`): newest first.

use std::collections::HashMap;

use shared::domain::ListQuery;
use shared::http::query;
use shared::views::{ListPage, StaffView};
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct ListControlCenterUsers;

impl Endpoint for ListControlCenterUsers {
    const ROUTE: routes::Route = routes::STAFF_LIST;

    async fn handle(app: &App, _ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let list = ListQuery::parse(query(&req), false)?;
        let (users, roles) = (app.control_center_users(), app.roles());
        let (page, roles) = tokio::try_join!(users.list(&list), roles.all())?;
        let (users, total) = page;
        let role_names: HashMap<_, _> = roles.iter().map(|r| (r.id, r.name.as_str())).collect();
        let items =
            users.iter().map(|u| StaffView::new(u, role_names.get(&u.role_id).copied().unwrap_or(""))).collect();
        Reply::ok(ListPage { items, total, page: list.page, limit: list.limit })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListControlCenterUsers;
