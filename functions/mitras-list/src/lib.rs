//! `GET /internal/mitras` (`mitra:read`): newest first, `page`/`limit`/`is_active`.

use shared::domain::ListQuery;
use shared::http::query;
use shared::views::{ListPage, MitraView};
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

pub struct ListMitras;

impl Endpoint for ListMitras {
    const ROUTE: routes::Route = routes::MITRAS_LIST;

    async fn handle(app: &App, _ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let list = ListQuery::parse(query(&req), true)?;
        let (mitras, total) = app.mitras().list(&list).await?;
        Reply::ok(ListPage {
            items: mitras.iter().map(MitraView::from).collect(),
            total,
            page: list.page,
            limit: list.limit,
        })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListMitras;
