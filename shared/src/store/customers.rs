//! Customers: `CUSTOMER#<id>` items, with `UID#<firebase uid>`, `PHONE#<e164>` and
//! `EMAIL#<verified email>` claims so that one uid, phone or email belongs to one customer only.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::stored::{self, decode};
use super::{CreatedAt, StoreError, TxOutcome, claimed_id, get, put_new, retry_on_change, s, to_item, transact};
use crate::domain::{CustomerDisplayName, CustomerPhone, Email};

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

pub enum Created {
    New(Customer),
    /// The uid already had a customer; creation is idempotent per uid.
    Existing(Customer),
}

/// A real identity proven by a verified token. The email is one Firebase verified: an
/// unverified one is never stored or claimed.
pub struct Identity<'a> {
    pub uid: &'a str,
    pub phone: Option<&'a CustomerPhone>,
    pub email: Option<&'a Email>,
}

pub enum Deletion {
    Deleted(Uuid),
    /// No customer is bound to the uid (never was, or already deleted).
    NotFound,
}

pub enum LinkOutcome {
    Linked(Customer),
    NotFound,
    BoundToAnotherUid,
    AlreadyRegistered,
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

    pub async fn create_anonymous(
        &self,
        display_name: CustomerDisplayName,
        uid: Option<&str>,
    ) -> Result<Created, StoreError> {
        let id = Uuid::now_v7();
        let customer = Customer {
            id,
            display_name,
            is_anonymous: true,
            phone: None,
            email: None,
            bound_uid: uid.map(str::to_owned),
            linked_uid: None,
            created_at: CreatedAt::now(&id).rfc3339,
        };
        let mut item = to_item(&customer)?;
        item.insert("pk".into(), s(customer_pk(&id)));
        let mut writes = vec![put_new(self.table, item)];
        if let Some(uid) = uid {
            writes.push(put_new(self.table, claim(uid_pk(uid), &id)));
        }
        match transact(self.client, writes, "creating a customer").await? {
            TxOutcome::Committed => Ok(Created::New(customer)),
            TxOutcome::ConditionFailed => {
                let uid =
                    uid.ok_or_else(|| StoreError::Failed(anyhow::anyhow!("a fresh customer id already existed")))?;
                let existing = self.by_uid(uid).await?;
                existing
                    .map(Created::Existing)
                    .ok_or_else(|| StoreError::Failed(anyhow::anyhow!("uid claim without customer")))
            }
        }
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<Customer>, StoreError> {
        get(self.client, self.table, &customer_pk(id)).await?.map(decode).transpose()
    }

    pub async fn by_uid(&self, uid: &str) -> Result<Option<Customer>, StoreError> {
        let Some(id) = claimed_id(self.client, self.table, &uid_pk(uid), "customer_id").await? else { return Ok(None) };
        self.by_id(&id).await
    }

    /// Links a real identity to an anonymous customer. Exactly one of any number of
    /// concurrent calls for the same customer, uid or phone wins; the rest are refused.
    pub async fn link(&self, id: &Uuid, identity: Identity<'_>) -> Result<LinkOutcome, StoreError> {
        let Some(customer) = self.by_id(id).await? else {
            return Ok(LinkOutcome::NotFound);
        };
        if customer.bound_uid.as_deref().is_some_and(|bound| bound != identity.uid) {
            return Ok(LinkOutcome::BoundToAnotherUid);
        }
        if customer.linked_uid.is_some() {
            return Ok(LinkOutcome::AlreadyRegistered);
        }
        let mut writes = vec![self.mark_linked(id, &identity), self.uid_claim_for(id, identity.uid)];
        if let Some(phone) = identity.phone {
            writes.push(put_new(self.table, claim(phone_pk(phone), id)));
        }
        if let Some(email) = identity.email {
            writes.push(put_new(self.table, claim(email_pk(email), id)));
        }
        match transact(self.client, writes, "linking a customer").await? {
            // Deleted meanwhile: as if it had never been there.
            TxOutcome::ConditionFailed if self.by_id(id).await?.is_none() => Ok(LinkOutcome::NotFound),
            TxOutcome::ConditionFailed => Ok(LinkOutcome::AlreadyRegistered),
            TxOutcome::Committed => Ok(LinkOutcome::Linked(Customer {
                is_anonymous: false,
                phone: identity.phone.cloned(),
                email: identity.email.cloned(),
                linked_uid: Some(identity.uid.to_owned()),
                ..customer
            })),
        }
    }

    /// Deletes the customer bound to `uid` and every claim that points at it (its uids,
    /// phone and email) in one transaction. The customer is deleted only as it was read: a
    /// link committed in between fails the condition, and the delete starts over with the
    /// claims that link added, so no claim outlives its customer.
    pub async fn delete_by_uid(&self, uid: &str) -> Result<Deletion, StoreError> {
        let gave_up = || StoreError::Failed(anyhow::anyhow!("the customer kept changing while being deleted"));
        retry_on_change(5, gave_up, || async move {
            let Some(customer) = self.by_uid(uid).await? else { return Ok(Some(Deletion::NotFound)) };
            let id = customer.id;
            let mut writes = vec![self.delete_as_read(&customer)];
            let mut claims = vec![uid_pk(uid)];
            claims.extend(customer.bound_uid.as_deref().map(uid_pk));
            claims.extend(customer.linked_uid.as_deref().map(uid_pk));
            claims.extend(customer.phone.as_ref().map(phone_pk));
            claims.extend(customer.email.as_ref().map(email_pk));
            claims.sort();
            claims.dedup();
            writes.extend(claims.into_iter().map(|pk| self.release(pk, &id)));
            match transact(self.client, writes, "deleting a customer").await? {
                TxOutcome::Committed => Ok(Some(Deletion::Deleted(id))),
                TxOutcome::ConditionFailed => Ok(None),
            }
        })
        .await
    }

    fn delete_as_read(&self, customer: &Customer) -> TransactWriteItem {
        let mut delete = Delete::builder().table_name(self.table).key("pk", s(customer_pk(&customer.id)));
        let condition = match &customer.linked_uid {
            Some(linked) => {
                delete = delete.expression_attribute_values(":linked", s(linked));
                "attribute_exists(pk) AND linked_uid = :linked"
            }
            None => "attribute_exists(pk) AND attribute_not_exists(linked_uid)",
        };
        let delete = delete.condition_expression(condition).build().expect("table, key and condition are set");
        TransactWriteItem::builder().delete(delete).build()
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

    fn mark_linked(&self, id: &Uuid, identity: &Identity<'_>) -> TransactWriteItem {
        let mut sets = vec!["is_anonymous = :false", "linked_uid = :uid"];
        let mut update = Update::builder()
            .table_name(self.table)
            .key("pk", s(customer_pk(id)))
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(linked_uid) AND (attribute_not_exists(bound_uid) OR bound_uid = :uid)",
            )
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":uid", s(identity.uid));
        if let Some(phone) = identity.phone {
            sets.push("phone = :phone");
            update = update.expression_attribute_values(":phone", s(phone.as_str()));
        }
        if let Some(email) = identity.email {
            sets.push("email = :email");
            update = update.expression_attribute_values(":email", s(email.as_str()));
        }
        let update = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
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
