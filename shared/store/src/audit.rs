//! The audit log: one immutable `AUDIT#<id>` item per change made through the internal
//! API, written in the same transaction as the change ([`AuditEntry::put`]). Each record
//! carries the keys of the indexes that serve the log's filters (`by_created`, `by_actor`,
//! `by_target`, `by_action`), all sorted newest first by `list_sk`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TransactWriteItem;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::schema::{
    BY_ACTION, BY_ACTOR, BY_ACTOR_ACTION, BY_ACTOR_TARGET, BY_ACTOR_TARGET_ACTION, BY_CREATED, BY_TARGET,
    BY_TARGET_ACTION, IndexDef,
};
use super::{Item, StoreError, classify, get_s, put_new, s, to_item};
pub use halo_domain::audit::{Actor, AuditAction, Changes, Target};

/// Who is writing records, and for which request: what every record of one request shares.
#[derive(Debug, Clone)]
pub struct Audit<'a> {
    pub table: &'a str,
    pub actor: Actor,
    pub request_id: &'a str,
}

impl Audit<'_> {
    /// The record of one change, as a transaction `Put` to go beside the change itself.
    pub fn put(&self, action: AuditAction, target: Target, changes: Changes) -> Result<TransactWriteItem, StoreError> {
        AuditEntry::new(self.actor.clone(), action, target, changes, self.request_id).put(self.table)
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
    /// A record made now. Made after the read of the state it replaces, and written in the
    /// change's own transaction conditioned on that state, so a target's records sort in the
    /// order their changes committed.
    pub fn new(actor: Actor, action: AuditAction, target: Target, changes: Changes, request_id: &str) -> Self {
        Self::with_id(Uuid::now_v7(), actor, action, target, changes, request_id)
    }

    /// A record with a given UUIDv7 id (its time), for a change sequenced elsewhere (the SSM flag).
    pub fn with_id(
        id: Uuid,
        actor: Actor,
        action: AuditAction,
        target: Target,
        changes: Changes,
        request_id: &str,
    ) -> Self {
        let millis = v7_millis(&id).unwrap_or_default();
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let format =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        Self {
            id,
            at: at.format(&format).unwrap_or_default(),
            actor,
            action: action.as_str(),
            target,
            changes,
            request_id: request_id.to_owned(),
            sort_key: sort_key(millis, &id),
        }
    }

    /// The transaction `Put` of this record into the audit table, conditioned on its key
    /// being new: records are only ever added.
    pub fn put(&self, table: &str) -> Result<TransactWriteItem, StoreError> {
        let mut item = to_item(self)?;
        item.insert("pk".into(), s(format!("AUDIT#{}", self.id)));
        item.insert("list_pk".into(), s("AUDIT"));
        item.insert("list_sk".into(), s(&self.sort_key));
        let filter = AuditFilter {
            actor: Some(self.actor.id),
            target: Some(self.target.id.clone()),
            action: AuditAction::parse(self.action),
        };
        // One key per filter combination: every filtered list is one key condition.
        for (index, partition) in filter.combinations() {
            item.insert(index.partition_key.into(), s(partition));
        }
        Ok(put_new(table, item))
    }
}

/// The sort key of a record: its id's own millisecond timestamp (UUIDv7), then the id. A
/// cursor holding one can be checked for consistency without a secret.
fn sort_key(millis: u64, id: &Uuid) -> String {
    format!("{millis:015}#{id}")
}

fn v7_millis(id: &Uuid) -> Option<u64> {
    if id.get_version_num() != 7 {
        return None;
    }
    let (secs, nanos) = id.get_timestamp()?.to_unix();
    Some(secs * 1000 + u64::from(nanos) / 1_000_000)
}

