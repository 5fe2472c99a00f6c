//! `DELETE /internal/control-center-users/:id` (`control_center_users:delete`). The user's
//! email and uid are free again at once; their token becomes a stranger's.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::{ControlCenterCaller, can_act_on, user_with_role};
use shared::inputs::ControlCenterUserId;
use shared::store::change::{self, Conflict, Outcome};
use shared::views::Deleted;
use shared::{App, Call, Endpoint, Path, Reply, routes};

/// Delete a control-center user
///
/// 403 when the user's role has permissions the caller lacks, or when callers delete
/// themselves; 409 `CONFLICT` when it would leave no active super admin.
#[derive(JsonSchema)]
pub struct DeleteControlCenterUser;

shared::refusals! {
    pub enum Refused {
        Superior => Forbidden("you cannot delete a user whose role has permissions you do not have"),
        OwnAccount => Forbidden("you cannot delete yourself"),
        UserNotFound => NotFound("control-center user not found"),
        LastSuperAdmin => Conflict("this would leave no active super admin"),
    }
}

impl Endpoint for DeleteControlCenterUser {
    const ROUTE: routes::Route = routes::CONTROL_CENTER_USERS_DELETE;
    const TAG: &'static str = "Control-center users";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The user is deleted.")];
    type Caller = ControlCenterCaller;
    type Input = Path<ControlCenterUserId>;
    type Output = Deleted;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<Deleted>, Refused> {
        let Call { ctx, caller, input: Path(ControlCenterUserId { id }) } = call;
        let (users, audit) = (&app.control_center_users(), &caller.audit(app, &ctx.request_id));
        let caller = &caller;
        change::retry("deleting a control-center user", || async move {
            let (read, role) = user_with_role(app, caller, &id, None).await?.0.ok_or(Refused::UserNotFound)?;
            if read.value.id == caller.user.id {
                return Err(Refused::OwnAccount);
            }
            if !can_act_on(caller, role.as_ref()) {
                return Err(Refused::Superior);
            }
            match users.delete(&read, audit).await? {
                Some(Outcome::Changed(_)) => Ok(Some(())),
                Some(Outcome::Refused(Conflict::LastSuperAdmin)) => Err(Refused::LastSuperAdmin),
                Some(_) => Err(Outcome::<()>::impossible("deleting a control-center user").into()),
                None => Ok(None),
            }
        })
        .await?;
        tracing::info!(user_id = %id, by = %caller.user.id, "control-center user deleted");
        Ok(Reply::ok(Deleted { id, deleted: true }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = DeleteControlCenterUser;
