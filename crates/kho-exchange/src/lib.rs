//! Nền tảng chia sẻ (LGSP) — the rules of the province's data exchange, without IO:
//! how a gateway request names its service ([`ServiceRequest`], the X-Road Message
//! Protocol for REST), what an agreement permits ([`Agreement::permits`]), how a
//! response's fields are projected and masked ([`mask`]), how fast a consumer may call
//! ([`RateLimiter`]), the X-Road error bodies ([`Fault`]), and the gateway's signed
//! message log ([`msglog`]; its only IO is reading and creating its key files).

mod agreement;
mod fault;
pub mod health;
mod limit;
mod mask;
pub mod msglog;
pub mod registry;
mod service;

pub use agreement::{Agreement, AgreementStatus, EndpointRule};
pub use fault::{Fault, FaultKind};
pub use health::{Outcome, ServiceHealth};
pub use limit::{Quota, RateLimiter};
pub use mask::{mask, mask_value};
pub use msglog::{ChainVerifier, Checkpoint, MessageRecord, NodeKey, SealKey, VerifyReport};
pub use registry::{AgreementDecision, AgreementTerms, NewService, Service, ServiceChange, ServiceTarget, Suspension};
pub use service::ServiceRequest;
