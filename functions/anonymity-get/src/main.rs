fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<anonymity_get::Function>()
}
