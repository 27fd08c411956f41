//! The one table of error codes: each code has a stable name, an HTTP status and a
//! type. Every surface of the native API renders errors from this table as
//! `{ "code", "message", "type" }`.

use serde::Serialize;

/// A stable, documented error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request body or parameters could not be read (malformed JSON, wrong types).
    MalformedRequest,
    /// A field has a value that breaks a rule (format, length, allowed values).
    InvalidField,
    /// The request body is larger than the configured limit.
    PayloadTooLarge,
    /// No valid credentials were presented.
    Unauthenticated,
    /// The credentials are valid but the policy denies the action.
    Forbidden,
    /// The form's anti-forgery token is missing or wrong.
    CsrfFailed,
    /// The requested thing does not exist (or is not visible to the caller).
    NotFound,
    /// The endpoint exists but not for this HTTP method.
    MethodNotAllowed,
    /// The change conflicts with existing state (duplicate code, username, ...).
    Conflict,
    /// An SQL query that would write, touch files or run several statements.
    QueryRefused,
    /// An SQL query stopped by its time, memory or row limit.
    QueryLimit,
    /// Too many attempts; retry later.
    RateLimited,
    /// The request took longer than the configured timeout.
    Timeout,
    /// The store or another dependency is unavailable.
    Unavailable,
    /// An unexpected failure inside Kho; details are in the server log.
    Internal,
}

impl ErrorCode {
    /// Every code, for documentation and tests.
    pub const ALL: [ErrorCode; 15] = [
        Self::MalformedRequest,
        Self::InvalidField,
        Self::PayloadTooLarge,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::CsrfFailed,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::Conflict,
        Self::QueryRefused,
        Self::QueryLimit,
        Self::RateLimited,
        Self::Timeout,
        Self::Unavailable,
        Self::Internal,
    ];

    /// The row of the table: (name, HTTP status, type).
    pub const fn row(self) -> (&'static str, u16, &'static str) {
        match self {
            Self::MalformedRequest => ("malformed_request", 400, "invalid_request"),
            Self::InvalidField => ("invalid_field", 422, "invalid_request"),
            Self::PayloadTooLarge => ("payload_too_large", 413, "invalid_request"),
            Self::Unauthenticated => ("unauthenticated", 401, "auth"),
            Self::Forbidden => ("forbidden", 403, "auth"),
            Self::CsrfFailed => ("csrf_failed", 403, "auth"),
            Self::NotFound => ("not_found", 404, "invalid_request"),
            Self::MethodNotAllowed => ("method_not_allowed", 405, "invalid_request"),
            Self::Conflict => ("conflict", 409, "invalid_request"),
            Self::QueryRefused => ("query_refused", 422, "invalid_request"),
            Self::QueryLimit => ("query_limit", 422, "invalid_request"),
            Self::RateLimited => ("rate_limited", 429, "auth"),
            Self::Timeout => ("timeout", 408, "system"),
            Self::Unavailable => ("unavailable", 503, "system"),
            Self::Internal => ("internal", 500, "system"),
        }
    }

    pub const fn as_str(self) -> &'static str {
        self.row().0
    }
    pub const fn status(self) -> u16 {
        self.row().1
    }
    pub const fn kind(self) -> &'static str {
        self.row().2
    }
}

/// A domain error: a code from the table and a message meant for the caller
/// (lowercase, no trailing period, says what failed and what to do).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    /// A field broke a rule: names the field so the caller can fix it.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::InvalidField, format!("{field}: {message}"))
    }
    /// The message without its leading `field: `, for places that name the field
    /// themselves (serde prefixes the path of a field that failed to parse).
    pub fn without_field(&self) -> &str {
        match self.message.split_once(": ") {
            Some((field, rest)) if !field.contains(' ') => rest,
            _ => &self.message,
        }
    }
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_client_errors_are_4xx() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            let status = code.status();
            let is_server_side = matches!(code, ErrorCode::Internal | ErrorCode::Unavailable);
            assert_eq!(status >= 500, is_server_side, "{code:?} has status {status}");
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}
