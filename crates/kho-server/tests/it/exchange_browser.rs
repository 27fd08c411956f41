//! Nghiệm thu — the sharing platform's acceptance point, in real headless Chromium
//! against the real server: a consumer requests access in the UI; the provider
//! agency's steward approves it (narrowing the daily quota); the consumer's call
//! through the gateway then succeeds; an auditor sees the exchange in the message log
//! and the service's health; and the changes are in the audit log.

use crate::webdriver::{log_in, Browser};
use crate::{client, spawn_app, TestApp};
use axum::routing::get;
use kho_core::audit::AuditContext;
use kho_core::identity::{NewSubsystem, Role, Subject, Subsystem, SubsystemId, TokenOwner};
use kho_exchange::{AgreementStatus, AgreementTerms, NewService, ServiceChange, ServiceTarget};
use kho_store::AuditQuery;
use serde_json::{json, Value};

const SERVICE_CODE: &str = "tra-cuu-doanh-nghiep";
const PURPOSE: &str = "thanh-tra";

/// The provider's own backend: a tiny HTTP API in this process.
async fn start_backend() -> String {
    start_backend_named("Công ty TNHH Đổi Mới").await
}

/// A backend that names every enterprise `name`, to tell two backends apart.
async fn start_backend_named(name: &'static str) -> String {
    let app = axum::Router::new().route(
        "/api/doanh-nghiep/{id}",
        get(move |axum::extract::Path(id): axum::extract::Path<String>| async move {
            axum::Json(json!({"ma_so_thue": id, "ten": name}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/api")
}

/// A subsystem of the agency `username` belongs to, created by the operator.
async fn subsystem_of(app: &TestApp, username: &str, code: &str, name: &str) -> Subsystem {
    let (user, _) = app.kho.store.user_credentials(username).await.unwrap().expect("a demo user");
    let agency = app.kho.store.agency(&user.agency_id).await.unwrap().expect("the user's agency");
    let new = NewSubsystem {
        xroad_id: SubsystemId::parse(&format!("VN/GOV/{}/{code}", agency.code)).unwrap(),
        name: name.into(),
        agency_id: agency.id,
        roles: vec![Role::Viewer],
    };
    app.kho.create_subsystem(&Subject::operator(), &AuditContext::operator(), new).await.unwrap()
}

/// The consumer's system calls the service's `doanh-nghiep/0101234567` through the gateway.
async fn consumer_call(app: &TestApp, service_id: &str, consumer: &SubsystemId, token: &str) -> reqwest::Response {
    client()
        .get(app.url(&format!("/r1/{service_id}/doanh-nghiep/0101234567")))
        .header("X-Road-Client", consumer.to_string())
        .header("X-Road-Purpose", PURPOSE)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn log_out(browser: &Browser) {
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_url(|u| !u.contains("/admin")).await;
}

#[tokio::test]
async fn a_consumer_requests_access_the_provider_approves_and_the_exchange_is_audited() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };

    // The setup, as the operator would script it: a provider subsystem of the
    // department (Sở KH&CN) with a proxied service, and a consumer subsystem of a commune.
    let provider = subsystem_of(&app, "steward.khcn", "CSDL-DN", "Cơ sở dữ liệu doanh nghiệp").await;
    let consumer = subsystem_of(&app, "steward.xa", "MOT-CUA", "Một cửa điện tử cấp xã").await;
    let backend_url = start_backend().await;
    let new = NewService {
        provider: provider.xroad_id.clone(),
        code: SERVICE_CODE.into(),
        description: "Tra cứu doanh nghiệp theo mã số thuế".into(),
        target: ServiceTarget::Proxied { backend_url, openapi: None, backend_token: None },
        timeout_ms: None,
        log_bodies: false,
    };
    let service = app.kho.register_service(&Subject::operator(), &AuditContext::operator(), new).await.unwrap();
    let service_id = service.full_id();

    // 1. The commune's steward finds the sharing pages in the menu and requests access.
    log_in(&browser, &app, "steward.xa").await;
    browser.click("nav a[href='/admin/exchange']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/exchange")).await;
    assert_eq!(browser.text("h1").await, "Dịch vụ chia sẻ");
    assert!(browser.text(&format!("tr[data-service='{service_id}']")).await.contains("Chuyển tiếp"));
    browser.click("a[href='/admin/exchange/agreements']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/exchange/agreements")).await;
    assert_eq!(browser.text("h1").await, "Thỏa thuận chia sẻ");
    browser.click(&format!("#consumer option[value='{}']", consumer.xroad_id)).await;
    browser.click(&format!("#service option[value='{service_id}']")).await;
    assert_eq!(browser.property("#endpoints", "value").await, "GET /*", "the endpoints a request starts from");
    browser.type_into("#purposes", PURPOSE).await;
    browser.type_into("#legal_basis", "Nghị định 278/2025/NĐ-CP").await;
    browser.click("#request button[type=submit]").await;
    browser.wait_for_url(|u| u.contains("/admin/exchange/agreements#agreement-")).await;
    let requested = app.kho.agreements(&Subject::operator()).await.unwrap();
    assert_eq!(requested.len(), 1, "{requested:?}");
    let a = &requested[0];
    assert_eq!(
        (a.status, &a.consumer, a.requested_by.as_str()),
        (AgreementStatus::Requested, &consumer.xroad_id, "user:steward.xa")
    );
    let card = format!("#agreement-{}", a.id);
    assert_eq!(browser.text(&format!("#agreements-requested {card} .status")).await, "Chờ duyệt");
    assert_eq!(browser.text(&format!("{card} td.endpoints")).await, "GET /*");
    assert_eq!(browser.count(&format!("{card} form.approve")).await, 0, "the consumer cannot approve its own request");
    log_out(&browser).await;

    // Before the approval, the gateway refuses the consumer.
    let (_, token) = app
        .kho
        .create_token(
            &Subject::operator(),
            &AuditContext::operator(),
            TokenOwner::Subsystem(consumer.id.clone()),
            "một cửa",
            1,
        )
        .await
        .unwrap();
    let call = || consumer_call(&app, &service_id, &consumer.xroad_id, &token);
    assert_eq!(call().await.status(), 403, "no approved agreement yet");

    // 2. The department's steward approves it, narrowing the daily quota.
    log_in(&browser, &app, "steward.khcn").await;
    browser.goto(&app.url("/admin/exchange/agreements?status=requested")).await;
    browser.wait_for(&format!("{card} form.approve")).await;
    browser.click(&format!("{card} form.approve summary")).await;
    assert_eq!(browser.property(&format!("{card} form.approve [name=purposes]"), "value").await, PURPOSE);
    browser.type_into(&format!("{card} form.approve [name=daily_quota]"), "1000").await;
    browser.type_into(&format!("{card} form.approve [name=note]"), "Đồng ý theo đề nghị").await;
    browser.click(&format!("{card} form.approve button[type=submit]")).await;
    browser.wait_for_url(|u| u.contains("#agreement-")).await;
    browser.wait_for(&format!("#agreements-approved {card}")).await;
    assert_eq!(browser.text(&format!("{card} .status")).await, "Đã phê duyệt");
    assert!(browser.text(&format!("{card} .decided")).await.starts_with("user:steward.khcn"));
    assert_eq!(browser.text(&format!("{card} .note")).await, "Đồng ý theo đề nghị");
    assert_eq!(browser.count(&format!("{card} form.revoke")).await, 1, "an approved agreement can be revoked");
    let approved = app.kho.agreements(&Subject::operator()).await.unwrap().remove(0);
    assert_eq!((approved.status, approved.daily_quota), (AgreementStatus::Approved, Some(1000)));
    assert_eq!(approved.purposes, [PURPOSE], "what was not narrowed stays as requested");

    // The message log is for auditors: the steward gets the service's refusal.
    browser.goto(&app.url("/admin/exchange/log")).await;
    assert!(browser.text("p.error").await.contains("auditors"), "the service's 403 as a page");
    log_out(&browser).await;

    // 3. The consumer's system calls through the gateway and is served.
    let r = call().await;
    assert_eq!(r.status(), 200);
    let message_id = r.headers()["x-road-id"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["ma_so_thue"], "0101234567", "{body}");

    // 4. An auditor sees the exchange in the message log, and the service's health.
    log_in(&browser, &app, "auditor").await;
    browser.click("nav a[href='/admin/exchange']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/exchange")).await;
    let row = format!("tr[data-service='{service_id}']");
    assert_eq!(browser.text(&format!("{row} td.successes")).await, "1");
    assert_eq!(browser.text(&format!("{row} td.failures")).await, "1", "the call refused before the approval");
    let since = browser.property(&format!("{row} td.successes"), "title").await;
    assert!(since.starts_with("tính từ "), "since when the health is counted: {since}");
    browser.click("a[href='/admin/exchange/log']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/exchange/log")).await;
    let logged = format!("tr.message[data-message-id='{message_id}']");
    assert_eq!(browser.text(&format!("{logged} td.client")).await, consumer.xroad_id.to_string());
    assert_eq!(browser.text(&format!("{logged} td.service")).await, service_id);
    assert_eq!(browser.text(&format!("{logged} td.status")).await, "200");
    assert!(browser.text(&logged).await.contains(&approved.id), "the agreement that allowed it");
    assert_eq!(browser.count("tr.message").await, 2, "the refused call is logged too");
    browser.click("#verify").await;
    browser.wait_for_url(|u| u.contains("verify=1")).await;
    assert!(browser.text("#verify-report.ok").await.contains("nguyên vẹn"));
    browser.type_into("#identifier", "001090012345").await;
    browser.click("#access button[type=submit]").await;
    browser.wait_for("#access-none").await;

    // 5. The request, the decision and the auditor's readings are in the audit log.
    let entries = app.kho.store.list_audit(&AuditQuery { limit: 1000, ..Default::default() }).await.unwrap();
    let by = |action: &str, actor: &str| entries.iter().any(|e| e.action == action && e.actor == actor);
    assert!(by("agreement.create", "user:steward.xa"), "the request is audited");
    assert!(by("agreement.decide", "user:steward.khcn"), "the approval is audited");
    assert!(by("message_log.read", "user:auditor"), "reading the message log is audited");
    assert!(by("message_log.subject", "user:auditor"), "the access report lookup is audited");
}

