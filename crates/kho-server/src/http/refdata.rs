//! Reference data (danh mục dùng chung) in the native API:
//! `GET /api/v1/refdata/admin-units/convert?code=…` or `?address=…` converts a
//! legacy administrative unit to the 2025 units. Public: reference data is open data.

use crate::http::error::{ApiQuery, ApiResult, ErrorBody};
use axum::Json;
use kho_core::{Error, ErrorCode};
use kho_refdata::{AdminUnits, Conversion};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConvertParams {
    /// A legacy commune code (mã xã cũ), e.g. `07687`; a shorter number is padded with zeros.
    pub code: Option<String>,
    /// A free-text address, e.g. `123 Lê Lợi, P. Tân Mỹ, TP. Bắc Giang, T. Bắc Giang`.
    pub address: Option<String>,
}

/// What to convert: exactly one of the two parameters.
enum Input {
    Code(String),
    Address(String),
}

impl ConvertParams {
    fn input(self) -> Result<Input, Error> {
        let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        match (given(self.code), given(self.address)) {
            (Some(code), None) => Ok(Input::Code(code)),
            (None, Some(address)) => Ok(Input::Address(address)),
            (Some(_), Some(_)) => Err(Error::new(
                ErrorCode::InvalidField,
                "give either code or address, not both: one conversion a request",
            )),
            (None, None) => Err(Error::new(
                ErrorCode::InvalidField,
                "give code (a legacy commune code, e.g. ?code=07687) or address \
                 (e.g. ?address=Phường Tân Mỹ, Thành phố Bắc Giang, Tỉnh Bắc Giang)",
            )),
        }
    }
}

/// Convert a legacy commune (by code or by a free-text address) to the 2025
/// administrative units. `kind` is `exact` (already a 2025 unit), `merged` (the whole
/// legacy commune went into `unit`), `split-default` (split; `unit` is the default
/// target, `candidates` every target), `split-candidates` (several units possible,
/// none named: `unit` is null) or `not-found`. `rest` is what stands left of the
/// commune in an address (house number, street). No login needed.
#[utoipa::path(get, path = "/api/v1/refdata/admin-units/convert", tag = "refdata", params(ConvertParams),
    responses(
        (status = 200, body = Conversion),
        (status = 422, description = "Neither or both of code and address, or an unknown parameter", body = ErrorBody)))]
pub async fn convert(ApiQuery(params): ApiQuery<ConvertParams>) -> ApiResult<Json<Conversion>> {
    let input = params.input()?;
    // The first call parses the embedded lists: keep that off the async threads.
    let conversion = tokio::task::spawn_blocking(move || {
        let units = AdminUnits::embedded();
        match input {
            Input::Code(code) => units.convert_code(&code),
            Input::Address(address) => units.convert_address(&address),
        }
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "the admin-unit conversion stopped");
        Error::internal("internal error; see the server log")
    })?;
    Ok(Json(conversion))
}
