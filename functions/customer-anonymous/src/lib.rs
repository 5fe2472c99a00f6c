//! `POST /api/shared/customer/anonymous`: create an anonymous customer. No token is
//! needed; when the app sends one, the customer is bound to its uid, idempotently.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::domain::CustomerDisplayName;
use shared::endpoint::Body;
use shared::error::Code;
use shared::store::change::Outcome;
use shared::views::NewCustomer;
use shared::{Anyone, ApiError, App, Call, Endpoint, Json, NoRefusal, Reply, routes, schema};

/// Create an anonymous customer
///
/// No token is needed. When the app sends a valid token anyway (it signed in anonymously first), the
/// customer is bound to that uid: the first call answers 201, later calls for the same uid answer 200
/// with the same customer.
#[derive(JsonSchema)]
pub struct CreateAnonymousCustomer;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "CreateAnonymousCustomerRequest")]
pub struct Raw {
    #[schemars(required, schema_with = "schema::customer_name_input")]
    display_name: Option<String>,
}

pub struct NewAnonymousCustomer {
    display_name: CustomerDisplayName,
}

impl Body for NewAnonymousCustomer {
    type Raw = Raw;
    const CODES: &'static [Code] = &[Code::DisplayNameRequired, Code::Validation];
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        Ok(Self { display_name: CustomerDisplayName::parse(raw.display_name.as_deref())? })
    }
}

impl Endpoint for CreateAnonymousCustomer {
    const ROUTE: routes::Route = routes::CUSTOMER_ANONYMOUS;
    const TAG: &'static str = "Customer";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[
        (StatusCode::CREATED, "The new customer."),
        (StatusCode::OK, "The customer already bound to the token's uid."),
    ];
    type Caller = Anyone;
    type Input = Json<NewAnonymousCustomer>;
    type Output = NewCustomer;
    type Error = NoRefusal;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<NewCustomer>, NoRefusal> {
        let Call { caller: Anyone(token), input: Json(new), .. } = call;
        let uid = token.as_ref().map(|t| t.uid.as_str());
        Ok(match app.customers().create_anonymous(new.display_name, uid).await? {
            Outcome::Changed(customer) => Reply::created(NewCustomer::from(&customer)),
            Outcome::Unchanged(customer) => Reply::ok(NewCustomer::from(&customer)),
            _ => return Err(Outcome::<()>::impossible("creating a customer").into()),
        })
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = CreateAnonymousCustomer;
