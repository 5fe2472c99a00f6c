//! `POST /api/shared/customer/link`: attach the phone or social identity of the
//! caller's verified token to an anonymous customer.

use serde::Deserialize;
use shared::domain::{Email, InvalidFields, Phone};
use shared::http::{Fields, json_body};
use shared::store::customers::{Identity, LinkOutcome};
use shared::views::CustomerProfile;
use shared::{ApiError, App, Ctx, Endpoint, Reply, Request, routes};
use uuid::Uuid;

#[derive(Deserialize)]
struct Body {
    customer_id: Option<String>,
    firebase_uid: Option<String>,
}

pub struct LinkCustomer;

impl Endpoint for LinkCustomer {
    const ROUTE: routes::Route = routes::CUSTOMER_LINK;

    async fn handle(app: &App, ctx: Ctx, req: Request) -> Result<Reply, ApiError> {
        let token = ctx.caller.user()?;
        let body: Body = json_body(&req)?;
        if body.firebase_uid.as_deref().is_some_and(|uid| uid != token.uid) {
            return Err(ApiError::Forbidden("firebase_uid does not match the signed-in user"));
        }
        let mut fields = Fields::default();
        let customer_id = fields
            .required("customer_id", body.customer_id, |id| Uuid::parse_str(&id).map_err(|_| "must be a UUID".into()));
        let uid = fields.required("firebase_uid", body.firebase_uid, Ok);
        let (customer_id, _) = fields.finish(customer_id.zip(uid))?;
        if token.is_anonymous() {
            return Err(ApiError::validation(
                "firebase_uid",
                "sign in with a phone number or a social account before linking",
            ));
        }
        // The phone becomes a uniqueness claim, so one that is no Indonesian mobile number is refused;
        // the email is only shown, so one that is no address is left out.
        let phone = token.phone_number.as_deref().map(Phone::parse).transpose();
        let phone = phone.map_err(|invalid| InvalidFields(vec![("phone_number".to_owned(), invalid)]))?;
        let email = token.email.as_deref().and_then(|raw| {
            Email::parse(raw)
                .inspect_err(|_| tracing::warn!("the token's email is not an address; linking without it"))
                .ok()
        });
        let identity = Identity { uid: &token.uid, phone: phone.as_ref(), email: email.as_ref() };
        match app.customers().link(&customer_id, identity).await? {
            LinkOutcome::Linked(customer) => Reply::ok(CustomerProfile::from(&customer)),
            LinkOutcome::NotFound => Err(ApiError::NotFound("customer not found")),
            LinkOutcome::BoundToAnotherUid => Err(ApiError::Forbidden("this customer belongs to another user")),
            LinkOutcome::AlreadyRegistered => {
                Err(ApiError::AlreadyRegistered("this customer or identity is already registered"))
            }
        }
    }
}

/// This function's endpoint, under the name the generated mount table and `main` use.
pub type Function = LinkCustomer;
