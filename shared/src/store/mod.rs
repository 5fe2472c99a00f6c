//! DynamoDB access. Each table holds its entity items plus small "claim" items
//! (`PHONE#…`, `UID#…`, `EMAIL#…`) written in the same transaction, so that
//! uniqueness is enforced by DynamoDB's condition checks, never by reading first.

pub mod audit;
pub mod control_center_users;
pub mod customers;
pub mod list;
pub mod mitras;
pub mod roles;
pub mod schema;
mod stored;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};

use crate::error::ApiError;
use crate::metrics::{Counter, count};

pub type Item = HashMap<String, AttributeValue>;

/// The storage layer's error: everything but the typed outcomes each operation returns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage is throttling or unreachable")]
    Unavailable(#[source] anyhow::Error),
    #[error("storage operation failed")]
    Failed(#[source] anyhow::Error),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(e) => ApiError::Unavailable(e),
            StoreError::Failed(e) => ApiError::Internal(e),
        }
    }
}

/// Runs `attempt` (read an item, decide, write on the condition that it is as read) again
/// while it answers `None`, the write having found the item changed since the read:
/// `attempts` times at most, then fails with `gave_up`.
pub async fn retry_on_change<T, E: From<StoreError>, F: Future<Output = Result<Option<T>, E>>>(
    attempts: usize,
    gave_up: impl FnOnce() -> StoreError,
    mut attempt: impl FnMut() -> F,
) -> Result<T, E> {
    for _ in 0..attempts {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
    }
    Err(gave_up().into())
}

const UNAVAILABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

/// Turns an SDK failure into a [`StoreError`], keeping the cause chain for the log.
pub fn classify<E, R>(err: SdkError<E, R>, what: &'static str) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let unavailable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(e) => e.err().code().is_some_and(|c| UNAVAILABLE_CODES.contains(&c)),
        _ => false,
    };
    let code = err.code().unwrap_or("none").to_owned();
    // SSM's errors pass through here too; only DynamoDB's are DynamoDB's metrics.
    if std::any::type_name::<E>().starts_with("aws_sdk_dynamodb::") {
        match code.as_str() {
            "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded" => {
                count(Counter::DynamoDbThrottles)
            }
            "InternalServerError" | "ServiceUnavailable" => count(Counter::DynamoDbErrors),
            _ => {}
        }
    }
    let error = anyhow::Error::new(err).context(format!("{what} (code {code})"));
    if unavailable { StoreError::Unavailable(error) } else { StoreError::Failed(error) }
}

/// Why a transaction was cancelled, per item, in the order the items were written.
pub fn cancellation_codes(reasons: &[CancellationReason]) -> Vec<&str> {
    reasons.iter().map(|r| r.code().unwrap_or("None")).collect()
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn key(pk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk))])
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub fn to_item<T: serde::Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::to_item(value)
        .map_err(|e| StoreError::Failed(anyhow::Error::new(e).context("encoding an item")))
}

pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item)
        .map_err(|e| StoreError::Failed(anyhow::Error::new(e).context("decoding an item")))
}

/// The instant an entity is created: RFC 3339 with milliseconds for display, and a
/// sort key finer than the second so the newest record always lists first.
#[derive(Debug, Clone)]
pub struct CreatedAt {
    pub rfc3339: String,
    pub sort_key: String,
}

impl CreatedAt {
    pub fn now(id: &uuid::Uuid) -> Self {
        let now = time::OffsetDateTime::now_utc();
        let format =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        let millis = now.unix_timestamp_nanos() / 1_000_000;
        Self { rfc3339: now.format(&format).unwrap_or_default(), sort_key: format!("{millis:015}#{id}") }
    }
}

/// What a conditional transaction came to.
#[derive(Debug)]
pub enum TxOutcome {
    Committed,
    /// At least one item's condition failed; nothing was written.
    ConditionFailed,
}

/// Runs a write transaction; another transaction touching the same items at the same
/// instant (`TransactionConflict`) is retried with jitter, a failed condition is returned.
pub async fn transact(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    what: &'static str,
) -> Result<TxOutcome, StoreError> {
    Ok(match transact_reporting(client, items, what).await? {
        Ok(()) => TxOutcome::Committed,
        Err(_) => TxOutcome::ConditionFailed,
    })
}

/// Like [`transact`], but a failed condition names the positions of the items whose
/// condition failed, so a caller can tell "the item changed" from "the claim is taken".
pub async fn transact_reporting(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    what: &'static str,
) -> Result<Result<(), Vec<usize>>, StoreError> {
    Ok(transact_failing(client, items, what).await?.map_err(|failed| failed.into_iter().map(|(i, _)| i).collect()))
}

