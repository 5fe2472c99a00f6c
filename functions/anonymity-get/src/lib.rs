//! `GET /internal/config/anonymity` (`config:read`).

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::views::Anonymity;
use shared::{App, Call, Endpoint, NoRefusal, Reply, routes};

/// Read the anonymity setting
#[derive(JsonSchema)]
pub struct ReadAnonymitySetting;

impl Endpoint for ReadAnonymitySetting {
    const ROUTE: routes::Route = routes::ANONYMITY_GET;
    const TAG: &'static str = "Config";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The current setting.")];
    type Caller = ControlCenterCaller;
    type Input = ();
    type Output = Anonymity;
    type Error = NoRefusal;

    async fn handle(app: &App, _: Call<Self>) -> Result<Reply<Anonymity>, NoRefusal> {
        Ok(Reply::ok(Anonymity { anonymity_enabled: app.anonymity.get().await? }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ReadAnonymitySetting;
