//! Who is calling: resolves `Authorization: Bearer <token>` (or, for CKAN clients,
//! a bare token in `Authorization` or `X-CKAN-API-Key`) and the session cookie into
//! a [`Subject`], and enforces CSRF protection on cookie-authenticated API writes.

use crate::http::error::ApiError;
use crate::http::AppState;
use crate::ui::Lang;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::{header, request::Parts, HeaderMap};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::{secret, Error, ErrorCode};
use kho_store::Session;

pub const SESSION_COOKIE: &str = "kho_session";
pub const LANG_COOKIE: &str = "kho_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller of one request.
pub struct Caller {
    pub subject: Subject,
    pub request_id: Option<String>,
    /// The browser session (cookie value and record), when the caller used one.
    pub session: Option<(String, Session)>,
    pub lang: Lang,
}

impl Caller {
    pub fn ctx(&self) -> AuditContext {
        AuditContext::new(&self.subject, self.request_id.clone())
    }
    pub fn csrf_token(&self) -> &str {
        self.session.as_ref().map(|(_, s)| s.csrf_token.as_str()).unwrap_or("")
    }
    /// Checks a form's anti-forgery field against the session.
    pub fn check_csrf(&self, presented: &str) -> Result<(), Error> {
        match &self.session {
            Some((_, s)) if secret::constant_time_eq(&s.csrf_token, presented) => Ok(()),
            _ => Err(Error::new(
                ErrorCode::CsrfFailed,
                "the form has expired or was not sent by Kho; reload the page and try again",
            )),
        }
    }
}

/// The value of one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The API token the request carries, if any.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(auth) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let auth = auth.trim();
        return Some(auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("bearer ")).unwrap_or(auth).trim());
    }
    headers.get("x-ckan-api-key").and_then(|v| v.to_str().ok()).map(str::trim)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(String::from);
        let lang = Lang::from_request(parts);
        if let Some(token) = presented_token(&parts.headers) {
            let subject = state.kho.authenticate_token(token).await?;
            return Ok(Self { subject, request_id, session: None, lang });
        }
        if let Some(sid) = cookie(&parts.headers, SESSION_COOKIE) {
            if let Some((subject, session)) = state.kho.authenticate_session(sid).await? {
                let caller = Self { subject, request_id, session: Some((sid.to_string(), session)), lang };
                let unsafe_method = !parts.method.is_safe();
                let path = parts.extensions.get::<OriginalUri>().map(|u| u.path()).unwrap_or(parts.uri.path());
                if unsafe_method && path.starts_with("/api/") {
                    let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
                    caller.check_csrf(sent).map_err(|_| {
                        Error::new(
                            ErrorCode::CsrfFailed,
                            format!("send the session's CSRF token in the {CSRF_HEADER} header"),
                        )
                    })?;
                }
                return Ok(caller);
            }
        }
        Ok(Self { subject: Subject::anonymous(), request_id, session: None, lang })
    }
}

/// A `Set-Cookie` value with Kho's defaults: `HttpOnly`, `SameSite=Lax`, `Path=/`,
/// `Secure` when Kho is served over HTTPS.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if state.kho.settings.secure_cookies() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}
