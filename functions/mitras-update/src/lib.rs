//! `PATCH /internal/mitras/:id` (`mitra:update`): rename a mitra or change its phone.
//! A new phone swaps the `PHONE#` claim and clears the uid binding in one transaction.

use http::StatusCode;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use shared::auth::ControlCenterCaller;
use shared::domain::{DisplayName, Invalid, InvalidFields, Phone};
use shared::endpoint::Body;
use shared::inputs::MitraId;
use shared::store::mitras::Updated;
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

/// Present (`Some`), even when `null` (`Some(None)`), as opposed to absent (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "UpdateMitraRequest")]
#[schemars(transform = at_least_one_field)]
pub struct Raw {
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "schema::display_name_input")]
    display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "schema::phone_input")]
    phone: Option<Option<String>>,
}

/// The spec says what the handler enforces: at least one of the fields, neither `null`
/// (the `default` schemars derives from `#[serde(default)]` would claim `null` is fine).
fn at_least_one_field(schema: &mut schemars::Schema) {
    if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
        for property in properties.values_mut().filter_map(|p| p.as_object_mut()) {
            property.remove("default");
        }
    }
    schema.insert("anyOf".into(), serde_json::json!([{ "required": ["display_name"] }, { "required": ["phone"] }]));
}

pub struct Changes {
    display_name: Option<DisplayName>,
    phone: Option<Phone>,
}

impl Body for Changes {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let mut errors = InvalidFields::default();
        let display_name = optional(&mut errors, "display_name", raw.display_name.clone(), DisplayName::parse);
        let phone = optional(&mut errors, "phone", raw.phone.clone(), Phone::parse);
        if raw.display_name.is_none() && raw.phone.is_none() {
            errors.0.push(("body".into(), Invalid::new("send display_name, phone or both")));
        }
        if !errors.0.is_empty() {
            return Err(errors.into());
        }
        Ok(Self { display_name, phone })
    }
}

/// An optional field: absent is `None`; `null` or an invalid value is an error.
fn optional<T>(
    errors: &mut InvalidFields,
    name: &str,
    raw: Option<Option<String>>,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Option<T> {
    let outcome = match raw? {
        None => Err(Invalid::new("must be a string, not null")),
        Some(value) => parse(&value),
    };
    outcome.map_err(|invalid| errors.0.push((name.to_owned(), invalid))).ok()
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
        match app.mitras().update(&id, changes.display_name, changes.phone, &audit).await? {
            Updated::NotFound => Err(Refused::MitraNotFound),
            Updated::PhoneTaken => {
                let phone = phone.as_ref().map(|p| mask_phone(p.as_str())).unwrap_or_default();
                tracing::info!(mitra_id = %id, phone = %phone, "mitra phone already registered");
                Err(Refused::PhoneTaken)
            }
            Updated::Done(mitra) => {
                tracing::info!(mitra_id = %id, by = %caller.user.id, "mitra updated");
                Ok(Reply::ok(MitraView::from(&mitra)))
            }
        }
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = UpdateMitra;
