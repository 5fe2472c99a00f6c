//! `GET /internal/config/anonymity` (`config:read`).

use shared::views::Anonymity;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct ReadAnonymitySetting;

impl Endpoint for ReadAnonymitySetting {
    const ROUTE: routes::Route = routes::ANONYMITY_GET;

    async fn handle(app: &App, _ctx: Ctx, _req: Request) -> Result<Reply, ApiError> {
        Reply::ok(Anonymity { anonymity_enabled: app.anonymity.get().await? })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ReadAnonymitySetting;
