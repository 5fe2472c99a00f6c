//! One integration binary: each test gets its own tables, parameter, key server and gateways.

mod helpers;

mod customers;
mod internal;
mod key_cache;
mod mitra_verify;
mod verifier;
