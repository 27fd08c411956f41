//! Thỏa thuận chia sẻ — an agreement: which consumer subsystem may call which service,
//! on which endpoints, for which purposes, between which dates, seeing which fields
//! (and which of them masked), how fast and how much a day. Deny by default: a call is
//! allowed only by an approved agreement that covers all of it.

use crate::fault::{Fault, FaultKind};
use chrono::{DateTime, NaiveDate, Utc};
use kho_core::identity::SubsystemId;
use serde::{Deserialize, Serialize};

/// Where an agreement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgreementStatus {
    /// Asked by the consumer, not decided yet.
    Requested,
    Approved,
    Refused,
    /// Withdrawn by the provider.
    Revoked,
}

impl AgreementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Requested, Self::Approved, Self::Refused, Self::Revoked].into_iter().find(|x| x.as_str() == s)
    }
}

/// An allowed endpoint: a method (or `*`) and a path where `*` stands for any run of
/// characters (`/rows/*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EndpointRule {
    pub method: String,
    pub path: String,
}

impl EndpointRule {
    /// Reads `GET /rows/*`; `*` alone means every method and path.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Self { method: "*".into(), path: "*".into() });
        }
        let (method, path) = text
            .split_once(' ')
            .ok_or_else(|| format!("{text:?} is not an endpoint; write a method and a path, e.g. \"GET /rows/*\""))?;
        let path = path.trim();
        if !path.starts_with('/') && path != "*" {
            return Err(format!("{text:?}: the path starts with /"));
        }
        Ok(Self { method: method.trim().to_ascii_uppercase(), path: path.into() })
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        (self.method == "*" || self.method.eq_ignore_ascii_case(method)) && wildcard(&self.path, path)
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

impl std::fmt::Display for EndpointRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// An agreement between a consumer subsystem and a provider's service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agreement {
    pub id: String,
    #[schema(value_type = String)]
    pub consumer: SubsystemId,
    #[schema(value_type = String)]
    pub provider: SubsystemId,
    /// The service code (of the provider).
    pub service: String,
    /// The service's store id.
    #[serde(default)]
    pub service_id: String,
    pub endpoints: Vec<EndpointRule>,
    /// Fields the consumer sees; empty for all.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Fields shown masked (e.g. a citizen ID as `********1234`).
    #[serde(default)]
    pub masked: Vec<String>,
    /// Mục đích — purpose codes the consumer may call for.
    pub purposes: Vec<String>,
    /// Căn cứ pháp lý.
    #[serde(default)]
    pub legal_basis: String,
    pub valid_from: NaiveDate,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// Requests a second, and the burst above it.
    pub rate_per_second: u32,
    pub burst: u32,
    /// Requests a day; `None` for no quota.
    #[serde(default)]
    pub daily_quota: Option<u64>,
    pub status: AgreementStatus,
    /// Who asked for it (`user:…`, `operator`).
    #[serde(default)]
    pub requested_by: String,
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
    /// The provider's note on its decision.
    #[serde(default)]
    pub note: String,
    #[serde(default = "kho_core::time::now")]
    pub created_at: DateTime<Utc>,
}

impl Agreement {
    /// Whether an approved agreement's validity has ended by `today` (hết hạn): the
    /// gateway refuses it from the next day on its own.
    pub fn expired(&self, today: NaiveDate) -> bool {
        self.valid_until.is_some_and(|u| today > u)
    }

    /// Whether this agreement allows the call; the fault says which part it does not
    /// cover. (Rate and quota are checked by the limiter.)
    pub fn permits(
        &self,
        method: &str,
        path: &str,
        purpose: &str,
        today: NaiveDate,
        request_id: &str,
    ) -> Result<(), Fault> {
        let deny = |m: String| Fault::new(FaultKind::AccessDenied, m, request_id);
        if self.status != AgreementStatus::Approved {
            return Err(deny(format!("agreement {} is not approved", self.id)));
        }
        if today < self.valid_from {
            return Err(deny(format!("agreement {} is valid from {}", self.id, self.valid_from)));
        }
        if let Some(until) = self.valid_until.filter(|u| today > *u) {
            return Err(deny(format!("agreement {} expired on {until}", self.id)));
        }
        if !self.endpoints.iter().any(|e| e.matches(method, path)) {
            return Err(deny(format!("agreement {} does not cover {method} {path}", self.id)));
        }
        if !self.purposes.iter().any(|p| p == purpose) {
            return Err(deny(format!(
                "agreement {} does not allow the purpose {purpose:?}; it allows {}",
                self.id,
                self.purposes.join(", ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreement() -> Agreement {
        Agreement {
            id: "tt-1".into(),
            service_id: String::new(),
            consumer: SubsystemId::parse("VN/GOV/000.00.01.H24/PORTAL").unwrap(),
            provider: SubsystemId::parse("VN/GOV/000.00.02.H24/DKKD").unwrap(),
            service: "doanh-nghiep".into(),
            endpoints: vec![EndpointRule::parse("GET /rows/*").unwrap(), EndpointRule::parse("get /openapi").unwrap()],
            fields: vec![],
            masked: vec![],
            purposes: vec!["thanh-tra".into()],
            legal_basis: "Nghị định 278/2025/NĐ-CP".into(),
            valid_from: NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
            valid_until: Some(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()),
            rate_per_second: 50,
            burst: 100,
            daily_quota: Some(10_000),
            status: AgreementStatus::Approved,
            requested_by: "operator".into(),
            decided_by: None,
            decided_at: None,
            note: String::new(),
            created_at: kho_core::time::now(),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn an_agreement_allows_only_what_it_covers() {
        let a = agreement();
        let today = day(2026, 1, 15);
        assert!(a.permits("GET", "/rows/0101234567", "thanh-tra", today, "r").is_ok());
        assert!(a.permits("GET", "/openapi", "thanh-tra", today, "r").is_ok());
        let wrong_endpoint = a.permits("POST", "/rows/1", "thanh-tra", today, "r").unwrap_err();
        assert_eq!((wrong_endpoint.status, wrong_endpoint.kind.as_str()), (403, "Client.AccessDenied"));
        assert!(wrong_endpoint.message.contains("does not cover POST /rows/1"));
        let purpose = a.permits("GET", "/rows/1", "quang-cao", today, "r").unwrap_err();
        assert!(purpose.message.contains("allows thanh-tra"), "{}", purpose.message);
        assert!(a
            .permits("GET", "/rows/1", "thanh-tra", day(2026, 7, 1), "r")
            .unwrap_err()
            .message
            .contains("expired on 2026-06-30"));
        assert!(a
            .permits("GET", "/rows/1", "thanh-tra", day(2025, 6, 30), "r")
            .unwrap_err()
            .message
            .contains("valid from"));
        let requested = Agreement { status: AgreementStatus::Requested, ..agreement() };
        assert!(requested
            .permits("GET", "/rows/1", "thanh-tra", today, "r")
            .unwrap_err()
            .message
            .contains("not approved"));
    }

    #[test]
    fn endpoints_use_wildcards_and_say_how_to_write_them() {
        let e = EndpointRule::parse("GET /rows/*/history").unwrap();
        assert!(e.matches("get", "/rows/42/history"));
        assert!(!e.matches("GET", "/rows/42"));
        assert!(EndpointRule::parse("*").unwrap().matches("DELETE", "/anything"));
        assert!(EndpointRule::parse("/rows").unwrap_err().contains("e.g. \"GET /rows/*\""));
        assert!(wildcard("/a*b*c", "/axxbyyc") && !wildcard("/a*b*c", "/axxcyyb"));
    }
}
