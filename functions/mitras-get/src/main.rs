fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<mitras_get::Function>()
}
