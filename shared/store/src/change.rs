//! The one way an entity item changes (a customer, a mitra, a control-center user, a role):
//! read it with its version, decide, and write the decision in one transaction conditioned on
//! that version, together with the claims, counters and audit record that go with it. A write
//! that finds another version, or another transaction on the same items, reads and decides
//! again under one retry policy ([`retry`]); running out of attempts is
//! [`StoreError::Unavailable`], a 503 with `Retry-After`.
//!
//! Items stored before versions existed carry none: the first write conditions on its absence
//! and writes version 1, so they migrate as they are written.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::audit::{Audit, AuditAction, Changes, Target};
use super::stored::decode;
use super::{Item, StoreError, classify, get, s, to_item};
use halo_telemetry::metrics::{Counter, count};

/// The attribute that holds an entity item's version.
pub const VERSION: &str = "version";

/// A kind of entity item.
pub trait Entity: Serialize + DeserializeOwned + Clone {
    /// The item's key.
    fn pk(&self) -> String;

    /// Attributes stored beside the value's own and derived from it (index keys).
    fn derived(&self) -> Vec<(&'static str, AttributeValue)> {
        Vec::new()
    }

    /// The fields as audit records show them: every stored field, timestamps in RFC 3339.
    fn audited(&self) -> Map<String, Value> {
        fields_of(self)
    }
}

/// An entity whose changes are audited.
pub trait Audited: Entity {
    /// What its records name as their target.
    fn target(&self) -> Target;
}

/// The audit record of a change from `before` to `after` (`None`: did not exist) with every
/// field that differs, as a companion of the change's write; nothing when not audited.
pub fn record<E: Audited>(
    audit: Option<&Audit<'_>>,
    action: AuditAction,
    before: Option<&E>,
    after: Option<&E>,
) -> Result<Option<Also>, StoreError> {
    let (Some(audit), Some(target)) = (audit, before.or(after).map(Audited::target)) else { return Ok(None) };
    let changes = Changes::between(before.map(Entity::audited).as_ref(), after.map(Entity::audited).as_ref());
    Ok(Some(Also::item(audit.put(action, target, changes)?)))
}

/// A value's serialised fields, by name.
pub fn fields_of(value: &impl Serialize) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    }
}

/// An entity as read, with the item it was read from: a write of it must find that item's version.
#[derive(Debug, Clone)]
pub struct Read<E> {
    pub value: E,
    item: Item,
}

impl<E: Entity> Read<E> {
    pub fn decode(item: Item) -> Result<Self, StoreError> {
        Ok(Self { value: decode(item.clone())?, item })
    }

    /// `None` for an item stored before versions existed.
    pub fn version(&self) -> Option<u64> {
        self.item.get(VERSION).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok())
    }

    /// The stored item with `value`'s fields in place of this one's: attributes the value does
    /// not hold (list keys, legacy ones) stay, a field it no longer has goes.
    fn replaced_by(&self, value: &E) -> Result<Item, StoreError> {
        let mut item = self.item.clone();
        for field in to_item(&self.value)?.keys() {
            item.remove(field);
        }
        item.extend(to_item(value)?);
        item.extend(value.derived().into_iter().map(|(k, v)| (k.to_owned(), v)));
        item.insert(VERSION.to_owned(), AttributeValue::N((self.version().unwrap_or(0) + 1).to_string()));
        Ok(item)
    }

    /// The condition that the item is still at the version read.
    fn as_read(&self) -> (&'static str, Option<AttributeValue>) {
        match self.version() {
            Some(version) => ("#v = :v", Some(AttributeValue::N(version.to_string()))),
            None => ("attribute_exists(pk) AND attribute_not_exists(#v)", None),
        }
    }
}

impl<E> std::ops::Deref for Read<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.value
    }
}

/// Reads an entity strongly consistently, with its version.
pub async fn read<E: Entity>(client: &Client, table: &str, pk: &str) -> Result<Option<Read<E>>, StoreError> {
    get(client, table, pk).await?.map(Read::decode).transpose()
}

