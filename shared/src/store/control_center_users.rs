//! Control-center users: `USER#<id>` items with `EMAIL#<lower-case email>` and
//! `UID#<firebase uid>` claims, and a `COUNTER` item (`total`, `active_super_admins`).
//!
//! `active_super_admins` counts the active users holding the seeded `super_admin` role. It
//! moves in the same transaction as every change that can move it (create, role change,
//! activation, delete), and a decrement is conditioned on it staying at least 1: of two
//! requests removing the last two super admins at once, DynamoDB commits exactly one.
//! Every other precondition is a condition on the user item as it was read, so a write
//! never acts on a stale read: a changed item makes the caller read again.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::audit::{Audit, AuditAction, Changes, Target};
use super::list::{self, COUNTER_PK, counter};
use super::roles::{Role, role_pk};
use super::schema::BY_CREATED;
use super::stored::{self, decode};
use super::{
    CreatedAt, Item, StoreError, bump_counters, claim_uuid, claimed_id, classify, get, get_batch, get_s, key, put_new,
    s, to_item,
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
    /// Users stored before deactivation existed are active.
    #[serde(default = "active")]
    pub is_active: bool,
    /// Tokens signed in before this instant (epoch seconds) are refused: their sessions were revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_valid_after: Option<i64>,
    pub created_at: String,
}

fn active() -> bool {
    true
}

/// The `UID#<uid>` item. While bound: the user the Firebase uid belongs to and (for claims
/// written since it was added) that user's current role, kept equal to the user's in every
/// transaction that changes it. After a revocation the item stays as a marker of it
/// (`revoked_before`), so that an old token of this uid is refused on this very read.
#[derive(Debug, Clone, Copy)]
pub struct UidClaim {
    pub user_id: Uuid,
    pub role_id: Option<Uuid>,
    /// Set when the binding was revoked: not a binding any more, and tokens signed in
    /// before this instant are refused.
    pub revoked_before: Option<i64>,
}

/// The role whose active holders must never drop to zero.
pub fn super_admin_role_id() -> Uuid {
    super::roles::seeded_role_id("super_admin")
}

/// What an update, delete or revocation came to.
#[derive(Debug)]
pub enum Change<T> {
    Done(T),
    /// The user is gone.
    NotFound,
    /// It would leave no active super admin.
    LastSuperAdmin,
    /// The user changed since it was read: read it again and redecide.
    Stale,
}

/// [`super::retry_on_change`] for a handler's read of a user, its decision and its
/// [`Change`]: five attempts; `what` names the change in the error when they run out.
pub async fn retry_user_change<T, E: From<StoreError>, F: Future<Output = Result<Option<T>, E>>>(
    what: &str,
    attempt: impl FnMut() -> F,
) -> Result<T, E> {
    let gave_up = || StoreError::Unavailable(anyhow::anyhow!("the user kept changing under this {what}"));
    super::retry_on_change(5, gave_up, attempt).await
}

/// The fields a PATCH may set; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub display_name: Option<DisplayName>,
    pub role_id: Option<Uuid>,
    pub is_active: Option<bool>,
}

pub struct ControlCenterUsers<'a> {
    client: &'a Client,
    table: &'a str,
}

const LIST_PARTITION: &str = "USER";
const ACTIVE_SUPER_ADMINS: &str = "active_super_admins";

fn user_pk(id: &Uuid) -> String {
    format!("USER#{id}")
}
fn email_pk(email: &str) -> String {
    format!("EMAIL#{email}")
}
fn uid_pk(uid: &str) -> String {
    format!("UID#{uid}")
}

fn counts_as_super_admin(role_id: Uuid, is_active: bool) -> bool {
    is_active && role_id == super_admin_role_id()
}

impl<'a> ControlCenterUsers<'a> {
    pub fn new(client: &'a Client, table: &'a str) -> Self {
        Self { client, table }
    }

