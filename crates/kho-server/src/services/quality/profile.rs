//! Hồ sơ dữ liệu — profiling a table version.

/// A table version's profile with its suggested checks and bindings.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TableProfileReport {}
