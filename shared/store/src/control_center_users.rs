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
use serde_json::{Map, Value};
use uuid::Uuid;

use super::audit::{Actor, Audit, AuditAction, Changes, Target};
use super::change::{self, Also, Conflict, Entity, Next, Outcome, Read};
use super::list::{self, COUNTER_PK, counter};
use super::roles::{Role, role_pk};
use super::schema::BY_CREATED;
use super::stored::{self, decode};
use super::{CreatedAt, Item, StoreError, claim_uuid, claimed_id, classify, get, get_batch, get_s, key, put_new, s};
use halo_domain::clock::rfc3339_millis_of_secs;
use halo_domain::roles::super_admin_role_id;
use halo_domain::{DisplayName, Email, ListQuery};

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
    /// The uids whose revocation markers (`UID#<uid>` with `revoked_before`) this user left:
    /// they refuse those uids' old tokens until the user is deleted, which removes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_uids: Vec<String>,
}

fn active() -> bool {
    true
}

impl ControlCenterUser {
    /// This user as the author of audit records.
    pub fn actor(&self) -> Actor {
        Actor { id: self.id, email: self.email.as_str().to_owned() }
    }
}

impl change::Audited for ControlCenterUser {
    fn target(&self) -> Target {
        Target::control_center_user(self.id)
    }
}

impl Entity for ControlCenterUser {
    fn pk(&self) -> String {
        user_pk(&self.id)
    }

    fn audited(&self) -> Map<String, Value> {
        let mut fields = change::fields_of(self);
        fields.remove("revoked_uids");
        if let Some(secs) = self.tokens_valid_after {
            fields.insert("tokens_valid_after".into(), rfc3339_millis_of_secs(secs).into());
        }
        fields
    }
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

    /// Creates an active user, refused `Taken` when the email has one. `audit` is `None` only for the seed.
    pub async fn create(
        &self,
        email: &Email,
        display_name: DisplayName,
        role_id: Uuid,
        audit: Option<&Audit<'_>>,
    ) -> Result<Outcome<ControlCenterUser>, StoreError> {
        change::retry("creating a control-center user", || async {
            let id = Uuid::now_v7();
            let created = CreatedAt::now(&id);
            let user = ControlCenterUser {
                id,
                email: email.clone(),
                display_name: display_name.clone(),
                role_id,
                firebase_uid: None,
                is_active: true,
                tokens_valid_after: None,
                created_at: created.rfc3339,
                revoked_uids: Vec::new(),
            };
            let mut also = vec![
                Also::refusing(put_new(self.table, claim(email_pk(email.as_str()), &id)), Conflict::Taken),
                self.counters(1, super_admin_delta(None, Some(&user))),
            ];
            also.extend(change::record(audit, AuditAction::ControlCenterUserCreate, None, Some(&user))?);
            let list_keys = vec![("list_pk", s(LIST_PARTITION)), ("list_sk", s(created.sort_key))];
            let decision = (Next::Create(user.clone(), list_keys), also, user);
            change::write(self.client, self.table, None, decision, "creating a control-center user").await
        })
        .await
    }

    pub async fn by_id(&self, id: &Uuid) -> Result<Option<ControlCenterUser>, StoreError> {
        Ok(self.read(id).await?.map(|r| r.value))
    }

    /// The user with the version a change of it must find.
    pub async fn read(&self, id: &Uuid) -> Result<Option<Read<ControlCenterUser>>, StoreError> {
        change::read(self.client, self.table, &user_pk(id)).await
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
    ) -> Result<(Option<UidClaim>, Option<Read<ControlCenterUser>>, Option<Role>), StoreError> {
        let (claim_pk, user_pk, role_pk) = (uid_pk(uid), user_pk(user_id), role_pk(role_id));
        let keys = [(self.table, claim_pk.clone()), (self.table, user_pk.clone()), (roles_table, role_pk.clone())];
        let mut found = get_batch(self.client, &keys).await?;
        let mut take = |table: &str, pk: String| found.remove(&(table.to_owned(), pk));
        let claim = take(self.table, claim_pk).as_ref().map(uid_claim).transpose()?;
        let user = take(self.table, user_pk).map(Read::decode).transpose()?;
        let role = take(roles_table, role_pk).map(decode).transpose()?;
        Ok((claim, user, role))
    }

