//! `POST /internal/control-center-users/:id/revoke-sessions` (`control_center_users:update`):
//! every token the user signed in before now (whole seconds) answers 401 from the next
//! request on, and the uid binding is cleared; a fresh sign-in binds again by verified email.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::{ControlCenterCaller, can_act_on, user_with_role};
use shared::inputs::ControlCenterUserId;
use shared::store::change::{self, Outcome};
use shared::views::SessionsRevoked;
use shared::{App, Call, Endpoint, Path, Reply, routes};

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

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<SessionsRevoked>, Refused> {
        let Call { ctx, caller, input: Path(ControlCenterUserId { id }) } = call;
        let (users, audit) = (&app.control_center_users(), &caller.audit(app, &ctx.request_id));
        let caller = &caller;
        let after = change::retry("revoking a control-center user's sessions", || async move {
            let (read, role) = user_with_role(app, caller, &id, None).await?.0.ok_or(Refused::UserNotFound)?;
            if read.value.id != caller.user.id && !can_act_on(caller, role.as_ref()) {
                return Err(Refused::Superior);
            }
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            match users.revoke_sessions(&read, now, audit).await? {
                Some(Outcome::Changed(user) | Outcome::Unchanged(user)) => {
                    Ok(Some(user.tokens_valid_after.unwrap_or(now)))
                }
                Some(_) => Err(Outcome::<()>::impossible("revoking a control-center user's sessions").into()),
                None => Ok(None),
            }
        })
        .await?;
        tracing::info!(user_id = %id, by = %caller.user.id, "control-center user's sessions revoked");
        Ok(Reply::ok(SessionsRevoked::at(id, after)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = RevokeControlCenterUserSessions;
