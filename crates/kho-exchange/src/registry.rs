//! Danh mục dịch vụ — the service registry: what a provider subsystem offers through
//! the gateway. A *dataset service* serves a published table (or a view of it) as a
//! REST API that Kho generates; a *proxied service* forwards calls to the provider's
//! own backend. Agreements ([`crate::Agreement`]) say who may call which.

use crate::agreement::{AgreementStatus, EndpointRule};
use chrono::{DateTime, NaiveDate, Utc};
use kho_core::identity::SubsystemId;
use kho_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Service codes the gateway keeps for its metaservices.
pub const METASERVICES: [&str; 4] = ["listClients", "listMethods", "allowedMethods", "getOpenAPI"];

/// How long a service's answer may take (a proxied backend's, a dataset read), unless
/// the service says.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// The timeouts a service may set.
pub const TIMEOUT_RANGE_MS: std::ops::RangeInclusive<u64> = 100..=600_000;

/// What a service serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceTarget {
    /// Dịch vụ dữ liệu — a table of a data resource, served by Kho.
    Dataset {
        resource_id: String,
        table: String,
        /// The columns served (all when empty).
        #[serde(default)]
        columns: Vec<String>,
        /// A row filter in SQL (`trang_thai = 'hoat_dong'`); rows outside it are never served.
        #[serde(default)]
        filter: Option<String>,
        /// The column `GET /rows/{key}` looks rows up by.
        #[serde(default)]
        key_column: Option<String>,
    },
    /// Dịch vụ chuyển tiếp — calls forwarded to the provider's backend.
    Proxied {
        /// The backend's base URL; the path after the service code is appended.
        backend_url: String,
        /// The backend's OpenAPI document, when the provider gave one.
        #[serde(default)]
        #[schema(value_type = Option<Object>)]
        openapi: Option<serde_json::Value>,
        /// Sent to the backend as `Authorization: Bearer …` (e.g. to an Agent Node
        /// that exposes the agency's local backend); never shown back.
        #[serde(default, skip_serializing)]
        backend_token: Option<String>,
    },
}

impl ServiceTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Dataset { .. } => "dataset",
            Self::Proxied { .. } => "proxied",
        }
    }
}

/// A registered service.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Service {
    pub id: String,
    /// The provider subsystem's store id.
    pub provider_id: String,
    #[schema(value_type = String, example = "VN/GOV/000.00.00.H24/DKKD")]
    pub provider: SubsystemId,
    pub code: String,
    pub description: String,
    pub target: ServiceTarget,
    pub timeout_ms: u64,
    /// Whether request and response bodies are kept (sealed) in the message log.
    pub log_bodies: bool,
    pub created_at: DateTime<Utc>,
    /// When its settings were last changed after registration.
    pub updated_at: Option<DateTime<Utc>>,
    /// Tạm ngừng — set while the provider has suspended the service: the gateway answers
    /// every call with `Server.ServerProxy.ServiceDisabled` and this notice.
    pub disabled: Option<Suspension>,
}

/// A service's suspension: since when, and what its consumers are told.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Suspension {
    pub at: DateTime<Utc>,
    /// E.g. "Bảo trì hệ thống đến 18:00 ngày 05/12" — the maintenance and when it ends.
    pub notice: String,
}

/// The longest notice a suspended service shows its callers.
pub const NOTICE_LIMIT: usize = 500;

/// A change to a registered service's settings: what is given replaces what is there;
/// what is absent stays. The provider, code and kind stay (register a new service to
/// change those), and so do a dataset service's resource and table.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceChange {
    pub description: Option<String>,
    /// A proxied service's backend URL.
    pub backend_url: Option<String>,
    /// A proxied service's OpenAPI document; `null` removes it.
    #[serde(default, with = "serde_with_null")]
    #[schema(value_type = Option<Object>)]
    pub openapi: Option<Option<serde_json::Value>>,
    /// A proxied service's token for its backend; `""` removes it. Never shown back.
    pub backend_token: Option<String>,
    /// A dataset service's columns served (all when empty).
    pub columns: Option<Vec<String>>,
    /// A dataset service's row filter in SQL; `""` removes it.
    pub filter: Option<String>,
    /// A dataset service's key column; `""` removes it.
    pub key_column: Option<String>,
    pub timeout_ms: Option<u64>,
    pub log_bodies: Option<bool>,
}

