//! `POST /internal/auth/verify`: the control-center user behind the token, with
//! their role and permissions. The first login binds the account by verified email.

use shared::views::{RoleView, StaffProfile};
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct VerifyControlCenterUser;

impl Endpoint for VerifyControlCenterUser {
    const ROUTE: routes::Route = routes::INTERNAL_AUTH_VERIFY;

    async fn handle(_app: &App, ctx: Ctx, _req: Request) -> Result<Reply, ApiError> {
        let staff = ctx.caller.staff()?;
        Reply::ok(StaffProfile {
            id: staff.user.id,
            email: staff.user.email.as_str(),
            display_name: staff.user.display_name.as_str(),
            role: RoleView::from(&staff.role),
        })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = VerifyControlCenterUser;
