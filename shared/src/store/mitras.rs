//! Mitras: `MITRA#<id>` items with a `PHONE#<e164>` claim each, and a `COUNTER`
//! item (`total`, `active`, `inactive`) moved in the same transaction as every write.

use aws_sdk_dynamodb::Client;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::audit::{Audit, AuditAction, Changes, Target};
use super::list::{self, counter};
use super::schema::{BY_CREATED, BY_STATUS};
use super::stored::{self, decode};
use super::{
    CreatedAt, Item, StoreError, bump_counters, claimed_id, classify, get, key, put_new, retry_on_change, s, to_item,
    transact_failing, transact_reporting,
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
    /// Unix seconds: a token whose `auth_time` is earlier is revoked (`revoke-sessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_valid_after: Option<i64>,
}

impl Mitra {
    /// Whether a token signed in at `auth_time` (unix seconds) was revoked since.
    pub fn revoked(&self, auth_time: i64) -> bool {
        self.tokens_valid_after.is_some_and(|after| auth_time < after)
    }

    /// Every stored field, by name, as the audit record shows it.
    fn fields(&self) -> Vec<(String, Value)> {
        match serde_json::to_value(self) {
            Ok(Value::Object(fields)) => fields.into_iter().collect(),
            _ => Vec::new(),
        }
    }
}

pub enum StatusChange {
    Changed,
    Unchanged,
    NotFound,
}

/// What a PATCH of a mitra came to.
pub enum Updated {
    /// The mitra as the transaction wrote it (or as it was, when nothing changed).
    Done(Mitra),
    PhoneTaken,
    NotFound,
}

/// How often an operation re-reads a mitra that changed between its read and its write.
const ATTEMPTS: usize = 8;

/// The attributes a conditional write checks are still as read, so what it writes and
/// records (counters, claims, the audit's `from`) follows from the state it replaced.
const STATE: [&str; 5] = ["phone", "display_name", "is_active", "firebase_uid", "tokens_valid_after"];

/// A condition expression with its placeholders.
#[derive(Default)]
struct Expr {
    text: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    /// `pk` exists and every [`STATE`] attribute is as in `mitra`.
    fn as_read(mitra: &Mitra) -> Result<Self, StoreError> {
        let item = to_item(mitra)?;
        let mut expr = Self { text: vec!["attribute_exists(pk)".into()], ..Self::default() };
        for (i, field) in STATE.iter().enumerate() {
            expr.names.insert(format!("#s{i}"), (*field).to_owned());
            match item.get(*field) {
                Some(value) => {
                    expr.text.push(format!("#s{i} = :s{i}"));
                    expr.values.insert(format!(":s{i}"), value.clone());
                }
                None => expr.text.push(format!("attribute_not_exists(#s{i})")),
            }
        }
        Ok(expr)
    }

