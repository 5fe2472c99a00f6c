//! `POST /api/shared/customer/link`: attach the phone or social identity of the
//! caller's verified token to an anonymous customer.

use http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use shared::domain::{CustomerPhone, Email, parse_uuid};
use shared::endpoint::Body;
use shared::request::{Fields, Sent};
use shared::store::change::{Conflict, Outcome};
use shared::store::customers::Identity;
use shared::views::CustomerProfile;
use shared::{ApiError, App, Call, Endpoint, FirebaseUser, Json, Reply, routes, schema};
use uuid::Uuid;

/// Link a phone or social login to an anonymous customer
///
/// `firebase_uid` must be the token's uid (else 403). The phone and email come from the verified token,
/// which must carry a verified identity: a `phone_number` (spaces, hyphens, dots and parentheses stripped,
/// then E.164 from any country) or an `email` with `email_verified: true` (else 422). An unverified email
/// is never stored or claimed. 404 when the customer
/// does not exist; 403 when it was created by another uid; 409 when it is already linked or the identity
/// belongs to another customer.
#[derive(JsonSchema)]
pub struct LinkCustomer;

#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "LinkCustomerRequest")]
#[schemars(transform = shared::schema::require_all)]
pub struct Raw {
    #[serde(default)]
    #[schemars(required, schema_with = "schema::id_input")]
    customer_id: Sent<String>,
    /// Must equal the token's uid.
    #[serde(default)]
    #[schemars(required)]
    firebase_uid: Sent<String>,
}

pub struct Link {
    customer_id: Uuid,
    firebase_uid: String,
}

impl Body for Link {
    type Raw = Raw;
    fn parse(raw: Raw) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let customer_id = fields.required("customer_id", raw.customer_id, |id| parse_uuid(&id));
        let uid = fields.required("firebase_uid", raw.firebase_uid, Ok);
        let (customer_id, firebase_uid) = fields.finish(customer_id.zip(uid))?;
        Ok(Self { customer_id, firebase_uid })
    }
}

shared::refusals! {
    pub enum Refused {
        NotTheCaller => Forbidden("firebase_uid does not match the signed-in user"),
        NoVerifiedIdentity => Validation("firebase_uid", "sign in with a phone number or a verified email before linking"),
        CustomerNotFound => NotFound("customer not found"),
        AnotherUsersCustomer => Forbidden("this customer belongs to another user"),
        Registered => AlreadyRegistered("this customer or identity is already registered"),
        TokenPhoneInvalid => Validation("phone_number", "the token's phone must be a number in E.164 form such as +6281234567890"),
    }
}

impl Endpoint for LinkCustomer {
    const ROUTE: routes::Route = routes::CUSTOMER_LINK;
    const TAG: &'static str = "Customer";
    const SUCCESS: &'static [(StatusCode, &'static str)] = &[(StatusCode::OK, "The linked customer.")];
    type Caller = FirebaseUser;
    type Input = Json<Link>;
    type Output = CustomerProfile;
    type Error = Refused;

    async fn handle(app: &App, call: Call<Self>) -> Result<Reply<CustomerProfile>, Refused> {
        let Call { caller: token, input: Json(link), .. } = call;
        if link.firebase_uid != token.uid {
            return Err(Refused::NotTheCaller);
        }
        // The email counts, and is stored and claimed, only when Firebase verified it.
        let verified_email = token.email.as_deref().filter(|_| token.email_verified);
        if token.phone_number.is_none() && verified_email.is_none() {
            return Err(Refused::NoVerifiedIdentity);
        }
        // The phone becomes a uniqueness claim, so one that is no phone number is refused; the
        // email too, but a verified one that is not a plain address is left out rather than refused.
        let phone = token.phone_number.as_deref().map(CustomerPhone::from_token).transpose();
        let phone = phone.map_err(|_| Refused::TokenPhoneInvalid)?;
        let email = verified_email.and_then(|raw| {
            Email::parse(raw)
                .inspect_err(|_| tracing::warn!("the token's email is not an address; linking without it"))
                .ok()
        });
        if phone.is_none() && email.is_none() {
            return Err(Refused::NoVerifiedIdentity);
        }
        let identity = Identity { uid: &token.uid, phone: phone.as_ref(), email: email.as_ref() };
        match app.customers().link(&link.customer_id, identity).await? {
            Outcome::Changed(customer) => Ok(Reply::ok(CustomerProfile::from(&customer))),
            Outcome::NotFound => Err(Refused::CustomerNotFound),
            Outcome::Refused(Conflict::AnotherOwner) => Err(Refused::AnotherUsersCustomer),
            Outcome::Refused(Conflict::Taken) => Err(Refused::Registered),
            _ => Err(Outcome::<()>::impossible("linking a customer").into()),
        }
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = LinkCustomer;