/// `Option<Option<T>>` from JSON: absent is `None`, `null` is `Some(None)`.
mod serde_with_null {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

impl ServiceChange {
    /// Whether the change changes nothing.
    pub fn is_empty(&self) -> bool {
        let Self {
            description,
            backend_url,
            openapi,
            backend_token,
            columns,
            filter,
            key_column,
            timeout_ms,
            log_bodies,
        } = self;
        description.is_none()
            && backend_url.is_none()
            && openapi.is_none()
            && backend_token.is_none()
            && columns.is_none()
            && filter.is_none()
            && key_column.is_none()
            && timeout_ms.is_none()
            && log_bodies.is_none()
    }

    /// The service's settings with the change made, checked as a new registration
    /// would be; a setting of the other kind of service is an error naming it.
    pub fn apply(&self, service: &Service) -> Result<NewService> {
        let cleared = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let other_kind = |field: &str| {
            let kind = service.target.kind();
            Error::invalid(
                field,
                format!(
                    "{} is a {kind} service, which has no {field}; register a new service instead",
                    service.full_id()
                ),
            )
        };
        let foreign = match &service.target {
            ServiceTarget::Proxied { .. } => [
                ("columns", self.columns.is_some()),
                ("filter", self.filter.is_some()),
                ("key_column", self.key_column.is_some()),
            ],
            ServiceTarget::Dataset { .. } => [
                ("backend_url", self.backend_url.is_some()),
                ("openapi", self.openapi.is_some()),
                ("backend_token", self.backend_token.is_some()),
            ],
        };
        if let Some((field, _)) = foreign.iter().find(|(_, given)| *given) {
            return Err(other_kind(field));
        }
        let mut target = service.target.clone();
        match &mut target {
            ServiceTarget::Proxied { backend_url, openapi, backend_token } => {
                if let Some(url) = &self.backend_url {
                    *backend_url = url.trim().to_string();
                }
                if let Some(document) = &self.openapi {
                    *openapi = document.clone();
                }
                if let Some(token) = &self.backend_token {
                    *backend_token = cleared(token);
                }
            }
            ServiceTarget::Dataset { columns, filter, key_column, .. } => {
                if let Some(c) = &self.columns {
                    *columns = c.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                }
                if let Some(f) = &self.filter {
                    *filter = cleared(f);
                }
                if let Some(k) = &self.key_column {
                    *key_column = cleared(k);
                }
            }
        }
        let changed = NewService {
            provider: service.provider.clone(),
            code: service.code.clone(),
            description: self
                .description
                .as_ref()
                .map_or_else(|| service.description.clone(), |d| d.trim().to_string()),
            target,
            timeout_ms: Some(self.timeout_ms.unwrap_or(service.timeout_ms)),
            log_bodies: self.log_bodies.unwrap_or(service.log_bodies),
        };
        changed.validate()?;
        Ok(changed)
    }
}

impl Service {
    /// `INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE`, as `X-Road-Service` carries it.
    pub fn full_id(&self) -> String {
        format!("{}/{}", self.provider, self.code)
    }
}

/// A service to register.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    /// The provider subsystem, `INSTANCE/CLASS/MEMBER/SUBSYSTEM`.
    #[schema(value_type = String)]
    pub provider: SubsystemId,
    pub code: String,
    #[serde(default)]
    pub description: String,
    pub target: ServiceTarget,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub log_bodies: bool,
}

/// Whether `s` may be an X-Road identifier part (`A–Z a–z 0–9 ' ( ) + , - . = ?`).
pub fn is_identifier_part(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.bytes().all(kho_core::identity::identifier_byte)
}

