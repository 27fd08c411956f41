//! Kho's domain core: the types every other crate speaks in (agencies, identities,
//! roles, subsystems), the one authorisation policy, the audit hash chain, credential
//! hashing and the table of error codes. Nothing here performs IO.

pub mod admin_units;
pub mod agency;
pub mod audit;
pub mod error;
pub mod identity;
pub mod policy;
pub mod secret;
pub mod time;

pub use error::{Error, ErrorCode, Result};