/// A stored record, as `GET /internal/audit-log` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "AuditRecord")]
pub struct AuditRecord {
    #[schemars(schema_with = "halo_domain::schema::id")]
    pub id: Uuid,
    #[schemars(schema_with = "halo_domain::schema::timestamp")]
    pub at: String,
    pub actor: AuditActor,
    #[schemars(schema_with = "halo_domain::schema::audit_action")]
    pub action: String,
    pub target: AuditTarget,
    /// `{field: {from, to}}` for each field that changed.
    #[schemars(schema_with = "halo_domain::schema::audit_changes")]
    pub changes: Map<String, Value>,
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "AuditActor")]
pub struct AuditActor {
    #[schemars(schema_with = "halo_domain::schema::id")]
    pub id: Uuid,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "AuditTarget")]
pub struct AuditTarget {
    /// `mitra`, `control_center_user` or `config`.
    #[serde(rename = "type")]
    #[schemars(schema_with = "halo_domain::schema::audit_target_type")]
    pub kind: String,
    pub id: String,
}

/// Which records a page lists: those matching every filter given (none: all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<Uuid>,
    pub target: Option<String>,
    pub action: Option<AuditAction>,
}

impl AuditFilter {
    /// The index that serves this filter, and the partition it reads.
    fn index(&self) -> (IndexDef, String) {
        let actor = self.actor.map(|id| format!("ACTOR#{id}"));
        let target = self.target.as_ref().map(|id| format!("TARGET#{id}"));
        let action = self.action.map(|a| format!("ACTION#{}", a.as_str()));
        let index = match (&actor, &target, &action) {
            (None, None, None) => return (BY_CREATED, "AUDIT".to_owned()),
            (Some(_), None, None) => BY_ACTOR,
            (None, Some(_), None) => BY_TARGET,
            (None, None, Some(_)) => BY_ACTION,
            (Some(_), Some(_), None) => BY_ACTOR_TARGET,
            (Some(_), None, Some(_)) => BY_ACTOR_ACTION,
            (None, Some(_), Some(_)) => BY_TARGET_ACTION,
            (Some(_), Some(_), Some(_)) => BY_ACTOR_TARGET_ACTION,
        };
        let parts: Vec<String> = [actor, target, action].into_iter().flatten().collect();
        (index, parts.join("|"))
    }

    /// For a record (all three set): the partition of every filter that matches it.
    fn combinations(&self) -> Vec<(IndexDef, String)> {
        let mut all = Vec::new();
        for mask in 0u8..8 {
            let filter = AuditFilter {
                actor: self.actor.filter(|_| mask & 1 != 0),
                target: self.target.clone().filter(|_| mask & 2 != 0),
                action: self.action.filter(|_| mask & 4 != 0),
            };
            all.push(filter.index());
        }
        all
    }
}

/// Where a page starts: just after the record with this sort key, under this filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    partition: String,
    sort_key: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1|{}|{}", self.partition, self.sort_key))
    }

    /// Reads a cursor given back by a client. It is refused (`None`) unless it is exactly
    /// what [`Cursor::encode`] writes for `filter`: the same filter's partition, and a sort
    /// key whose millisecond prefix is the timestamp inside its own UUIDv7. No secret is
    /// needed: any cursor that passes names a real position in the same filter's order.
    pub fn decode(raw: &str, filter: &AuditFilter) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let rest = text.strip_prefix("v1|")?;
        let (partition, sort_key) = rest.rsplit_once('|')?;
        if partition != filter.index().1 {
            return None;
        }
        let (millis, id) = sort_key.split_once('#')?;
        if millis.len() != 15 || !millis.bytes().all(|b| b.is_ascii_digit()) || id.len() != 36 {
            return None;
        }
        let id = Uuid::parse_str(id).ok()?;
        if id.hyphenated().to_string() != sort_key[16..] || v7_millis(&id)? != millis.parse::<u64>().ok()? {
            return None;
        }
        let cursor = Self { partition: partition.to_owned(), sort_key: sort_key.to_owned() };
        (cursor.encode() == raw).then_some(cursor)
    }

    fn start_key(&self, index: IndexDef) -> Item {
        let id = &self.sort_key[16..];
        [
            ("pk".to_owned(), s(format!("AUDIT#{id}"))),
            (index.partition_key.to_owned(), s(&self.partition)),
            (index.sort_key.to_owned(), s(&self.sort_key)),
        ]
        .into()
    }
}

