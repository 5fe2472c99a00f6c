fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<mitra_auth_verify::Function>()
}
