fn main() -> Result<(), lambda_http::Error> {
    shared::lambda::start::<roles_list::Function>()
}
