//! DynamoDB access. Each table holds its entity items plus small "claim" items
//! (`PHONE#…`, `UID#…`, `EMAIL#…`) written in the same transaction, so that
//! uniqueness is enforced by DynamoDB's condition checks, never by reading first.

pub mod anonymity;
pub mod audit;
pub mod change;
pub mod control_center_users;
pub mod customers;
pub mod list;
pub mod mitras;
pub mod roles;
pub mod schema;
mod stored;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use halo_telemetry::metrics::{Counter, count};

pub type Item = HashMap<String, AttributeValue>;

/// The storage layer's error: everything but the typed outcomes each operation returns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage is throttling or unreachable")]
    Unavailable(#[source] anyhow::Error),
    #[error("storage operation failed")]
    Failed(#[source] anyhow::Error),
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
