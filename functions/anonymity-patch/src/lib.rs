//! `PATCH /internal/config/anonymity` (`config:update`): takes a JSON boolean only.
//!
//! The flag lives in SSM, outside DynamoDB, so it cannot share a transaction with its audit
//! record: the record is written right after the parameter, and the answer is 200 only when
//! both are written. If the record's write fails the answer is 503 and the parameter keeps
//! its new value with no record of the change; the caller retries the same PATCH, which
//! writes the parameter again (idempotent) and then the record.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::auth::ControlCenterCaller;
use shared::endpoint::Body;
use shared::request::{Fields, Sent};
use shared::views::Anonymity;
use shared::{ApiError, App, Call, Endpoint, Json, NoRefusal, Reply, routes};

/// Change the anonymity setting
///
/// `anonymity_enabled` must be a JSON boolean.
#[derive(JsonSchema)]
pub struct UpdateAnonymitySetting;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "UpdateAnonymityRequest")]
#[schemars(transform = shared::schema::require_all)]
pub struct Raw {
    #[serde(default)]
    #[schemars(required)]
    anonymity_enabled: Sent<bool>,
}

pub struct NewSetting {
    anonymity_enabled: bool,
}

impl Body for NewSetting {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let enabled = fields.required("anonymity_enabled", raw.anonymity_enabled, Ok);
        Ok(Self { anonymity_enabled: fields.finish(enabled)? })
    }
}

impl Endpoint for UpdateAnonymitySetting {
    const ROUTE: routes::Route = routes::ANONYMITY_PATCH;
    const TAG: &'static str = "Config";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The new setting.")];
    type Caller = ControlCenterCaller;
    type Input = Json<NewSetting>;
    type Output = Anonymity;
    type Error = NoRefusal;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<Anonymity>, NoRefusal> {
        let Call { ctx, caller, input: Json(new) } = call;
        let audit = caller.audit(app, &ctx.request_id);
        let enabled = app.anonymity.set(new.anonymity_enabled, &audit, &app.dynamo).await?;
        tracing::info!(anonymity_enabled = enabled, by = %caller.user.id, "anonymity flag changed");
        Ok(Reply::ok(Anonymity { anonymity_enabled: enabled }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = UpdateAnonymitySetting;