/// What a decision does to the entity item.
pub enum Next<E> {
    /// A new entity; the attributes only a creation sets (list keys) come with it.
    Create(E, Vec<(&'static str, AttributeValue)>),
    /// The entity as read becomes this value.
    Update(E),
    /// The entity as read is deleted.
    Delete,
}

/// Why a change was refused by a condition of its own transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A claim (phone, email, uid) belongs to another entity.
    Taken,
    /// It would leave no active super admin.
    LastSuperAdmin,
    /// The entity belongs to another Firebase uid.
    AnotherOwner,
}

/// Another item of the entity's transaction (a claim, a counter, an audit record), and what
/// its failed condition means: `Some` refuses the change; `None`, that what the decision rested
/// on changed, so it is read and decided again.
pub struct Also {
    pub item: TransactWriteItem,
    pub refuses: Option<Conflict>,
}

impl Also {
    /// An item whose condition can fail only when the state read has changed.
    pub fn item(item: TransactWriteItem) -> Self {
        Self { item, refuses: None }
    }

    /// An item whose failed condition refuses the change.
    pub fn refusing(item: TransactWriteItem, conflict: Conflict) -> Self {
        Self { item, refuses: Some(conflict) }
    }
}

/// What one change came to: the one outcome every store operation answers with.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<T> {
    /// Written, with its audit record when it has one.
    Changed(T),
    /// Nothing to change: nothing written, nothing recorded; the current state.
    Unchanged(T),
    NotFound,
    Refused(Conflict),
}

impl<T> Outcome<T> {
    /// What a change answers when it comes to an outcome it cannot have (a conflict of a
    /// kind its transaction does not hold): a fault, never an answer.
    pub fn impossible(what: &str) -> StoreError {
        StoreError::Failed(anyhow::anyhow!("{what}: an outcome this change cannot have"))
    }

    /// The entity as it now is, when the change went through or had nothing to change.
    pub fn value(self) -> Option<T> {
        match self {
            Self::Changed(t) | Self::Unchanged(t) => Some(t),
            Self::NotFound | Self::Refused(_) => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Self::Changed(t) => Outcome::Changed(f(t)),
            Self::Unchanged(t) => Outcome::Unchanged(f(t)),
            Self::NotFound => Outcome::NotFound,
            Self::Refused(c) => Outcome::Refused(c),
        }
    }
}

/// Writes the decision: the entity item first, conditioned on the version `read` (on absence
/// for a creation), then `also`, in one transaction. `None` when the entity changed since it
/// was read, or another transaction held the items: read and decide again.
pub async fn write<E: Entity, T>(
    client: &Client,
    table: &str,
    read: Option<&Read<E>>,
    (next, also, then): (Next<E>, Vec<Also>, T),
    what: &'static str,
) -> Result<Option<Outcome<T>>, StoreError> {
    let mut items = vec![entity_write(table, read, next)?];
    items.extend(also.iter().map(|a| a.item.clone()));
    match transact(client, items, what).await? {
        Tx::Committed => Ok(Some(Outcome::Changed(then))),
        Tx::Contended => Ok(None),
        Tx::Failed(failed) if failed.contains(&0) => Ok(None),
        Tx::Failed(failed) => {
            let refusal = failed.iter().find_map(|i| also.get(i - 1).and_then(|a| a.refuses));
            Ok(refusal.map(Outcome::Refused))
        }
    }
}

fn entity_write<E: Entity>(
    table: &str,
    read: Option<&Read<E>>,
    next: Next<E>,
) -> Result<TransactWriteItem, StoreError> {
    let unread = || StoreError::Failed(anyhow::anyhow!("an update or delete of an entity that was not read"));
    let built = match next {
        Next::Create(value, created) => {
            let mut item = to_item(&value)?;
            item.insert("pk".into(), s(value.pk()));
            item.extend(value.derived().into_iter().chain(created).map(|(k, v)| (k.to_owned(), v)));
            item.insert(VERSION.to_owned(), AttributeValue::N("1".into()));
            let put =
                Put::builder().table_name(table).set_item(Some(item)).condition_expression("attribute_not_exists(pk)");
            TransactWriteItem::builder().put(put.build().map_err(|e| StoreError::Failed(e.into()))?).build()
        }
        Next::Update(value) => {
            let read = read.ok_or_else(unread)?;
            let (condition, version) = read.as_read();
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(read.replaced_by(&value)?))
                .condition_expression(condition)
                .expression_attribute_names("#v", VERSION)
                .set_expression_attribute_values(version.map(|v| [(":v".to_owned(), v)].into()));
            TransactWriteItem::builder().put(put.build().map_err(|e| StoreError::Failed(e.into()))?).build()
        }
        Next::Delete => {
            let read = read.ok_or_else(unread)?;
            let (condition, version) = read.as_read();
            let delete = Delete::builder()
                .table_name(table)
                .key("pk", s(read.value.pk()))
                .condition_expression(condition)
                .expression_attribute_names("#v", VERSION)
                .set_expression_attribute_values(version.map(|v| [(":v".to_owned(), v)].into()));
            TransactWriteItem::builder().delete(delete.build().map_err(|e| StoreError::Failed(e.into()))?).build()
        }
    };
    Ok(built)
}

