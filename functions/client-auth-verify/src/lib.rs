//! `POST /api/client/auth/verify`: the customer bound to the caller's token.

use http::StatusCode;
use schemars::JsonSchema;
use shared::views::CustomerProfile;
use shared::{App, Call, Endpoint, FirebaseUser, Reply, routes};

/// Verify the token and return the customer profile
///
/// Called after every login. Request: empty body. 404 when no customer is bound to the token's uid.
#[derive(JsonSchema)]
pub struct VerifyCustomer;

shared::refusals! {
    pub enum Refused {
        NoCustomer => NotFound("no customer for this login"),
    }
}

impl Endpoint for VerifyCustomer {
    const ROUTE: routes::Route = routes::CLIENT_AUTH_VERIFY;
    const TAG: &'static str = "Customer";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The customer bound to the token.")];
    type Caller = FirebaseUser;
    type Input = ();
    type Output = CustomerProfile;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<CustomerProfile>, Refused> {
        let Call { caller: token, .. } = call;
        let customer = app.customers().by_uid(&token.uid).await?.ok_or(Refused::NoCustomer)?;
        Ok(Reply::ok(CustomerProfile::from(&customer)))
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = VerifyCustomer;
