//! `GET /internal/mitras/:id` (`mitra:read`): one mitra.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::inputs::MitraId;
use shared::views::MitraView;
use shared::{App, Call, Endpoint, Path, Reply, routes};

/// Get a mitra
///
/// 404 `NOT_FOUND` when no mitra has this id (or it was deleted).
#[derive(JsonSchema)]
pub struct GetMitra;

shared::refusals! {
    pub enum Refused {
        MitraNotFound => NotFound("mitra not found"),
    }
}

impl Endpoint for GetMitra {
    const ROUTE: routes::Route = routes::MITRAS_GET;
    const TAG: &'static str = "Mitras";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The mitra.")];
    type Caller = ControlCenterCaller;
    type Input = Path<MitraId>;
    type Output = MitraView;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<MitraView>, Refused> {
        let Call { input: Path(MitraId { id }), .. } = call;
        let mitra = app.mitras().by_id(&id).await?.ok_or(Refused::MitraNotFound)?;
        Ok(Reply::ok(MitraView::from(&mitra)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = GetMitra;
