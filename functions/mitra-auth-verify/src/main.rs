#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::serve::<mitra_auth_verify::VerifyMitra>().await
}
