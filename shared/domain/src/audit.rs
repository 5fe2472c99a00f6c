//! The audit log's vocabulary: what was done (`action`), by whom (`actor`), to what
//! (`target`) and how (`changes`). Storage writes records of these; authorization names
//! the actor.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// One list: each action's variant and the name its records carry.
macro_rules! audit_actions {
    ($($variant:ident => $name:literal,)*) => {
        /// What was done, as the record's `action` names it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            pub const ALL: &'static [AuditAction] = &[$(Self::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

audit_actions! {
    MitraCreate => "mitra.create",
    MitraUpdate => "mitra.update",
    MitraStatus => "mitra.status",
    MitraDelete => "mitra.delete",
    MitraRevokeSessions => "mitra.revoke_sessions",
    ControlCenterUserCreate => "control_center_user.create",
    ControlCenterUserUpdate => "control_center_user.update",
    ControlCenterUserDelete => "control_center_user.delete",
    ControlCenterUserRevokeSessions => "control_center_user.revoke_sessions",
    ControlCenterUserBind => "control_center_user.bind",
    ConfigAnonymityUpdate => "config.anonymity.update",
}

impl AuditAction {
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == raw)
    }
}

/// Who made the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub id: Uuid,
    pub email: String,
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

    /// Every field that differs between two states of one target, in the order the fields
    /// first appear; `None` is "did not exist", every field `null` (a create's `from`, a
    /// delete's `to`).
    pub fn between(before: Option<&Map<String, Value>>, after: Option<&Map<String, Value>>) -> Self {
        let mut names: Vec<&String> = Vec::new();
        for name in before.into_iter().chain(after).flat_map(|fields| fields.keys()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let value = |state: Option<&Map<String, Value>>, name: &str| state.and_then(|f| f.get(name)).cloned();
        names.into_iter().fold(Self::default(), |changes, name| {
            changes.field(name, value(before, name).unwrap_or_default(), value(after, name).unwrap_or_default())
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