async fn post_form(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = client.post(app.url(path)).form(form).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_sharing_forms_show_the_services_errors_inline_and_keep_what_was_typed() {
    let app = spawn_app().await;
    let provider = subsystem_of(&app, "steward.khcn", "CSDL-DN", "Cơ sở dữ liệu doanh nghiệp").await;
    let consumer = subsystem_of(&app, "steward.xa", "MOT-CUA", "Một cửa điện tử cấp xã").await;
    let (provider_id, consumer_id) = (provider.xroad_id.to_string(), consumer.xroad_id.to_string());

    let r = client().get(app.url("/admin/exchange")).send().await.unwrap();
    assert_eq!(r.status(), 303, "anonymous visitors log in first");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));

    // The provider's steward, in English: only their own subsystem is offered as provider.
    let (khcn, khcn_csrf) = app.session("steward.khcn").await;
    let page = khcn.get(app.url("/admin/exchange?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<h1>Shared services</h1>") && page.contains("Register a service"), "{page}");
    assert!(page.contains(&provider_id) && !page.contains(&consumer_id), "{page}");

    let register = |code: &'static str, backend: &'static str, openapi: &'static str| {
        let (khcn, csrf, provider) = (&khcn, khcn_csrf.clone(), provider_id.clone());
        let app = &app;
        async move {
            let form = [
                ("csrf_token", csrf.as_str()),
                ("provider", provider.as_str()),
                ("code", code),
                ("description", "Tra cứu doanh nghiệp"),
                ("kind", "proxied"),
                ("backend_url", backend),
                ("openapi", openapi),
                ("table", "main"),
                ("timeout_ms", "5000"),
            ];
            post_form(app, khcn, "/admin/exchange", &form).await
        }
    };
    let (status, page) = register("tra cứu", "http://127.0.0.1:9/api", "").await;
    assert_eq!(status, 422);
    assert!(page.contains("code: ") && page.contains("is not a service code"), "{page}");
    assert!(page.contains("Tra cứu doanh nghiệp</textarea>"), "the form keeps what was typed: {page}");
    let (status, page) = register("tra-cuu", "ftp://10.0.0.5/api", "").await;
    assert_eq!(status, 422);
    assert!(page.contains("backend_url: "), "{page}");
    let (status, page) = register("tra-cuu", "http://127.0.0.1:9/api", "{\"paths\": ").await;
    assert_eq!(status, 422);
    assert!(page.contains("openapi: line 1"), "{page}");
    let (status, _) = register("tra-cuu", "http://127.0.0.1:9/api", "").await;
    assert_eq!(status, 303);
    let (status, page) = register("tra-cuu", "http://127.0.0.1:9/api", "").await;
    assert_eq!(status, 409, "{page}");

    // The commune's steward may not register services for the department's subsystem.
    let (xa, xa_csrf) = app.session("steward.xa").await;
    let form = [
        ("csrf_token", xa_csrf.as_str()),
        ("provider", provider_id.as_str()),
        ("code", "khac"),
        ("kind", "proxied"),
        ("backend_url", "http://127.0.0.1:9/api"),
    ];
    let (status, page) = post_form(&app, &xa, "/admin/exchange", &form).await;
    assert_eq!(status, 403);
    assert!(page.contains("not allowed"), "{page}");

    // Requests name their mistakes: a rate that is not one, no purpose.
    let service = format!("{provider_id}/tra-cuu");
    let request = |rate: &'static str, purposes: &'static str| {
        let (xa, csrf, consumer, service) = (&xa, xa_csrf.clone(), consumer_id.clone(), service.clone());
        let app = &app;
        async move {
            let form = [
                ("csrf_token", csrf.as_str()),
                ("consumer", consumer.as_str()),
                ("service", service.as_str()),
                ("endpoints", "GET /doanh-nghiep/*"),
                ("purposes", purposes),
                ("rate", rate),
                ("valid_from", ""),
                ("valid_until", ""),
            ];
            post_form(app, xa, "/admin/exchange/agreements", &form).await
        }
    };
    let (status, page) = request("nhanh", "thanh-tra").await;
    assert_eq!(status, 422);
    assert!(page.contains("rate_per_second: ") && page.contains("50/s"), "{page}");
    let (status, page) = request("5/s", "").await;
    assert_eq!(status, 422);
    assert!(page.contains("purposes: "), "{page}");
    let (status, _) = request("5/s", "thanh-tra, thong-ke").await;
    assert_eq!(status, 303);
    let a = app.kho.agreements(&Subject::operator()).await.unwrap().remove(0);
    assert_eq!((a.rate_per_second, a.burst, a.purposes.len()), (5, 10, 2));

    // The provider refuses it with a reason; a refused agreement cannot be revoked.
    let decide = |decision: &'static str| {
        let (khcn, csrf, id) = (&khcn, khcn_csrf.clone(), a.id.clone());
        let app = &app;
        async move {
            let form = [("csrf_token", csrf.as_str()), ("decision", decision), ("note", "Chưa đủ căn cứ pháp lý")];
            post_form(app, khcn, &format!("/admin/exchange/agreements/{id}/decision"), &form).await
        }
    };
    assert_eq!(decide("refused").await.0, 303);
    let refused = app.kho.agreements(&Subject::operator()).await.unwrap().remove(0);
    assert_eq!((refused.status, refused.note.as_str()), (AgreementStatus::Refused, "Chưa đủ căn cứ pháp lý"));
    let (status, page) = decide("revoked").await;
    assert_eq!(status, 409);
    assert!(page.contains("is refused"), "{page}");
    let page = khcn.get(app.url("/admin/exchange/agreements")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"agreements-refused\"") && page.contains("Bị từ chối"), "{page}");
}

