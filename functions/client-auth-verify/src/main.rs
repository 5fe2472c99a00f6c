fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<client_auth_verify::Function>()
}
