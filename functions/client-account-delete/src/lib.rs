//! `DELETE /api/client/account`: the caller deletes their own customer account.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use shared::store::customers::Deleted;
use shared::{App, Ctx, Endpoint, FirebaseUser, Reply, routes, schema};
use uuid::Uuid;

/// Delete the caller's customer account
///
/// Any customer token, anonymous or not, whose uid is bound to a customer. One transaction deletes the
/// customer and its uid, phone and email claims, so the same phone or email can register again with a new
/// customer. Afterwards the token's verify and a second DELETE answer 404. Deleting the Firebase account
/// itself is the app's own call (`user.delete()`).
#[derive(JsonSchema)]
pub struct DeleteAccount;

/// `{ "id": "…", "deleted": true }`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountDeleted {
    #[schemars(schema_with = "schema::id")]
    pub id: Uuid,
    /// Always true.
    pub deleted: bool,
}

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
    type Output = AccountDeleted;
    type Error = Refused;

    async fn handle(app: &App, _: &Ctx, token: FirebaseUser, _: ()) -> Result<Reply<AccountDeleted>, Refused> {
        match app.customers().delete_by_uid(&token.uid).await? {
            Deleted::Deleted(id) => {
                tracing::info!(customer_id = %id, "customer deleted their account");
                Ok(Reply::ok(AccountDeleted { id, deleted: true }))
            }
            Deleted::NotFound => Err(Refused::NoCustomer),
        }
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = DeleteAccount;