    /// `None` when a user with that email already exists. `audit` is `None` only for the seed.
    pub async fn create(
        &self,
        email: &Email,
        display_name: DisplayName,
        role_id: Uuid,
        audit: Option<&Audit<'_>>,
    ) -> Result<Option<ControlCenterUser>, StoreError> {
        let id = Uuid::now_v7();
        let created = CreatedAt::now(&id);
        let user = ControlCenterUser {
            id,
            email: email.clone(),
            display_name,
            role_id,
            firebase_uid: None,
            is_active: true,
            tokens_valid_after: None,
            created_at: created.rfc3339,
        };
        let mut item = to_item(&user)?;
        item.insert("pk".into(), s(user_pk(&id)));
        item.insert("list_pk".into(), s(LIST_PARTITION));
        item.insert("list_sk".into(), s(created.sort_key));
        let mut deltas = vec![("total", 1)];
        if counts_as_super_admin(role_id, true) {
            deltas.push((ACTIVE_SUPER_ADMINS, 1));
        }
        let mut writes = vec![
            put_new(self.table, claim(email_pk(email.as_str()), &id)),
            put_new(self.table, item),
            bump_counters(self.table, &deltas),
        ];
        if let Some(audit) = audit {
            let changes = Changes::default()
                .field("email", None::<()>, user.email.as_str())
                .field("display_name", None::<()>, user.display_name.as_str())
                .field("role_id", None::<()>, user.role_id)
                .field("is_active", None::<()>, true);
            writes.push(audit.put(AuditAction::ControlCenterUserCreate, Target::control_center_user(id), changes)?);
        }
        match transact(self.client, writes, "creating a control-center user").await? {
            Tx::Committed => Ok(Some(user)),
            Tx::Failed(_) => Ok(None),
        }
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<ControlCenterUser>, StoreError> {
        get(self.client, self.table, &user_pk(id)).await?.map(decode).transpose()
    }

    /// Whose this Firebase uid is (or was, until a revocation), and the role they hold.
    pub async fn uid_claim(&self, uid: &str) -> Result<Option<UidClaim>, StoreError> {
        get(self.client, self.table, &uid_pk(uid)).await?.as_ref().map(uid_claim).transpose()
    }

    /// [`Self::uid_claim`], with the user and the role the caller expects it to lead to,
    /// all three read in one consistent batch. Whether they are the claim's is the caller's
    /// to check.
    pub async fn uid_claim_with(
        &self,
        uid: &str,
        user_id: &Uuid,
        roles_table: &str,
        role_id: &Uuid,
    ) -> Result<(Option<UidClaim>, Option<ControlCenterUser>, Option<Role>), StoreError> {
        let (claim_pk, user_pk, role_pk) = (uid_pk(uid), user_pk(user_id), role_pk(role_id));
        let keys = [(self.table, claim_pk.clone()), (self.table, user_pk.clone()), (roles_table, role_pk.clone())];
        let mut found = get_batch(self.client, &keys).await?;
        let mut take = |table: &str, pk: String| found.remove(&(table.to_owned(), pk));
        let claim = take(self.table, claim_pk).as_ref().map(uid_claim).transpose()?;
        let user = take(self.table, user_pk).map(decode).transpose()?;
        let role = take(roles_table, role_pk).map(decode).transpose()?;
        Ok((claim, user, role))
    }

    /// A user and some roles (those its role may be among), in one consistent batch.
    pub async fn by_id_with_roles(
        &self,
        id: &Uuid,
        roles_table: &str,
        role_ids: &[Uuid],
    ) -> Result<(Option<ControlCenterUser>, Vec<Role>), StoreError> {
        if role_ids.is_empty() {
            return Ok((self.by_id(id).await?, Vec::new()));
        }
        let mut keys = vec![(self.table, user_pk(id))];
        keys.extend(role_ids.iter().map(|r| (roles_table, role_pk(r))));
        let mut found = get_batch(self.client, &keys).await?;
        let user = found.remove(&(self.table.to_owned(), user_pk(id))).map(decode).transpose()?;
        let roles = found.into_values().map(decode).collect::<Result<Vec<Role>, _>>()?;
        Ok((user, roles))
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<ControlCenterUser>, StoreError> {
        let claim = claimed_id(self.client, self.table, &email_pk(email.as_str()), "user_id").await?;
        let Some(id) = claim else { return Ok(None) };
        self.by_id(&id).await
    }

    /// Binds a Firebase uid to an active user that has none yet; false if either side is
    /// already bound (a revoked claim of that uid counts as free). The claim records the
    /// user's role, so a login reads user and role side by side; the bind is audited with
    /// the user as its own actor.
    pub async fn bind_uid(&self, user: &ControlCenterUser, uid: &str, audit: &Audit<'_>) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table)
            .key("pk", s(user_pk(&user.id)))
            .update_expression("SET firebase_uid = :uid")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(firebase_uid) AND role_id = :role AND \
                 (is_active = :true OR attribute_not_exists(is_active))",
            )
            .expression_attribute_values(":uid", s(uid))
            .expression_attribute_values(":role", s(user.role_id.to_string()))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .build()
            .expect("table, key and expression are set");
        let mut uid_claim = claim(uid_pk(uid), &user.id);
        uid_claim.insert("role_id".to_owned(), s(user.role_id.to_string()));
        let put = Put::builder()
            .table_name(self.table)
            .set_item(Some(uid_claim))
            .condition_expression("attribute_not_exists(pk) OR attribute_exists(revoked_before)")
            .build()
            .expect("table and item are set");
        let changes = Changes::default().field("firebase_uid", None::<()>, uid);
        let writes = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(update).build(),
            audit.put(AuditAction::ControlCenterUserBind, Target::control_center_user(user.id), changes)?,
        ];
        Ok(matches!(transact(self.client, writes, "binding a control-center user's uid").await?, Tx::Committed))
    }

