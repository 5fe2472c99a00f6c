//! What every HaloBestie function shares: the envelope and errors, configuration,
//! Firebase ID-token verification, authorization, DynamoDB and the SSM anonymity flag.

pub mod anonymity;
pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod endpoint;
pub mod error;
pub mod firebase;
pub mod http;
pub mod inputs;
pub mod lambda;
pub mod metrics;
pub mod routes;
pub mod schema;
pub mod seed;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod views;

pub use app::App;
pub use endpoint::{Anyone, Call, Ctx, Endpoint, Json, NoRefusal, Path, Query, Reply};
pub use error::ApiError;
pub use firebase::FirebaseUser;
pub use lambda_http::Request;