/// A self-signed client certificate, PEM, made with openssl.
fn client_certificate_pem(dir: &std::path::Path) -> String {
    let status = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30"])
        .args(["-subj", "/CN=cong-du-lieu.khcn.tinh.gov.vn", "-keyout"])
        .arg(dir.join("client.key"))
        .arg("-out")
        .arg(dir.join("client.pem"))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl failed");
    std::fs::read_to_string(dir.join("client.pem")).unwrap()
}

/// Who the API takes a bearer token for (`None` when it refuses it).
async fn actor_of(app: &TestApp, token: &str) -> Option<String> {
    let r = client().get(app.url("/api/v1/me")).bearer_auth(token).send().await.unwrap();
    if r.status() == 401 {
        return None;
    }
    assert_eq!(r.status(), 200);
    Some(r.json::<Value>().await.unwrap()["actor"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn a_steward_registers_an_information_system_issues_its_token_and_revokes_its_credentials_in_the_ui() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };
    let (user, _) = app.kho.store.user_credentials("steward.khcn").await.unwrap().unwrap();
    let agency = app.kho.store.agency(&user.agency_id).await.unwrap().unwrap();
    let xroad_id = format!("VN/GOV/{}/CONG-DL", agency.code);

    // 1. The department's steward registers its data portal as an information system.
    log_in(&browser, &app, "steward.khcn").await;
    browser.goto(&app.url("/admin/exchange")).await;
    browser.click("nav a[href='/admin/exchange/subsystems']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/exchange/subsystems")).await;
    assert_eq!(browser.text("h1").await, "Hệ thống thông tin");
    browser.type_into("#xroad_id", &xroad_id).await;
    browser.type_into("#name", "Cổng dữ liệu của Sở").await;
    browser.click(&format!("#agency option[value='{}']", agency.id)).await;
    browser.click("#register-subsystem button[type=submit]").await;
    let page = browser.wait_for_url(|u| u.contains("/admin/exchange/subsystems/")).await;
    assert_eq!(browser.text("h1").await, "Cổng dữ liệu của Sở");
    assert_eq!(browser.text("#xroad-id").await, xroad_id);
    let subsystem = app.kho.find_subsystem(&xroad_id).await.unwrap();
    assert_eq!(subsystem.agency_id, agency.id);

    // 2. It issues the system a token: the secret is shown once, and it works.
    browser.type_into("#token_name", "máy chủ cổng dữ liệu").await;
    browser.click("#issue-token button[type=submit]").await;
    browser.wait_for("#new-secret").await;
    let secret = browser.text("#new-secret").await;
    assert_eq!(actor_of(&app, &secret).await, Some(format!("subsystem:{xroad_id}")));
    browser.goto(&page).await;
    assert_eq!(browser.count("#new-secret").await, 0, "the secret is shown only once");
    assert!(!browser.source().await.contains(&secret), "nor anywhere else on the page");
    let token_row = "#tokens tr[data-token]";
    assert_eq!(browser.count(token_row).await, 1);
    assert_eq!(browser.text(&format!("{token_row} td.state")).await, "Hiệu lực");

    // 3. It registers the system's client certificate by pasting the PEM.
    let certs = tempfile::tempdir().unwrap();
    let pem = client_certificate_pem(certs.path());
    browser.type_into("#pem", &pem).await;
    browser.type_into("#label", "nút đại lý của Sở").await;
    browser.click("#register-certificate button[type=submit]").await;
    browser.wait_for("#certificates tr[data-fingerprint]").await;
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let fingerprint = app.kho.subsystem_certificates(&operator, &ctx, &xroad_id).await.unwrap().remove(0).fingerprint;
    let cert_row = format!("#certificates tr[data-fingerprint='{fingerprint}']");
    assert_eq!(browser.text(&format!("{cert_row} td.state")).await, "Hiệu lực");
    assert!(browser.text(&cert_row).await.contains("nút đại lý của Sở"));

    // A second paste of the same certificate is refused above the tables.
    browser.type_into("#pem", &pem).await;
    browser.click("#register-certificate button[type=submit]").await;
    browser.wait_for("p.error").await;
    assert!(browser.text("p.error").await.contains("already registered"), "{}", browser.text("p.error").await);

    // 4. It revokes both: the gateway and the API refuse them from the next call.
    browser.goto(&page).await;
    browser.click(&format!("{cert_row} form button")).await;
    browser.wait_for(&format!("#certificates tr.revoked[data-fingerprint='{fingerprint}']")).await;
    assert!(browser.text(&format!("{cert_row} td.state")).await.starts_with("Đã thu hồi"));
    assert_eq!(browser.count(&format!("{cert_row} form")).await, 0, "nothing left to revoke");
    browser.click(&format!("{token_row} form button")).await;
    browser.wait_for("#tokens tr.revoked[data-token]").await;
    assert_eq!(browser.text(&format!("{token_row} td.state")).await, "Đã thu hồi");
    assert_eq!(actor_of(&app, &secret).await, None, "a revoked token is refused");
    let certificates = app.kho.subsystem_certificates(&operator, &ctx, &xroad_id).await.unwrap();
    assert!(certificates[0].revoked_at.is_some(), "{certificates:?}");

    // The page speaks English on request.
    browser.goto(&format!("{page}?lang=en")).await;
    assert_eq!(browser.text("#tokens-h").await, "API tokens");
    log_out(&browser).await;

    // 5. An auditor reads the page without its forms; a commune's steward may not open it.
    log_in(&browser, &app, "auditor").await;
    browser.goto(&page).await;
    assert_eq!(browser.text("#xroad-id").await, xroad_id);
    assert_eq!(browser.count("#issue-token").await + browser.count("#register-certificate").await, 0);
    assert_eq!(browser.count("#tokens form").await, 0);
    log_out(&browser).await;
    log_in(&browser, &app, "steward.xa").await;
    browser.goto(&page).await;
    assert!(browser.text("p.error").await.contains("stewards of their agency"), "the service's 403 as a page");
    log_out(&browser).await;

    // 6. Each change is in the audit log under the steward's name.
    let entries = app.kho.store.list_audit(&AuditQuery { limit: 1000, ..Default::default() }).await.unwrap();
    for action in [
        "subsystem.create",
        "token.create",
        "subsystem.certificate.add",
        "subsystem.certificate.revoke",
        "token.revoke",
    ] {
        assert!(
            entries.iter().any(|e| e.action == action && e.actor == "user:steward.khcn"),
            "{action} is audited under the steward"
        );
    }
    let targets: Vec<&str> = entries
        .iter()
        .filter(|e| e.actor == "user:steward.khcn" && e.action.starts_with("subsystem."))
        .map(|e| e.target.as_str())
        .collect();
    assert!(
        !targets.is_empty() && targets.iter().all(|t| *t == format!("subsystem:{xroad_id}")),
        "the system's creation and certificates are audited under its X-Road id: {targets:?}"
    );
}