    /// Applies `patch` to `user` as it was read. `Done(None)` when nothing would change
    /// (nothing is written, nothing audited).
    pub async fn update(
        &self,
        user: &ControlCenterUser,
        patch: &UserPatch,
        audit: &Audit<'_>,
    ) -> Result<Change<Option<ControlCenterUser>>, StoreError> {
        let mut next = user.clone();
        if let Some(name) = &patch.display_name {
            next.display_name = name.clone();
        }
        next.role_id = patch.role_id.unwrap_or(user.role_id);
        next.is_active = patch.is_active.unwrap_or(user.is_active);
        let changes = Changes::default()
            .field("display_name", user.display_name.as_str(), next.display_name.as_str())
            .field("role_id", user.role_id, next.role_id)
            .field("is_active", user.is_active, next.is_active);
        if changes.is_empty() {
            return Ok(Change::Done(None));
        }
        let update = self
            .unchanged(user)
            .update_expression("SET display_name = :name, role_id = :new_role, is_active = :new_active")
            .expression_attribute_values(":name", s(next.display_name.as_str()))
            .expression_attribute_values(":new_role", s(next.role_id.to_string()))
            .expression_attribute_values(":new_active", AttributeValue::Bool(next.is_active))
            .build()
            .expect("table, key and expression are set");
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        if let (Some(uid), true) = (&user.firebase_uid, next.role_id != user.role_id) {
            writes.push(self.claim_role(uid, &user.id, next.role_id));
        }
        let delta = i64::from(counts_as_super_admin(next.role_id, next.is_active))
            - i64::from(counts_as_super_admin(user.role_id, user.is_active));
        let counter_at = writes.len();
        if delta != 0 {
            writes.push(self.counters(0, delta));
        }
        writes.push(audit.put(AuditAction::ControlCenterUserUpdate, Target::control_center_user(user.id), changes)?);
        Ok(match transact(self.client, writes, "updating a control-center user").await? {
            Tx::Committed => Change::Done(Some(next)),
            Tx::Failed(at) => self.why(user, delta, counter_at, &at).await?,
        })
    }

    /// Deletes `user` as it was read, with its email and uid claims; both are free again.
    pub async fn delete(&self, user: &ControlCenterUser, audit: &Audit<'_>) -> Result<Change<()>, StoreError> {
        let (condition, values) = unchanged(user);
        let delete = Delete::builder()
            .table_name(self.table)
            .set_key(Some(key(user_pk(&user.id))))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .build()
            .expect("table, key and condition are set");
        let delta = -i64::from(counts_as_super_admin(user.role_id, user.is_active));
        let mut writes = vec![
            TransactWriteItem::builder().delete(delete).build(),
            delete_item(self.table, email_pk(user.email.as_str())),
        ];
        if let Some(uid) = &user.firebase_uid {
            writes.push(delete_item(self.table, uid_pk(uid)));
        }
        // One update of the counter item: a transaction may touch an item only once.
        let counter_at = writes.len();
        writes.push(self.counters(-1, delta));
        let mut changes = Changes::default()
            .field("email", user.email.as_str(), None::<()>)
            .field("display_name", user.display_name.as_str(), None::<()>)
            .field("role_id", user.role_id, None::<()>)
            .field("is_active", user.is_active, None::<()>);
        if let Some(uid) = &user.firebase_uid {
            changes = changes.field("firebase_uid", uid, None::<()>);
        }
        writes.push(audit.put(AuditAction::ControlCenterUserDelete, Target::control_center_user(user.id), changes)?);
        Ok(match transact(self.client, writes, "deleting a control-center user").await? {
            Tx::Committed => Change::Done(()),
            Tx::Failed(at) => self.why(user, delta, counter_at, &at).await?,
        })
    }

