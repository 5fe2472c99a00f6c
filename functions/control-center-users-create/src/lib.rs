//! `POST /internal/control-center-users` (`control_center_users:create`). A user may
//! only grant a role whose permissions are a subset of their own.

use serde::Deserialize;
use shared::auth::ensure_can_grant;
use shared::domain::{DisplayName, Email};
use shared::http::{Fields, json_body};
use shared::views::StaffView;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};
use uuid::Uuid;

#[derive(Deserialize)]
struct Body {
    email: Option<String>,
    display_name: Option<String>,
    role_id: Option<String>,
}

pub struct CreateControlCenterUser;

impl Endpoint for CreateControlCenterUser {
    const ROUTE: routes::Route = routes::STAFF_CREATE;

    async fn handle(app: &App, ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let body: Body = json_body(&req)?;
        let mut fields = Fields::default();
        let email = fields.required("email", body.email, |e| Email::parse(&e));
        let name = fields.required("display_name", body.display_name, |n| DisplayName::parse(&n));
        let role_id =
            fields.required("role_id", body.role_id, |r| Uuid::parse_str(&r).map_err(|_| "must be a UUID".into()));
        let ((email, name), role_id) = fields.finish(email.zip(name).zip(role_id))?;
        let role =
            app.roles().by_id(&role_id).await?.ok_or_else(|| ApiError::validation("role_id", "no role has this id"))?;
        ensure_can_grant(ctx.caller.staff()?, &role.permissions)?;
        let user = app
            .control_center_users()
            .create(&email, name, role.id)
            .await?
            .ok_or(ApiError::Conflict("a control-center user with this email already exists"))?;
        tracing::info!(user_id = %user.id, role = %role.name, by = %ctx.caller.staff()?.user.id, "control-center user created");
        Reply::created(StaffView::new(&user, &role.name))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = CreateControlCenterUser;
