#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::serve::<client_auth_verify::VerifyCustomer>().await
}
