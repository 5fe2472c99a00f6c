//! Mitras: `MITRA#<id>` items with a `PHONE#<e164>` claim each, and a `COUNTER`
//! item (`total`, `active`, `inactive`) moved in the same transaction as every write.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::list::{self, counter};
use super::schema::{BY_CREATED, BY_STATUS};
use super::stored::{self, decode};
use super::{
    CreatedAt, StoreError, TxOutcome, bump_counters, claimed_id, classify, get, put_new, s, to_item, transact,
};
use crate::domain::{DisplayName, ListQuery, Phone};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mitra {
    pub id: Uuid,
    #[serde(deserialize_with = "stored::phone")]
    pub phone: Phone,
    #[serde(deserialize_with = "stored::display_name")]
    pub display_name: DisplayName,
    pub is_active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firebase_uid: Option<String>,
    pub created_at: String,
}

pub enum StatusChange {
    Changed(Mitra),
    Unchanged(Mitra),
    NotFound,
}

pub struct Mitras<'a> {
    client: &'a Client,
    table: &'a str,
}

const LIST_PARTITION: &str = "MITRA";

fn mitra_pk(id: &Uuid) -> String {
    format!("MITRA#{id}")
}
fn phone_pk(phone: &str) -> String {
    format!("PHONE#{phone}")
}
fn status_partition(active: bool) -> &'static str {
    if active { "MITRA#ACTIVE" } else { "MITRA#INACTIVE" }
}
fn status_counter(active: bool) -> &'static str {
    if active { "active" } else { "inactive" }
}

impl<'a> Mitras<'a> {
    pub fn new(client: &'a Client, table: &'a str) -> Self {
        Self { client, table }
    }

    /// Creates an inactive mitra; `None` when the phone already belongs to one.
    pub async fn create(&self, phone: &Phone, display_name: DisplayName) -> Result<Option<Mitra>, StoreError> {
        let id = Uuid::now_v7();
        let created = CreatedAt::now(&id);
        let mitra = Mitra {
            id,
            phone: phone.clone(),
            display_name,
            is_active: false,
            firebase_uid: None,
            created_at: created.rfc3339,
        };
        let mut item = to_item(&mitra)?;
        item.insert("pk".into(), s(mitra_pk(&id)));
        item.insert("list_pk".into(), s(LIST_PARTITION));
        item.insert("list_sk".into(), s(created.sort_key));
        item.insert("status_pk".into(), s(status_partition(false)));
        let phone_claim =
            [("pk".to_owned(), s(phone_pk(phone.as_str()))), ("mitra_id".to_owned(), s(id.to_string()))].into();
        let writes = vec![
            put_new(self.table, phone_claim),
            put_new(self.table, item),
            bump_counters(self.table, &[("total", 1), (status_counter(false), 1)]),
        ];
        match transact(self.client, writes, "creating a mitra").await? {
            TxOutcome::Committed => Ok(Some(mitra)),
            TxOutcome::ConditionFailed => Ok(None),
        }
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<Mitra>, StoreError> {
        get(self.client, self.table, &mitra_pk(id)).await?.map(decode).transpose()
    }

    pub async fn by_phone(&self, phone: &Phone) -> Result<Option<Mitra>, StoreError> {
        let Some(id) = claimed_id(self.client, self.table, &phone_pk(phone.as_str()), "mitra_id").await? else {
            return Ok(None);
        };
        self.by_id(&id).await
    }

    /// Binds the Firebase uid on first login; false when another uid is already bound.
    pub async fn bind_uid(&self, id: &Uuid, uid: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table)
            .key("pk", s(mitra_pk(id)))
            .update_expression("SET firebase_uid = :uid")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(firebase_uid) OR firebase_uid = :uid)",
            )
            .expression_attribute_values(":uid", s(uid))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(e, "binding a mitra's uid")),
        }
    }

    pub async fn set_status(&self, id: &Uuid, active: bool) -> Result<StatusChange, StoreError> {
        let update = Update::builder()
            .table_name(self.table)
            .key("pk", s(mitra_pk(id)))
            .update_expression("SET is_active = :active, status_pk = :status")
            .condition_expression("attribute_exists(pk) AND is_active <> :active")
            .expression_attribute_values(":active", AttributeValue::Bool(active))
            .expression_attribute_values(":status", s(status_partition(active)))
            .build()
            .expect("table, key and expression are set");
        let writes = vec![
            TransactWriteItem::builder().update(update).build(),
            bump_counters(self.table, &[(status_counter(active), 1), (status_counter(!active), -1)]),
        ];
        let outcome = transact(self.client, writes, "changing a mitra's status").await?;
        match (outcome, self.by_id(id).await?) {
            (_, None) => Ok(StatusChange::NotFound),
            (TxOutcome::Committed, Some(mitra)) => Ok(StatusChange::Changed(mitra)),
            (TxOutcome::ConditionFailed, Some(mitra)) => Ok(StatusChange::Unchanged(mitra)),
        }
    }

    /// One page, newest first, and how many mitras match the filter.
    pub async fn list(&self, query: &ListQuery) -> Result<(Vec<Mitra>, u64), StoreError> {
        let (index, partition, total_attribute) = match query.is_active {
            None => (BY_CREATED, LIST_PARTITION, "total"),
            Some(active) => (BY_STATUS, status_partition(active), status_counter(active)),
        };
        let (page, total) = tokio::try_join!(
            list::page(self.client, self.table, index, partition, query.offset(), query.limit as usize),
            counter(self.client, self.table, total_attribute),
        )?;
        let mitras = page.items.into_iter().map(decode).collect::<Result<Vec<Mitra>, _>>()?;
        Ok((mitras, total))
    }
}
