//! Local development around the Lambda functions: an API Gateway stand-in that
//! hosts the very same handlers, the OpenAPI specs and a load run. Table set-up
//! and seed are `shared::seed`; dev tokens and the certificate server that plays
//! Google's key endpoint are `devkit`'s, re-exported here.

pub use devkit::{certs, devtoken, fault_proxy};
pub mod chaos;
pub mod doc_tables;
pub mod endpoints;
pub mod fixture;
pub mod gateway;
pub mod generate;
pub mod load;
pub mod mount;
pub mod openapi;
pub mod reconcile;
pub mod specs;
