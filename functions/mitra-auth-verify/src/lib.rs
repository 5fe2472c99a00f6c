//! `POST /api/mitra/auth/verify`: the mitra registered for the token's phone number.
//! Reads are strongly consistent, so a deactivation locks the mitra out at once.

use http::StatusCode;
use schemars::JsonSchema;
use shared::domain::{Phone, strip_phone_punctuation};
use shared::views::MitraView;
use shared::{App, Call, Endpoint, FirebaseUser, Reply, routes};

/// Verify the token and return the mitra profile
///
/// Called after OTP login. Request: empty body. The token's `phone_number`, with spaces, hyphens, dots and
/// parentheses stripped, is the lookup key: no phone number → 401, no mitra for it → 404
/// `ACCOUNT_NOT_FOUND`, a token signed in before the mitra's sessions were revoked → 401 (sign in
/// again), inactive → 403 `ACCOUNT_INACTIVE`, the phone bound to another Firebase uid → 403 `FORBIDDEN`.
#[derive(JsonSchema)]
pub struct VerifyMitra;

shared::refusals! {
    pub enum Refused {
        NoPhone => Unauthorized("the token carries no phone number"),
        NotRegistered => AccountNotFound,
        Inactive => AccountInactive("this mitra account is inactive"),
        Revoked => Unauthorized("this session was revoked; sign in again"),
        BoundToAnotherLogin => Forbidden("this phone number is bound to another login"),
    }
}

impl Endpoint for VerifyMitra {
    const ROUTE: routes::Route = routes::MITRA_AUTH_VERIFY;
    const TAG: &'static str = "Mitra";
    const SUCCESS: &'static [(StatusCode, &'static str)] =
        &[(StatusCode::OK, "The mitra registered for the token's phone number.")];
    type Caller = FirebaseUser;
    type Input = ();
    type Output = MitraView;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<MitraView>, Refused> {
        let Call { caller: token, .. } = call;
        let phone = token.phone_number.as_deref().ok_or(Refused::NoPhone)?;
        let phone = Phone::parse(&strip_phone_punctuation(phone)).map_err(|_| Refused::NotRegistered)?;
        let mitras = app.mitras();
        let mitra = mitras.by_phone(&phone).await?.ok_or(Refused::NotRegistered)?;
        // Checked on the item just read, before anything binds: no extra round trip.
        if mitra.revoked(token.auth_time) {
            return Err(Refused::Revoked);
        }
        if !mitra.is_active {
            return Err(Refused::Inactive);
        }
        if mitra.firebase_uid.as_deref() != Some(token.uid.as_str())
            && !mitras.bind_uid(&mitra, &token.uid, token.auth_time).await?
        {
            tracing::warn!(mitra_id = %mitra.id, "mitra is bound to a different Firebase uid");
            return Err(Refused::BoundToAnotherLogin);
        }
        Ok(Reply::ok(MitraView::from(&mitra)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = VerifyMitra;
