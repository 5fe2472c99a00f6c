//! `POST /internal/control-center-users/:id/revoke-sessions` (`control_center_users:update`):
//! every token the user signed in before now (whole seconds) answers 401 from the next
//! request on, and the uid binding is cleared; a fresh sign-in binds again by verified email.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::{ControlCenterCaller, can_act_on, user_with_role};
use shared::inputs::ControlCenterUserId;
use shared::store::StoreError;
use shared::store::control_center_users::{Change, tokens_valid_after_rfc3339};
use shared::views::SessionsRevoked;
use shared::{App, Ctx, Endpoint, Path, Reply, routes};

/// Revoke a control-center user's sessions
///
/// Tokens signed in before `tokens_valid_after` answer 401 (sign in again) on every route.
/// 403 when the user's role has permissions the caller lacks.
#[derive(JsonSchema)]
pub struct RevokeControlCenterUserSessions;

shared::refusals! {
    pub enum Refused {
        Superior => Forbidden("you cannot revoke the sessions of a user whose role has permissions you do not have"),
        UserNotFound => NotFound("control-center user not found"),
    }
}

impl Endpoint for RevokeControlCenterUserSessions {
    const ROUTE: routes::Route = routes::CONTROL_CENTER_USERS_REVOKE_SESSIONS;
    const TAG: &'static str = "Control-center users";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The sessions are revoked.")];
    type Caller = ControlCenterCaller;
    type Input = Path<ControlCenterUserId>;
    type Output = SessionsRevoked;
    type Error = Refused;

    async fn handle(
        app: &App,
        ctx: &Ctx,
        caller: ControlCenterCaller,
        Path(ControlCenterUserId { id }): Path<ControlCenterUserId>,
    ) -> Result<Reply<SessionsRevoked>, Refused> {
        let users = app.control_center_users();
        let audit = caller.audit(app, &ctx.request_id);
        for _ in 0..5 {
            let (user, role) = user_with_role(app, &caller, &id, None).await?.0.ok_or(Refused::UserNotFound)?;
            if user.id != caller.user.id && !can_act_on(&caller, role.as_ref()) {
                return Err(Refused::Superior);
            }
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            match users.revoke_sessions(&user, now, &audit).await? {
                Change::Done(_) => {
                    tracing::info!(user_id = %id, by = %caller.user.id, "control-center user's sessions revoked");
                    return Ok(Reply::ok(SessionsRevoked { id, tokens_valid_after: tokens_valid_after_rfc3339(now) }));
                }
                Change::NotFound => return Err(Refused::UserNotFound),
                Change::LastSuperAdmin | Change::Stale => continue,
            }
        }
        Err(StoreError::Unavailable(anyhow::anyhow!("the user kept changing under this revocation")).into())
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = RevokeControlCenterUserSessions;
