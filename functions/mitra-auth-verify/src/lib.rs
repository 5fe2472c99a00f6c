//! `POST /api/mitra/auth/verify`: the mitra registered for the token's phone number.
//! Reads are strongly consistent, so a deactivation locks the mitra out at once.

use shared::domain::Phone;
use shared::views::MitraView;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct VerifyMitra;

impl Endpoint for VerifyMitra {
    const ROUTE: routes::Route = routes::MITRA_AUTH_VERIFY;

    async fn handle(app: &App, ctx: Ctx, _req: Request) -> Result<Reply, ApiError> {
        let token = ctx.caller.user()?;
        let phone = token.phone_number.as_deref().ok_or(ApiError::Unauthorized("the token carries no phone number"))?;
        let phone = Phone::parse(phone).map_err(|_| ApiError::AccountNotFound)?;
        let mitras = app.mitras();
        let mitra = mitras.by_phone(&phone).await?.ok_or(ApiError::AccountNotFound)?;
        if !mitra.is_active {
            return Err(ApiError::AccountInactive);
        }
        if mitra.firebase_uid.as_deref() != Some(token.uid.as_str()) && !mitras.bind_uid(&mitra.id, &token.uid).await? {
            tracing::warn!(mitra_id = %mitra.id, "mitra is bound to a different Firebase uid");
            return Err(ApiError::Unauthorized("this phone number is bound to another login"));
        }
        Reply::ok(MitraView::from(&mitra))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = VerifyMitra;