/// How often a change is read, decided and written before it gives up.
pub const ATTEMPTS: u32 = 12;

/// The one retry policy: [`ATTEMPTS`] attempts, each after the first following a jittered,
/// growing pause; past the last, [`StoreError::Unavailable`] (a 503 with `Retry-After`).
pub struct Attempts<'w> {
    what: &'w str,
    made: u32,
}

impl<'w> Attempts<'w> {
    pub fn new(what: &'w str) -> Self {
        Self { what, made: 0 }
    }

    /// Waits for the next attempt, or fails when none is left.
    pub async fn next(&mut self) -> Result<(), StoreError> {
        if self.made == ATTEMPTS {
            return Err(StoreError::Unavailable(anyhow::anyhow!(
                "{}: the item kept changing under the write",
                self.what
            )));
        }
        if self.made > 0 {
            count(Counter::DynamoDbRetries);
            let ceiling_ms = 10u64 << self.made.min(6);
            let jitter = uuid::Uuid::new_v4().as_u128() as u64 % ceiling_ms;
            tokio::time::sleep(Duration::from_millis(2 + jitter)).await;
        }
        self.made += 1;
        Ok(())
    }
}

/// Runs `attempt` (read, decide, [`write`]) under the one retry policy ([`Attempts`]) while it
/// answers `None`.
pub async fn retry<T, E, F>(what: &str, mut attempt: impl FnMut() -> F) -> Result<T, E>
where
    E: From<StoreError>,
    F: Future<Output = Result<Option<T>, E>>,
{
    let mut attempts = Attempts::new(what);
    loop {
        attempts.next().await?;
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
    }
}

/// Reads the entity at `pk`, decides with `decide` and writes the decision, under [`retry`].
/// `decide` answers `Err(outcome)` to stop without writing.
pub async fn change<E, T>(
    client: &Client,
    table: &str,
    pk: &str,
    what: &'static str,
    mut decide: impl FnMut(Option<&Read<E>>) -> Result<Decided<E, T>, StoreError>,
) -> Result<Outcome<T>, StoreError>
where
    E: Entity,
{
    let mut attempts = Attempts::new(what);
    loop {
        attempts.next().await?;
        let read = read::<E>(client, table, pk).await?;
        let written = match decide(read.as_ref())? {
            Err(outcome) => Some(outcome),
            Ok(decision) => write(client, table, read.as_ref(), decision, what).await?,
        };
        if let Some(outcome) = written {
            return Ok(outcome);
        }
    }
}

/// What `decide` answers: the write and its companions, or the outcome without a write.
pub type Decided<E, T> = Result<(Next<E>, Vec<Also>, T), Outcome<T>>;

enum Tx {
    Committed,
    /// The positions of the items whose condition failed; nothing was written.
    Failed(Vec<usize>),
    /// Another transaction held the items, or DynamoDB throttled the transaction.
    Contended,
}

/// One `TransactWriteItems`.
async fn transact(client: &Client, items: Vec<TransactWriteItem>, what: &'static str) -> Result<Tx, StoreError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    let err = match client.transact_write_items().set_transact_items(Some(items)).send().await {
        Ok(_) => return Ok(Tx::Committed),
        Err(err) => err,
    };
    match err.as_service_error() {
        Some(E::TransactionCanceledException(cancel)) => {
            let codes: Vec<&str> = cancel.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect();
            if codes.contains(&"ConditionalCheckFailed") {
                let failed = codes.iter().enumerate().filter(|(_, c)| **c == "ConditionalCheckFailed");
                return Ok(Tx::Failed(failed.map(|(i, _)| i).collect()));
            }
            if codes.iter().any(|c| matches!(*c, "ThrottlingError" | "ProvisionedThroughputExceeded")) {
                count(Counter::DynamoDbThrottles);
            }
            if codes
                .iter()
                .any(|c| matches!(*c, "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"))
            {
                return Ok(Tx::Contended);
            }
            Err(classify(err, what))
        }
        Some(E::TransactionInProgressException(_)) => Ok(Tx::Contended),
        _ => Err(classify(err, what)),
    }
}