/// Like [`transact_reporting`], with each failed item as it was, for the items written
/// with `ReturnValuesOnConditionCheckFailure::AllOld` (`None` for the others, and for an
/// item that does not exist).
pub async fn transact_failing(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
    what: &'static str,
) -> Result<Result<(), Vec<(usize, Option<Item>)>>, StoreError> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError as E;
    const ATTEMPTS: u32 = 12;
    for attempt in 1..=ATTEMPTS {
        let result = client.transact_write_items().set_transact_items(Some(items.clone())).send().await;
        let err = match result {
            Ok(_) => return Ok(Ok(())),
            Err(err) => err,
        };
        let retry = match err.as_service_error() {
            Some(E::TransactionCanceledException(cancel)) => {
                let codes = cancellation_codes(cancel.cancellation_reasons());
                if codes.contains(&"ConditionalCheckFailed") {
                    let reasons = cancel.cancellation_reasons().iter().enumerate();
                    let failed = reasons.filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"));
                    return Ok(Err(failed.map(|(i, r)| (i, r.item.clone())).collect()));
                }
                if codes.iter().any(|c| matches!(*c, "ThrottlingError" | "ProvisionedThroughputExceeded")) {
                    count(Counter::DynamoDbThrottles);
                }
                codes
                    .iter()
                    .any(|c| matches!(*c, "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"))
            }
            Some(E::TransactionInProgressException(_)) => true,
            _ => false,
        };
        if !retry || attempt == ATTEMPTS {
            let classified = classify(err, what);
            return Err(if retry {
                StoreError::Unavailable(anyhow::anyhow!("{what}: transaction kept conflicting"))
            } else {
                classified
            });
        }
        count(Counter::DynamoDbRetries);
        let ceiling_ms = 10u64 << attempt.min(6);
        let jitter = uuid::Uuid::new_v4().as_u128() as u64 % ceiling_ms;
        tokio::time::sleep(std::time::Duration::from_millis(5 + jitter)).await;
    }
    unreachable!("the loop returns on its last attempt")
}

/// Reads the entity id that a claim item (`PHONE#…`, `UID#…`, `EMAIL#…`) points at.
pub async fn claimed_id(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    claim_pk: &str,
    attribute: &str,
) -> Result<Option<uuid::Uuid>, StoreError> {
    let Some(item) = get(client, table, claim_pk).await? else { return Ok(None) };
    claim_uuid(&item, attribute).map(Some)
}

/// The id a claim item holds under `attribute`; a missing or malformed one is a storage fault.
pub fn claim_uuid(item: &Item, attribute: &str) -> Result<uuid::Uuid, StoreError> {
    let raw = get_s(item, attribute).unwrap_or_default();
    uuid::Uuid::parse_str(raw)
        .map_err(|e| StoreError::Failed(anyhow::Error::new(e).context(format!("claim {attribute} holds a bad id"))))
}

/// A strongly consistent read of one item.
pub async fn get(client: &aws_sdk_dynamodb::Client, table: &str, pk: &str) -> Result<Option<Item>, StoreError> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key(pk)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| classify(e, "reading an item"))?;
    Ok(out.item)
}

/// Strongly consistent reads of items by `(table, pk)`, from one table or several, in one
/// `BatchGetItem` (up to 100 keys); keys DynamoDB leaves unprocessed are read again. The
/// items found, by `(table, pk)`; a missing one is absent.
pub async fn get_batch(
    client: &aws_sdk_dynamodb::Client,
    keys: &[(&str, String)],
) -> Result<HashMap<(String, String), Item>, StoreError> {
    let mut by_table: HashMap<String, Vec<Item>> = HashMap::new();
    for (table, pk) in keys {
        let table_keys = by_table.entry((*table).to_owned()).or_default();
        // A batch naming one key twice is refused as a whole.
        if !table_keys.iter().any(|k| get_s(k, "pk") == Some(pk.as_str())) {
            table_keys.push(key(pk.clone()));
        }
    }
    let mut pending = HashMap::with_capacity(by_table.len());
    for (table, table_keys) in by_table {
        let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
            .set_keys(Some(table_keys))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Failed(e.into()))?;
        pending.insert(table, request);
    }
    let mut found = HashMap::with_capacity(keys.len());
    for attempt in 0..8 {
        let out = client
            .batch_get_item()
            .set_request_items(Some(pending))
            .send()
            .await
            .map_err(|e| classify(e, "batch-reading items"))?;
        for (table, items) in out.responses.unwrap_or_default() {
            for item in items {
                let pk = get_s(&item, "pk").unwrap_or_default().to_owned();
                found.insert((table.clone(), pk), item);
            }
        }
        pending = out.unprocessed_keys.unwrap_or_default();
        pending.retain(|_, rest| !rest.keys().is_empty());
        if pending.is_empty() {
            return Ok(found);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
    }
    Err(StoreError::Unavailable(anyhow::anyhow!("batch read left keys unprocessed after retries")))
}

/// A `Put` of `item` that fails when an item with the same key exists.
pub fn put_new(table: &str, item: Item) -> aws_sdk_dynamodb::types::TransactWriteItem {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .expect("table and item are set");
    aws_sdk_dynamodb::types::TransactWriteItem::builder().put(put).build()
}

/// Adds the given amounts to attributes of the table's counter item.
pub fn bump_counters(table: &str, deltas: &[(&str, i64)]) -> aws_sdk_dynamodb::types::TransactWriteItem {
    let mut update = aws_sdk_dynamodb::types::Update::builder().table_name(table).set_key(Some(key(list::COUNTER_PK)));
    let mut clauses = Vec::new();
    for (i, (attribute, delta)) in deltas.iter().enumerate() {
        clauses.push(format!("#c{i} :d{i}"));
        update = update
            .expression_attribute_names(format!("#c{i}"), *attribute)
            .expression_attribute_values(format!(":d{i}"), AttributeValue::N(delta.to_string()));
    }
    let update = update
        .update_expression(format!("ADD {}", clauses.join(", ")))
        .build()
        .expect("table, key and expression are set");
    aws_sdk_dynamodb::types::TransactWriteItem::builder().update(update).build()
}
