//! `PATCH /internal/mitras/:id` (`mitra:update`): rename a mitra or change its phone.
//! A new phone swaps the `PHONE#` claim and clears the uid binding in one transaction.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::auth::ControlCenterCaller;
use shared::domain::{DisplayName, Phone};
use shared::endpoint::Body;
use shared::inputs::MitraId;
use shared::request::{Fields, Sent};
use shared::store::change::Outcome;
use shared::telemetry::mask_phone;
use shared::views::MitraView;
use shared::{ApiError, App, Call, Endpoint, Json, Path, Reply, routes, schema};

/// Update a mitra
///
/// Any of `display_name` and `phone`, at least one. The phone follows the create rules (`+628…`,
/// `628…` or `08…`, stored in E.164); one that belongs to another mitra answers 409 `CONFLICT`. A
/// phone change releases the old number and unbinds the mitra's Firebase login: the next sign-in,
/// with the new number, binds afresh.
#[derive(JsonSchema)]
pub struct UpdateMitra;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "UpdateMitraRequest")]
#[schemars(extend("anyOf" = [{ "required": ["display_name"] }, { "required": ["phone"] }]))]
pub struct Raw {
    #[serde(default)]
    #[schemars(schema_with = "schema::display_name_input")]
    display_name: Sent<String>,
    #[serde(default)]
    #[schemars(schema_with = "schema::phone_input")]
    phone: Sent<String>,
}

pub struct Changes {
    display_name: Option<DisplayName>,
    phone: Option<Phone>,
}

impl Body for Changes {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        if raw.display_name.is_absent() && raw.phone.is_absent() {
            fields.refuse("body", "send display_name, phone or both".into());
        }
        let display_name = fields.optional("display_name", raw.display_name, |n| DisplayName::parse(&n));
        let phone = fields.optional("phone", raw.phone, |p| Phone::parse(&p));
        let (display_name, phone) = fields.finish(display_name.zip(phone))?;
        Ok(Self { display_name, phone })
    }
}

shared::refusals! {
    pub enum Refused {
        MitraNotFound => NotFound("mitra not found"),
        PhoneTaken => Conflict("a mitra with this phone number already exists"),
    }
}

impl Endpoint for UpdateMitra {
    const ROUTE: routes::Route = routes::MITRAS_UPDATE;
    const TAG: &'static str = "Mitras";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The mitra, as updated.")];
    type Caller = ControlCenterCaller;
    type Input = (Path<MitraId>, Json<Changes>);
    type Output = MitraView;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<MitraView>, Refused> {
        let Call { ctx, caller, input: (Path(MitraId { id }), Json(changes)) } = call;
        let audit = caller.audit(app, &ctx.request_id);
        let phone = changes.phone.clone();
        match app.mitras().update(&id, changes.display_name.as_ref(), changes.phone.as_ref(), &audit).await? {
            Outcome::NotFound => Err(Refused::MitraNotFound),
            Outcome::Refused(_) => {
                let phone = phone.as_ref().map(|p| mask_phone(p.as_str())).unwrap_or_default();
                tracing::info!(mitra_id = %id, phone = %phone, "mitra phone already registered");
                Err(Refused::PhoneTaken)
            }
            Outcome::Changed(mitra) | Outcome::Unchanged(mitra) => {
                tracing::info!(mitra_id = %id, by = %caller.user.id, "mitra updated");
                Ok(Reply::ok(MitraView::from(&mitra)))
            }
        }
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = UpdateMitra;
