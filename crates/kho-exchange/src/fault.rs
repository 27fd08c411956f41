//! X-Road's error body `{"type", "message", "detail"}`: `Client.*` faults are the
//! caller's (400, 401, 403, 429), `Server.*` the platform's or the provider's (500, 502,
//! 504).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// A header or the path is malformed (400).
    BadRequest,
    /// No credentials, or credentials that are not the client's (401).
    Unauthorized,
    /// No agreement allows this call (403).
    AccessDenied,
    /// Too many calls; `Retry-After` says when to try again (429).
    RateLimited,
    /// The service does not exist (404, reported as a client fault).
    UnknownService,
    /// Kho failed (500).
    Internal,
    /// The provider's backend could not be reached or answered badly (502).
    BadGateway,
    /// The provider's backend did not answer in time (504).
    Timeout,
    /// The provider has suspended the service; the message carries its notice (503).
    ServiceDisabled,
}

impl FaultKind {
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::AccessDenied => 403,
            Self::UnknownService => 404,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::BadGateway => 502,
            Self::Timeout => 504,
            Self::ServiceDisabled => 503,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::BadRequest => "Client.BadRequest",
            Self::Unauthorized => "Client.Unauthorized",
            Self::AccessDenied => "Client.AccessDenied",
            Self::UnknownService => "Client.UnknownService",
            Self::RateLimited => "Client.TooManyRequests",
            Self::Internal => "Server.InternalError",
            Self::BadGateway => "Server.ServerProxy.ServiceFailed",
            Self::Timeout => "Server.ServerProxy.NetworkError",
            Self::ServiceDisabled => "Server.ServerProxy.ServiceDisabled",
        }
    }
}

/// An X-Road error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    /// The request's `X-Road-Id`, to find it in the message log.
    pub detail: String,
    #[serde(skip)]
    pub status: u16,
}

impl Fault {
    pub fn new(kind: FaultKind, message: impl Into<String>, request_id: &str) -> Self {
        Self { kind: kind.code().into(), message: message.into(), detail: request_id.into(), status: kind.status() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_have_the_xroad_shape() {
        let f = Fault::new(FaultKind::RateLimited, "50 requests a second at most", "req-1");
        assert_eq!(f.status, 429);
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"type": "Client.TooManyRequests", "message": "50 requests a second at most", "detail": "req-1"})
        );
        assert_eq!(FaultKind::Timeout.status(), 504);
        assert!(FaultKind::BadGateway.code().starts_with("Server."));
    }
}