    /// A user and some roles (those its role may be among), in one consistent batch.
    pub async fn by_id_with_roles(
        &self,
        id: &Uuid,
        roles_table: &str,
        role_ids: &[Uuid],
    ) -> Result<(Option<Read<ControlCenterUser>>, Vec<Role>), StoreError> {
        if role_ids.is_empty() {
            return Ok((self.read(id).await?, Vec::new()));
        }
        let mut keys = vec![(self.table, user_pk(id))];
        keys.extend(role_ids.iter().map(|r| (roles_table, role_pk(r))));
        let mut found = get_batch(self.client, &keys).await?;
        let user = found.remove(&(self.table.to_owned(), user_pk(id))).map(Read::decode).transpose()?;
        let roles = found.into_values().map(decode).collect::<Result<Vec<Role>, _>>()?;
        Ok((user, roles))
    }

    pub async fn by_email(&self, email: &Email) -> Result<Option<Read<ControlCenterUser>>, StoreError> {
        let claim = claimed_id(self.client, self.table, &email_pk(email.as_str()), "user_id").await?;
        let Some(id) = claim else { return Ok(None) };
        self.read(&id).await
    }

    /// Binds a Firebase uid to the user as read (active, unbound); false if the user changed
    /// since, or the uid is bound to another (a revoked claim of that uid counts as free).
    /// The claim records the user's role, so a login reads user and role side by side; the
    /// bind is audited with the user as its own actor.
    pub async fn bind_uid(
        &self,
        user: &Read<ControlCenterUser>,
        uid: &str,
        audit: &Audit<'_>,
    ) -> Result<bool, StoreError> {
        let bound = ControlCenterUser { firebase_uid: Some(uid.to_owned()), ..user.value.clone() };
        let mut uid_claim = claim(uid_pk(uid), &user.value.id);
        uid_claim.insert("role_id".to_owned(), s(bound.role_id.to_string()));
        let put = Put::builder()
            .table_name(self.table)
            .set_item(Some(uid_claim))
            .condition_expression("attribute_not_exists(pk) OR attribute_exists(revoked_before)")
            .build()
            .expect("table and item are set");
        let mut also = vec![Also::refusing(TransactWriteItem::builder().put(put).build(), Conflict::Taken)];
        let changes = Changes::default().field("firebase_uid", None::<()>, uid);
        also.push(Also::item(audit.put(
            AuditAction::ControlCenterUserBind,
            Target::control_center_user(bound.id),
            changes,
        )?));
        let decision = (Next::Update(bound), also, ());
        let written =
            change::write(self.client, self.table, Some(user), decision, "binding a control-center user's uid");
        Ok(matches!(written.await?, Some(Outcome::Changed(()))))
    }

    /// Applies `patch` to `user` as it was read; `Unchanged` when nothing would change (nothing
    /// written, nothing audited), `None` when the user changed since it was read.
    pub async fn update(
        &self,
        user: &Read<ControlCenterUser>,
        patch: &UserPatch,
        audit: &Audit<'_>,
    ) -> Result<Option<Outcome<ControlCenterUser>>, StoreError> {
        let before = &user.value;
        let mut after = before.clone();
        if let Some(name) = &patch.display_name {
            after.display_name = name.clone();
        }
        after.role_id = patch.role_id.unwrap_or(before.role_id);
        after.is_active = patch.is_active.unwrap_or(before.is_active);
        if after == *before {
            return Ok(Some(Outcome::Unchanged(after)));
        }
        let mut also = Vec::new();
        if let (Some(uid), true) = (&before.firebase_uid, after.role_id != before.role_id) {
            also.push(Also::item(self.claim_role(uid, &before.id, after.role_id)));
        }
        let delta = super_admin_delta(Some(before), Some(&after));
        if delta != 0 {
            also.push(self.counters(0, delta));
        }
        also.extend(change::record(Some(audit), AuditAction::ControlCenterUserUpdate, Some(before), Some(&after))?);
        change::write(
            self.client,
            self.table,
            Some(user),
            (Next::Update(after.clone()), also, after),
            "updating a control-center user",
        )
        .await
    }