    fn condition(&self) -> String {
        self.text.join(" AND ")
    }
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
fn phone_claim(phone: &Phone, id: &Uuid) -> Item {
    [("pk".to_owned(), s(phone_pk(phone.as_str()))), ("mitra_id".to_owned(), s(id.to_string()))].into()
}
/// A condition that failed where none can fail in a consistent table (a claim that is not
/// its mitra's, an audit record's fresh key).
fn unexpected(what: &str, failed: &[usize]) -> StoreError {
    StoreError::Failed(anyhow::anyhow!("{what}: unexpected condition failure on items {failed:?}"))
}
fn kept_changing(what: &str) -> StoreError {
    StoreError::Unavailable(anyhow::anyhow!("{what}: the mitra kept changing under the write"))
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

    /// Creates an inactive mitra without an audit record (seeding and tests); routes use
    /// [`Self::create_recorded`].
    pub async fn create(&self, phone: &Phone, display_name: DisplayName) -> Result<Option<Mitra>, StoreError> {
        self.create_with(phone, display_name, None).await
    }

    /// Creates an inactive mitra and its `mitra.create` record in one transaction; `None`
    /// when the phone already belongs to one.
    pub async fn create_recorded(
        &self,
        phone: &Phone,
        display_name: DisplayName,
        audit: &Audit<'_>,
    ) -> Result<Option<Mitra>, StoreError> {
        self.create_with(phone, display_name, Some(audit)).await
    }

    async fn create_with(
        &self,
        phone: &Phone,
        display_name: DisplayName,
        audit: Option<&Audit<'_>>,
    ) -> Result<Option<Mitra>, StoreError> {
        let id = Uuid::now_v7();
        let created = CreatedAt::now(&id);
        let mitra = Mitra {
            id,
            phone: phone.clone(),
            display_name,
            is_active: false,
            firebase_uid: None,
            created_at: created.rfc3339,
            tokens_valid_after: None,
        };
        let mut item = to_item(&mitra)?;
        item.insert("pk".into(), s(mitra_pk(&id)));
        item.insert("list_pk".into(), s(LIST_PARTITION));
        item.insert("list_sk".into(), s(created.sort_key));
        item.insert("status_pk".into(), s(status_partition(false)));
        let mut writes = vec![
            put_new(self.table, phone_claim(phone, &id)),
            put_new(self.table, item),
            bump_counters(self.table, &[("total", 1), (status_counter(false), 1)]),
        ];
        if let Some(audit) = audit {
            let changes = mitra.fields().into_iter().fold(Changes::default(), |c, (k, v)| c.field(&k, Value::Null, v));
            writes.push(audit.put(AuditAction::MitraCreate, Target::mitra(id), changes)?);
        }
        match transact_reporting(self.client, writes, "creating a mitra").await? {
            Ok(()) => Ok(Some(mitra)),
            Err(failed) if failed == [0] => Ok(None),
            Err(failed) => Err(unexpected("creating a mitra", &failed)),
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

    /// Binds the Firebase uid on first login; false when another uid is already bound, or
    /// when since `mitra` was read its phone changed or its sessions were revoked for a token
    /// signed in at `auth_time` (a login racing those must not bind).
    pub async fn bind_uid(&self, mitra: &Mitra, uid: &str, auth_time: i64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table)
            .key("pk", s(mitra_pk(&mitra.id)))
            .update_expression("SET firebase_uid = :uid")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(firebase_uid) OR firebase_uid = :uid) \
                 AND phone = :phone AND (attribute_not_exists(tokens_valid_after) OR tokens_valid_after <= :auth_time)",
            )
            .expression_attribute_values(":uid", s(uid))
            .expression_attribute_values(":phone", s(mitra.phone.as_str()))
            .expression_attribute_values(":auth_time", AttributeValue::N(auth_time.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(classify(e, "binding a mitra's uid")),
        }
    }

    /// Sets the status without an audit record (seeding and tests); routes use
    /// [`Self::set_status_recorded`].
    pub async fn set_status(&self, id: &Uuid, active: bool) -> Result<StatusChange, StoreError> {
        self.set_status_with(id, active, None).await
    }

    /// Sets the status, moving the counters and writing `mitra.status` in one transaction;
    /// nothing is written (no record either) when the status is already `active`.
    pub async fn set_status_recorded(
        &self,
        id: &Uuid,
        active: bool,
        audit: &Audit<'_>,
    ) -> Result<StatusChange, StoreError> {
        self.set_status_with(id, active, Some(audit)).await
    }

    async fn set_status_with(
        &self,
        id: &Uuid,
        active: bool,
        audit: Option<&Audit<'_>>,
    ) -> Result<StatusChange, StoreError> {
        // The condition pins the previous status to `!active`, so the counters and the
        // record's `from` are exact without reading the item first.
        let update = Update::builder()
            .table_name(self.table)
            .key("pk", s(mitra_pk(id)))
            .update_expression("SET is_active = :active, status_pk = :status")
            .condition_expression("attribute_exists(pk) AND is_active <> :active")
            .expression_attribute_values(":active", AttributeValue::Bool(active))
            .expression_attribute_values(":status", s(status_partition(active)))
            // A refusal then tells "no such mitra" from "already so" without a read after it.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .expect("table, key and expression are set");
        let mut writes = vec![
            TransactWriteItem::builder().update(update).build(),
            bump_counters(self.table, &[(status_counter(active), 1), (status_counter(!active), -1)]),
        ];
        if let Some(audit) = audit {
            let changes = Changes::default().field("is_active", !active, active);
            writes.push(audit.put(AuditAction::MitraStatus, Target::mitra(*id), changes)?);
        }
        match transact_failing(self.client, writes, "changing a mitra's status").await? {
            Ok(()) => Ok(StatusChange::Changed),
            Err(failed) => match failed.as_slice() {
                [(0, None)] => Ok(StatusChange::NotFound),
                [(0, Some(_))] => Ok(StatusChange::Unchanged),
                _ => Err(unexpected("changing a mitra's status", &failed.iter().map(|(i, _)| *i).collect::<Vec<_>>())),
            },
        }
    }

    /// Changes the display name and/or the phone, with its `mitra.update` record, in one
    /// transaction. A new phone claims `PHONE#<new>` (taken → [`Updated::PhoneTaken`]),
    /// releases the old claim and clears the uid binding, so the next login binds afresh.
    pub async fn update(
        &self,
        id: &Uuid,
        display_name: Option<DisplayName>,
        phone: Option<Phone>,
        audit: &Audit<'_>,
    ) -> Result<Updated, StoreError> {
        let (display_name, phone) = (&display_name, &phone);
        let gave_up = || kept_changing("updating a mitra");
        retry_on_change(ATTEMPTS, gave_up, || async move {
            let Some(before) = self.by_id(id).await? else { return Ok(Some(Updated::NotFound)) };
            let mut after = before.clone();
            if let Some(name) = display_name {
                after.display_name = name.clone();
            }
            let new_phone = phone.as_ref().filter(|p| **p != before.phone);
            if let Some(phone) = new_phone {
                after.phone = phone.clone();
                after.firebase_uid = None;
            }
            let changes = Changes::default()
                .field("phone", &before.phone, &after.phone)
                .field("display_name", &before.display_name, &after.display_name)
                .field("firebase_uid", &before.firebase_uid, &after.firebase_uid);
            if changes.is_empty() {
                return Ok(Some(Updated::Done(before)));
            }
            let mut expr = Expr::as_read(&before)?;
            expr.values.insert(":name".into(), s(after.display_name.as_str()));
            expr.values.insert(":phone".into(), s(after.phone.as_str()));
            let mut set = "SET display_name = :name, phone = :phone".to_owned();
            if new_phone.is_some() && before.firebase_uid.is_some() {
                set.push_str(" REMOVE firebase_uid");
            }
            let update = Update::builder()
                .table_name(self.table)
                .key("pk", s(mitra_pk(id)))
                .update_expression(set)
                .condition_expression(expr.condition())
                .set_expression_attribute_names(Some(expr.names))
                .set_expression_attribute_values(Some(expr.values))
                .build()
                .expect("table, key and expression are set");
            let mut writes = vec![TransactWriteItem::builder().update(update).build()];
            if let Some(phone) = new_phone {
                writes.push(self.release_phone(&before));
                writes.push(put_new(self.table, phone_claim(phone, id)));
            }
            writes.push(audit.put(AuditAction::MitraUpdate, Target::mitra(*id), changes)?);
            match transact_reporting(self.client, writes, "updating a mitra").await? {
                Ok(()) => Ok(Some(Updated::Done(after))),
                // Changed since it was read: read it again.
                Err(failed) if failed.contains(&0) => Ok(None),
                Err(failed) if new_phone.is_some() && failed == [2] => Ok(Some(Updated::PhoneTaken)),
                Err(failed) => Err(unexpected("updating a mitra", &failed)),
            }
        })
        .await
    }

    /// Deletes the mitra, releases its phone, moves the counters and writes `mitra.delete`
    /// in one transaction; `None` when there is no such mitra.
    pub async fn delete(&self, id: &Uuid, audit: &Audit<'_>) -> Result<Option<Mitra>, StoreError> {
        let gave_up = || kept_changing("deleting a mitra");
        retry_on_change(ATTEMPTS, gave_up, || async move {
            let Some(before) = self.by_id(id).await? else { return Ok(Some(None)) };
            let expr = Expr::as_read(&before)?;
            let delete = Delete::builder()
                .table_name(self.table)
                .key("pk", s(mitra_pk(id)))
                .condition_expression(expr.condition())
                .set_expression_attribute_names(Some(expr.names))
                .set_expression_attribute_values(Some(expr.values).filter(|v| !v.is_empty()))
                .build()
                .expect("table, key and expression are set");
            let changes = before.fields().into_iter().fold(Changes::default(), |c, (k, v)| c.field(&k, v, Value::Null));
            let writes = vec![
                TransactWriteItem::builder().delete(delete).build(),
                self.release_phone(&before),
                bump_counters(self.table, &[("total", -1), (status_counter(before.is_active), -1)]),
                audit.put(AuditAction::MitraDelete, Target::mitra(*id), changes)?,
            ];
            match transact_reporting(self.client, writes, "deleting a mitra").await? {
                Ok(()) => Ok(Some(Some(before))),
                Err(failed) if failed.contains(&0) => Ok(None),
                Err(failed) => Err(unexpected("deleting a mitra", &failed)),
            }
        })
        .await
    }

    /// Revokes every token signed in before `now` (unix seconds) and clears the uid binding,
    /// with its `mitra.revoke_sessions` record; the stored instant, or `None` when there is
    /// no such mitra. It never moves back, whatever the caller's clock says.
    pub async fn revoke_sessions(&self, id: &Uuid, now: i64, audit: &Audit<'_>) -> Result<Option<i64>, StoreError> {
        let gave_up = || kept_changing("revoking a mitra's sessions");
        retry_on_change(ATTEMPTS, gave_up, || async move {
            let Some(before) = self.by_id(id).await? else { return Ok(Some(None)) };
            let after = before.tokens_valid_after.map_or(now, |t| t.max(now));
            let mut expr = Expr::as_read(&before)?;
            expr.values.insert(":after".into(), AttributeValue::N(after.to_string()));
            let update = Update::builder()
                .table_name(self.table)
                .key("pk", s(mitra_pk(id)))
                .update_expression("SET tokens_valid_after = :after REMOVE firebase_uid")
                .condition_expression(expr.condition())
                .set_expression_attribute_names(Some(expr.names))
                .set_expression_attribute_values(Some(expr.values))
                .build()
                .expect("table, key and expression are set");
            let changes = Changes::default().field("tokens_valid_after", before.tokens_valid_after, after).field(
                "firebase_uid",
                &before.firebase_uid,
                None::<String>,
            );
            let writes = vec![
                TransactWriteItem::builder().update(update).build(),
                audit.put(AuditAction::MitraRevokeSessions, Target::mitra(*id), changes)?,
            ];
            match transact_reporting(self.client, writes, "revoking a mitra's sessions").await? {
                Ok(()) => Ok(Some(Some(after))),
                Err(failed) if failed.contains(&0) => Ok(None),
                Err(failed) => Err(unexpected("revoking a mitra's sessions", &failed)),
            }
        })
        .await
    }

    /// Deletes `PHONE#<phone>` of `mitra`, on condition it is still this mitra's.
    fn release_phone(&self, mitra: &Mitra) -> TransactWriteItem {
        let delete = Delete::builder()
            .table_name(self.table)
            .set_key(Some(key(phone_pk(mitra.phone.as_str()))))
            .condition_expression("mitra_id = :id")
            .expression_attribute_values(":id", s(mitra.id.to_string()))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().delete(delete).build()
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
