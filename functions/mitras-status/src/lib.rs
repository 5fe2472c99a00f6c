//! `PATCH /internal/mitras/:id/status` (`mitra:update`): activate or deactivate a mitra.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::auth::ControlCenterCaller;
use shared::endpoint::Body;
use shared::inputs::MitraId;
use shared::request::{Fields, Sent};
use shared::store::change::Outcome;
use shared::views::MitraStatus;
use shared::{ApiError, App, Call, Endpoint, Json, Path, Reply, routes};

/// Activate or deactivate a mitra
///
/// A deactivated mitra is refused on its very next call.
#[derive(JsonSchema)]
pub struct SetMitraStatus;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "SetMitraStatusRequest")]
#[schemars(transform = shared::schema::require_all)]
pub struct Raw {
    #[serde(default)]
    #[schemars(required)]
    is_active: Sent<bool>,
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
        match app.mitras().set_status(&id, new.is_active, Some(&audit)).await? {
            Outcome::NotFound => return Err(Refused::MitraNotFound),
            Outcome::Unchanged(_) => {}
            Outcome::Changed(_) => {
                tracing::info!(mitra_id = %id, is_active = new.is_active, by = %caller.user.id, "mitra status changed");
            }
            Outcome::Refused(_) => return Err(Outcome::<()>::impossible("changing a mitra's status").into()),
        }
        // Changed or not, the status is now the one asked for.
        Ok(Reply::ok(MitraStatus { id, is_active: new.is_active }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = SetMitraStatus;