#[tokio::test]
async fn a_provider_edits_its_service_and_suspends_it_with_a_notice_the_consumer_reads() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else { return };
    const NOTICE: &str = "Bảo trì đến 18:00";

    // The setup, as the operator would script it: the department's proxied service, and
    // the commune's system with an approved agreement and a token.
    let provider = subsystem_of(&app, "steward.khcn", "CSDL-DN", "Cơ sở dữ liệu doanh nghiệp").await;
    let consumer = subsystem_of(&app, "steward.xa", "MOT-CUA", "Một cửa điện tử cấp xã").await;
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let new = NewService {
        provider: provider.xroad_id.clone(),
        code: SERVICE_CODE.into(),
        description: "Tra cứu doanh nghiệp theo mã số thuế".into(),
        target: ServiceTarget::Proxied { backend_url: start_backend().await, openapi: None, backend_token: None },
        timeout_ms: None,
        log_bodies: false,
    };
    let service = app.kho.register_service(&operator, &ctx, new).await.unwrap();
    let service_id = service.full_id();
    let terms: AgreementTerms =
        serde_json::from_value(json!({"endpoints": ["GET /doanh-nghiep/*"], "purposes": [PURPOSE]})).unwrap();
    app.kho.request_agreement(&operator, &ctx, &consumer.xroad_id, &service_id, &terms, true).await.unwrap();
    let owner = TokenOwner::Subsystem(consumer.id.clone());
    let (_, token) = app.kho.create_token(&operator, &ctx, owner, "một cửa", 1).await.unwrap();
    let call = || consumer_call(&app, &service_id, &consumer.xroad_id, &token);
    let served_by = || async {
        let r = call().await;
        assert_eq!(r.status(), 200);
        r.json::<Value>().await.unwrap()["ten"].as_str().unwrap().to_string()
    };
    assert_eq!(served_by().await, "Công ty TNHH Đổi Mới");

    // 1. The department's steward finds the service in the registry and opens its page.
    log_in(&browser, &app, "steward.khcn").await;
    browser.click("nav a[href='/admin/exchange']").await;
    browser.wait_for_url(|u| u.ends_with("/admin/exchange")).await;
    let row = format!("tr[data-service='{service_id}']");
    assert_eq!(browser.text(&format!("{row} td.state")).await, "Đang hoạt động");
    let page_path = format!("/admin/exchange/services/{}", service.id);
    browser.click(&format!("{row} a.edit[href='{page_path}']")).await;
    let page = browser.wait_for_url(|u| u.ends_with(&page_path)).await;
    assert_eq!(browser.text("h1").await, service_id);
    assert_eq!(browser.text("#settings td.kind").await, "Chuyển tiếp");
    assert_eq!(browser.text("#settings td.timeout").await, "30000");
    assert_eq!(browser.text("#settings td.updated").await, "—", "never changed yet");
    assert_eq!(browser.text("#settings td.state").await, "Đang hoạt động");
    assert_eq!(browser.property("#timeout_ms", "value").await, "30000", "the form holds the current settings");

    // 2. A timeout outside the range is refused above the form, which keeps what was typed.
    browser.clear("#timeout_ms").await;
    browser.type_into("#timeout_ms", "50").await;
    browser.clear("#description").await;
    browser.type_into("#description", "Tra cứu thông tin đăng ký doanh nghiệp").await;
    browser.click_and_wait("#edit-service button[type=submit]").await;
    let error = browser.text("p.error").await;
    assert!(error.contains("timeout_ms") && error.contains("50 is outside"), "{error}");
    assert_eq!(browser.property("#timeout_ms", "value").await, "50");
    assert_eq!(browser.property("#description", "value").await, "Tra cứu thông tin đăng ký doanh nghiệp");
    assert_eq!(browser.text("#settings td.timeout").await, "30000", "nothing changed");

    // A valid one is saved: the page shows the new settings and when they changed.
    browser.clear("#timeout_ms").await;
    browser.type_into("#timeout_ms", "5000").await;
    browser.click_and_wait("#edit-service button[type=submit]").await;
    assert_eq!(browser.url().await, page, "back on the service's page");
    assert_eq!(browser.count("p.error").await, 0);
    assert_eq!(browser.text("#settings td.timeout").await, "5000");
    assert_eq!(browser.text("#settings td.description").await, "Tra cứu thông tin đăng ký doanh nghiệp");
    assert_ne!(browser.text("#settings td.updated").await, "—");
    browser.wait_for("#settings td.updated time").await;
    let changed = app.kho.find_service(&service.id).await.unwrap();
    assert_eq!((changed.timeout_ms, changed.updated_at.is_some()), (5000, true));

    // 3. It moves the service to a new backend; the gateway calls it from the next call.
    let second = start_backend_named("Công ty Cổ phần Máy chủ Mới").await;
    browser.clear("#backend_url").await;
    browser.type_into("#backend_url", &second).await;
    browser.click_and_wait("#edit-service button[type=submit]").await;
    assert_eq!(browser.text("#settings td.target").await, second);
    assert_eq!(browser.property("#backend_url", "value").await, second);
    assert_eq!(served_by().await, "Công ty Cổ phần Máy chủ Mới");

    // An unchanged form changes nothing and says so.
    browser.click_and_wait("#edit-service button[type=submit]").await;
    assert!(browser.text("p.error").await.contains("at least one setting"), "{}", browser.text("p.error").await);

    // A change made by someone else after the page was loaded is not undone unseen.
    browser.goto(&page).await;
    let elsewhere = ServiceChange { description: Some("Đổi bởi quản trị viên".into()), ..Default::default() };
    app.kho.update_service(&operator, &ctx, &service.id, &elsewhere).await.unwrap();
    browser.clear("#timeout_ms").await;
    browser.type_into("#timeout_ms", "6000").await;
    browser.click_and_wait("#edit-service button[type=submit]").await;
    assert!(browser.text("p.error").await.contains("changed by someone else"), "{}", browser.text("p.error").await);
    assert_eq!(browser.text("#settings td.description").await, "Đổi bởi quản trị viên");
    assert_eq!(browser.property("#timeout_ms", "value").await, "6000", "what was typed is kept");
    browser.clear("#description").await;
    browser.type_into("#description", "Tra cứu thông tin đăng ký doanh nghiệp").await;
    browser.click_and_wait("#edit-service button[type=submit]").await;
    assert_eq!(browser.count("p.error").await, 0);
    assert_eq!(browser.text("#settings td.timeout").await, "6000");
    assert_eq!(browser.text("#settings td.description").await, "Tra cứu thông tin đăng ký doanh nghiệp");

    // 4. It suspends the service with a notice: the consumer reads it in the fault.
    browser.goto(&page).await;
    assert_eq!(browser.count("#enable-service").await, 0);
    browser.type_into("#notice", NOTICE).await;
    browser.click_and_wait("#disable-service button[type=submit]").await;
    assert!(browser.text("#suspended").await.contains(NOTICE));
    assert!(browser.text("#settings td.state").await.starts_with("Tạm ngừng: "));
    assert_eq!(browser.count("#disable-service").await, 0, "a suspended service is resumed, not suspended again");
    assert_eq!(browser.count("#suspended time").await, 1, "since when");
    let r = call().await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["x-road-error"], "Server.ServerProxy.ServiceDisabled");
    let fault: Value = r.json().await.unwrap();
    assert_eq!(fault["type"], "Server.ServerProxy.ServiceDisabled", "{fault}");
    assert!(fault["message"].as_str().unwrap().contains(NOTICE), "{fault}");

    // The registry shows it suspended, with the notice, in both languages.
    browser.goto(&app.url("/admin/exchange")).await;
    let suspended_row = format!("tr.disabled[data-service='{service_id}']");
    assert_eq!(browser.text(&format!("{suspended_row} td.state")).await, format!("Tạm ngừng: {NOTICE}"));
    browser.goto(&app.url("/admin/exchange?lang=en")).await;
    assert_eq!(browser.text(&format!("{suspended_row} td.state")).await, format!("Suspended: {NOTICE}"));
    assert_eq!(browser.text(&format!("{row} a.edit")).await, "Edit");

    // 5. It resumes the service, and the consumer is served again.
    browser.goto(&page).await;
    browser.click_and_wait("#enable-service button[type=submit]").await;
    assert_eq!(browser.count("#suspended").await, 0);
    assert_eq!(browser.text("#settings td.state").await, "Đang hoạt động");
    browser.wait_for("#disable-service").await;
    assert_eq!(served_by().await, "Công ty Cổ phần Máy chủ Mới");
    log_out(&browser).await;

    // 6. The commune's steward reads the page without its forms, and has nothing to edit.
    log_in(&browser, &app, "steward.xa").await;
    browser.goto(&app.url("/admin/exchange")).await;
    browser.wait_for(&row).await;
    assert_eq!(browser.count(&format!("{row} a.edit")).await, 0);
    browser.goto(&page).await;
    assert_eq!(browser.text("h1").await, service_id);
    assert_eq!(browser.text("#settings td.timeout").await, "6000");
    assert_eq!(browser.count("main form").await, 0, "no forms for a steward of another agency");
    log_out(&browser).await;

    // A form posted anyway is refused with the service's reason; an unknown service is
    // not found; anonymous visitors log in first.
    let (xa, xa_csrf) = app.session("steward.xa").await;
    let form = [("csrf_token", xa_csrf.as_str()), ("notice", "Không được phép")];
    let (status, body) = post_form(&app, &xa, &format!("{page_path}/disable"), &form).await;
    assert_eq!(status, 403);
    assert!(body.contains("not allowed"), "{body}");
    assert!(app.kho.find_service(&service.id).await.unwrap().disabled.is_none(), "nothing was suspended");
    let (status, _) = post_form(&app, &xa, &format!("{page_path}/disable"), &[("notice", "Không có CSRF")]).await;
    assert_eq!(status, 403, "a form without its CSRF field");
    let r = xa.get(app.url("/admin/exchange/services/khong-co")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = client().get(app.url(&page_path)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));

    // 7. Each change is in the audit log under the steward's name.
    let entries = app.kho.store.list_audit(&AuditQuery { limit: 1000, ..Default::default() }).await.unwrap();
    for action in ["service.update", "service.disable", "service.enable"] {
        assert!(
            entries.iter().any(|e| e.action == action && e.actor == "user:steward.khcn"),
            "{action} is audited under the steward"
        );
    }
}

