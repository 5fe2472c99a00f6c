fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<client_account_delete::Function>()
}