    /// Refuses every token signed in before `at` (epoch seconds) and clears the uid
    /// binding; the uid's claim stays as the marker the next request's read finds.
    pub async fn revoke_sessions(
        &self,
        user: &ControlCenterUser,
        at: i64,
        audit: &Audit<'_>,
    ) -> Result<Change<ControlCenterUser>, StoreError> {
        let update = self
            .unchanged(user)
            .update_expression("SET tokens_valid_after = :at REMOVE firebase_uid")
            .expression_attribute_values(":at", AttributeValue::N(at.to_string()))
            .build()
            .expect("table, key and expression are set");
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        let mut changes =
            Changes::default().field("tokens_valid_after", user.tokens_valid_after.map(rfc3339), rfc3339(at));
        if let Some(uid) = &user.firebase_uid {
            let mut marker = claim(uid_pk(uid), &user.id);
            marker.insert("revoked_before".to_owned(), AttributeValue::N(at.to_string()));
            let put = Put::builder()
                .table_name(self.table)
                .set_item(Some(marker))
                .condition_expression("user_id = :id")
                .expression_attribute_values(":id", s(user.id.to_string()))
                .build()
                .expect("table and item are set");
            writes.push(TransactWriteItem::builder().put(put).build());
            changes = changes.field("firebase_uid", uid, None::<()>);
        }
        writes.push(audit.put(
            AuditAction::ControlCenterUserRevokeSessions,
            Target::control_center_user(user.id),
            changes,
        )?);
        Ok(match transact(self.client, writes, "revoking a control-center user's sessions").await? {
            Tx::Committed => {
                Change::Done(ControlCenterUser { firebase_uid: None, tokens_valid_after: Some(at), ..user.clone() })
            }
            Tx::Failed(at) => self.why(user, 0, usize::MAX, &at).await?,
        })
    }

    pub async fn list(&self, query: &ListQuery) -> Result<(Vec<ControlCenterUser>, u64), StoreError> {
        let (page, total) = tokio::try_join!(
            list::page(self.client, self.table, BY_CREATED, LIST_PARTITION, query.offset(), query.limit as usize),
            counter(self.client, self.table, "total"),
        )?;
        let users = page.items.into_iter().map(decode).collect::<Result<Vec<ControlCenterUser>, _>>()?;
        Ok((users, total))
    }

    /// Sets `active_super_admins` from the users themselves where it was never kept (a stage
    /// seeded before it existed). Runs from the seed only, when no one else writes users.
    pub async fn ensure_super_admin_count(&self) -> Result<(), StoreError> {
        let items = list::all(self.client, self.table, BY_CREATED, LIST_PARTITION).await?;
        let users = items.into_iter().map(decode).collect::<Result<Vec<ControlCenterUser>, _>>()?;
        let count = users.iter().filter(|u| counts_as_super_admin(u.role_id, u.is_active)).count();
        let result = self
            .client
            .update_item()
            .table_name(self.table)
            .key("pk", s(COUNTER_PK))
            .update_expression("SET #n = :n")
            .condition_expression("attribute_not_exists(#n)")
            .expression_attribute_names("#n", ACTIVE_SUPER_ADMINS)
            .expression_attribute_values(":n", AttributeValue::N(count.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(classify(e, "counting super admins")),
        }
    }

    /// An update of `user`'s item conditioned on it being exactly as read.
    fn unchanged(&self, user: &ControlCenterUser) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        let (condition, values) = unchanged(user);
        Update::builder()
            .table_name(self.table)
            .key("pk", s(user_pk(&user.id)))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
    }

