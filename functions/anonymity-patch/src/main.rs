#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::serve::<anonymity_patch::UpdateAnonymitySetting>().await
}
