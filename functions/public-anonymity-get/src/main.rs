#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::serve::<public_anonymity_get::ReadAnonymity>().await
}
