//! One integration binary: each test gets its own tables, parameter, key server and gateways.

mod calls;
mod helpers;

mod account_deletion;
mod cors;
mod customers;
mod events;
mod faults;
mod internal;
mod key_cache;
mod logs;
mod mitra_verify;
mod openapi;
mod recording_proxy;
mod round_trips;
mod strict_input;
mod template;
mod token_identity;
mod verifier;
mod versions;
