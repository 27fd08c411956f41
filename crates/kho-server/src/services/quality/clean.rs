//! Làm sạch — the cleaning step.

/// What the cleaning step did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CleaningOutcome {}