impl NewService {
    /// The names of the settings in which these differ from `current`'s (what a change
    /// changes; a token's value is never named, only `backend_token`).
    pub fn changed_settings(&self, current: &Service) -> Vec<&'static str> {
        let mut names = Vec::new();
        let mut differs = |name, yes: bool| {
            if yes {
                names.push(name);
            }
        };
        differs("description", self.description != current.description);
        match (&current.target, &self.target) {
            (
                ServiceTarget::Proxied { backend_url: u1, openapi: o1, backend_token: t1 },
                ServiceTarget::Proxied { backend_url: u2, openapi: o2, backend_token: t2 },
            ) => {
                differs("backend_url", u1 != u2);
                differs("openapi", o1 != o2);
                differs("backend_token", t1 != t2);
            }
            (
                ServiceTarget::Dataset { columns: c1, filter: f1, key_column: k1, .. },
                ServiceTarget::Dataset { columns: c2, filter: f2, key_column: k2, .. },
            ) => {
                differs("columns", c1 != c2);
                differs("filter", f1 != f2);
                differs("key_column", k1 != k2);
            }
            (a, b) => differs("target", a != b),
        }
        differs("timeout_ms", self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) != current.timeout_ms);
        differs("log_bodies", self.log_bodies != current.log_bodies);
        names
    }

    pub fn validate(&self) -> Result<()> {
        if !is_identifier_part(&self.code) {
            return Err(Error::invalid(
                "code",
                format!("{:?} is not a service code; use letters, digits and ' ( ) + , - . = ?", self.code),
            ));
        }
        if METASERVICES.iter().any(|m| m.eq_ignore_ascii_case(&self.code)) {
            return Err(Error::invalid(
                "code",
                format!("{:?} is the name of a metaservice; choose another", self.code),
            ));
        }
        if let Some(t) = self.timeout_ms.filter(|t| !TIMEOUT_RANGE_MS.contains(t)) {
            let (min, max) = (TIMEOUT_RANGE_MS.start(), TIMEOUT_RANGE_MS.end());
            return Err(Error::invalid("timeout_ms", format!("{t} is outside {min}–{max} milliseconds")));
        }
        match &self.target {
            ServiceTarget::Proxied { backend_url, backend_token, .. } => {
                if !matches!(url_scheme(backend_url), Some("http" | "https")) {
                    return Err(Error::invalid(
                        "backend_url",
                        format!("{backend_url:?} is not an http:// or https:// URL of the provider's backend"),
                    ));
                }
                if backend_token.as_deref().is_some_and(|t| t.is_empty() || !t.chars().all(|c| c.is_ascii_graphic())) {
                    return Err(Error::invalid(
                        "backend_token",
                        "a backend token travels in an HTTP header: use ASCII letters, digits and punctuation, no spaces",
                    ));
                }
            }
            ServiceTarget::Dataset { table, .. } if table.trim().is_empty() => {
                return Err(Error::invalid("table", "name the table the service serves"));
            }
            ServiceTarget::Dataset { .. } => {}
        }
        Ok(())
    }
}

fn url_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    (!rest.is_empty() && !rest.starts_with('/')).then_some(scheme)
}

/// An agreement as the consumer asks for it or the operator registers it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementTerms {
    /// The endpoints, e.g. `GET /rows/*`.
    #[schema(value_type = Vec<String>)]
    pub endpoints: Vec<String>,
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub masked: Vec<String>,
    pub purposes: Vec<String>,
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    #[serde(default = "default_rate")]
    pub rate_per_second: u32,
    #[serde(default)]
    pub burst: Option<u32>,
    #[serde(default)]
    pub daily_quota: Option<u64>,
}

fn default_rate() -> u32 {
    10
}

/// Terms checked and ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTerms {
    pub endpoints: Vec<EndpointRule>,
    pub fields: Vec<String>,
    pub masked: Vec<String>,
    pub purposes: Vec<String>,
    pub legal_basis: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub rate_per_second: u32,
    pub burst: u32,
    pub daily_quota: Option<u64>,
}

impl AgreementTerms {
    /// Checks the terms; `today` is where validity starts when none is given.
    pub fn check(&self, today: NaiveDate) -> Result<CheckedTerms> {
        if self.endpoints.is_empty() {
            return Err(Error::invalid("endpoints", "name at least one endpoint, e.g. \"GET /rows/*\""));
        }
        let endpoints = self
            .endpoints
            .iter()
            .map(|e| EndpointRule::parse(e).map_err(|m| Error::invalid("endpoints", m)))
            .collect::<Result<Vec<_>>>()?;
        let purposes: Vec<String> =
            self.purposes.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
        if purposes.is_empty() {
            return Err(Error::invalid(
                "purposes",
                "name the purpose codes the calls are for (personal-data law requires a purpose)",
            ));
        }
        let valid_from = self.valid_from.unwrap_or(today);
        if let Some(until) = self.valid_until.filter(|u| *u < valid_from) {
            return Err(Error::invalid("valid_until", format!("{until} is before the start {valid_from}")));
        }
        if self.rate_per_second == 0 {
            return Err(Error::invalid("rate_per_second", "must be at least 1 request a second"));
        }
        let burst = self.burst.unwrap_or(self.rate_per_second.saturating_mul(2));
        if burst < self.rate_per_second {
            return Err(Error::invalid("burst", format!("{burst} is below the rate {}", self.rate_per_second)));
        }
        if let Some(m) = self.masked.iter().find(|m| !self.fields.is_empty() && !self.fields.contains(m)) {
            return Err(Error::invalid("masked", format!("{m:?} is masked but not among the allowed fields")));
        }
        Ok(CheckedTerms {
            endpoints,
            fields: self.fields.clone(),
            masked: self.masked.clone(),
            purposes,
            legal_basis: self.legal_basis.trim().to_string(),
            valid_from,
            valid_until: self.valid_until,
            rate_per_second: self.rate_per_second,
            burst,
            daily_quota: self.daily_quota,
        })
    }
}

