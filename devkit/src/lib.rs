//! What local runs, tests and benchmarks need to play Firebase: RS256 ID tokens signed by
//! the dev key, and a server for its certificate as Google serves its x509 map; and a proxy
//! that breaks a dependency on purpose.

pub mod certs;
pub mod devtoken;
pub mod fault_proxy;
