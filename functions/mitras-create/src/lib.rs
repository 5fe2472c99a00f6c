//! `POST /internal/mitras` (`mitra:create`): onboard a mitra, inactive until enabled.
//! The phone's uniqueness is a DynamoDB condition, so concurrent creates cannot duplicate it.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::auth::ControlCenterCaller;
use shared::domain::{DisplayName, Phone};
use shared::endpoint::Body;
use shared::request::{Fields, Sent};
use shared::store::change::{Conflict, Outcome};
use shared::telemetry::mask_phone;
use shared::views::MitraView;
use shared::{ApiError, App, Call, Endpoint, Json, Reply, routes, schema};

/// Onboard a mitra
///
/// New mitras are inactive. The phone is accepted as `+628…`, `628…` or `08…` and stored in E.164.
/// 409 `CONFLICT` when a mitra with that phone exists.
#[derive(JsonSchema)]
pub struct CreateMitra;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "CreateMitraRequest")]
#[schemars(transform = shared::schema::require_all)]
pub struct Raw {
    #[serde(default)]
    #[schemars(required, schema_with = "schema::phone_input")]
    phone: Sent<String>,
    #[serde(default)]
    #[schemars(required, schema_with = "schema::display_name_input")]
    display_name: Sent<String>,
}

pub struct NewMitra {
    phone: Phone,
    display_name: DisplayName,
}

impl Body for NewMitra {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let phone = fields.required("phone", raw.phone, |p| Phone::parse(&p));
        let name = fields.required("display_name", raw.display_name, |n| DisplayName::parse(&n));
        let (phone, display_name) = fields.finish(phone.zip(name))?;
        Ok(Self { phone, display_name })
    }
}

shared::refusals! {
    pub enum Refused {
        PhoneTaken => Conflict("a mitra with this phone number already exists"),
    }
}

impl Endpoint for CreateMitra {
    const ROUTE: routes::Route = routes::MITRAS_CREATE;
    const TAG: &'static str = "Mitras";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::CREATED, "The new mitra.")];
    type Caller = ControlCenterCaller;
    type Input = Json<NewMitra>;
    type Output = MitraView;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<MitraView>, Refused> {
        let Call { ctx, caller, input: Json(new) } = call;
        let audit = caller.audit(app, &ctx.request_id);
        let mitra = match app.mitras().create(&new.phone, new.display_name, Some(&audit)).await? {
            Outcome::Changed(mitra) => mitra,
            Outcome::Refused(Conflict::Taken) => {
                tracing::info!(phone = %mask_phone(new.phone.as_str()), "mitra phone already registered");
                return Err(Refused::PhoneTaken);
            }
            _ => return Err(Outcome::<()>::impossible("creating a mitra").into()),
        };
        tracing::info!(mitra_id = %mitra.id, phone = %mask_phone(mitra.phone.as_str()), by = %caller.user.id, "mitra created");
        Ok(Reply::created(MitraView::from(&mitra)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = CreateMitra;
