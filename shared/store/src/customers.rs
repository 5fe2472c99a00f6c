//! Customers: `CUSTOMER#<id>` items, with `UID#<firebase uid>`, `PHONE#<e164>` and
//! `EMAIL#<verified email>` claims so that one uid, phone or email belongs to one customer only.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::change::{self, Also, Conflict, Entity, Next, Outcome, Read};
use super::stored::{self, decode};
use super::{CreatedAt, StoreError, claimed_id, get, put_new, s};
use halo_domain::{CustomerDisplayName, CustomerPhone, Email};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Uuid,
    #[serde(deserialize_with = "stored::customer_display_name")]
    pub display_name: CustomerDisplayName,
    pub is_anonymous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "stored::optional_customer_phone")]
    pub phone: Option<CustomerPhone>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "stored::optional_email")]
    pub email: Option<Email>,
    /// The Firebase uid that created this customer, when it was created with a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_uid: Option<String>,
    /// The Firebase uid of the real identity linked to this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_uid: Option<String>,
    pub created_at: String,
}

/// A real identity proven by a verified token. The email is one Firebase verified: an
/// unverified one is never stored or claimed.
pub struct Identity<'a> {
    pub uid: &'a str,
    pub phone: Option<&'a CustomerPhone>,
    pub email: Option<&'a Email>,
}

impl Entity for Customer {
    fn pk(&self) -> String {
        customer_pk(&self.id)
    }
}

pub struct Customers<'a> {
    client: &'a Client,
    table: &'a str,
}

fn customer_pk(id: &Uuid) -> String {
    format!("CUSTOMER#{id}")
}
fn uid_pk(uid: &str) -> String {
    format!("UID#{uid}")
}
fn phone_pk(phone: &CustomerPhone) -> String {
    format!("PHONE#{}", phone.as_str())
}
fn email_pk(email: &Email) -> String {
    format!("EMAIL#{}", email.as_str())
}

impl<'a> Customers<'a> {
    pub fn new(client: &'a Client, table: &'a str) -> Self {
        Self { client, table }
    }

