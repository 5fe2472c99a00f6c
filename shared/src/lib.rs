//! What every HaloBestie function shares, built in layers that only point down
//! (ARCHITECTURE.md): domain values (`halo-domain`), storage (`halo-store`), authorization
//! (`halo-auth`), and in this crate the request pipeline and the Lambda entry point. The
//! layers below are re-exported under the names the functions use.

pub use halo_auth::{self as auth, app, config, firebase};
pub use halo_domain::{self as domain, clock, schema};
pub use halo_store::{self as store, anonymity};
pub use halo_telemetry::{self as telemetry, metrics};

pub mod endpoint;
pub mod error;
pub mod http;
pub mod inputs;
pub mod lambda;
pub mod request;
pub mod routes;
pub mod seed;
pub mod views;

pub use app::App;
pub use endpoint::{Anyone, Call, Ctx, Endpoint, Json, NoRefusal, Path, Query, Reply};
pub use error::ApiError;
pub use firebase::FirebaseUser;
pub use lambda_http::Request;
