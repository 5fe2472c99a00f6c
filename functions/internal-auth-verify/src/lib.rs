//! `POST /internal/auth/verify`: the control-center user behind the token, with
//! their role and permissions. The first login binds the account by verified email.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::views::{ControlCenterUserProfile, RoleView};
use shared::{App, Call, Endpoint, NoRefusal, Reply, routes};

/// Verify the token and return the control-center user
///
/// Request: empty body. On the first login an unbound account is matched by the token's verified
/// email and bound to its uid. 404 when the token maps to no control-center user.
#[derive(JsonSchema)]
pub struct VerifyControlCenterUser;

impl Endpoint for VerifyControlCenterUser {
    const ROUTE: routes::Route = routes::INTERNAL_AUTH_VERIFY;
    const TAG: &'static str = "Auth";
    const SUCCESS: &'static [(StatusCode, &'static str)] =
        &[(StatusCode::OK, "The caller with their role and permissions.")];
    type Caller = ControlCenterCaller;
    type Input = ();
    type Output = ControlCenterUserProfile;
    type Error = NoRefusal;

    async fn handle(_: &App, call: Call<Self>) -> Result<Reply<ControlCenterUserProfile>, NoRefusal> {
        let Call { caller, .. } = call;
        Ok(Reply::ok(ControlCenterUserProfile {
            id: caller.user.id,
            email: caller.user.email.as_str().to_owned(),
            display_name: caller.user.display_name.as_str().to_owned(),
            role: RoleView::from(&caller.role),
        }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = VerifyControlCenterUser;
