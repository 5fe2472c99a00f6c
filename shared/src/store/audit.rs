//! The audit log: one immutable `AUDIT#<id>` item per change made through the internal
//! API, written in the same transaction as the change ([`AuditEntry::put`]). Each record
//! carries the keys of the indexes that serve the log's filters (`by_created`, `by_actor`,
//! `by_target`, `by_action`), all sorted newest first by `list_sk`.

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{CreatedAt, StoreError, put_new, s, to_item};
use crate::auth::ControlCenterCaller;

/// What was done, as the record's `action` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    MitraCreate,
    MitraUpdate,
    MitraStatus,
    MitraDelete,
    MitraRevokeSessions,
    ControlCenterUserCreate,
    ControlCenterUserUpdate,
    ControlCenterUserDelete,
    ControlCenterUserRevokeSessions,
    ControlCenterUserBind,
    ConfigAnonymityUpdate,
}

impl AuditAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MitraCreate => "mitra.create",
            Self::MitraUpdate => "mitra.update",
            Self::MitraStatus => "mitra.status",
            Self::MitraDelete => "mitra.delete",
            Self::MitraRevokeSessions => "mitra.revoke_sessions",
            Self::ControlCenterUserCreate => "control_center_user.create",
            Self::ControlCenterUserUpdate => "control_center_user.update",
            Self::ControlCenterUserDelete => "control_center_user.delete",
            Self::ControlCenterUserRevokeSessions => "control_center_user.revoke_sessions",
            Self::ControlCenterUserBind => "control_center_user.bind",
            Self::ConfigAnonymityUpdate => "config.anonymity.update",
        }
    }
}

/// Who made the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
}

impl From<&ControlCenterCaller> for Actor {
    fn from(caller: &ControlCenterCaller) -> Self {
        Self { id: caller.user.id, email: caller.user.email.as_str().to_owned() }
    }
}

/// What the change was made to: `type` is `mitra`, `control_center_user` or `config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: String,
}

impl Target {
    pub fn mitra(id: Uuid) -> Self {
        Self { kind: "mitra", id: id.to_string() }
    }
    pub fn control_center_user(id: Uuid) -> Self {
        Self { kind: "control_center_user", id: id.to_string() }
    }
    pub fn config(name: &str) -> Self {
        Self { kind: "config", id: name.to_owned() }
    }
}

/// `{field: {from, to}}` for the fields that changed, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Changes(Map<String, Value>);

impl Changes {
    /// Adds `field` when `from` and `to` differ; a create passes `Value::Null` as `from`,
    /// a delete as `to`.
    pub fn field(mut self, field: &str, from: impl Serialize, to: impl Serialize) -> Self {
        let (from, to) = (serde_json::to_value(from).unwrap_or_default(), serde_json::to_value(to).unwrap_or_default());
        if from != to {
            self.0.insert(field.to_owned(), serde_json::json!({ "from": from, "to": to }));
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One record, as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: String,
    pub actor: Actor,
    pub action: &'static str,
    pub target: Target,
    pub changes: Changes,
    pub request_id: String,
    #[serde(skip)]
    sort_key: String,
}

impl AuditEntry {
    pub fn new(actor: Actor, action: AuditAction, target: Target, changes: Changes, request_id: &str) -> Self {
        let id = Uuid::now_v7();
        let created = CreatedAt::now(&id);
        Self {
            id,
            at: created.rfc3339,
            actor,
            action: action.as_str(),
            target,
            changes,
            request_id: request_id.to_owned(),
            sort_key: created.sort_key,
        }
    }

    /// The transaction `Put` of this record into the audit table, conditioned on its key
    /// being new: records are only ever added.
    pub fn put(&self, table: &str) -> Result<TransactWriteItem, StoreError> {
        let mut item = to_item(self)?;
        item.insert("pk".into(), s(format!("AUDIT#{}", self.id)));
        item.insert("list_pk".into(), s("AUDIT"));
        item.insert("list_sk".into(), s(&self.sort_key));
        item.insert("actor_pk".into(), s(format!("ACTOR#{}", self.actor.id)));
        item.insert("target_pk".into(), s(format!("TARGET#{}", self.target.id)));
        item.insert("action_pk".into(), s(format!("ACTION#{}", self.action)));
        Ok(put_new(table, item))
    }
}

// --- mitra lifecycle (w-mitra) -------------------------------------------------------

/// Who makes a change, under which request, and the table its record goes to: what a
/// store operation needs to add the record to its own transaction.
#[derive(Debug, Clone)]
pub struct Recorder<'a> {
    pub table: &'a str,
    pub actor: Actor,
    pub request_id: &'a str,
}

impl Recorder<'_> {
    /// The transaction `Put` of the record of `action` on `target`.
    pub fn put(&self, action: AuditAction, target: Target, changes: Changes) -> Result<TransactWriteItem, StoreError> {
        AuditEntry::new(self.actor.clone(), action, target, changes, self.request_id).put(self.table)
    }
}
