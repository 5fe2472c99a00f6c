//! `DELETE /api/client/account`: the caller deletes their own customer account.

use http::StatusCode;
use schemars::JsonSchema;
use shared::store::change::Outcome;
use shared::views::Deleted;
use shared::{App, Call, Endpoint, FirebaseUser, Reply, routes};

/// Delete the caller's customer account
///
/// Any customer token, anonymous or not, whose uid is bound to a customer. One transaction deletes the
/// customer and its uid, phone and email claims, so the same phone or email can register again with a new
/// customer. Afterwards the token's verify and a second DELETE answer 404. Deleting the Firebase account
/// itself is the app's own call (`user.delete()`).
#[derive(JsonSchema)]
pub struct DeleteAccount;

shared::refusals! {
    pub enum Refused {
        NoCustomer => NotFound("no customer for this login"),
    }
}

impl Endpoint for DeleteAccount {
    const ROUTE: routes::Route = routes::CLIENT_ACCOUNT_DELETE;
    const TAG: &'static str = "Customer";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The account was deleted.")];
    type Caller = FirebaseUser;
    type Input = ();
    type Output = Deleted;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<Deleted>, Refused> {
        let Call { caller: token, .. } = call;
        match app.customers().delete_by_uid(&token.uid).await? {
            Outcome::Changed(customer) => {
                tracing::info!(customer_id = %customer.id, "customer deleted their account");
                Ok(Reply::ok(Deleted { id: customer.id, deleted: true }))
            }
            Outcome::NotFound => Err(Refused::NoCustomer),
            _ => Err(Outcome::<()>::impossible("deleting a customer").into()),
        }
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = DeleteAccount;