/// One page of the log, newest first, and where the next one starts. One keys-only `Query`
/// of `limit + 1` index entries on the filter's index (a key condition, never a filter
/// expression), then one `BatchGetItem` of the `limit` records.
pub async fn page(
    client: &Client,
    table: &str,
    filter: &AuditFilter,
    limit: usize,
    after: Option<&Cursor>,
) -> Result<(Vec<AuditRecord>, Option<Cursor>), StoreError> {
    let (index, partition) = filter.index();
    let out = super::list::newest_first(client, table, index, partition.clone())
        .limit(limit as i32 + 1)
        .set_exclusive_start_key(after.map(|c| c.start_key(index)))
        .send()
        .await
        .map_err(|e| classify(e, "querying the audit log"))?;
    let keys: Vec<(String, String)> = out
        .items()
        .iter()
        .filter_map(|i| Some((get_s(i, "pk")?.to_owned(), get_s(i, index.sort_key)?.to_owned())))
        .collect();
    let next = (keys.len() > limit).then(|| Cursor { partition, sort_key: keys[limit - 1].1.clone() });
    let pks: Vec<String> = keys.into_iter().take(limit).map(|(pk, _)| pk).collect();
    let items = super::list::batch_get(client, table, &pks).await?;
    let records = items.into_iter().map(super::stored::decode).collect::<Result<Vec<AuditRecord>, _>>()?;
    Ok((records, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor_for(filter: &AuditFilter) -> Cursor {
        let id = Uuid::now_v7();
        Cursor { partition: filter.index().1, sort_key: sort_key(v7_millis(&id).unwrap(), &id) }
    }

    #[test]
    fn a_cursor_reads_back_only_under_its_own_filter() {
        let actor = AuditFilter { actor: Some(Uuid::now_v7()), ..AuditFilter::default() };
        let cursor = cursor_for(&actor);
        assert_eq!(Cursor::decode(&cursor.encode(), &actor), Some(cursor.clone()));
        assert_eq!(Cursor::decode(&cursor.encode(), &AuditFilter::default()), None);
        let other = AuditFilter { actor: Some(Uuid::now_v7()), ..AuditFilter::default() };
        assert_eq!(Cursor::decode(&cursor.encode(), &other), None);
        let narrower = AuditFilter { action: Some(AuditAction::MitraCreate), ..actor.clone() };
        assert_eq!(Cursor::decode(&cursor.encode(), &narrower), None);
    }

    #[test]
    fn every_filter_combination_has_its_own_index() {
        let full = AuditFilter {
            actor: Some(Uuid::now_v7()),
            target: Some("anonymity".into()),
            action: Some(AuditAction::ConfigAnonymityUpdate),
        };
        let indexes: std::collections::HashSet<&str> = full.combinations().iter().map(|(i, _)| i.name).collect();
        assert_eq!(indexes.len(), 8);
        assert_eq!(indexes.len(), super::super::schema::AUDIT_LOG.indexes.len());
    }

    #[test]
    fn a_cursor_whose_time_and_id_disagree_or_whose_shape_is_off_is_refused() {
        let cursor = cursor_for(&AuditFilter::default());
        let (millis, id) = cursor.sort_key.split_once('#').unwrap();
        let shifted = format!("{:015}#{id}", millis.parse::<u64>().unwrap() + 1);
        let v4 = format!("{millis}#{}", Uuid::new_v4());
        for sort_key in
            [shifted, v4, format!("{millis}#{}", id.to_uppercase()), format!("{millis}#{}", id.replace('-', ""))]
        {
            let forged = Cursor { partition: "AUDIT".into(), sort_key };
            assert_eq!(Cursor::decode(&forged.encode(), &AuditFilter::default()), None, "{forged:?}");
        }
        let padded = format!("{}=", cursor.encode());
        for raw in ["", "%%%", "djE", padded.as_str()] {
            assert_eq!(Cursor::decode(raw, &AuditFilter::default()), None, "{raw}");
        }
    }
}
