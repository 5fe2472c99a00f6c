fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<internal_auth_verify::Function>()
}
