//! `PATCH /internal/config/anonymity` (`config:update`): takes a JSON boolean only.

use serde::Deserialize;
use shared::http::{Fields, json_body};
use shared::views::Anonymity;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

#[derive(Deserialize)]
struct Body {
    anonymity_enabled: Option<bool>,
}

pub struct UpdateAnonymitySetting;

impl Endpoint for UpdateAnonymitySetting {
    const ROUTE: routes::Route = routes::ANONYMITY_PATCH;

    async fn handle(app: &App, ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let body: Body = json_body(&req)?;
        let mut fields = Fields::default();
        let enabled = fields.required("anonymity_enabled", body.anonymity_enabled, Ok);
        let enabled = fields.finish(enabled)?;
        let enabled = app.anonymity.set(enabled).await?;
        tracing::info!(anonymity_enabled = enabled, by = %ctx.caller.staff()?.user.id, "anonymity flag changed");
        Reply::ok(Anonymity { anonymity_enabled: enabled })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = UpdateAnonymitySetting;
