fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<mitras_revoke_sessions::Function>()
}
