//! Local development around the Lambda functions: an API Gateway stand-in that
//! hosts the very same handlers, table set-up and seed, dev tokens, and a
//! certificate server that plays Google's key endpoint.

pub use devkit::{certs, devtoken};
pub mod endpoints;
pub mod gateway;
pub mod generate;
pub mod load;
pub mod openapi;
pub mod setup;
