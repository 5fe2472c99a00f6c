fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<audit_log_list::Function>()
}
