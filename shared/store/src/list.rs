//! Offset pages over a newest-first, keys-only index, and the counters that give `total`.
//!
//! Cost of one page: a keys-only query reading `page × limit` index entries (about
//! 100 bytes each, so ~40 per 4 KB read unit, halved for eventual consistency), one
//! batch read of `limit` items, and one counter read. It does not grow with the table.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::schema::IndexDef;
use super::{Item, StoreError, classify, get_s, key};

pub struct Page {
    pub items: Vec<Item>,
}

/// The items at `offset..offset + limit` of one index partition, newest first.
pub async fn page(
    client: &Client,
    table: &str,
    index: IndexDef,
    partition: &str,
    offset: usize,
    limit: usize,
) -> Result<Page, StoreError> {
    let wanted = offset + limit;
    // `wanted` comes from the caller's `page` (up to u32::MAX pages): never allocate by it.
    let mut keys: Vec<String> = Vec::with_capacity(wanted.min(1000));
    let mut start = None;
    loop {
        let (found, next) = key_page(client, table, index, partition, (wanted - keys.len()).min(1000), start).await?;
        keys.extend(found);
        start = next;
        if start.is_none() || keys.len() >= wanted {
            break;
        }
    }
    let page_keys: Vec<String> = keys.into_iter().skip(offset).take(limit).collect();
    Ok(Page { items: batch_get(client, table, &page_keys).await? })
}

/// Every item of one index partition, newest first, however many: the index is followed
/// page by page (`LastEvaluatedKey`), each page of keys read in one batch.
pub async fn all(client: &Client, table: &str, index: IndexDef, partition: &str) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let (keys, next) = key_page(client, table, index, partition, BATCH_GET_MAX, start).await?;
        items.extend(batch_get(client, table, &keys).await?);
        start = next;
        if start.is_none() {
            return Ok(items);
        }
    }
}

/// DynamoDB's limit on the keys of one `BatchGetItem`.
pub const BATCH_GET_MAX: usize = 100;

/// Up to `limit` `pk`s of one index partition, newest first, after `start`; and where the next page starts.
async fn key_page(
    client: &Client,
    table: &str,
    index: IndexDef,
    partition: &str,
    limit: usize,
    start: Option<Item>,
) -> Result<(Vec<String>, Option<Item>), StoreError> {
    let out = newest_first(client, table, index, partition.to_owned())
        .projection_expression("pk")
        .limit(limit as i32)
        .set_exclusive_start_key(start)
        .send()
        .await
        .map_err(|e| classify(e, "querying a list index"))?;
    let keys = out.items().iter().filter_map(|i| get_s(i, "pk")).map(str::to_owned).collect();
    Ok((keys, out.last_evaluated_key))
}

/// A `Query` of one index partition, newest first; the caller adds its limit, start and projection.
pub(super) fn newest_first(client: &Client, table: &str, index: IndexDef, partition: String) -> QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .index_name(index.name)
        .key_condition_expression("#p = :p")
        .expression_attribute_names("#p", index.partition_key)
        .expression_attribute_values(":p", AttributeValue::S(partition))
        .scan_index_forward(false)
}

/// Reads up to [`BATCH_GET_MAX`] items by `pk`, returned in the order of `pks`; missing ones are skipped.
pub async fn batch_get(client: &Client, table: &str, pks: &[String]) -> Result<Vec<Item>, StoreError> {
    if pks.is_empty() {
        return Ok(Vec::new());
    }
    let mut pending = KeysAndAttributes::builder()
        .set_keys(Some(pks.iter().map(key).collect()))
        .build()
        .map_err(|e| StoreError::Failed(e.into()))?;
    let mut found: Vec<Item> = Vec::with_capacity(pks.len());
    for attempt in 0..8 {
        let out = client
            .batch_get_item()
            .request_items(table, pending)
            .send()
            .await
            .map_err(|e| classify(e, "batch-reading list items"))?;
        if let Some(items) = out.responses.and_then(|mut r| r.remove(table)) {
            found.extend(items);
        }
        match out.unprocessed_keys.and_then(|mut u| u.remove(table)) {
            Some(rest) if !rest.keys().is_empty() => {
                pending = rest;
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
            _ => {
                let position = |item: &Item| pks.iter().position(|pk| Some(pk.as_str()) == get_s(item, "pk"));
                found.sort_by_key(position);
                return Ok(found);
            }
        }
    }
    Err(StoreError::Unavailable(anyhow::anyhow!("batch read left keys unprocessed after retries")))
}

/// Reads a numeric attribute of the counter item, 0 when absent.
pub async fn counter(client: &Client, table: &str, attribute: &str) -> Result<u64, StoreError> {
    let out = client
        .get_item()
        .table_name(table)
        .set_key(Some(key(COUNTER_PK)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| classify(e, "reading a list counter"))?;
    Ok(out
        .item
        .as_ref()
        .and_then(|i| i.get(attribute))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
        .map_or(0, |n| n.max(0) as u64))
}

pub const COUNTER_PK: &str = "COUNTER";

/// Adds the given amounts to attributes of the table's counter item.
pub fn bump_counters(table: &str, deltas: &[(&str, i64)]) -> aws_sdk_dynamodb::types::TransactWriteItem {
    let mut update = aws_sdk_dynamodb::types::Update::builder().table_name(table).set_key(Some(key(COUNTER_PK)));
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
