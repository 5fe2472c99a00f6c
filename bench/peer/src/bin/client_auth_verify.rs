//! Peer of `POST /api/client/auth/verify`: the customer bound to the caller's token.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use bench_peer::{Customer, FirebaseVerifier, answer, bearer, customers_table, refuse};
use lambda_http::{Body, Error, Request, Response, run, service_fn, tracing};
use serde_json::json;

async fn handle_request(
    db_client: &Client,
    verifier: &FirebaseVerifier,
    table: &str,
    event: Request,
) -> Result<Response<Body>, Error> {
    let Some(claims) = bearer(&event).and_then(|token| verifier.verify(token)) else {
        return refuse(401, "UNAUTHORIZED", "missing or invalid token");
    };
    tracing::info!(uid = %claims.sub, "verifying a customer");

    let claim = db_client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("UID#{}", claims.sub)))
        .consistent_read(true)
        .send()
        .await?;
    let Some(customer_id) = claim.item.as_ref().and_then(|i| i.get("customer_id")).and_then(|v| v.as_s().ok()) else {
        return refuse(404, "NOT_FOUND", "no customer for this login");
    };

    let item = db_client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("CUSTOMER#{customer_id}")))
        .consistent_read(true)
        .send()
        .await?;
    let Some(item) = item.item else {
        return refuse(404, "NOT_FOUND", "no customer for this login");
    };
    let customer: Customer = serde_dynamo::from_item(item)?;

    let mut data = json!({
        "id": customer.id,
        "display_name": customer.display_name,
        "is_anonymous": customer.is_anonymous,
        "phone": customer.phone,
        "created_at": customer.created_at,
    });
    if let Some(email) = customer.email {
        data["email"] = json!(email);
    }
    answer(200, data)
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
