//! Control-center users: `USER#<id>` items with `EMAIL#<lower-case email>` and
//! `UID#<firebase uid>` claims, and a `COUNTER` item (`total`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::list::{self, counter};
use super::schema::BY_CREATED;
use super::stored::{self, decode};
use super::{
    CreatedAt, StoreError, TxOutcome, bump_counters, claim_uuid, claimed_id, get, get_s, put_new, s, to_item, transact,
};
use crate::domain::{DisplayName, Email, ListQuery};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlCenterUser {
    pub id: Uuid,
    #[serde(deserialize_with = "stored::email")]
    pub email: Email,
    #[serde(deserialize_with = "stored::display_name")]
    pub display_name: DisplayName,
    pub role_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firebase_uid: Option<String>,
    pub created_at: String,
}

/// The `UID#<uid>` item: the user a Firebase uid belongs to, and (for claims written since
/// it was added) the role that user had when the uid was bound.
#[derive(Debug, Clone, Copy)]
pub struct UidClaim {
    pub user_id: Uuid,
    pub role_id: Option<Uuid>,
}

pub struct ControlCenterUsers<'a> {
    client: &'a Client,
    table: &'a str,
}

const LIST_PARTITION: &str = "USER";

fn user_pk(id: &Uuid) -> String {
    format!("USER#{id}")
}
fn email_pk(email: &str) -> String {
    format!("EMAIL#{email}")
}
fn uid_pk(uid: &str) -> String {
    format!("UID#{uid}")
}

impl<'a> ControlCenterUsers<'a> {
    pub fn new(client: &'a Client, table: &'a str) -> Self {
        Self { client, table }
    }

    /// `None` when a user with that email already exists.
    pub async fn create(
        &self,
        email: &Email,
        display_name: DisplayName,
        role_id: Uuid,
    ) -> Result<Option<ControlCenterUser>, StoreError> {
        let id = Uuid::now_v7();
        let created = CreatedAt::now(&id);
        let user = ControlCenterUser {
            id,
            email: email.clone(),
            display_name,
            role_id,
            firebase_uid: None,
            created_at: created.rfc3339,
        };
        let mut item = to_item(&user)?;
        item.insert("pk".into(), s(user_pk(&id)));
        item.insert("list_pk".into(), s(LIST_PARTITION));
        item.insert("list_sk".into(), s(created.sort_key));
        let writes = vec![
            put_new(self.table, claim(email_pk(email.as_str()), &id)),
            put_new(self.table, item),
            bump_counters(self.table, &[("total", 1)]),
        ];
        match transact(self.client, writes, "creating a control-center user").await? {
            TxOutcome::Committed => Ok(Some(user)),
            TxOutcome::ConditionFailed => Ok(None),
        }
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<ControlCenterUser>, StoreError> {
        get(self.client, self.table, &user_pk(id)).await?.map(decode).transpose()
    }

    /// Whose this Firebase uid is, and the role they had when it was bound.
    pub async fn uid_claim(&self, uid: &str) -> Result<Option<UidClaim>, StoreError> {
        let Some(item) = get(self.client, self.table, &uid_pk(uid)).await? else { return Ok(None) };
        let user_id = claim_uuid(&item, "user_id")?;
        // Claims bound before roles were recorded have none; the caller then reads the user first.
        let role_id = get_s(&item, "role_id").and_then(|v| Uuid::parse_str(v).ok());
        Ok(Some(UidClaim { user_id, role_id }))
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<ControlCenterUser>, StoreError> {
        let claim = claimed_id(self.client, self.table, &email_pk(email.as_str()), "user_id").await?;
        let Some(id) = claim else { return Ok(None) };
        self.by_id(&id).await
    }

    /// Binds a Firebase uid to a user that has none yet; false if either side is already bound.
    /// The claim also records the user's role, so a login can read user and role side by side.
    pub async fn bind_uid(&self, user: &ControlCenterUser, uid: &str) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table)
            .key("pk", s(user_pk(&user.id)))
            .update_expression("SET firebase_uid = :uid")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(firebase_uid)")
            .expression_attribute_values(":uid", s(uid))
            .build()
            .expect("table, key and expression are set");
        let mut uid_claim = claim(uid_pk(uid), &user.id);
        uid_claim.insert("role_id".to_owned(), s(user.role_id.to_string()));
        let writes = vec![put_new(self.table, uid_claim), TransactWriteItem::builder().update(update).build()];
        Ok(matches!(transact(self.client, writes, "binding a control-center user's uid").await?, TxOutcome::Committed))
    }

    pub async fn list(&self, query: &ListQuery) -> Result<(Vec<ControlCenterUser>, u64), StoreError> {
        let (page, total) = tokio::try_join!(
            list::page(self.client, self.table, BY_CREATED, LIST_PARTITION, query.offset(), query.limit as usize),
            counter(self.client, self.table, "total"),
        )?;
        let users = page.items.into_iter().map(decode).collect::<Result<Vec<ControlCenterUser>, _>>()?;
        Ok((users, total))
    }
}

fn claim(pk: String, id: &Uuid) -> super::Item {
    [("pk".to_owned(), s(pk)), ("user_id".to_owned(), s(id.to_string()))].into()
}
