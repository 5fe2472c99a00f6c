//! The Lambda entry point every function's `main` calls.

use std::convert::Infallible;

use crate::app::App;
use crate::http::{Endpoint, run};

/// Builds the clients once per cold start, then serves invocations of `E`.
pub async fn serve<E: Endpoint>() -> Result<(), lambda_http::Error> {
    crate::telemetry::init();
    let app = App::from_env().await?;
    // The init phase has a full CPU burst: fetch the signing keys now, not on the first request.
    app.verifier.warm_up().await;
    let app = &app;
    lambda_http::run(lambda_http::service_fn(move |req| async move { Ok::<_, Infallible>(run::<E>(app, req).await) }))
        .await
}
