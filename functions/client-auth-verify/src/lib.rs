//! `POST /api/client/auth/verify`: the customer bound to the caller's token.

use shared::views::CustomerProfile;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct VerifyCustomer;

impl Endpoint for VerifyCustomer {
    const ROUTE: routes::Route = routes::CLIENT_AUTH_VERIFY;

    async fn handle(app: &App, ctx: Ctx, _req: Request) -> Result<Reply, ApiError> {
        let token = ctx.caller.user()?;
        let customer =
            app.customers().by_uid(&token.uid).await?.ok_or(ApiError::NotFound("no customer for this login"))?;
        Reply::ok(CustomerProfile::from(&customer))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = VerifyCustomer;
