//! `GET /api/shared/config/anonymity`: the anonymity flag, for the apps' register wall.

use http::StatusCode;
use schemars::JsonSchema;
use shared::views::Anonymity;
use shared::{App, Call, Endpoint, FirebaseUser, NoRefusal, Reply, routes};

/// Read the anonymity setting
///
/// Apps poll this to decide whether to show the force-register wall. Any valid Firebase token.
#[derive(JsonSchema)]
pub struct ReadAnonymity;

impl Endpoint for ReadAnonymity {
    const ROUTE: routes::Route = routes::PUBLIC_ANONYMITY_GET;
    const TAG: &'static str = "Config";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The current setting.")];
    type Caller = FirebaseUser;
    type Input = ();
    type Output = Anonymity;
    type Error = NoRefusal;

    async fn handle(app: &App, _: Call<Self>) -> Result<Reply<Anonymity>, NoRefusal> {
        Ok(Reply::ok(Anonymity { anonymity_enabled: app.anonymity.get().await? }))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ReadAnonymity;
