//! `GET /internal/control-center-users` (`control_center_users:read`): newest first.

use std::collections::HashMap;

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::Staff;
use shared::inputs::Page;
use shared::views::{ListPage, StaffView};
use shared::{App, Ctx, Endpoint, NoRefusal, Query, Reply, routes};

/// List control-center users
///
/// Newest first. Past the last page: empty `items`, same `total`.
#[derive(JsonSchema)]
pub struct ListControlCenterUsers;

impl Endpoint for ListControlCenterUsers {
    const ROUTE: routes::Route = routes::STAFF_LIST;
    const TAG: &'static str = "Control-center users";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "One page of users.")];
    type Caller = Staff;
    type Input = Query<Page>;
    type Output = ListPage<StaffView>;
    type Error = NoRefusal;

    async fn handle(
        app: &App,
        _: &Ctx,
        _: Staff,
        Query(Page(list)): Query<Page>,
    ) -> Result<Reply<ListPage<StaffView>>, NoRefusal> {
        let (users, roles) = (app.control_center_users(), app.roles());
        let ((users, total), roles) = tokio::try_join!(users.list(&list), roles.all())?;
        let role_names: HashMap<_, _> = roles.iter().map(|r| (r.id, r.name.as_str())).collect();
        let items =
            users.iter().map(|u| StaffView::new(u, role_names.get(&u.role_id).copied().unwrap_or(""))).collect();
        Ok(Reply::ok(ListPage { items, total, page: list.page, limit: list.limit }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListControlCenterUsers;
