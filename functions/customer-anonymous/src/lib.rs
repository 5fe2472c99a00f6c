//! `POST /api/shared/customer/anonymous`: create an anonymous customer. No token is
//! needed; when the app sends one, the customer is bound to its uid, idempotently.

use serde::Deserialize;
use shared::domain::CustomerDisplayName;
use shared::http::json_body;
use shared::store::customers::Created;
use shared::views::NewCustomer;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};

#[derive(Deserialize)]
struct Body {
    display_name: Option<String>,
}

pub struct CreateAnonymousCustomer;

impl Endpoint for CreateAnonymousCustomer {
    const ROUTE: routes::Route = routes::CUSTOMER_ANONYMOUS;

    async fn handle(app: &App, ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let body: Body = json_body(&req)?;
        let name = CustomerDisplayName::parse(body.display_name.as_deref())?;
        match app.customers().create_anonymous(name, ctx.caller.uid()).await? {
            Created::New(customer) => Reply::created(NewCustomer::from(&customer)),
            Created::Existing(customer) => Reply::ok(NewCustomer::from(&customer)),
        }
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = CreateAnonymousCustomer;
