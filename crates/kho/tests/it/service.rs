//! A registered service from the command line, as its provider's operator keeps it:
//! its settings changed (what is not given stays), suspended with a notice that
//! `kho service list` shows, resumed; each step audited, and each mistake refused with
//! a message that says what to do.

use crate::{kho, ok, province_and_department};
use kho_exchange::{Service, ServiceTarget};
use std::path::Path;

const PROVIDER: &str = "VN/GOV/000.00.01.H24/REGISTRY";
const SERVICE: &str = "VN/GOV/000.00.01.H24/REGISTRY/persons";

/// The data dir's store, opened as the server would open it.
fn store(d: &Path) -> (tokio::runtime::Runtime, std::sync::Arc<dyn kho_store::MetadataStore>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(kho_store::connect(&format!("sqlite://{}/kho.db", d.display()))).unwrap();
    (runtime, store)
}

/// The service as stored.
fn stored(d: &Path) -> Service {
    let (runtime, store) = store(d);
    let services = runtime.block_on(store.list_services()).unwrap();
    services.into_iter().find(|s| s.full_id() == SERVICE).expect("the service is registered")
}

/// The proxied service's backend URL and OpenAPI document as stored.
fn backend_of(s: &Service) -> (String, Option<serde_json::Value>) {
    match &s.target {
        ServiceTarget::Proxied { backend_url, openapi, .. } => (backend_url.clone(), openapi.clone()),
        other => panic!("a proxied service: {other:?}"),
    }
}

/// The service's line of `kho service list`.
fn listed(d: &Path) -> String {
    let list = ok(kho(d, &["service", "list"]));
    list.lines().find(|l| l.starts_with(SERVICE)).unwrap_or_else(|| panic!("{SERVICE} in {list}")).to_string()
}

#[test]
fn a_service_is_changed_suspended_and_resumed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    province_and_department(d, "Sở Tư pháp");
    ok(kho(d, &["subsystem", "create", PROVIDER, "--agency", "000.00.01.H24"]));
    let add = ["service", "add", "--provider", PROVIDER, "--code", "persons", "--backend", "http://10.0.0.5:8080/api"];
    ok(kho(d, &[add.as_slice(), &["--description", "Tra cứu hộ tịch", "--timeout-ms", "30000"]].concat()));
    let registered = stored(d);
    assert!(listed(d).contains(" active ") && listed(d).ends_with("Tra cứu hộ tịch"), "{}", listed(d));

    // A new timeout and backend; the description and the rest stay.
    let new_backend = "https://ho-tich.bacninh.gov.vn/api";
    let updated = ok(kho(d, &["service", "update", SERVICE, "--timeout-ms", "2500", "--backend", new_backend]));
    assert_eq!(updated, format!("updated service {SERVICE} ({})\n", registered.id));
    let changed = stored(d);
    assert_eq!((changed.timeout_ms, backend_of(&changed)), (2_500, (new_backend.to_string(), None)));
    assert_eq!((changed.description.as_str(), changed.log_bodies), ("Tra cứu hộ tịch", false));
    assert!(changed.updated_at.is_some() && registered.updated_at.is_none(), "{changed:?}");

    // An OpenAPI document from a file, then removed; body logging turned on.
    let document = serde_json::json!({"openapi": "3.0.3", "info": {"title": "Hộ tịch", "version": "2"}, "paths": {}});
    let file = d.join("ho-tich.openapi.json");
    std::fs::write(&file, document.to_string()).unwrap();
    ok(kho(d, &["service", "update", SERVICE, "--openapi", file.to_str().unwrap(), "--log-bodies", "true"]));
    let changed = stored(d);
    assert_eq!((backend_of(&changed).1, changed.log_bodies), (Some(document), true));
    ok(kho(d, &["service", "update", SERVICE, "--no-openapi", "--description", "Hộ tịch (máy chủ mới)"]));
    let changed = stored(d);
    assert_eq!(backend_of(&changed), (new_backend.to_string(), None));
    assert_eq!((changed.timeout_ms, changed.log_bodies), (2_500, true), "earlier changes stay");
    assert!(listed(d).ends_with("Hộ tịch (máy chủ mới)"), "{}", listed(d));

    // Suspended with a notice, which the list shows; resumed.
    let notice = "Bảo trì hệ thống đến 18:00 ngày 05/12";
    assert_eq!(
        ok(kho(d, &["service", "disable", SERVICE, "--notice", notice])),
        format!("suspended service {SERVICE}: {notice}\n")
    );
    let line = listed(d);
    assert!(line.contains(&format!(" suspended: {notice} ")) && !line.contains(" active "), "{line}");
    assert_eq!(stored(d).disabled.map(|s| s.notice).as_deref(), Some(notice));

    // Mistakes fail with status 1 and say why on stderr, printing nothing.
    let fails = |args: &[&str], says: &str| {
        let out = kho(d, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") && stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    };
    fails(&["service", "disable", SERVICE, "--notice", "lần nữa"], &format!("{SERVICE} is already suspended since"));
    assert_eq!(ok(kho(d, &["service", "enable", SERVICE])), format!("resumed service {SERVICE}\n"));
    assert!(listed(d).contains(" active "), "{}", listed(d));
    assert_eq!(stored(d).disabled, None);
    fails(&["service", "enable", SERVICE], &format!("{SERVICE} is not suspended"));
    let nope = "VN/GOV/000.00.01.H24/REGISTRY/nope";
    fails(&["service", "update", nope, "--timeout-ms", "500"], &format!("service {nope} not found"));
    fails(&["service", "disable", nope, "--notice", "bảo trì"], &format!("service {nope} not found"));
    fails(&["service", "update", SERVICE], "name at least one setting to change");
    fails(&["service", "update", SERVICE, "--filter", "nam_sinh > 1990"], "is a proxied service, which has no filter");
    fails(&["service", "update", SERVICE, "--timeout-ms", "50"], "timeout_ms: 50 is outside 100–600000 milliseconds");
    fails(&["service", "update", SERVICE, "--backend", "ftp://10.0.0.5"], "is not an http:// or https:// URL");
    fails(&["service", "update", SERVICE, "--openapi", "/no/such/file.json"], "cannot read /no/such/file.json");
    fails(&["service", "disable", SERVICE, "--notice", "  "], "notice: tell the consumers why and until when");
    let refused = kho(d, &["service", "update", SERVICE, "--openapi", file.to_str().unwrap(), "--no-openapi"]);
    assert!(!refused.status.success(), "a document and no document at once");
    let unchanged = stored(d);
    assert_eq!((unchanged.timeout_ms, &unchanged.disabled, backend_of(&unchanged).1), (2_500, &None, None));

    // Each change is in the audit log, the first one naming what it changed.
    let (runtime, store) = store(d);
    let query = kho_store::AuditQuery { action: Some("service".into()), limit: 100, ..Default::default() };
    let mut audit = runtime.block_on(store.list_audit(&query)).unwrap();
    audit.reverse();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["service.create", "service.update", "service.update", "service.update", "service.disable", "service.enable"]
    );
    assert!(audit.iter().all(|e| e.target == format!("service:{SERVICE}")), "{audit:?}");
    let detail: serde_json::Value = serde_json::from_str(&audit[1].detail).unwrap();
    assert_eq!(detail["changed"], serde_json::json!(["backend_url", "timeout_ms"]), "{detail}");
    assert!(ok(kho(d, &["audit", "verify"])).starts_with("ok: "));
}