    fn claim_role(&self, uid: &str, user_id: &Uuid, role_id: Uuid) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(self.table)
            .key("pk", s(uid_pk(uid)))
            .update_expression("SET role_id = :role")
            .condition_expression("user_id = :user AND attribute_not_exists(revoked_before)")
            .expression_attribute_values(":role", s(role_id.to_string()))
            .expression_attribute_values(":user", s(user_id.to_string()))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// Moves `total` and `active_super_admins`; a drop of the latter only while it stays at least 1.
    fn counters(&self, total: i64, delta: i64) -> TransactWriteItem {
        let mut update = Update::builder()
            .table_name(self.table)
            .key("pk", s(COUNTER_PK))
            .update_expression(if total != 0 { "ADD #n :d, #t :t" } else { "ADD #n :d" })
            .expression_attribute_names("#n", ACTIVE_SUPER_ADMINS)
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()));
        if total != 0 {
            update = update
                .expression_attribute_names("#t", "total")
                .expression_attribute_values(":t", AttributeValue::N(total.to_string()));
        }
        if delta < 0 {
            update = update
                .condition_expression("#n > :one")
                .expression_attribute_values(":one", AttributeValue::N("1".into()));
        }
        TransactWriteItem::builder().update(update.build().expect("table, key and expression are set")).build()
    }

    /// Why a conditional write failed: the counter refused (last super admin), or the user
    /// is gone or changed since it was read.
    async fn why<T>(
        &self,
        user: &ControlCenterUser,
        delta: i64,
        counter_at: usize,
        failed: &[usize],
    ) -> Result<Change<T>, StoreError> {
        if delta < 0 && failed.contains(&counter_at) {
            return Ok(Change::LastSuperAdmin);
        }
        Ok(if self.by_id(&user.id).await?.is_none() { Change::NotFound } else { Change::Stale })
    }
}

/// The condition that the user item is exactly as read (the fields a decision rests on), and its values.
fn unchanged(user: &ControlCenterUser) -> (String, std::collections::HashMap<String, AttributeValue>) {
    let mut condition = "attribute_exists(pk) AND role_id = :old_role AND display_name = :old_name".to_owned();
    let mut values: std::collections::HashMap<String, AttributeValue> = [
        (":old_role".to_owned(), s(user.role_id.to_string())),
        (":old_name".to_owned(), s(user.display_name.as_str())),
        (":old_active".to_owned(), AttributeValue::Bool(user.is_active)),
    ]
    .into();
    // Items stored before `is_active` existed lack it and are active.
    condition.push_str(if user.is_active {
        " AND (is_active = :old_active OR attribute_not_exists(is_active))"
    } else {
        " AND is_active = :old_active"
    });
    match &user.firebase_uid {
        Some(uid) => {
            condition.push_str(" AND firebase_uid = :old_uid");
            values.insert(":old_uid".to_owned(), s(uid));
        }
        None => condition.push_str(" AND attribute_not_exists(firebase_uid)"),
    }
    (condition, values)
}

fn rfc3339(secs: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(secs).map(|t| t.format(&format).unwrap_or_default()).unwrap_or_default()
}

/// RFC 3339 of epoch seconds, as `tokens_valid_after` is answered.
pub fn tokens_valid_after_rfc3339(secs: i64) -> String {
    rfc3339(secs)
}

fn delete_item(table: &str, pk: String) -> TransactWriteItem {
    let delete = Delete::builder().table_name(table).set_key(Some(key(pk))).build().expect("table and key are set");
    TransactWriteItem::builder().delete(delete).build()
}

fn uid_claim(item: &Item) -> Result<UidClaim, StoreError> {
    let user_id = claim_uuid(item, "user_id")?;
    // Claims bound before roles were recorded have none; the caller then reads the user first.
    let role_id = get_s(item, "role_id").and_then(|v| Uuid::parse_str(v).ok());
    let revoked_before = item.get("revoked_before").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
    Ok(UidClaim { user_id, role_id, revoked_before })
}

fn claim(pk: String, id: &Uuid) -> Item {
    [("pk".to_owned(), s(pk)), ("user_id".to_owned(), s(id.to_string()))].into()
}

enum Tx {
    Committed,
    /// The positions of the items whose condition failed; nothing was written.
    Failed(Vec<usize>),
}

/// [`super::transact_reporting`], as this module's outcome.
async fn transact(client: &Client, items: Vec<TransactWriteItem>, what: &'static str) -> Result<Tx, StoreError> {
    Ok(match super::transact_reporting(client, items, what).await? {
        Ok(()) => Tx::Committed,
        Err(failed) => Tx::Failed(failed),
    })
}
