//! A gateway request as the X-Road Message Protocol for REST writes it:
//! `/r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/{SERVICE}/{path…}`, the client in the
//! `X-Road-Client` header, and — Kho's addition, which personal-data law requires — a
//! purpose code in `X-Road-Purpose`.

use crate::fault::{Fault, FaultKind};
use crate::registry::is_identifier_part;
use kho_core::identity::SubsystemId;

/// What a gateway request asks for, read from its path and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRequest {
    /// The provider's subsystem.
    pub provider: SubsystemId,
    /// The service code.
    pub service: String,
    /// The service's whole identifier, `INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE`, as
    /// the path names it (the message log's and the directory's key for it).
    pub service_id: String,
    /// The rest of the path, starting with `/` (`/` when none).
    pub path: String,
    /// The consumer, from `X-Road-Client`.
    pub client: SubsystemId,
    /// The purpose code, from `X-Road-Purpose`.
    pub purpose: String,
}

impl ServiceRequest {
    /// Reads a request path (after `/r1`) and its two headers; a fault names what is
    /// wrong and how it should look. `request_id` goes into the fault's detail.
    pub fn parse(path: &str, client: Option<&str>, purpose: Option<&str>, request_id: &str) -> Result<Self, Fault> {
        let bad = |m: String| Fault::new(FaultKind::BadRequest, m, request_id);
        let rest = path
            .strip_prefix("/r1/")
            .ok_or_else(|| bad(format!("{path:?} is not a gateway path; they start with /r1/")))?;
        let mut parts = rest.splitn(6, '/');
        let mut next = || parts.next().unwrap_or("");
        let (instance, class, member, subsystem, service) = (next(), next(), next(), next(), next());
        let tail = next();
        if ![instance, class, member, subsystem, service].iter().all(|p| is_identifier_part(p)) {
            return Err(bad(format!(
                "{path:?} does not name a service; the path is /r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE/…"
            )));
        }
        let provider = SubsystemId::from_parts([instance, class, member, subsystem]).map_err(|e| bad(e.message))?;
        let client = client.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
            bad("the X-Road-Client header is missing; send your subsystem, e.g. VN/GOV/000.00.01.H24/PORTAL".into())
        })?;
        let client = SubsystemId::parse(client).map_err(|e| bad(format!("X-Road-Client: {}", e.message)))?;
        let purpose = purpose.map(str::trim).filter(|p| !p.is_empty()).ok_or_else(|| {
            bad("the X-Road-Purpose header is missing; send the purpose code your agreement names".into())
        })?;
        // The five parts and the four slashes between them.
        let id_len = [instance, class, member, subsystem, service].iter().map(|p| p.len()).sum::<usize>() + 4;
        let mut path = String::with_capacity(tail.len() + 1);
        path.push('/');
        path.push_str(tail);
        Ok(Self {
            provider,
            service: service.into(),
            service_id: rest[..id_len].into(),
            path,
            client,
            purpose: purpose.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_provider_service_path_client_and_purpose() {
        let r = ServiceRequest::parse(
            "/r1/VN/GOV/000.00.02.H24/DKKD/doanh-nghiep/rows/0101234567",
            Some("VN/GOV/000.00.01.H24/PORTAL"),
            Some("thanh-tra"),
            "id-1",
        )
        .unwrap();
        assert_eq!(r.provider.to_string(), "VN/GOV/000.00.02.H24/DKKD");
        assert_eq!((r.service.as_str(), r.path.as_str()), ("doanh-nghiep", "/rows/0101234567"));
        assert_eq!(r.service_id, format!("{}/{}", r.provider, r.service));
        assert_eq!(r.client.to_string(), "VN/GOV/000.00.01.H24/PORTAL");
        assert_eq!(r.purpose, "thanh-tra");
        let root = ServiceRequest::parse("/r1/VN/GOV/M/S/svc", Some("VN/GOV/M/C"), Some("p"), "id").unwrap();
        assert_eq!(root.path, "/");
        assert_eq!(root.service_id, "VN/GOV/M/S/svc");
    }

    #[test]
    fn malformed_requests_are_client_faults_that_say_how() {
        let no_client = ServiceRequest::parse("/r1/VN/GOV/M/S/svc/x", None, Some("p"), "id-2").unwrap_err();
        assert_eq!((no_client.status, no_client.kind.as_str()), (400, "Client.BadRequest"));
        assert!(no_client.message.contains("X-Road-Client"));
        assert_eq!(no_client.detail, "id-2");
        let no_purpose = ServiceRequest::parse("/r1/VN/GOV/M/S/svc", Some("VN/GOV/M/C"), Some(" "), "id").unwrap_err();
        assert!(no_purpose.message.contains("X-Road-Purpose"));
        let short = ServiceRequest::parse("/r1/VN/GOV/M", Some("VN/GOV/M/C"), Some("p"), "id").unwrap_err();
        assert!(short.message.contains("/r1/INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE"));
        let bad_client = ServiceRequest::parse("/r1/VN/GOV/M/S/svc", Some("VN/GOV"), Some("p"), "id").unwrap_err();
        assert!(bad_client.message.starts_with("X-Road-Client:"), "{}", bad_client.message);
    }
}
