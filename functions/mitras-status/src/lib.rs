//! `PATCH /internal/mitras/:id/status` (`mitra:update`): activate or deactivate a mitra.

use serde::{Deserialize, Serialize};
use shared::http::{Fields, json_body, uuid_param};
use shared::store::mitras::StatusChange;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};
use uuid::Uuid;

#[derive(Deserialize)]
struct Body {
    is_active: Option<bool>,
}

#[derive(Serialize)]
struct Status {
    id: Uuid,
    is_active: bool,
}

pub struct SetMitraStatus;

impl Endpoint for SetMitraStatus {
    const ROUTE: routes::Route = routes::MITRAS_STATUS;

    async fn handle(app: &App, ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let id = uuid_param(&req, "id")?;
        let body: Body = json_body(&req)?;
        let mut fields = Fields::default();
        let active = fields.required("is_active", body.is_active, Ok);
        let active = fields.finish(active)?;
        let mitra = match app.mitras().set_status(&id, active).await? {
            StatusChange::NotFound => return Err(ApiError::NotFound("mitra not found")),
            StatusChange::Unchanged(mitra) => mitra,
            StatusChange::Changed(mitra) => {
                tracing::info!(mitra_id = %id, is_active = active, by = %ctx.caller.staff()?.user.id, "mitra status changed");
                mitra
            }
        };
        Reply::ok(Status { id: mitra.id, is_active: mitra.is_active })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = SetMitraStatus;
