//! `PATCH /internal/mitras/:id/status` (`mitra:update`): activate or deactivate a mitra.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::auth::ControlCenterCaller;
use shared::endpoint::Body;
use shared::http::Fields;
use shared::inputs::MitraId;
use shared::store::mitras::StatusChange;
use shared::views::MitraStatus;
use shared::{ApiError, App, Call, Endpoint, Json, Path, Reply, routes};

/// Activate or deactivate a mitra
///
/// A deactivated mitra is refused on its very next call.
#[derive(JsonSchema)]
pub struct SetMitraStatus;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "SetMitraStatusRequest")]
pub struct Raw {
    #[schemars(required)]
    is_active: Option<bool>,
}

pub struct NewStatus {
    is_active: bool,
}

impl Body for NewStatus {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let active = fields.required("is_active", raw.is_active, Ok);
        Ok(Self { is_active: fields.finish(active)? })
    }
}

shared::refusals! {
    pub enum Refused {
        MitraNotFound => NotFound("mitra not found"),
    }
}

impl Endpoint for SetMitraStatus {
    const ROUTE: routes::Route = routes::MITRAS_STATUS;
    const TAG: &'static str = "Mitras";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The mitra's id and status.")];
    type Caller = ControlCenterCaller;
    type Input = (Path<MitraId>, Json<NewStatus>);
    type Output = MitraStatus;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<MitraStatus>, Refused> {
        let Call { ctx, caller, input: (Path(MitraId { id }), Json(new)) } = call;
        let audit = caller.audit(app, &ctx.request_id);
        match app.mitras().set_status_recorded(&id, new.is_active, &audit).await? {
            StatusChange::NotFound => return Err(Refused::MitraNotFound),
            StatusChange::Unchanged => {}
            StatusChange::Changed => {
                tracing::info!(mitra_id = %id, is_active = new.is_active, by = %caller.user.id, "mitra status changed");
            }
        }
        // Changed or not, the status is now the one asked for.
        Ok(Reply::ok(MitraStatus { id, is_active: new.is_active }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = SetMitraStatus;
