//! One integration binary: each test gets its own tables, parameter, key server and gateways.

mod helpers;

mod customers;
mod events;
mod faults;
mod internal;
mod key_cache;
mod logs;
mod mitra_verify;
mod openapi;
mod recording_proxy;
mod strict;
mod template;
mod verifier;
