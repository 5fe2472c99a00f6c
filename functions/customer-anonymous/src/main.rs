fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<customer_anonymous::Function>()
}
