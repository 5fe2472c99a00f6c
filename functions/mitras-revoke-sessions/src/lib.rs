//! `POST /internal/mitras/:id/revoke-sessions` (`mitra:update`): sign a mitra out everywhere.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::inputs::MitraId;
use shared::store::change::Outcome;
use shared::views::SessionsRevoked;
use shared::{App, Call, Endpoint, Path, Reply, routes};

/// Revoke a mitra's sessions
///
/// Every Firebase ID token signed in before `tokens_valid_after` (now, in whole seconds) answers
/// 401 `UNAUTHORIZED` from then on, and the mitra's Firebase login is unbound: a fresh sign-in
/// with the mitra's phone binds again. Request: empty body.
#[derive(JsonSchema)]
pub struct RevokeMitraSessions;

shared::refusals! {
    pub enum Refused {
        MitraNotFound => NotFound("mitra not found"),
    }
}

impl Endpoint for RevokeMitraSessions {
    const ROUTE: routes::Route = routes::MITRAS_REVOKE_SESSIONS;
    const TAG: &'static str = "Mitras";
    const SUCCESS: &'static [(StatusCode, &'static str)] =
        &[(StatusCode::OK, "The mitra's tokens signed in before `tokens_valid_after` are revoked.")];
    type Caller = ControlCenterCaller;
    type Input = Path<MitraId>;
    type Output = SessionsRevoked;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<SessionsRevoked>, Refused> {
        let Call { ctx, caller, input: Path(MitraId { id }) } = call;
        let audit = caller.audit(app, &ctx.request_id);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let after = match app.mitras().revoke_sessions(&id, now, &audit).await? {
            Outcome::Changed(mitra) | Outcome::Unchanged(mitra) => mitra.tokens_valid_after.unwrap_or(now),
            Outcome::NotFound => return Err(Refused::MitraNotFound),
            Outcome::Refused(_) => return Err(Outcome::<()>::impossible("revoking a mitra's sessions").into()),
        };
        tracing::info!(mitra_id = %id, by = %caller.user.id, "mitra sessions revoked");
        Ok(Reply::ok(SessionsRevoked::at(id, after)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = RevokeMitraSessions;
