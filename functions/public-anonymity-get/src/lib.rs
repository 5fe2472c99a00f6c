//! `GET /api/shared/config/anonymity`: the anonymity flag, for the apps' register wall.

use shared::views::Anonymity;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct ReadAnonymity;

impl Endpoint for ReadAnonymity {
    const ROUTE: routes::Route = routes::PUBLIC_ANONYMITY_GET;

    async fn handle(app: &App, _ctx: Ctx, _req: Request) -> Result<Reply, ApiError> {
        Reply::ok(Anonymity { anonymity_enabled: app.anonymity.get().await? })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ReadAnonymity;
