//! `DELETE /internal/mitras/:id` (`mitra:delete`): remove a mitra for good.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::inputs::MitraId;
use shared::store::change::Outcome;
use shared::views::Deleted;
use shared::{App, Call, Endpoint, Path, Reply, routes};

/// Delete a mitra
///
/// Releases the mitra's phone (a new mitra may register it) and its Firebase login; the lists and
/// their totals drop it, and its next mitra verify answers 404 `ACCOUNT_NOT_FOUND`.
#[derive(JsonSchema)]
pub struct DeleteMitra;

shared::refusals! {
    pub enum Refused {
        MitraNotFound => NotFound("mitra not found"),
    }
}

impl Endpoint for DeleteMitra {
    const ROUTE: routes::Route = routes::MITRAS_DELETE;
    const TAG: &'static str = "Mitras";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The mitra is deleted.")];
    type Caller = ControlCenterCaller;
    type Input = Path<MitraId>;
    type Output = Deleted;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<Deleted>, Refused> {
        let Call { ctx, caller, input: Path(MitraId { id }) } = call;
        let audit = caller.audit(app, &ctx.request_id);
        match app.mitras().delete(&id, &audit).await? {
            Outcome::Changed(_) => {}
            Outcome::NotFound => return Err(Refused::MitraNotFound),
            _ => return Err(Outcome::<()>::impossible("deleting a mitra").into()),
        }
        tracing::info!(mitra_id = %id, by = %caller.user.id, "mitra deleted");
        Ok(Reply::ok(Deleted { id, deleted: true }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = DeleteMitra;
