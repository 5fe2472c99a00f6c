#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::serve::<control_center_users_create::CreateControlCenterUser>().await
}
