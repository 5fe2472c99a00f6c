//! Customers: `CUSTOMER#<id>` items, with `UID#<firebase uid>` and `PHONE#<e164>`
//! claims so that one uid or phone can belong to one customer only.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::stored::{self, decode};
use super::{CreatedAt, StoreError, TxOutcome, claimed_id, get, put_new, s, to_item, transact};
use crate::domain::{CustomerDisplayName, Email, Phone};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Uuid,
    #[serde(deserialize_with = "stored::customer_display_name")]
    pub display_name: CustomerDisplayName,
    pub is_anonymous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "stored::optional_phone")]
    pub phone: Option<Phone>,
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

/// A real identity proven by a verified token.
pub struct Identity<'a> {
    pub uid: &'a str,
    pub phone: Option<&'a Phone>,
    pub email: Option<&'a Email>,
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
fn phone_pk(phone: &Phone) -> String {
    format!("PHONE#{}", phone.as_str())
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
        match transact(self.client, writes, "linking a customer").await? {
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