    /// Creates an anonymous customer, bound to `uid` when it came with a token: `Changed`. A
    /// uid that has a customer already gets that one, `Unchanged`: creation is idempotent per uid.
    pub async fn create_anonymous(
        &self,
        display_name: CustomerDisplayName,
        uid: Option<&str>,
    ) -> Result<Outcome<Customer>, StoreError> {
        change::retry("creating a customer", || async {
            let id = Uuid::now_v7();
            let customer = Customer {
                id,
                display_name: display_name.clone(),
                is_anonymous: true,
                phone: None,
                email: None,
                bound_uid: uid.map(str::to_owned),
                linked_uid: None,
                created_at: CreatedAt::now(&id).rfc3339,
            };
            let also = uid.map(|uid| Also::refusing(put_new(self.table, claim(uid_pk(uid), &id)), Conflict::Taken));
            let decision = (Next::Create(customer.clone(), Vec::new()), also.into_iter().collect(), customer);
            match change::write(self.client, self.table, None, decision, "creating a customer").await? {
                Some(Outcome::Refused(Conflict::Taken)) => {
                    let uid = uid.ok_or_else(|| StoreError::Failed(anyhow::anyhow!("a fresh customer id existed")))?;
                    // Gone between the claim and its customer: deleted meanwhile, so create again.
                    Ok(self.by_uid(uid).await?.map(Outcome::Unchanged))
                }
                written => Ok(written),
            }
        })
        .await
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<Customer>, StoreError> {
        get(self.client, self.table, &customer_pk(id)).await?.map(decode).transpose()
    }

    pub async fn by_uid(&self, uid: &str) -> Result<Option<Customer>, StoreError> {
        let Some(id) = claimed_id(self.client, self.table, &uid_pk(uid), "customer_id").await? else { return Ok(None) };
        self.by_id(&id).await
    }

    /// Links a real identity to an anonymous customer. Exactly one of any number of
    /// concurrent calls for the same customer, uid or phone wins; the rest are refused:
    /// `AnotherOwner` when the customer is bound to another uid, `Taken` when it is linked
    /// already or the identity belongs to another customer.
    pub async fn link(&self, id: &Uuid, identity: Identity<'_>) -> Result<Outcome<Customer>, StoreError> {
        let identity = &identity;
        change::change(
            self.client,
            self.table,
            &customer_pk(id),
            "linking a customer",
            |read: Option<&Read<Customer>>| {
                let Some(read) = read else { return Ok(Err(Outcome::NotFound)) };
                let customer = &read.value;
                if customer.bound_uid.as_deref().is_some_and(|bound| bound != identity.uid) {
                    return Ok(Err(Outcome::Refused(Conflict::AnotherOwner)));
                }
                if customer.linked_uid.is_some() {
                    return Ok(Err(Outcome::Refused(Conflict::Taken)));
                }
                let linked = Customer {
                    is_anonymous: false,
                    phone: identity.phone.cloned(),
                    email: identity.email.cloned(),
                    linked_uid: Some(identity.uid.to_owned()),
                    ..customer.clone()
                };
                let mut claims = vec![Also::refusing(self.uid_claim_for(id, identity.uid), Conflict::Taken)];
                claims.extend(
                    identity
                        .phone
                        .map(|p| Also::refusing(put_new(self.table, claim(phone_pk(p), id)), Conflict::Taken)),
                );
                claims.extend(
                    identity
                        .email
                        .map(|e| Also::refusing(put_new(self.table, claim(email_pk(e), id)), Conflict::Taken)),
                );
                Ok(Ok((Next::Update(linked.clone()), claims, linked)))
            },
        )
        .await
    }

    /// Deletes the customer bound to `uid` and every claim that points at it (its uids,
    /// phone and email) in one transaction, as it was read: a link committed in between
    /// changes its version, and the delete starts over with the claims that link added, so
    /// no claim outlives its customer. `NotFound` when no customer is bound to the uid.
    pub async fn delete_by_uid(&self, uid: &str) -> Result<Outcome<Customer>, StoreError> {
        change::retry("deleting a customer", || async move {
            let Some(id) = claimed_id(self.client, self.table, &uid_pk(uid), "customer_id").await? else {
                return Ok(Some(Outcome::NotFound));
            };
            let Some(read) = change::read::<Customer>(self.client, self.table, &customer_pk(&id)).await? else {
                // The claim's customer is being deleted right now: read the claim again.
                return Ok(None);
            };
            let customer = &read.value;
            let mut claims = vec![uid_pk(uid)];
            claims.extend(customer.bound_uid.as_deref().map(uid_pk));
            claims.extend(customer.linked_uid.as_deref().map(uid_pk));
            claims.extend(customer.phone.as_ref().map(phone_pk));
            claims.extend(customer.email.as_ref().map(email_pk));
            claims.sort();
            claims.dedup();
            let also = claims.into_iter().map(|pk| Also::item(self.release(pk, &id))).collect();
            change::write(
                self.client,
                self.table,
                Some(&read),
                (Next::Delete, also, customer.clone()),
                "deleting a customer",
            )
            .await
        })
        .await
    }

    /// A claim of this customer's is removed; one that is gone already is fine, one that now
    /// points at another customer is left alone (the condition fails and the delete retries).
    fn release(&self, pk: String, id: &Uuid) -> TransactWriteItem {
        let delete = Delete::builder()
            .table_name(self.table)
            .key("pk", s(pk))
            .condition_expression("attribute_not_exists(pk) OR customer_id = :id")
            .expression_attribute_values(":id", s(id.to_string()))
            .build()
            .expect("table, key and condition are set");
        TransactWriteItem::builder().delete(delete).build()
    }

    /// The uid claim may already exist when this very customer was created with that uid.
    fn uid_claim_for(&self, id: &Uuid, uid: &str) -> TransactWriteItem {
        let put = aws_sdk_dynamodb::types::Put::builder()
            .table_name(self.table)
            .set_item(Some(claim(uid_pk(uid), id)))
            .condition_expression("attribute_not_exists(pk) OR customer_id = :id")
            .expression_attribute_values(":id", s(id.to_string()))
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }
}

fn claim(pk: String, id: &Uuid) -> super::Item {
    [("pk".to_owned(), s(pk)), ("customer_id".to_owned(), s(id.to_string()))].into()
}