    /// Deletes `user` as it was read, with everything stored under its email and uids (claims
    /// and revocation markers); all are free again.
    pub async fn delete(
        &self,
        user: &Read<ControlCenterUser>,
        audit: &Audit<'_>,
    ) -> Result<Option<Outcome<ControlCenterUser>>, StoreError> {
        let before = &user.value;
        let mut also = vec![Also::item(delete_item(self.table, email_pk(before.email.as_str())))];
        let mut uids: Vec<&String> = before.firebase_uid.iter().chain(&before.revoked_uids).collect();
        uids.sort();
        uids.dedup();
        for uid in uids {
            also.push(Also::item(self.release_uid(uid, &before.id)));
        }
        // One update of the counter item: a transaction may touch an item only once.
        also.push(self.counters(-1, super_admin_delta(Some(before), None)));
        also.extend(change::record(Some(audit), AuditAction::ControlCenterUserDelete, Some(before), None)?);
        change::write(
            self.client,
            self.table,
            Some(user),
            (Next::Delete, also, before.clone()),
            "deleting a control-center user",
        )
        .await
    }

    /// Refuses every token signed in before `now` (epoch seconds) and clears the uid binding;
    /// the uid's claim stays as the marker the next request's read finds. The instant never
    /// moves back; a revocation already holding it changes nothing.
    pub async fn revoke_sessions(
        &self,
        user: &Read<ControlCenterUser>,
        now: i64,
        audit: &Audit<'_>,
    ) -> Result<Option<Outcome<ControlCenterUser>>, StoreError> {
        let before = &user.value;
        let at = before.tokens_valid_after.map_or(now, |t| t.max(now));
        let mut after = ControlCenterUser { firebase_uid: None, tokens_valid_after: Some(at), ..before.clone() };
        let mut also = Vec::new();
        if let Some(uid) = &before.firebase_uid {
            let mut marker = claim(uid_pk(uid), &before.id);
            marker.insert("revoked_before".to_owned(), AttributeValue::N(at.to_string()));
            let put = Put::builder()
                .table_name(self.table)
                .set_item(Some(marker))
                .condition_expression("user_id = :id")
                .expression_attribute_values(":id", s(before.id.to_string()))
                .build()
                .expect("table and item are set");
            also.push(Also::item(TransactWriteItem::builder().put(put).build()));
            if !after.revoked_uids.contains(uid) {
                after.revoked_uids.push(uid.clone());
            }
        }
        if after == *before {
            return Ok(Some(Outcome::Unchanged(after)));
        }
        also.extend(change::record(
            Some(audit),
            AuditAction::ControlCenterUserRevokeSessions,
            Some(before),
            Some(&after),
        )?);
        let decision = (Next::Update(after.clone()), also, after);
        change::write(self.client, self.table, Some(user), decision, "revoking a control-center user's sessions").await
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
    fn counters(&self, total: i64, delta: i64) -> Also {
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
        let item =
            TransactWriteItem::builder().update(update.build().expect("table, key and expression are set")).build();
        if delta < 0 { Also::refusing(item, Conflict::LastSuperAdmin) } else { Also::item(item) }
    }

    /// Deletes `UID#<uid>`, a binding or a revocation marker, while it is this user's.
    fn release_uid(&self, uid: &str, user_id: &Uuid) -> TransactWriteItem {
        let delete = Delete::builder()
            .table_name(self.table)
            .set_key(Some(key(uid_pk(uid))))
            .condition_expression("attribute_not_exists(pk) OR user_id = :id")
            .expression_attribute_values(":id", s(user_id.to_string()))
            .build()
            .expect("table, key and condition are set");
        TransactWriteItem::builder().delete(delete).build()
    }
}

/// How a change from `before` to `after` (`None`: did not exist) moves `active_super_admins`.
fn super_admin_delta(before: Option<&ControlCenterUser>, after: Option<&ControlCenterUser>) -> i64 {
    let counts = |user: Option<&ControlCenterUser>| {
        i64::from(user.is_some_and(|u| counts_as_super_admin(u.role_id, u.is_active)))
    };
    counts(after) - counts(before)
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
