#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::serve::<mitras_status::SetMitraStatus>().await
}
