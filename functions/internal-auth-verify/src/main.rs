#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::serve::<internal_auth_verify::VerifyControlCenterUser>().await
}
