//! Hello world on `lambda_runtime`: the cold-start baseline the functions are compared with.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<_, Error>(json!({ "statusCode": 200, "body": "hello" }))
    }))
    .await
}
