fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<public_anonymity_get::Function>()
}