/// The `<tr …>…</tr>` of `html` whose opening tag holds `marker`.
fn row<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html.find(marker).unwrap_or_else(|| panic!("no row with {marker} in {html}"));
    let start = html[..start].rfind("<tr").unwrap();
    let end = start + html[start..].find("</tr>").unwrap();
    &html[start..end]
}

#[tokio::test]
async fn a_subsystem_without_credentials_or_with_a_token_about_to_expire_is_flagged() {
    let app = spawn_app().await;
    let portal = subsystem_of(&app, "steward.khcn", "CONG-DL", "Cổng dữ liệu của Sở").await;
    let idle = subsystem_of(&app, "steward.khcn", "CHUA-DUNG", "Hệ thống chưa dùng").await;
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    for (name, days) in [("máy chủ cũ", 10), ("máy chủ mới", 365)] {
        let owner = TokenOwner::Subsystem(portal.id.clone());
        app.kho.create_token(&operator, &ctx, owner, name, days).await.unwrap();
    }
    let (session, _) = app.session("steward.khcn").await;
    let get = |path: String| {
        let request = session.get(app.url(&path));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };

    // The list says which system has nothing to call with, and which token runs out soon.
    let list = get("/admin/exchange/subsystems".into()).await;
    let flagged = row(&list, &format!("data-subsystem=\"{}\"", portal.xroad_id));
    assert!(flagged.contains("2 khóa · 0 chứng thư số"), "{flagged}");
    assert!(flagged.contains("class=\"warn expiring\">Khóa “máy chủ cũ” hết hạn sau"), "{flagged}");
    assert!(!flagged.contains("máy chủ mới"), "a token with a year left is not flagged: {flagged}");
    let empty = row(&list, &format!("data-subsystem=\"{}\"", idle.xroad_id));
    assert!(empty.contains("class=\"warn none\""), "{empty}");
    assert!(empty.contains("hệ thống chưa gọi được cổng"), "{empty}");

    // Its page marks the token itself.
    let page = get(format!("/admin/exchange/subsystems/{}", portal.id)).await;
    let opening = |row: &str| row[..row.find('>').unwrap()].to_string();
    let old = row(&page, "máy chủ cũ");
    assert!(opening(old).contains("expiring"), "{old}");
    assert!(old.contains("Hiệu lực — hết hạn sau"), "{old}");
    let new = row(&page, "máy chủ mới");
    assert!(!opening(new).contains("expiring") && new.contains(">Hiệu lực<"), "{new}");
}
