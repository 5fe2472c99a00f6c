//! `GET /internal/mitras` (`mitra:read`): newest first, `page`/`limit`/`is_active`.

use http::StatusCode;
use schemars::JsonSchema;
use shared::auth::ControlCenterCaller;
use shared::inputs::MitraPage;
use shared::views::{ListPage, MitraView};
use shared::{App, Call, Endpoint, NoRefusal, Query, Reply, routes};

/// List mitras
///
/// Newest first. Past the last page: empty `items`, same `total`.
#[derive(JsonSchema)]
pub struct ListMitras;

impl Endpoint for ListMitras {
    const ROUTE: routes::Route = routes::MITRAS_LIST;
    const TAG: &'static str = "Mitras";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "One page of mitras.")];
    type Caller = ControlCenterCaller;
    type Input = Query<MitraPage>;
    type Output = ListPage<MitraView>;
    type Error = NoRefusal;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<ListPage<MitraView>>, NoRefusal> {
        let Call { input: Query(MitraPage(list)), .. } = call;
        let (mitras, total) = app.mitras().list(&list).await?;
        Ok(Reply::ok(ListPage::new(mitras.iter().map(MitraView::from).collect(), total, &list)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = ListMitras;
