//! `GET /internal/control-center-users` (`control_center_users:read`): newest first.
//! A user whose role no longer exists is listed with `shared::views::MISSING_ROLE_NAME`.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::inputs::Page;
use shared::views::{ControlCenterUserView, ListPage, control_center_user_list};
use shared::{App, Call, Endpoint, NoRefusal, Query, Reply, routes};

/// List control-center users
///
/// Newest first. Past the last page: empty `items`, same `total`.
#[derive(JsonSchema)]
pub struct ListControlCenterUsers;

impl Endpoint for ListControlCenterUsers {
    const ROUTE: routes::Route = routes::CONTROL_CENTER_USERS_LIST;
    const TAG: &'static str = "Control-center users";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "One page of users.")];
    type Caller = ControlCenterCaller;
    type Input = Query<Page>;
    type Output = ListPage<ControlCenterUserView>;
    type Error = NoRefusal;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<ListPage<ControlCenterUserView>>, NoRefusal> {
        let Call { input: Query(Page(list)), .. } = call;
        let (users, roles) = (app.control_center_users(), app.roles());
        let ((users, total), roles) = tokio::try_join!(users.list(&list), roles.all())?;
        Ok(Reply::ok(ListPage::new(control_center_user_list(&users, &roles), total, &list)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListControlCenterUsers;
