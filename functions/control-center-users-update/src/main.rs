fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<control_center_users_update::Function>()
}
