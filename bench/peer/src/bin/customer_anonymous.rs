//! Peer of `POST /api/shared/customer/anonymous`: creates an anonymous customer; with a valid
//! token it is bound to the token's uid, once (201 the first time, 200 with the same customer
//! after that).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use bench_peer::{Customer, FirebaseVerifier, answer, bearer, customers_table, refuse};
use lambda_http::{Body, Error, Request, Response, run, service_fn, tracing};
use serde::Deserialize;
use serde_dynamo::to_item;
use serde_json::json;

#[derive(Deserialize)]
struct NewCustomer {
    display_name: Option<String>,
}

async fn handle_request(
    db_client: &Client,
    verifier: &FirebaseVerifier,
    table: &str,
    event: Request,
) -> Result<Response<Body>, Error> {
    let uid = match bearer(&event) {
        None => None,
        Some(token) => match verifier.verify(token) {
            Some(claims) => Some(claims.sub),
            None => return refuse(401, "UNAUTHORIZED", "invalid token"),
        },
    };
    let body = std::str::from_utf8(event.body()).unwrap_or_default();
    let new = match serde_json::from_str::<NewCustomer>(body) {
        Ok(new) => new,
        Err(err) => return refuse(400, "BAD_REQUEST", &err.to_string()),
    };
    let display_name = new.display_name.as_deref().map(str::trim).unwrap_or_default();
    if display_name.is_empty() {
        return refuse(422, "DISPLAY_NAME_REQUIRED", "display name missing, null or blank");
    }
    if display_name.chars().count() > 50 || display_name.chars().any(char::is_control) {
        return refuse(422, "VALIDATION_ERROR", "display_name must be at most 50 characters");
    }
    tracing::info!(bound = uid.is_some(), "creating an anonymous customer");

    let id = uuid::Uuid::now_v7().to_string();
    let customer = Customer {
        id: id.clone(),
        display_name: display_name.to_owned(),
        is_anonymous: true,
        phone: None,
        email: None,
        bound_uid: uid.clone(),
        linked_uid: None,
        created_at: time::OffsetDateTime::now_utc().format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))?,
    };
    let mut item: HashMap<String, AttributeValue> = to_item(&customer)?;
    item.insert("pk".into(), AttributeValue::S(format!("CUSTOMER#{id}")));
    let mut writes = vec![put_new(table, item)?];
    if let Some(uid) = &uid {
        let claim = [
            ("pk".to_owned(), AttributeValue::S(format!("UID#{uid}"))),
            ("customer_id".to_owned(), AttributeValue::S(id.clone())),
        ];
        writes.push(put_new(table, claim.into())?);
    }

    match db_client.transact_write_items().set_transact_items(Some(writes)).send().await {
        Ok(_) => answer(201, view(&customer)),
        Err(err) => match (err.as_service_error(), &uid) {
            // The uid has its customer already: answer it.
            (Some(TransactWriteItemsError::TransactionCanceledException(cancel)), Some(uid))
                if cancel.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed")) =>
            {
                let claim = db_client
                    .get_item()
                    .table_name(table)
                    .key("pk", AttributeValue::S(format!("UID#{uid}")))
                    .consistent_read(true)
                    .send()
                    .await?;
                let existing = claim.item.as_ref().and_then(|i| i.get("customer_id")).and_then(|v| v.as_s().ok());
                let existing = existing.ok_or("uid claim without customer")?;
                let item = db_client
                    .get_item()
                    .table_name(table)
                    .key("pk", AttributeValue::S(format!("CUSTOMER#{existing}")))
                    .consistent_read(true)
                    .send()
                    .await?;
                let customer: Customer = serde_dynamo::from_item(item.item.ok_or("uid claim without customer")?)?;
                answer(200, view(&customer))
            }
            _ => Err(err.into()),
        },
    }
}

fn put_new(table: &str, item: HashMap<String, AttributeValue>) -> Result<TransactWriteItem, Error> {
    let put = Put::builder().table_name(table).set_item(Some(item)).condition_expression("attribute_not_exists(pk)");
    Ok(TransactWriteItem::builder().put(put.build()?).build())
}

fn view(customer: &Customer) -> serde_json::Value {
    json!({
        "id": customer.id,
        "display_name": customer.display_name,
        "is_anonymous": customer.is_anonymous,
        "created_at": customer.created_at,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // required to enable CloudWatch error logging by the runtime
    tracing::init_default_subscriber();

    let config = aws_config::load_from_env().await;
    let client = Client::new(&config);
    let verifier = FirebaseVerifier::from_env().await?;
    let table = customers_table();

    run(service_fn(|event: Request| async { handle_request(&client, &verifier, &table, event).await })).await
}
