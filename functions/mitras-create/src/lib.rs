//! `POST /internal/mitras` (`mitra:create`): onboard a mitra, inactive until enabled.
//! The phone's uniqueness is a DynamoDB condition, so concurrent creates cannot duplicate it.

use serde::Deserialize;
use shared::domain::{DisplayName, Phone};
use shared::http::{Fields, json_body};
use shared::telemetry::mask_phone;
use shared::views::MitraView;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

#[derive(Deserialize)]
struct Body {
    phone: Option<String>,
    display_name: Option<String>,
}

pub struct CreateMitra;

impl Endpoint for CreateMitra {
    const ROUTE: routes::Route = routes::MITRAS_CREATE;

    async fn handle(app: &App, _ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let body: Body = json_body(&req)?;
        let mut fields = Fields::default();
        let phone = fields.required("phone", body.phone, |p| Phone::parse(&p));
        let name = fields.required("display_name", body.display_name, |n| DisplayName::parse(&n));
        let (phone, name) = fields.finish(phone.zip(name))?;
        let mitra = app.mitras().create(&phone, name).await?.ok_or_else(|| {
            tracing::info!(phone = %mask_phone(phone.as_str()), "mitra phone already registered");
            ApiError::Conflict("a mitra with this phone number already exists")
        })?;
        tracing::info!(mitra_id = %mitra.id, phone = %mask_phone(mitra.phone.as_str()), "mitra created");
        Reply::created(MitraView::from(&mitra))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = CreateMitra;
