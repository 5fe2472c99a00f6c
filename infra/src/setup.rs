//! Idempotent preparation of a stage: tables, the anonymity parameter and the seed.

pub use shared::seed::{prepare_local, seed_super_admin as seed};
