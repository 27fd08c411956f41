//! How errors leave the native API: the status from the error-code table and the
//! body `{ "code", "message", "type" }`. Also the JSON and query extractors whose
//! rejections (malformed JSON, unknown fields, oversize bodies) use that same shape.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use kho_core::{Error, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The JSON error body of the native API.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable error code, e.g. `invalid_field`.
    #[schema(value_type = String, example = "invalid_field")]
    pub code: ErrorCode,
    /// What failed and how to fix it.
    pub message: String,
    /// Error family: `invalid_request`, `auth` or `system`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// An error on its way to becoming an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.0.code;
        let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody { code, message: self.0.message, kind: code.kind() };
        (status, axum::Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Maps an extractor rejection to our error codes by its status.
fn rejection(status: StatusCode, text: String) -> ApiError {
    let code = match status.as_u16() {
        413 => ErrorCode::PayloadTooLarge,
        422 => ErrorCode::InvalidField,
        _ => ErrorCode::MalformedRequest,
    };
    let message = match code {
        ErrorCode::PayloadTooLarge => "the request body is too large; send less data per request".to_string(),
        _ if status == StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "the body must be JSON: send the header Content-Type: application/json".to_string()
        }
        // Keep serde's own words (they name the field, line and column) without
        // the extractor's preamble.
        _ => text
            .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
            .trim_start_matches("Failed to parse the request body as JSON: ")
            .trim_end_matches('.')
            .to_string(),
    };
    ApiError(Error::new(code, message))
}

/// `Json<T>` whose rejections speak the native error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    rejection(e.status(), e.body_text())
}

/// `Query<T>` whose rejections speak the native error shape.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> ApiError {
    let text = e.body_text();
    ApiError(Error::new(
        ErrorCode::InvalidField,
        text.trim_start_matches("Failed to deserialize query string: ").to_string(),
    ))
}