/// A provider's decision on a requested agreement.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementDecision {
    /// `approved`, `refused` or `revoked`.
    #[schema(value_type = String)]
    pub status: AgreementStatus,
    /// Narrowed terms, replacing the requested ones (approval only).
    #[serde(default)]
    pub terms: Option<AgreementTerms>,
    #[serde(default)]
    pub note: String,
}

/// Reads a rate such as `50/s`, `50` (a second) or `3000/min`.
pub fn parse_rate(text: &str) -> std::result::Result<u32, String> {
    let (n, unit) = text.trim().split_once('/').unwrap_or((text.trim(), "s"));
    let n: u32 = n.trim().parse().map_err(|_| format!("{text:?} is not a rate; write e.g. 50/s or 3000/min"))?;
    match unit.trim() {
        "s" | "sec" | "second" => Ok(n),
        "min" | "m" | "minute" => Ok(n.div_ceil(60).max(1)),
        other => Err(format!("{text:?}: unknown unit {other:?}; write e.g. 50/s or 3000/min")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> AgreementTerms {
        AgreementTerms {
            endpoints: vec!["GET /rows/*".into()],
            fields: vec!["so_cccd".into(), "ho_ten".into()],
            masked: vec!["so_cccd".into()],
            purposes: vec!["thanh-tra".into()],
            legal_basis: "Nghị định 278/2025/NĐ-CP".into(),
            valid_from: None,
            valid_until: None,
            rate_per_second: 5,
            burst: None,
            daily_quota: None,
        }
    }

    #[test]
    fn terms_are_checked_and_say_how_to_fix_them() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let t = terms().check(today).unwrap();
        assert_eq!((t.valid_from, t.burst), (today, 10));
        let e = AgreementTerms { purposes: vec![" ".into()], ..terms() }.check(today).unwrap_err();
        assert!(e.message.contains("purpose"), "{}", e.message);
        let e = AgreementTerms { masked: vec!["dia_chi".into()], ..terms() }.check(today).unwrap_err();
        assert!(e.message.contains("not among the allowed fields"));
        let e = AgreementTerms { endpoints: vec!["/rows".into()], ..terms() }.check(today).unwrap_err();
        assert!(e.message.contains("GET /rows/*"));
    }

    #[test]
    fn services_need_a_code_and_a_backend_url() {
        let new = |code: &str, url: &str| NewService {
            provider: SubsystemId::parse("VN/GOV/M/S").unwrap(),
            code: code.into(),
            description: String::new(),
            target: ServiceTarget::Proxied { backend_url: url.into(), openapi: None, backend_token: None },
            timeout_ms: None,
            log_bodies: false,
        };
        assert!(new("ho-tich", "http://10.0.0.5:8080/api").validate().is_ok());
        assert!(new("hộ tịch", "http://x").validate().unwrap_err().message.contains("service code"));
        assert!(new("listMethods", "http://x").validate().unwrap_err().message.contains("metaservice"));
        assert!(new("a", "file:///etc/passwd").validate().unwrap_err().message.contains("http://"));
        assert!(new("a", "https://ho-tich.bacninh.gov.vn/api").validate().is_ok());
        let mut with_token = new("a", "http://10.0.0.5");
        with_token.target = ServiceTarget::Proxied {
            backend_url: "http://10.0.0.5".into(),
            openapi: None,
            backend_token: Some("bí mật".into()),
        };
        assert!(with_token.validate().unwrap_err().message.contains("HTTP header"));
        assert_eq!(parse_rate("50/s"), Ok(50));
        assert_eq!(parse_rate("3000/min"), Ok(50));
        assert!(parse_rate("fast").is_err());
    }

    fn registered(target: ServiceTarget) -> Service {
        Service {
            id: "svc-1".into(),
            provider_id: "sub-1".into(),
            provider: SubsystemId::parse("VN/GOV/000.00.01.H24/REGISTRY").unwrap(),
            code: "ho-tich".into(),
            description: "Tra cứu hộ tịch".into(),
            target,
            timeout_ms: 30_000,
            log_bodies: false,
            created_at: Utc::now(),
            updated_at: None,
            disabled: None,
        }
    }

    fn proxied_service() -> Service {
        registered(ServiceTarget::Proxied {
            backend_url: "http://10.0.0.5:8080/api".into(),
            openapi: Some(serde_json::json!({"openapi": "3.0.3", "info": {"title": "Hộ tịch", "version": "1"}})),
            backend_token: Some("bi-mat-cua-backend".into()),
        })
    }

    fn dataset_service() -> Service {
        registered(ServiceTarget::Dataset {
            resource_id: "res-1".into(),
            table: "main".into(),
            columns: vec!["so_cccd".into(), "ho_ten".into()],
            filter: Some("trang_thai = 'hoat_dong'".into()),
            key_column: Some("so_cccd".into()),
        })
    }

    /// A change as the API receives it, from its JSON body.
    fn change(body: serde_json::Value) -> ServiceChange {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_replaces_what_it_names() {
        let service = proxied_service();
        let only_timeout = change(serde_json::json!({"timeout_ms": 500}));
        assert!(!only_timeout.is_empty());
        let changed = only_timeout.apply(&service).unwrap();
        assert_eq!((changed.provider.clone(), changed.code.as_str()), (service.provider.clone(), "ho-tich"));
        assert_eq!(changed.description, service.description);
        assert_eq!(changed.target, service.target, "the backend, its document and its token stay");
        assert_eq!((changed.timeout_ms, changed.log_bodies), (Some(500), false));

        let body = serde_json::json!({"description": "  Tra cứu hộ tịch (v2) ", "backend_url": " https://ho-tich.bacninh.gov.vn/v2 ",
            "backend_token": "moi", "log_bodies": true});
        let changed = change(body).apply(&service).unwrap();
        assert_eq!(changed.description, "Tra cứu hộ tịch (v2)");
        let ServiceTarget::Proxied { backend_url, openapi, backend_token } = &changed.target else { panic!() };
        assert_eq!(backend_url, "https://ho-tich.bacninh.gov.vn/v2");
        assert_eq!(backend_token.as_deref(), Some("moi"));
        assert_eq!(
            openapi,
            &Some(serde_json::json!({"openapi": "3.0.3", "info": {"title": "Hộ tịch", "version": "1"}}))
        );
        assert_eq!((changed.timeout_ms, changed.log_bodies), (Some(30_000), true), "the timeout stays");

        let service = dataset_service();
        let changed = change(serde_json::json!({"columns": [" ho_ten ", ""], "filter": "nam_sinh > 1990"}))
            .apply(&service)
            .unwrap();
        let ServiceTarget::Dataset { resource_id, table, columns, filter, key_column } = &changed.target else {
            panic!()
        };
        assert_eq!((resource_id.as_str(), table.as_str()), ("res-1", "main"), "a dataset's resource and table stay");
        assert_eq!(columns, &["ho_ten"]);
        assert_eq!(filter.as_deref(), Some("nam_sinh > 1990"));
        assert_eq!(key_column.as_deref(), Some("so_cccd"));
    }

    #[test]
    fn empty_text_removes_the_backend_token_the_filter_and_the_key() {
        let changed = change(serde_json::json!({"backend_token": ""})).apply(&proxied_service()).unwrap();
        let ServiceTarget::Proxied { backend_url, openapi, backend_token } = &changed.target else { panic!() };
        assert_eq!((backend_url.as_str(), backend_token), ("http://10.0.0.5:8080/api", &None));
        assert!(openapi.is_some(), "the document stays");

        let changed = change(serde_json::json!({"filter": "", "key_column": " ", "columns": []}))
            .apply(&dataset_service())
            .unwrap();
        let ServiceTarget::Dataset { columns, filter, key_column, .. } = &changed.target else { panic!() };
        assert!(columns.is_empty(), "no columns named serves them all: {columns:?}");
        assert_eq!((filter, key_column), (&None, &None));
    }

    #[test]
    fn openapi_null_removes_the_document_and_an_absent_one_stays() {
        let removed = change(serde_json::json!({"openapi": null}));
        assert_eq!(removed.openapi, Some(None), "null is a change, not an absence");
        assert!(!removed.is_empty());
        let changed = removed.apply(&proxied_service()).unwrap();
        let ServiceTarget::Proxied { openapi, backend_token, .. } = &changed.target else { panic!() };
        assert_eq!((openapi, backend_token.as_deref()), (&None, Some("bi-mat-cua-backend")));

        let absent = change(serde_json::json!({}));
        assert_eq!(absent.openapi, None);
        assert!(absent.is_empty());
        assert_eq!(absent.apply(&proxied_service()).unwrap().target, proxied_service().target);

        let document = serde_json::json!({"openapi": "3.1.0", "info": {"title": "Hộ tịch v2", "version": "2"}});
        let changed = change(serde_json::json!({"openapi": document})).apply(&proxied_service()).unwrap();
        let ServiceTarget::Proxied { openapi, .. } = &changed.target else { panic!() };
        assert_eq!(openapi.as_ref(), Some(&document));

        // The provider, the code and the kind are not settings a change may name.
        for fixed in [serde_json::json!({"code": "khac"}), serde_json::json!({"provider": "VN/GOV/X/Y"})] {
            assert!(serde_json::from_value::<ServiceChange>(fixed.clone()).is_err(), "{fixed}");
        }
    }

    #[test]
    fn a_setting_of_the_other_kind_of_service_is_refused_by_its_name() {
        for (body, field) in [
            (serde_json::json!({"columns": ["ho_ten"]}), "columns"),
            (serde_json::json!({"filter": ""}), "filter"),
            (serde_json::json!({"key_column": "so_cccd", "timeout_ms": 500}), "key_column"),
        ] {
            let e = change(body).apply(&proxied_service()).unwrap_err();
            assert_eq!(e.code, kho_core::ErrorCode::InvalidField);
            assert!(e.message.starts_with(&format!("{field}: ")), "{}", e.message);
            let says = format!("VN/GOV/000.00.01.H24/REGISTRY/ho-tich is a proxied service, which has no {field}");
            assert!(e.message.contains(&says), "{}", e.message);
        }
        for (body, field) in [
            (serde_json::json!({"backend_url": "http://10.0.0.6"}), "backend_url"),
            (serde_json::json!({"openapi": null}), "openapi"),
            (serde_json::json!({"backend_token": "x", "description": "mới"}), "backend_token"),
        ] {
            let e = change(body).apply(&dataset_service()).unwrap_err();
            assert!(e.message.starts_with(&format!("{field}: ")), "{}", e.message);
            assert!(e.message.contains(&format!("is a dataset service, which has no {field}")), "{}", e.message);
        }
    }

    #[test]
    fn a_change_is_checked_as_a_registration_is() {
        for refused in [99, 600_001, 0] {
            let e = change(serde_json::json!({"timeout_ms": refused})).apply(&proxied_service()).unwrap_err();
            assert!(e.message.starts_with("timeout_ms: "), "{}", e.message);
            assert!(e.message.contains("outside 100–600000 milliseconds"), "{}", e.message);
        }
        for allowed in [100, 600_000] {
            let changed = change(serde_json::json!({"timeout_ms": allowed})).apply(&dataset_service()).unwrap();
            assert_eq!(changed.timeout_ms, Some(allowed));
        }
        for url in ["ftp://10.0.0.5/api", "file:///etc/passwd", "10.0.0.5:8080", ""] {
            let e = change(serde_json::json!({"backend_url": url})).apply(&proxied_service()).unwrap_err();
            assert!(e.message.starts_with("backend_url: "), "{url}: {}", e.message);
            assert!(e.message.contains("not an http:// or https:// URL"), "{url}: {}", e.message);
        }
        let e = change(serde_json::json!({"backend_token": "bí mật"})).apply(&proxied_service()).unwrap_err();
        assert!(e.message.starts_with("backend_token: "), "{}", e.message);
    }
}
