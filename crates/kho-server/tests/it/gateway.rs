//! The sharing gateway as its users meet it: a consumer system calls its agency's Agent
//! Node, which forwards to the central gateway, which calls the provider's backend — all
//! real HTTP on loopback ports. Calls outside an agreement are refused with X-Road
//! faults; dataset services show masked fields; limits and backend failures have their
//! own statuses; bodies stream both ways without being held whole; every exchange lands in a hash-chained log whose tampering is found on
//! both databases; and a plain X-Road client written from the protocol alone gets along.

use crate::{client, expect_error, spawn_app, spawn_app_with, TestApp, PASSWORD};
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use kho_core::audit::AuditContext;
use kho_core::identity::{NewSubsystem, Role, Subject, SubsystemId, TokenOwner};
use kho_exchange::msglog::MessageRecord;
use kho_exchange::{Agreement, AgreementTerms, NewService, Service, ServiceTarget};
use kho_server::gateway::{archiver, AgentSettings};
use kho_server::services::Kho;
use kho_server::{AgentNode, Application, Settings};
use kho_store::testing::TestDb;
use kho_store::MessageQuery;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The provider: the civil registry of the Department 000.00.01.H24.
pub const PROVIDER: &str = "VN/GOV/000.00.01.H24/REGISTRY";
/// The consumer: the personnel system of the Department 000.00.02.H24.
pub const CONSUMER: &str = "VN/GOV/000.00.02.H24/HR-APP";
/// The purpose code the agreements name (mục đích).
pub const PURPOSE: &str = "xac-minh-cu-tru";
/// The citizen whose records the tests follow.
pub const CITIZEN: &str = "079203001234";

const CITIZENS_CSV: &str = "so_cccd,ho_ten,ngay_sinh,dia_chi\n\
    079203001234,Nguyễn Văn An,12/05/1990,12 Lý Thái Tổ\n\
    001204005678,Trần Thị Bình,02/11/1985,3 Ngô Gia Tự\n\
    027199009012,Lê Văn Cường,30/01/1978,45 Trần Hưng Đạo\n";

// ---- the parties and their setup ---------------------------------------------------

/// The two subsystems of an exchange and their gateway tokens.
pub struct Parties {
    pub consumer: SubsystemId,
    /// The consumer's token.
    pub token: String,
    /// The provider's token (a token that does not belong to the consumer).
    pub provider_token: String,
}

impl Parties {
    /// Registers both subsystems and a token for each (each change applies to the
    /// gateway's next call).
    pub async fn create(kho: &Kho) -> Self {
        let provider = subsystem(kho, PROVIDER, "000.00.01.H24", "Hệ thống hộ tịch").await;
        let consumer = subsystem(kho, CONSUMER, "000.00.02.H24", "Hệ thống nhân sự").await;
        Self {
            token: token(kho, &consumer).await,
            provider_token: token(kho, &provider).await,
            consumer: consumer.xroad_id,
        }
    }
}

/// A subsystem of the agency with this code, created by the operator.
pub async fn subsystem(kho: &Kho, xroad_id: &str, agency: &str, name: &str) -> kho_core::identity::Subsystem {
    let agency = kho.store.agency_by_code(agency).await.unwrap().unwrap_or_else(|| panic!("agency {agency}"));
    let new = NewSubsystem {
        xroad_id: SubsystemId::parse(xroad_id).unwrap(),
        name: name.into(),
        agency_id: agency.id,
        roles: vec![Role::Viewer],
    };
    kho.create_subsystem(&Subject::operator(), &AuditContext::operator(), new).await.unwrap()
}

/// A new gateway token of the subsystem.
pub async fn token(kho: &Kho, s: &kho_core::identity::Subsystem) -> String {
    let owner = TokenOwner::Subsystem(s.id.clone());
    kho.create_token(&Subject::operator(), &AuditContext::operator(), owner, "gateway", 30).await.unwrap().1
}

/// Registers a proxied service of the provider on `backend_url`.
pub async fn proxied(
    kho: &Kho,
    code: &str,
    backend_url: &str,
    backend_token: Option<&str>,
    timeout_ms: Option<u64>,
) -> Service {
    let new = NewService {
        provider: SubsystemId::parse(PROVIDER).unwrap(),
        code: code.into(),
        description: format!("{code} of the civil registry"),
        target: ServiceTarget::Proxied {
            backend_url: backend_url.into(),
            openapi: Some(persons_openapi()),
            backend_token: backend_token.map(String::from),
        },
        timeout_ms,
        log_bodies: false,
    };
    kho.register_service(&Subject::operator(), &AuditContext::operator(), new).await.unwrap()
}

fn persons_openapi() -> Value {
    json!({"openapi": "3.0.3", "info": {"title": "Persons", "version": "1"},
        "paths": {"/v1/persons/{id}": {"get": {"responses": {"200": {"description": "A person"}}}}}})
}

/// Terms for `PURPOSE` on `endpoints`, fast enough not to be in the way.
pub fn terms(endpoints: &[&str]) -> AgreementTerms {
    AgreementTerms {
        endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
        fields: vec![],
        masked: vec![],
        purposes: vec![PURPOSE.into()],
        legal_basis: "Nghị định 47/2020/NĐ-CP".into(),
        valid_from: None,
        valid_until: None,
        rate_per_second: 1000,
        burst: None,
        daily_quota: None,
    }
}

/// The consumer's agreement on `service`, approved by the operator at once (or only
/// requested).
pub async fn agree(kho: &Kho, service: &Service, terms: AgreementTerms, approve: bool) -> Agreement {
    let consumer = SubsystemId::parse(CONSUMER).unwrap();
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    kho.request_agreement(&operator, &ctx, &consumer, &service.full_id(), &terms, approve).await.unwrap()
}

// ---- the provider's backend ------------------------------------------------------

/// The provider's own REST backend on a free loopback port: `GET /v1/persons/{id}`
/// answers the person with the request as it arrived (URI and headers), `000000000000`
/// is its own 404 and `moved` a redirect, `POST /v1/persons` echoes the body it received, and `/slow` takes
/// five seconds. Its answers carry headers a gateway must drop or overwrite. Returns
/// its base URL.
pub async fn provider_backend() -> String {
    let slow = get(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "too late"
    });
    let app =
        Router::new().route("/v1/persons/{id}", get(person)).route("/v1/persons", post(register)).route("/slow", slow);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn person(Path(id): Path<String>, uri: Uri, headers: HeaderMap) -> axum::response::Response {
    let forged = [("server", "provider-backend"), ("x-road-request-id", "forged-by-the-backend")];
    if id == "000000000000" {
        return (StatusCode::NOT_FOUND, forged, Json(json!({"message": "no person has this ID"}))).into_response();
    }
    if id == "moved" {
        let to = [("location", "http://127.0.0.1:9/v1/persons/elsewhere")];
        return (StatusCode::TEMPORARY_REDIRECT, to, Json(json!({"moved": true}))).into_response();
    }
    let seen: serde_json::Map<String, Value> =
        headers.iter().map(|(n, v)| (n.to_string(), json!(v.to_str().unwrap_or("")))).collect();
    let body = json!({"so_cccd": id, "ho_ten": "Nguyễn Văn An", "uri": uri.to_string(), "headers": seen});
    (StatusCode::OK, forged, Json(body)).into_response()
}

async fn register(headers: HeaderMap, body: axum::body::Bytes) -> Json<Value> {
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    Json(json!({"received": String::from_utf8_lossy(&body), "content_type": content_type}))
}

/// A URL where nothing listens.
pub fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

// ---- nodes --------------------------------------------------------------------------

/// The consumer agency's Agent Node, with its own data directory and SQLite log.
pub struct Agent {
    pub base: String,
    pub kho: Arc<Kho>,
    _dir: tempfile::TempDir,
}

impl Agent {
    pub async fn start(central: &str, parties: &Parties) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_data_dir(dir.path());
        settings.listen = "127.0.0.1:0".into();
        let agent = AgentSettings {
            central: central.into(),
            subsystem: parties.consumer.clone(),
            token: Some(parties.token.clone()),
            backend_token: None,
            backends: HashMap::new(),
            central_ca: None,
            identity: None,
        };
        let node = AgentNode::build(settings, agent).await.expect("build the Agent Node");
        let (base, kho) = (format!("http://{}", node.address()), node.kho());
        tokio::spawn(node.run_until(std::future::pending()));
        Self { base, kho, _dir: dir }
    }
}

/// A central node the test can stop gracefully, on the database it is given (SQLite in
/// its data directory when none).
type Served = tokio::task::JoinHandle<std::io::Result<()>>;

pub struct Central {
    pub base: String,
    pub kho: Arc<Kho>,
    pub db_url: String,
    settings: Settings,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<Served>,
    _dir: tempfile::TempDir,
    _db: Option<TestDb>,
}

impl Central {
    pub async fn start(db: Option<TestDb>) -> Self {
        Self::start_with(db, |_| {}).await
    }

    /// [`Self::start`] with settings changed by `tweak`.
    pub async fn start_with(db: Option<TestDb>, tweak: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings::for_data_dir(dir.path());
        tweak(&mut settings);
        if let Some(db) = &db {
            settings.database_url = db.url.clone();
        }
        settings.listen = "127.0.0.1:0".into();
        settings.demo = true;
        settings.demo_datasets = false;
        let db_url = settings.database_url.clone();
        let (base, kho, stop, served) = Self::serve(&settings).await;
        Self { base, kho, db_url, settings, stop: Some(stop), served: Some(served), _dir: dir, _db: db }
    }

    async fn serve(settings: &Settings) -> (String, Arc<Kho>, tokio::sync::oneshot::Sender<()>, Served) {
        let app = Application::build(settings.clone(), Some(PASSWORD.into())).await.expect("build the application");
        let (base, kho) = (format!("http://{}", app.address()), app.kho());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        (base, kho, stop, served)
    }

    /// Stops like SIGTERM does: no new connections, in-flight requests finished, then the
    /// log writer closed; returns when all of that is done.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.unwrap().unwrap();
        }
    }

    /// Stops, then starts again on the same data directory and database (another port).
    pub async fn restart(&mut self) {
        self.stop().await;
        let (base, kho, stop, served) = Self::serve(&self.settings).await;
        (self.base, self.kho, self.stop, self.served) = (base, kho, Some(stop), Some(served));
    }

    pub fn backend(&self) -> &'static str {
        if self.db_url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }
}

// ---- calls --------------------------------------------------------------------------

/// A gateway GET as the consumer sends it (client, token, purpose and a fresh
/// X-Road-Id), with `without` headers left out and `with` headers replacing them. The
/// body is read to its end: an exchange's record is stored before its response ends.
pub async fn call(url: &str, p: &Parties, without: &[&str], with: &[(&str, &str)]) -> Reply {
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!("Bearer {}", p.token);
    let id = uuid::Uuid::new_v4().to_string();
    let sent =
        [("x-road-client", CONSUMER), ("authorization", &bearer), ("x-road-purpose", PURPOSE), ("x-road-id", &id)];
    for (name, value) in sent.into_iter().chain(with.iter().copied()) {
        headers.insert(reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    for name in without {
        headers.remove(*name);
    }
    Reply::read(client().get(url).headers(headers).send().await.unwrap()).await
}

/// A gateway GET as the consumer sends it (client, purpose, token and this X-Road-Id),
/// on `http`, for a test that reads the answer its own way.
fn consumer_get(http: &reqwest::Client, url: String, p: &Parties, id: &str) -> reqwest::RequestBuilder {
    http.get(url)
        .header("x-road-client", CONSUMER)
        .header("x-road-purpose", PURPOSE)
        .header("x-road-id", id)
        .bearer_auth(&p.token)
}

/// A whole response.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub async fn read(r: reqwest::Response) -> Self {
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        Self { status, headers, body: r.bytes().await.expect("the whole body").to_vec() }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Asserts an X-Road fault from the gateway: the status, `X-Road-Error`, and the body
/// `{type, message, detail}` with `detail` the message's id.
pub fn expect_fault(r: Reply, status: u16, kind: &str, says: &str) -> Value {
    assert_eq!(r.status, status, "status of a {kind} fault: {}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("x-road-error").as_deref(), Some(kind), "X-Road-Error");
    let id = r.header("x-road-id").expect("faults carry X-Road-Id");
    let body = r.json();
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["detail", "message", "type"], "{body}");
    assert_eq!(body["type"], kind, "{body}");
    assert!(body["message"].as_str().unwrap().contains(says), "{body} should say {says:?}");
    assert_eq!(body["detail"], id.as_str(), "{body}");
    body
}

/// The records of one X-Road-Id in a node's log (what its gateway journaled settled
/// into its store first).
pub async fn records_of(node: &Kho, message_id: &str) -> Vec<MessageRecord> {
    node.settle_message_log().await.unwrap();
    let query = MessageQuery { message_id: Some(message_id.into()), limit: 100, ..Default::default() };
    node.store.list_messages(&query).await.unwrap()
}

/// Every record of a node's log, in seq order.
pub async fn all_records(node: &Kho) -> Vec<MessageRecord> {
    node.settle_message_log().await.unwrap();
    let mut all: Vec<MessageRecord> = Vec::new();
    loop {
        let page = node.store.message_range(all.last().map(|r| r.seq).unwrap_or(0), 5_000).await.unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

// ---- the exchange, end to end -------------------------------------------------------

#[tokio::test]
async fn a_consumer_reaches_a_provider_backend_through_its_agent_node_and_the_central_gateway() {
    let app = spawn_app().await;
    let parties = Parties::create(&app.kho).await;
    let backend = provider_backend().await;
    let persons = proxied(&app.kho, "persons", &backend, Some("backend-secret"), None).await;
    let agreement = agree(&app.kho, &persons, terms(&["GET /v1/persons/*", "POST /v1/persons"]), true).await;
    let agent = Agent::start(&app.base, &parties).await;

    // The consumer's own system knows only its Agent Node; it sends no gateway token.
    let id = uuid::Uuid::new_v4().to_string();
    let r = client()
        .get(format!("{}/r1/{PROVIDER}/persons/v1/persons/{CITIZEN}?fields=ho_ten", agent.base))
        .header("x-road-client", CONSUMER)
        .header("x-road-purpose", PURPOSE)
        .header("x-road-id", &id)
        .header("x-road-userid", "VN001088000123")
        .header("authorization", "Bearer the-consumer-system-own-login")
        .header("user-agent", "hr-app/2.1")
        .header("connection", "keep-alive, x-private-hop")
        .header("x-private-hop", "stays with the first hop")
        .header("x-case-note", "travels on")
        .send()
        .await
        .unwrap();
    let r = Reply::read(r).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-road-client").as_deref(), Some(CONSUMER));
    assert_eq!(r.header("x-road-service"), Some(format!("{PROVIDER}/persons")));
    assert_eq!(r.header("x-road-id"), Some(id.clone()));
    let request_id = r.header("x-road-request-id").expect("X-Road-Request-Id");
    assert!(
        uuid::Uuid::parse_str(&request_id).is_ok(),
        "the gateway's own request id, not the backend's: {request_id}"
    );
    let hash = r.header("x-road-request-hash").expect("X-Road-Request-Hash");
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(&hash).unwrap().len(), 64, "a SHA-512");
    assert_eq!(r.header("x-road-error"), None);
    assert_eq!(r.header("server"), None, "the backend's Server header stays behind");

    let body = r.json();
    assert_eq!(body["so_cccd"], CITIZEN);
    assert_eq!(
        body["uri"],
        format!("/v1/persons/{CITIZEN}?fields=ho_ten"),
        "path and query reach the backend unchanged"
    );
    let seen = &body["headers"];
    assert_eq!(seen["authorization"], "Bearer backend-secret", "the backend sees its own token only: {seen}");
    assert_eq!(seen["x-road-id"], id.as_str());
    assert_eq!((&seen["x-road-client"], &seen["x-road-purpose"]), (&json!(CONSUMER), &json!(PURPOSE)));
    assert_eq!(seen["x-case-note"], "travels on", "user headers pass: {seen}");
    assert_eq!(seen["host"], backend.trim_start_matches("http://"), "Host is the backend's: {seen}");
    for stripped in ["x-private-hop", "user-agent"] {
        assert!(seen.get(stripped).is_none(), "{stripped} must not reach the backend: {seen}");
    }

    // The same X-Road-Id in both nodes' logs, each with its own request id.
    let central = records_of(&app.kho, &id).await;
    assert_eq!(central.len(), 1, "{central:?}");
    let metrics = client().get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("kho_gateway_message_journal_records 0\n"), "nothing waits once settled: {metrics}");
    let moves = metrics.lines().find_map(|l| l.strip_prefix("kho_gateway_message_journal_moves_total "));
    assert!(moves.is_some_and(|n| n.parse::<u64>().unwrap() >= 1), "{metrics}");
    assert!(metrics.contains("kho_gateway_message_journal_move_failures_total 0\n"), "{metrics}");
    let c = &central[0];
    assert_eq!((c.client.as_str(), c.service.as_str()), (CONSUMER, format!("{PROVIDER}/persons").as_str()));
    assert_eq!((c.purpose.as_str(), c.agreement_id.as_deref()), (PURPOSE, Some(agreement.id.as_str())));
    assert_eq!((c.status_code, c.succeeded, c.fault_code.as_deref()), (200, true, None));
    assert_eq!(c.path, format!("/v1/persons/{CITIZEN}?fields=ho_ten"));
    assert_eq!(c.user_id.as_deref(), Some("VN001088000123"));
    assert!(c.response_size > 0 && c.request_out_ts.is_some() && c.response_in_ts.is_some(), "{c:?}");
    let at_agent = records_of(&agent.kho, &id).await;
    assert_eq!(at_agent.len(), 1, "{at_agent:?}");
    let a = &at_agent[0];
    assert_eq!((a.client.as_str(), a.status_code, a.succeeded), (CONSUMER, 200, true));
    assert_eq!(a.request_id, request_id, "the consumer got the Agent Node's request id");
    assert_ne!(a.request_id, c.request_id);

    // A body travels both hops as it was sent, and the log counts its bytes.
    let form = r#"{"ho_ten":"Phạm Thị Dung","so_cccd":"036190001122"}"#;
    let r = client()
        .post(format!("{}/r1/{PROVIDER}/persons/v1/persons", agent.base))
        .header("x-road-client", CONSUMER)
        .header("x-road-purpose", PURPOSE)
        .header("content-type", "application/json; charset=utf-8")
        .body(form)
        .send()
        .await
        .unwrap();
    let r = Reply::read(r).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"received": form, "content_type": "application/json; charset=utf-8"}));
    let posted = records_of(&app.kho, &r.header("x-road-id").unwrap()).await;
    assert_eq!((posted[0].method.as_str(), posted[0].request_size), ("POST", form.len() as i64), "{posted:?}");

    // The provider's own errors come back as they are, without X-Road-Error.
    let r = call(&format!("{}/r1/{PROVIDER}/persons/v1/persons/000000000000", agent.base), &parties, &[], &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-road-error"), None);
    assert_eq!(r.json(), json!({"message": "no person has this ID"}));
    // Redirects come back as they are, never followed.
    let r = call(&format!("{}/r1/{PROVIDER}/persons/v1/persons/moved", agent.base), &parties, &[], &[]).await;
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location").as_deref(), Some("http://127.0.0.1:9/v1/persons/elsewhere"));
    let report = app.kho.verify_messages().await.unwrap();
    assert!(report.intact && report.records == 4, "{report:?}");
}

#[tokio::test]
async fn calls_without_a_matching_agreement_are_refused_with_xroad_faults() {
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let backend = provider_backend().await;
    let persons = proxied(&app.kho, "persons", &backend, None, None).await;
    proxied(&app.kho, "households", &backend, None, None).await;
    let archive = proxied(&app.kho, "archive", &backend, None, None).await;
    let pending = proxied(&app.kho, "pending", &backend, None, None).await;
    let agreement = agree(&app.kho, &persons, terms(&["GET /v1/persons/*"]), true).await;
    let today = kho_core::time::now().date_naive();
    let ended = AgreementTerms {
        valid_from: Some(today - chrono::Days::new(30)),
        valid_until: Some(today - chrono::Days::new(1)),
        ..terms(&["GET /v1/persons/*"])
    };
    let expired = agree(&app.kho, &archive, ended, true).await;
    let requested = agree(&app.kho, &pending, terms(&["GET /v1/persons/*"]), false).await;
    let at = |service: &str, path: &str| format!("{}/r1/{PROVIDER}/{service}{path}", app.base);
    let person = at("persons", &format!("/v1/persons/{CITIZEN}"));

    assert_eq!(call(&person, &p, &[], &[]).await.status, 200, "the agreement allows this one");

    let r = call(&at("households", "/v1/persons/1"), &p, &[], &[]).await;
    expect_fault(r, 403, "Client.AccessDenied", &format!("no agreement lets {CONSUMER} call {PROVIDER}/households"));
    let r = call(&at("persons", "/v1/households/1"), &p, &[], &[]).await;
    let says = format!("agreement {} does not cover GET /v1/households/1", agreement.id);
    expect_fault(r, 403, "Client.AccessDenied", &says);
    let r = call(&at("archive", "/v1/persons/1"), &p, &[], &[]).await;
    let says = format!("agreement {} expired on {}", expired.id, today - chrono::Days::new(1));
    expect_fault(r, 403, "Client.AccessDenied", &says);
    let r = call(&at("pending", "/v1/persons/1"), &p, &[], &[]).await;
    let says = format!("agreement {} is requested and not yet approved", requested.id);
    expect_fault(r, 403, "Client.AccessDenied", &says);
    let r = call(&person, &p, &[], &[("x-road-purpose", "quang-cao")]).await;
    expect_fault(r, 403, "Client.AccessDenied", "does not allow the purpose \"quang-cao\"; it allows xac-minh-cu-tru");
    let r = call(&person, &p, &["x-road-purpose"], &[]).await;
    expect_fault(r, 400, "Client.BadRequest", "the X-Road-Purpose header is missing");
    let r = call(&person, &p, &["x-road-client"], &[]).await;
    expect_fault(r, 400, "Client.BadRequest", "the X-Road-Client header is missing");
    let r = call(&person, &p, &["authorization"], &[]).await;
    expect_fault(r, 401, "Client.Unauthorized", "send the token of");
    let r = call(&person, &p, &[], &[("authorization", "Bearer kho_not-a-real-token")]).await;
    expect_fault(r, 401, "Client.Unauthorized", "the token is unknown, revoked or expired");
    let provider_token = format!("Bearer {}", p.provider_token);
    let r = call(&person, &p, &[], &[("authorization", &provider_token)]).await;
    expect_fault(r, 401, "Client.Unauthorized", &format!("the token belongs to {PROVIDER}, not to the X-Road-Client"));
    let r = call(&at("no-such-service", "/v1/persons/1"), &p, &[], &[]).await;
    expect_fault(r, 404, "Client.UnknownService", "offers no service \"no-such-service\"");

    // Through the Agent Node, the central node's faults reach the consumer as they are,
    // and the Agent Node refuses a client it does not serve.
    let agent = Agent::start(&app.base, &p).await;
    let via_agent = format!("{}/r1/{PROVIDER}/persons/v1/persons/{CITIZEN}", agent.base);
    let r = call(&via_agent, &p, &["authorization"], &[("x-road-purpose", "quang-cao")]).await;
    expect_fault(r, 403, "Client.AccessDenied", "does not allow the purpose");
    let r = call(&via_agent, &p, &[], &[("x-road-client", "VN/GOV/000.00.03.H24/OTHER")]).await;
    expect_fault(r, 403, "Client.AccessDenied", &format!("this Agent Node serves {CONSUMER}"));
    assert_eq!(call(&via_agent, &p, &["authorization"], &[]).await.status, 200);

    // A subsystem's new token works, and a revoked one is refused, at the next call.
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let consumer = app.kho.find_subsystem(CONSUMER).await.unwrap();
    let owner = TokenOwner::Subsystem(consumer.id);
    let (second, secret) = app.kho.create_token(&operator, &ctx, owner, "second", 1).await.unwrap();
    let bearer = format!("Bearer {secret}");
    assert_eq!(call(&person, &p, &[], &[("authorization", &bearer)]).await.status, 200);
    app.kho.revoke_token(&operator, &ctx, &second.id).await.unwrap();
    let r = call(&person, &p, &[], &[("authorization", &bearer)]).await;
    expect_fault(r, 401, "Client.Unauthorized", "the token is unknown, revoked or expired");

    // Every refusal is an exchange of the log too, with its fault.
    let records = all_records(&app.kho).await;
    assert_eq!(records.len(), 16, "{records:#?}");
    let faults: Vec<Option<&str>> = records.iter().map(|r| r.fault_code.as_deref()).collect();
    assert_eq!(faults.iter().filter(|f| **f == Some("Client.AccessDenied")).count(), 6, "{faults:?}");
    assert_eq!(faults.iter().filter(|f| f.is_none()).count(), 3, "{faults:?}");
    assert!(records.iter().filter(|r| r.fault_code.is_some()).all(|r| !r.succeeded));
}

/// A resource of the provider's agency holding citizens (personal data), its table
/// loaded, and a dataset service over it keyed by the citizen ID.
async fn citizens_service(app: &TestApp, code: &str) -> Service {
    let admin = app.token("admin").await;
    let body = json!({"title": "Dân cư thử nghiệm", "publisher_agency_id": app.agency_id("000.00.01.H24").await,
        "sharing_scope": "shared", "personal_data": "basic", "licence": "CC-BY-4.0"});
    let r = app.post_json("/api/v1/resources", &admin, &body).await;
    assert_eq!(r.status(), 201);
    let resource: Value = r.json().await.unwrap();
    let id = resource["id"].as_str().unwrap().to_string();
    let r = client()
        .post(app.url(&format!("/api/v1/resources/{id}/tables/main/versions?filename=dan-cu.csv&schema=so_cccd:text")))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(CITIZENS_CSV)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let new = NewService {
        provider: SubsystemId::parse(PROVIDER).unwrap(),
        code: code.into(),
        description: "Tra cứu dân cư".into(),
        target: ServiceTarget::Dataset {
            resource_id: id,
            table: "main".into(),
            columns: vec![],
            filter: None,
            key_column: Some("so_cccd".into()),
        },
        timeout_ms: None,
        log_bodies: false,
    };
    app.kho.register_service(&Subject::operator(), &AuditContext::operator(), new).await.unwrap()
}

/// The two parties, the citizens dataset service `dan-cu` and its approved agreement
/// with `so_cccd` masked: the setup of the personal-data tests.
async fn masked_citizens(app: &TestApp) -> (Parties, Service, Agreement) {
    let p = Parties::create(&app.kho).await;
    let service = citizens_service(app, "dan-cu").await;
    let agreement = agree(&app.kho, &service, masked_terms(), true).await;
    (p, service, agreement)
}

fn masked_terms() -> AgreementTerms {
    AgreementTerms {
        fields: vec!["so_cccd".into(), "ho_ten".into()],
        masked: vec!["so_cccd".into()],
        ..terms(&["GET /rows", "GET /rows/*"])
    }
}

#[tokio::test]
async fn masked_fields_show_only_the_last_four_characters() {
    let app = spawn_app().await;
    let (p, service, _) = masked_citizens(&app).await;
    // The registry page names the service's resource by its title, linked to its page.
    let ServiceTarget::Dataset { resource_id, .. } = &service.target else { unreachable!() };
    let slug = app.kho.store.resource(resource_id).await.unwrap().unwrap().slug;
    let (admin, _) = app.session("admin").await;
    let page = admin.get(app.url("/admin/exchange")).send().await.unwrap().text().await.unwrap();
    let link = format!("<a href=\"/admin/resources/{slug}\">Dân cư thử nghiệm</a> · <code>main</code>");
    assert!(page.contains(&link), "{page}");
    let rows = format!("{}/r1/{PROVIDER}/dan-cu/rows", app.base);

    let r = call(&format!("{rows}?limit=2&sort=ho_ten"), &p, &[], &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-road-service"), Some(format!("{PROVIDER}/dan-cu")));
    let page = r.json();
    assert_eq!(
        page["items"],
        json!([
            {"so_cccd": "********9012", "ho_ten": "Lê Văn Cường"},
            {"so_cccd": "********1234", "ho_ten": "Nguyễn Văn An"},
        ]),
        "only the agreed fields, the ID masked, the address and birth date absent"
    );
    assert_eq!((page["total"].as_i64(), page["limit"].as_i64()), (Some(3), Some(2)));

    let r = call(&format!("{rows}/{CITIZEN}"), &p, &[], &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"so_cccd": "********1234", "ho_ten": "Nguyễn Văn An"}));
    let r = call(&format!("{rows}/999999999999"), &p, &[], &[]).await;
    assert_eq!(r.status, 404);

    // Asking for a field the agreement hides is refused, not quietly emptied.
    let r = call(&format!("{rows}?fields=dia_chi"), &p, &[], &[]).await;
    expect_fault(r, 403, "Client.AccessDenied", "the field \"dia_chi\" is not among those agreement");
    let r = call(&format!("{rows}?dia_chi=3%20Ng%C3%B4%20Gia%20T%E1%BB%B1"), &p, &[], &[]).await;
    expect_fault(r, 403, "Client.AccessDenied", "does not allow filtering on \"dia_chi\"");

    // A masked value cannot be recovered by ranges, ordering or search; looking a row up
    // by the whole value (which the consumer already knows) stays allowed.
    for probe in ["so_cccd.gte=079&so_cccd.lt=080", "so_cccd.ne=0", "sort=-so_cccd", "q=0792"] {
        let r = call(&format!("{rows}?{probe}"), &p, &[], &[]).await;
        expect_fault(r, 403, "Client.AccessDenied", "so_cccd");
    }
    let r = call(&format!("{rows}?so_cccd={CITIZEN}"), &p, &[], &[]).await;
    assert_eq!(r.json()["items"], json!([{"so_cccd": "********1234", "ho_ten": "Nguyễn Văn An"}]));

    // Masking without a choice of fields: every column, the ID masked, and no search.
    let whole = NewService { code: "dan-cu-day-du".into(), ..citizens_service_like(&service) };
    let whole = app.kho.register_service(&Subject::operator(), &AuditContext::operator(), whole).await.unwrap();
    agree(&app.kho, &whole, AgreementTerms { masked: vec!["so_cccd".into()], ..terms(&["GET /rows"]) }, true).await;
    let rows = format!("{}/r1/{PROVIDER}/dan-cu-day-du/rows", app.base);
    let r = call(&format!("{rows}?sort=ho_ten&limit=1"), &p, &[], &[]).await;
    let first = json!({"so_cccd": "********9012", "ho_ten": "Lê Văn Cường", "ngay_sinh": "1978-01-30", "dia_chi": "45 Trần Hưng Đạo"});
    assert_eq!(r.json()["items"], json!([first]));
    let r = call(&format!("{rows}?q=0792"), &p, &[], &[]).await;
    expect_fault(r, 403, "Client.AccessDenied", "q would search the masked so_cccd");
}

/// A new service over the same table as `service`.
fn citizens_service_like(service: &Service) -> NewService {
    NewService {
        provider: service.provider.clone(),
        code: service.code.clone(),
        description: service.description.clone(),
        target: service.target.clone(),
        timeout_ms: None,
        log_bodies: false,
    }
}

#[tokio::test]
async fn a_citizens_access_report_lists_the_exchanges_that_served_their_row() {
    let app = spawn_app().await;
    let (p, _, agreement) = masked_citizens(&app).await;
    let rows = format!("{}/r1/{PROVIDER}/dan-cu/rows", app.base);
    let r = call(&format!("{rows}/{CITIZEN}"), &p, &[], &[("x-road-issue", "HS-2026-0042")]).await;
    assert_eq!(r.status, 200);
    let served = r.header("x-road-id").unwrap();
    let r = call(&format!("{rows}/001204005678"), &p, &[], &[]).await;
    assert_eq!(r.status, 200);
    let other = r.header("x-road-id").unwrap();

    let report =
        app.kho.subject_access(&Subject::operator(), &AuditContext::operator(), &format!(" {CITIZEN} "), 100).await;
    let report = report.unwrap();
    let ids: Vec<&str> = report.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, [served.as_str()], "only the exchange that served {CITIZEN}, not {other}");
    let r = &report[0];
    assert_eq!((r.client.as_str(), r.purpose.as_str()), (CONSUMER, PURPOSE));
    assert_eq!(r.agreement_id.as_deref(), Some(agreement.id.as_str()));
    assert_eq!(r.issue.as_deref(), Some("HS-2026-0042"));
    assert!(r.subjects.iter().all(|s| !s.contains(CITIZEN)), "the log keeps digests, never the ID: {r:?}");
    // A page of rows served three citizens, each of whom now sees it.
    let r = call(&rows, &p, &[], &[]).await;
    let page = r.header("x-road-id").unwrap();
    assert_eq!(r.status, 200);
    let report = app.kho.subject_access(&Subject::operator(), &AuditContext::operator(), CITIZEN, 100).await.unwrap();
    assert_eq!(report.iter().map(|r| r.message_id.as_str()).collect::<Vec<_>>(), [page.as_str(), served.as_str()]);
}

#[tokio::test]
async fn the_message_log_is_read_by_period_in_the_api_and_on_its_page() {
    let app = spawn_app().await;
    let (p, _, _) = masked_citizens(&app).await;
    let r = call(&format!("{}/r1/{PROVIDER}/dan-cu/rows/{CITIZEN}", app.base), &p, &[], &[]).await;
    assert_eq!(r.status, 200);
    let served = r.header("x-road-id").unwrap();
    let today = chrono::Utc::now().date_naive();
    let (yesterday, tomorrow) = (today.pred_opt().unwrap(), today.succ_opt().unwrap());

    let admin = app.token("admin").await;
    let ids = |query: String| {
        let (app, admin) = (&app, &admin);
        async move {
            let page = app.get_json(&format!("/api/v1/exchange/messages?{query}"), admin).await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["message_id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(format!("from={today}&until={today}")).await, [served.as_str()], "a day takes the whole day in");
    assert_eq!(ids(format!("until={yesterday}")).await, Vec::<String>::new());
    assert_eq!(ids(format!("from={tomorrow}")).await, Vec::<String>::new());
    let an_hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(ids(format!("from={}", urlencoding(&an_hour_ago))).await, [served.as_str()], "an instant");
    let r = client()
        .get(app.url(&format!("/api/v1/exchange/messages?from={tomorrow}&until={yesterday}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("until: the period ends before it starts"));
    let r =
        client().get(app.url("/api/v1/exchange/messages?from=30/11/2026")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let error: Value = r.json().await.unwrap();
    assert!(error["message"].as_str().unwrap().contains("from: \"30/11/2026\" is neither a day"), "{error}");

    // The page's date fields.
    let (session, _) = app.session("auditor").await;
    let page = |query: String| {
        let (app, session) = (&app, &session);
        async move {
            let r = session.get(app.url(&format!("/admin/exchange/log?{query}"))).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, html) = page(format!("from={today}&until={today}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("data-message-id=\"{served}\"")), "{html}");
    assert!(html.contains(&format!("name=\"from\" value=\"{today}\"")), "the form keeps the period: {html}");
    let (status, html) = page(format!("from={tomorrow}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"no-messages\""), "{html}");
    let (status, html) = page("until=hôm-qua".into()).await;
    assert_eq!(status, 422);
    assert!(html.contains("is neither a day") && html.contains("id=\"no-messages\""), "{html}");

    // More than a page in the period: the link to the older page keeps the period, and
    // the first exchange is on that page.
    for _ in 0..100 {
        call(&format!("{}/r1/{PROVIDER}/dan-cu/rows/{CITIZEN}", app.base), &p, &[], &[]).await;
    }
    let (_, html) = page(format!("from={today}&until={today}")).await;
    assert!(!html.contains(&format!("data-message-id=\"{served}\"")), "the first exchange is on the older page");
    let older =
        html.split("id=\"older\" href=\"").nth(1).and_then(|rest| rest.split('"').next()).expect("an older page");
    let older = older.replace("&amp;", "&");
    assert!(older.contains(&format!("from={today}&until={today}&before=")), "{older}");
    let html = session.get(app.url(&older)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("data-message-id=\"{served}\"")), "{html}");
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn rate_limits_and_daily_quotas_answer_429_with_retry_after() {
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let backend = provider_backend().await;
    let persons = proxied(&app.kho, "persons", &backend, None, None).await;
    let counted = proxied(&app.kho, "counted", &backend, None, None).await;
    let slow_terms = AgreementTerms { rate_per_second: 1, burst: Some(1), ..terms(&["GET /v1/persons/*"]) };
    let agreement = agree(&app.kho, &persons, slow_terms, true).await;
    let daily = agree(&app.kho, &counted, AgreementTerms { daily_quota: Some(2), ..terms(&["GET /v1/*"]) }, true).await;
    let person = format!("{}/r1/{PROVIDER}/persons/v1/persons/{CITIZEN}", app.base);

    assert_eq!(call(&person, &p, &[], &[]).await.status, 200);
    let r = call(&person, &p, &[], &[]).await;
    let retry_after: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert_eq!(retry_after, 1);
    let says = format!("agreement {} allows 1 requests a second (burst 1)", agreement.id);
    expect_fault(r, 429, "Client.TooManyRequests", &says);
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(call(&person, &p, &[], &[]).await.status, 200, "allowed again after Retry-After");

    let counted = format!("{}/r1/{PROVIDER}/counted/v1/persons/{CITIZEN}", app.base);
    for _ in 0..2 {
        assert_eq!(call(&counted, &p, &[], &[]).await.status, 200);
    }
    let r = call(&counted, &p, &[], &[]).await;
    let retry_after: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=86_400).contains(&retry_after), "until midnight UTC: {retry_after}");
    expect_fault(r, 429, "Client.TooManyRequests", &format!("agreement {} allows 2 requests a day", daily.id));
}

#[tokio::test]
async fn a_slow_backend_is_a_504_and_a_closed_port_a_502() {
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let slow = proxied(&app.kho, "slow", &provider_backend().await, None, Some(300)).await;
    let down = proxied(&app.kho, "down", &closed_port_url(), None, None).await;
    agree(&app.kho, &slow, terms(&["GET /slow"]), true).await;
    agree(&app.kho, &down, terms(&["GET /v1/persons/*"]), true).await;

    let started = Instant::now();
    let r = call(&format!("{}/r1/{PROVIDER}/slow/slow", app.base), &p, &[], &[]).await;
    let took = started.elapsed();
    let timed_out = r.header("x-road-id").unwrap();
    expect_fault(r, 504, "Server.ServerProxy.NetworkError", "the backend did not answer within 300 ms");
    assert!(took < Duration::from_secs(3), "the service's timeout applies, not the backend's pace: {took:?}");
    let r = call(&format!("{}/r1/{PROVIDER}/down/v1/persons/{CITIZEN}", app.base), &p, &[], &[]).await;
    let refused = r.header("x-road-id").unwrap();
    expect_fault(r, 502, "Server.ServerProxy.ServiceFailed", "the backend refused or did not take the connection");

    for (id, status) in [(timed_out, 504), (refused, 502)] {
        let records = records_of(&app.kho, &id).await;
        assert_eq!(records.len(), 1);
        assert_eq!((records[0].status_code, records[0].succeeded), (status, false), "{records:?}");
    }

    // An Agent Node whose central node is down names the central node, not a backend.
    let agent = Agent::start(&closed_port_url(), &p).await;
    let r = call(&format!("{}/r1/{PROVIDER}/down/v1/persons/{CITIZEN}", agent.base), &p, &[], &[]).await;
    expect_fault(r, 502, "Server.ServerProxy.ServiceFailed", "the central node refused or did not take the connection");
}

#[tokio::test]
async fn a_caller_that_leaves_before_the_answer_still_has_its_record() {
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let slow = proxied(&app.kho, "slow", &provider_backend().await, None, Some(10_000)).await;
    agree(&app.kho, &slow, terms(&["GET /slow"]), true).await;
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(300)).build().unwrap();
    let sent = consumer_get(&impatient, format!("{}/r1/{PROVIDER}/slow/slow", app.base), &p, "roi-di-som").send().await;
    assert!(sent.is_err(), "the caller gives up before the backend answers");
    let mut records = Vec::new();
    for _ in 0..50 {
        records = records_of(&app.kho, "roi-di-som").await;
        if !records.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(records.len(), 1, "the abandoned exchange is logged once");
    let r = &records[0];
    assert_eq!((r.status_code, r.succeeded, r.fault_code.as_deref()), (499, false, Some("Client.ConnectionClosed")));
}

/// A GET written byte for byte, so the path reaches the gateway as it is (HTTP clients
/// resolve `..` before sending): the status and the headers of the answer.
async fn raw_get(base: &str, path: &str, p: &Parties) -> (u16, HashMap<String, String>) {
    let address = base.trim_start_matches("http://").to_string();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nX-Road-Client: {CONSUMER}\r\nX-Road-Purpose: {PURPOSE}\r\n\
         Authorization: Bearer {}\r\nConnection: close\r\n\r\n",
        p.token
    );
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    let head = answer.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

#[tokio::test]
async fn dot_segments_cannot_climb_out_of_an_agreed_endpoint() {
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let persons = proxied(&app.kho, "persons", &provider_backend().await, None, None).await;
    agree(&app.kho, &persons, terms(&["GET /v1/persons/*"]), true).await;
    let service = format!("/r1/{PROVIDER}/persons");

    let (status, _) = raw_get(&app.base, &format!("{service}/v1/persons/{CITIZEN}"), &p).await;
    assert_eq!(status, 200);
    // A backend that resolves dot segments would serve /admin, which no agreement covers.
    for climb in
        ["/v1/persons/../../admin", "/v1/persons/%2e%2E/%2E%2e/admin", "/v1/persons/..%2F..%2Fadmin", "/v1/persons/./x"]
    {
        let (status, headers) = raw_get(&app.base, &format!("{service}{climb}"), &p).await;
        assert_eq!(status, 400, "{climb} must be refused");
        assert_eq!(headers.get("x-road-error").map(String::as_str), Some("Client.BadRequest"), "{climb}");
    }
}

// ---- a provider changes and suspends its service -------------------------------------

/// A provider backend that names itself in every answer (`{"backend", "uri",
/// "authorization"}`, the last the header it received) and counts the requests it
/// receives; `/slow` answers after two seconds. Returns its base URL and the count.
async fn named_backend(name: &'static str) -> (String, Arc<AtomicUsize>) {
    let received = Arc::new(AtomicUsize::new(0));
    let counted = received.clone();
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "too late"
            }),
        )
        .fallback(move |uri: Uri, headers: HeaderMap| async move {
            let authorization = headers.get("authorization").map(|v| v.to_str().unwrap().to_string());
            Json(json!({"backend": name, "uri": uri.to_string(), "authorization": authorization}))
        })
        .layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
            counted.fetch_add(1, Ordering::SeqCst);
            next.run(request)
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// A JSON request to the API with a bearer token.
async fn send_json(app: &TestApp, method: reqwest::Method, path: &str, token: &str, body: &Value) -> reqwest::Response {
    client().request(method, app.url(path)).bearer_auth(token).json(body).send().await.unwrap()
}

#[tokio::test]
async fn a_provider_changes_its_service_and_suspends_it_and_consumers_read_the_notice() {
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let ((first, first_received), (second, second_received)) =
        (named_backend("first").await, named_backend("second").await);
    let persons = proxied(&app.kho, "persons", &first, None, None).await;
    agree(&app.kho, &persons, terms(&["GET /v1/persons/*", "GET /slow"]), true).await;
    let person = format!("{}/r1/{PROVIDER}/persons/v1/persons/{CITIZEN}", app.base);
    let answered_by = |r: Reply| {
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()["backend"].as_str().unwrap().to_string()
    };
    assert_eq!(answered_by(call(&person, &p, &[], &[]).await), "first");

    // The provider's agency is 000.00.01.H24, whose steward is steward.khcn; the service
    // is named by PROVIDER/CODE with its slashes encoded, or by its id.
    let steward = app.token("steward.khcn").await;
    let full_id = format!("{PROVIDER}/persons");
    let path = format!("/api/v1/exchange/services/{}", full_id.replace('/', "%2F"));
    let shown = app.get_json(&path, &steward).await;
    assert_eq!((&shown["id"], &shown["code"]), (&json!(persons.id), &json!("persons")), "{shown}");
    assert_eq!((&shown["disabled"], &shown["updated_at"]), (&Value::Null, &Value::Null), "{shown}");
    assert_eq!(shown["target"]["backend_url"], first.as_str());
    assert_eq!(app.get_json(&format!("/api/v1/exchange/services/{}", persons.id), &steward).await, shown);
    let unknown = client().get(app.url("/api/v1/exchange/services/VN%2FGOV%2F000.00.01.H24%2FREGISTRY%2Fnope"));
    expect_error(unknown.bearer_auth(&steward).send().await.unwrap(), 404, "not_found").await;

    // A new backend URL: the very next call goes there, and the first backend hears no more.
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({"backend_url": second})).await;
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["target"]["backend_url"], second.as_str());
    assert!(changed["updated_at"].is_string(), "{changed}");
    assert_eq!(changed["description"], shown["description"], "what the change does not name stays");
    assert_eq!(changed["target"]["openapi"], shown["target"]["openapi"]);
    let before = first_received.load(Ordering::SeqCst);
    assert_eq!(answered_by(call(&person, &p, &[], &[]).await), "second");
    assert_eq!(first_received.load(Ordering::SeqCst), before);
    assert_eq!(app.get_json(&path, &steward).await, changed, "the change is read back");
    // The same URL again changes nothing: nothing is written, the date stays.
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({"backend_url": second})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["updated_at"], changed["updated_at"], "no new change");

    // A token for the backend is sent from the next call and never shown back; "" removes it.
    let secret = "bi-mat-cua-backend";
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({"backend_token": secret})).await;
    assert_eq!(r.status(), 200);
    assert!(!r.text().await.unwrap().contains(secret));
    let r = call(&person, &p, &[], &[]).await;
    assert_eq!(r.json()["authorization"], format!("Bearer {secret}"));
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({"backend_token": ""})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(call(&person, &p, &[], &[]).await.json()["authorization"], Value::Null);

    // A timeout below the backend's pace is a 504 from the next call.
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({"timeout_ms": 300})).await;
    assert_eq!(r.status(), 200);
    let r = call(&format!("{}/r1/{PROVIDER}/persons/slow", app.base), &p, &[], &[]).await;
    expect_fault(r, 504, "Server.ServerProxy.NetworkError", "the backend did not answer within 300 ms");

    // Changes that change nothing, or name a dataset's setting, are refused and say why.
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({})).await;
    let empty = expect_error(r, 422, "invalid_field").await;
    assert!(empty["message"].as_str().unwrap().contains("name at least one setting to change"), "{empty}");
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({"filter": "nam_sinh > 1990"})).await;
    let dataset = expect_error(r, 422, "invalid_field").await;
    let says = format!("filter: {full_id} is a proxied service, which has no filter");
    assert!(dataset["message"].as_str().unwrap().contains(&says), "{dataset}");
    let r = send_json(&app, reqwest::Method::PATCH, &path, &steward, &json!({"backend_url": "ftp://10.0.0.5"})).await;
    expect_error(r, 422, "invalid_field").await;

    // Another agency's steward changes, suspends and resumes nothing.
    let outsider = app.token("steward.xa").await;
    let r = send_json(&app, reqwest::Method::PATCH, &path, &outsider, &json!({"timeout_ms": 5000})).await;
    expect_error(r, 403, "forbidden").await;
    let r = app.post_json(&format!("{path}/disable"), &outsider, &json!({"notice": "không phải của tôi"})).await;
    expect_error(r, 403, "forbidden").await;
    let r = client().post(app.url(&format!("{path}/enable"))).bearer_auth(&outsider).send().await.unwrap();
    expect_error(r, 403, "forbidden").await;
    let unchanged = app.get_json(&path, &steward).await;
    assert_eq!((&unchanged["timeout_ms"], &unchanged["disabled"]), (&json!(300), &Value::Null), "{unchanged}");

    // Suspended with a notice: the consumer reads the notice in an X-Road fault, the
    // backend hears nothing, and the exchange is in the message log.
    let r = app.post_json(&format!("{path}/disable"), &steward, &json!({"notice": " "})).await;
    expect_error(r, 422, "invalid_field").await;
    let notice = "Bảo trì hệ thống đến 18:00 ngày 05/12";
    let r = app.post_json(&format!("{path}/disable"), &steward, &json!({"notice": notice})).await;
    assert_eq!(r.status(), 200);
    let suspended: Value = r.json().await.unwrap();
    assert_eq!(suspended["disabled"]["notice"], notice, "{suspended}");
    assert!(suspended["disabled"]["at"].is_string(), "{suspended}");
    let before = second_received.load(Ordering::SeqCst);
    let r = call(&person, &p, &[], &[]).await;
    let refused = r.header("x-road-id").unwrap();
    expect_fault(
        r,
        503,
        "Server.ServerProxy.ServiceDisabled",
        &format!("{full_id} is suspended by its provider: {notice}"),
    );
    assert_eq!(second_received.load(Ordering::SeqCst), before, "nothing is forwarded to the backend");
    let records = records_of(&app.kho, &refused).await;
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!((r.status_code, r.succeeded), (503, false), "{r:?}");
    assert_eq!(r.fault_code.as_deref(), Some("Server.ServerProxy.ServiceDisabled"), "{r:?}");
    assert_eq!((r.service.as_str(), r.request_out_ts), (full_id.as_str(), None), "{r:?}");
    let shown = app.get_json(&path, &steward).await;
    assert_eq!(shown["disabled"], suspended["disabled"], "{shown}");

    let r = app.post_json(&format!("{path}/disable"), &steward, &json!({"notice": "lần nữa"})).await;
    let again = expect_error(r, 409, "conflict").await;
    assert!(again["message"].as_str().unwrap().contains("is already suspended since"), "{again}");
    assert!(again["message"].as_str().unwrap().contains(notice), "the notice in force: {again}");

    // Resumed (by an administrator here): calls reach the backend again.
    let admin = app.token("admin").await;
    let r = client().post(app.url(&format!("{path}/enable"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["disabled"], Value::Null);
    assert_eq!(answered_by(call(&person, &p, &[], &[]).await), "second");
    assert_eq!(second_received.load(Ordering::SeqCst), before + 1);
    let r = client().post(app.url(&format!("{path}/enable"))).bearer_auth(&steward).send().await.unwrap();
    let again = expect_error(r, 409, "conflict").await;
    assert!(again["message"].as_str().unwrap().contains(&format!("{full_id} is not suspended")), "{again}");
    assert_eq!(app.get_json(&path, &steward).await["disabled"], Value::Null);

    // Each change is audited under the service; the refusals too, under what was refused.
    let auditor = app.token("auditor").await;
    let audit = app
        .get_json(&format!("/api/v1/audit?target={}&limit=500", urlencoding(&format!("service:{full_id}"))), &auditor)
        .await;
    let mut entries: Vec<(String, String, String, Value)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let detail = serde_json::from_str(e["detail"].as_str().unwrap()).unwrap_or(Value::Null);
            let text = |f: &str| e[f].as_str().unwrap().to_string();
            (text("actor"), text("action"), text("outcome"), detail)
        })
        .collect();
    entries.reverse();
    let done: Vec<(&str, &str)> = entries
        .iter()
        .filter(|(_, _, outcome, _)| outcome == "success")
        .map(|(actor, action, _, _)| (actor.as_str(), action.as_str()))
        .collect();
    assert_eq!(
        done,
        [
            ("operator", "service.create"),
            ("user:steward.khcn", "service.update"),
            ("user:steward.khcn", "service.update"),
            ("user:steward.khcn", "service.update"),
            ("user:steward.khcn", "service.update"),
            ("user:steward.khcn", "service.disable"),
            ("user:admin", "service.enable"),
        ],
        "{entries:#?}"
    );
    let successes: Vec<&Value> = entries.iter().filter(|e| e.2 == "success").map(|e| &e.3).collect();
    let changed: Vec<Value> = successes[1..5].iter().map(|d| d["changed"].clone()).collect();
    let named = [json!(["backend_url"]), json!(["backend_token"]), json!(["backend_token"]), json!(["timeout_ms"])];
    assert_eq!(changed, named, "{entries:#?}");
    assert_eq!(successes[5]["notice"], notice, "{entries:#?}");
    assert!(!audit.to_string().contains(secret), "the token's value is never in the audit log");
    let mut denied: Vec<&str> = entries
        .iter()
        .filter(|(actor, _, outcome, _)| outcome == "denied" && actor == "user:steward.xa")
        .map(|(_, action, _, _)| action.as_str())
        .collect();
    denied.sort_unstable();
    assert_eq!(denied, ["service.disable", "service.enable", "service.update"], "{entries:#?}");
}

// ---- the message log ----------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Tamper {
    Alter,
    /// The fields text replaced by something that is not a record at all.
    Garble,
    Delete,
    Swap,
}

impl Tamper {
    fn statements(self) -> &'static [&'static str] {
        match self {
            Self::Alter => {
                &["UPDATE message_log SET fields = replace(fields, '\"xac-minh-cu-tru\"', '\"quang-cao\"') \
                 WHERE seq = 2"]
            }
            Self::Garble => &["UPDATE message_log SET fields = 'gone' WHERE seq = 2"],
            Self::Delete => &["DELETE FROM message_log WHERE seq = 2"],
            // Records 2 and 3 trade places: every field but seq.
            Self::Swap => &[
                "UPDATE message_log SET seq = -2 WHERE seq = 2",
                "UPDATE message_log SET seq = 2 WHERE seq = 3",
                "UPDATE message_log SET seq = 3 WHERE seq = -2",
            ],
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::Alter | Self::Garble => "record 2 was altered",
            Self::Delete => "record 2 is missing: record 3 follows record 1",
            Self::Swap => "record 2 does not follow record 1",
        }
    }
}

/// A central node on `db` whose log holds four exchanges.
async fn central_with_four_exchanges(db: Option<TestDb>) -> Central {
    let central = Central::start(db).await;
    let p = Parties::create(&central.kho).await;
    let persons = proxied(&central.kho, "persons", &provider_backend().await, None, None).await;
    agree(&central.kho, &persons, terms(&["GET /v1/persons/*"]), true).await;
    for n in 1..=4 {
        let url = format!("{}/r1/{PROVIDER}/persons/v1/persons/{n:012}", central.base);
        assert_eq!(call(&url, &p, &[], &[]).await.status, 200);
    }
    central
}

async fn tamper_and_verify(db: Option<TestDb>, tamper: Tamper) {
    let central = central_with_four_exchanges(db).await;
    let before = central.kho.verify_messages().await.unwrap();
    assert!(before.intact, "{} before tampering: {}", central.backend(), before.message);
    assert_eq!(before.records, 4);

    let raw = sqlx::AnyPool::connect(&central.db_url).await.unwrap();
    for statement in tamper.statements() {
        sqlx::query(statement).execute(&raw).await.unwrap();
    }
    let after = central.kho.verify_messages().await.unwrap();
    assert!(!after.intact, "{} after {tamper:?}: {}", central.backend(), after.message);
    let first = after.first_break.expect("the first bad record");
    assert_eq!(first.seq, 2, "{} after {tamper:?}: {}", central.backend(), after.message);
    assert!(first.reason.contains(tamper.reason()), "{} after {tamper:?}: {}", central.backend(), first.reason);
    assert!(after.message.starts_with("broken at record 2: "), "{}", after.message);
}

/// `service`'s health as the API shows it to the auditor.
async fn health_of(base: &str, service: &str) -> Value {
    let c = client();
    let login = json!({"username": "auditor", "password": PASSWORD});
    assert_eq!(c.post(format!("{base}/api/v1/session")).json(&login).send().await.unwrap().status(), 200);
    let r = c.get(format!("{base}/api/v1/exchange/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let found = body["items"].as_array().unwrap().iter().find(|h| h["service"] == service);
    found.cloned().unwrap_or_else(|| panic!("no health for {service}: {body}"))
}

/// Each service's health is counted from the message log: after a restart the API still
/// counts the exchanges served before it.
#[tokio::test]
async fn service_health_is_counted_from_the_message_log_and_survives_a_restart() {
    let mut central = Central::start(TestDb::postgres().await).await;
    let p = Parties::create(&central.kho).await;
    let persons = proxied(&central.kho, "persons", &provider_backend().await, None, None).await;
    agree(&central.kho, &persons, terms(&["GET /v1/persons/*"]), true).await;
    let service = format!("{PROVIDER}/persons");
    let call_path = |base: &str, path: &str| format!("{base}/r1/{PROVIDER}/persons{path}");
    for _ in 0..2 {
        assert_eq!(call(&call_path(&central.base, &format!("/v1/persons/{CITIZEN}")), &p, &[], &[]).await.status, 200);
    }
    assert_eq!(call(&call_path(&central.base, "/v2/everyone"), &p, &[], &[]).await.status, 403);
    let unauthenticated = client().get(format!("{}/api/v1/exchange/health", central.base)).send().await.unwrap();
    expect_error(unauthenticated, 401, "unauthenticated").await;
    let before = health_of(&central.base, &service).await;
    assert_eq!((&before["successes"], &before["failures"]), (&json!(2), &json!(1)), "{before}");
    assert!(before["last_success"].is_string() && before["last_failure"].is_string(), "{before}");
    let (min, avg, max) =
        (before["min_ms"].as_f64().unwrap(), before["avg_ms"].as_f64().unwrap(), before["max_ms"].as_f64().unwrap());
    assert!(0.0 <= min && min <= avg && avg <= max, "{before}");

    central.restart().await;
    assert_eq!(call(&call_path(&central.base, &format!("/v1/persons/{CITIZEN}")), &p, &[], &[]).await.status, 200);
    let after = health_of(&central.base, &service).await;
    assert_eq!((&after["successes"], &after["failures"]), (&json!(3), &json!(1)), "{after}");
    assert_eq!(after["since"], before["since"], "{after}");
    assert_eq!(after["last_failure"], before["last_failure"]);
    assert!(after["last_success"].as_str() > before["last_success"].as_str(), "{after}");
    central.stop().await;
}

#[tokio::test]
async fn a_tampered_message_log_is_detected_on_sqlite_and_postgresql() {
    for tamper in [Tamper::Alter, Tamper::Garble, Tamper::Delete, Tamper::Swap] {
        tamper_and_verify(None, tamper).await;
        // Outside CI without KHO_TEST_POSTGRES_URL the PostgreSQL run is skipped; in CI it is required.
        if let Some(db) = TestDb::postgres().await {
            tamper_and_verify(Some(db), tamper).await;
        }
    }
}

#[tokio::test]
async fn an_exported_log_verifies_offline_and_a_tampered_line_does_not() {
    let mut central = central_with_four_exchanges(TestDb::postgres().await).await;
    // A graceful stop signs a last checkpoint over the whole log.
    central.stop().await;
    let mut bundle = Vec::new();
    assert_eq!(central.kho.export_messages(&mut bundle).await.unwrap(), 4);
    let key = central.kho.node_keys().unwrap().signing.public_hex();
    let report = kho_exchange::msglog::verify_bundle(bundle.as_slice(), Some(&key)).unwrap();
    assert!(report.intact, "{}", report.message);
    assert_eq!((report.records, report.checkpoints, report.unsigned_tail), (4, 1, 0), "{}", report.message);

    let text = String::from_utf8(bundle).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let second = lines.iter().position(|l| l.starts_with("{\"record\":{\"seq\":2,")).expect("record 2's line");
    let mut tampered: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    tampered[second] = tampered[second].replace(&format!("\"purpose\":\"{PURPOSE}\""), "\"purpose\":\"quang-cao\"");
    assert_ne!(tampered[second], lines[second]);
    let report = kho_exchange::msglog::verify_bundle(tampered.join("\n").as_bytes(), Some(&key)).unwrap();
    assert!(!report.intact);
    assert_eq!(report.first_break.as_ref().map(|b| b.seq), Some(2), "{}", report.message);
    assert!(report.message.contains("record 2 was altered"), "{}", report.message);
    let stranger = kho_exchange::msglog::NodeKey::generate().public_hex();
    let report = kho_exchange::msglog::verify_bundle(text.as_bytes(), Some(&stranger)).unwrap();
    assert!(!report.intact, "a bundle signed by another key does not verify: {}", report.message);
}

/// Makes `n` calls of `url` (each allowed), moves them into the store and waits for the
/// checkpoint the log signs over them (each move is signed: see `archive_and_verify`).
async fn exchanges_signed(kho: &Kho, url: &str, p: &Parties, n: usize) -> i64 {
    for _ in 0..n {
        assert_eq!(call(url, p, &[], &[]).await.status, 200);
    }
    kho.settle_message_log().await.unwrap();
    let head = kho.store.message_head().await.unwrap().0;
    for _ in 0..200 {
        if kho.store.checkpoints().await.unwrap().last().is_some_and(|c| c.seq == head) {
            return head;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no checkpoint over record {head}");
}

async fn archive_and_verify(db: Option<TestDb>) {
    let central = Central::start_with(db, |s| s.checkpoint_every_records = 1).await;
    let backend = central.backend();
    let p = Parties::create(&central.kho).await;
    let persons = proxied(&central.kho, "persons", &provider_backend().await, None, None).await;
    agree(&central.kho, &persons, terms(&["GET /v1/persons/*"]), true).await;
    let files = tempfile::tempdir().unwrap();
    let (first, second) = (files.path().join("2026-q1.ndjson"), files.path().join("2026-q2.ndjson"));
    let ctx = AuditContext::operator();
    let kho = &central.kho;
    let url = format!("{}/r1/{PROVIDER}/persons/v1/persons/000000000001", central.base);

    assert_eq!(exchanges_signed(kho, &url, &p, 2).await, 2);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let cut = kho_core::time::now();
    assert_eq!(exchanges_signed(kho, &url, &p, 3).await, 5);

    // A log that does not verify is not archived, and nothing changes.
    let raw = sqlx::AnyPool::connect(&central.db_url).await.unwrap();
    let fields: String =
        sqlx::query_scalar("SELECT fields FROM message_log WHERE seq = 1").fetch_one(&raw).await.unwrap();
    sqlx::query("UPDATE message_log SET fields = 'gone' WHERE seq = 1").execute(&raw).await.unwrap();
    let refused = kho.archive_messages(&ctx, cut, &first, &|_| {}).await.unwrap_err();
    assert!(refused.message.contains("does not verify") && refused.message.contains("record 1"), "{}", refused.message);
    assert!(!first.exists() && std::fs::read_dir(files.path()).unwrap().next().is_none(), "{backend}: no file is left");
    assert_eq!(kho.store.count_messages().await.unwrap(), 5);
    sqlx::query("UPDATE message_log SET fields = $1 WHERE seq = 1").bind(&fields).execute(&raw).await.unwrap();

    // Records 1–2 (signed before the cut) leave the store; what it keeps still verifies.
    let a = kho.archive_messages(&ctx, cut, &first, &|_| {}).await.unwrap();
    assert_eq!((a.start.seq, a.end.seq, a.records), (0, 2, 2), "{backend}");
    assert_eq!(a.file, first.display().to_string());
    assert_eq!(kho.store.count_messages().await.unwrap(), 3, "{backend}");
    let report = kho.verify_messages().await.unwrap();
    assert!(report.intact, "{backend}: {}", report.message);
    assert_eq!((report.records, report.start.seq), (3, 2), "{backend}: {}", report.message);
    assert!(report.message.contains("records 1 to 2 are archived in 1 file(s)"), "{}", report.message);
    let again = kho.archive_messages(&ctx, cut, &second, &|_| {}).await.unwrap_err();
    assert!(again.message.contains("nothing to archive yet"), "{}", again.message);
    let exists = kho.archive_messages(&ctx, kho_core::time::now(), &first, &|_| {}).await.unwrap_err();
    assert!(exists.message.contains("never overwritten"), "{}", exists.message);

    // The second archive continues the first; with an export of what came after, the
    // three files verify offline as one chain, and only in their order.
    let b = kho.archive_messages(&ctx, kho_core::time::now(), &second, &|_| {}).await.unwrap();
    assert_eq!((b.start.seq, b.end.seq, b.records), (2, 5, 3), "{backend}");
    assert_eq!(kho.store.count_messages().await.unwrap(), 0);
    assert!(kho.verify_messages().await.unwrap().intact);
    assert_eq!(exchanges_signed(kho, &url, &p, 1).await, 6);
    let mut export = Vec::new();
    assert_eq!(kho.export_messages(&mut export).await.unwrap(), 1);
    let key = kho.node_keys().unwrap().signing.public_hex();
    let open = |f: &std::path::Path| std::io::BufReader::new(std::fs::File::open(f).unwrap());
    let files_then_export = |order: [&std::path::Path; 2]| {
        let mut parts: Vec<(String, Box<dyn std::io::BufRead>)> =
            order.iter().map(|f| (f.display().to_string(), Box::new(open(f)) as Box<dyn std::io::BufRead>)).collect();
        parts.push(("export".into(), Box::new(export.as_slice())));
        kho_exchange::msglog::verify_bundles(parts, Some(&key)).unwrap()
    };
    let chain = files_then_export([&first, &second]);
    assert!(chain.intact, "{backend}: {}", chain.message);
    assert_eq!((chain.records, chain.checkpoints), (6, 3), "{}", chain.message);
    let swapped = files_then_export([&second, &first]);
    assert!(!swapped.intact && swapped.message.contains("do not continue one another"), "{}", swapped.message);
    let archived = kho.store.message_archives().await.unwrap();
    assert_eq!(archived.iter().map(|a| a.end.seq).collect::<Vec<_>>(), [2, 5]);
    let sha = |f: &std::path::Path| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(f).unwrap()))
    };
    assert_eq!((archived[0].sha256.clone(), archived[1].sha256.clone()), (sha(&first), sha(&second)));

    // An archive row changed without the node's key is caught by its signature…
    sqlx::query("UPDATE message_archives SET sha256 = $1 WHERE end_seq = 5")
        .bind("0".repeat(64))
        .execute(&raw)
        .await
        .unwrap();
    let forged = kho.verify_messages().await.unwrap();
    assert!(!forged.intact, "{backend}: {}", forged.message);
    assert!(forged.message.contains("the archive of records 3 to 5 does not verify"), "{backend}: {}", forged.message);
    // …and one removed to hide that records left: the store's chain then starts after
    // the first archive, and records 3 to 5 are missing.
    sqlx::query("DELETE FROM message_archives WHERE end_seq = 5").execute(&raw).await.unwrap();
    let hidden = kho.verify_messages().await.unwrap();
    assert!(!hidden.intact, "{backend}: {}", hidden.message);
    assert!(hidden.message.contains("records 3 to 5 are missing"), "{backend}: {}", hidden.message);
}

#[tokio::test]
async fn the_message_log_is_archived_into_files_that_verify_as_one_chain_on_sqlite_and_postgresql() {
    archive_and_verify(None).await;
    // Outside CI without KHO_TEST_POSTGRES_URL the PostgreSQL run is skipped; in CI it is required.
    if let Some(db) = TestDb::postgres().await {
        archive_and_verify(Some(db)).await;
    }
}

#[tokio::test]
async fn archives_are_listed_and_the_access_report_searches_their_files_in_the_api_and_on_the_log_page() {
    let app = spawn_app_with(|s| s.checkpoint_every_records = 1).await;
    let (p, _, _) = masked_citizens(&app).await;
    let url = format!("{}/r1/{PROVIDER}/dan-cu/rows/{CITIZEN}", app.base);
    assert_eq!(exchanges_signed(&app.kho, &url, &p, 2).await, 2);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nhat-ky-2026.ndjson");
    let ctx = AuditContext::operator();
    app.kho.archive_messages(&ctx, kho_core::time::now(), &file, &|_| {}).await.unwrap();

    let admin = app.token("admin").await;
    let listed = app.get_json("/api/v1/exchange/archives", &admin).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!((items[0]["start"]["seq"].as_i64(), items[0]["end"]["seq"].as_i64()), (Some(0), Some(2)));
    assert_eq!(items[0]["file"], file.display().to_string());
    let messages = app.get_json("/api/v1/exchange/messages", &admin).await;
    assert_eq!((messages["archived_through"].as_i64(), messages["items"].as_array().map(Vec::len)), (Some(2), Some(0)));
    let viewer = app.token("viewer.taichinh").await;
    let r = client().get(app.url("/api/v1/exchange/archives")).bearer_auth(&viewer).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // The access report finds the archived exchanges in the file, and a newer one in the store.
    assert_eq!(call(&url, &p, &[], &[]).await.status, 200);
    let report = |query: String| {
        let (app, admin) = (&app, &admin);
        async move { app.get_json(&format!("/api/v1/exchange/access-report?subject={CITIZEN}{query}"), admin).await }
    };
    let seqs = |r: &serde_json::Value| {
        r["items"].as_array().unwrap().iter().map(|i| i["seq"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    let whole = report(String::new()).await;
    assert_eq!(seqs(&whole), [3, 2, 1], "{whole}");
    assert_eq!(whole["archived_through"], 2, "{whole}");
    assert_eq!(
        (whole["archives"][0]["outcome"].as_str(), whole["archives"][0]["found"].as_i64()),
        (Some("searched"), Some(2))
    );
    let newest = report("&limit=1".into()).await;
    assert_eq!((seqs(&newest), newest["archives"][0]["outcome"].as_str()), (vec![3], Some("not_needed")), "{newest}");
    let nobody = app.get_json("/api/v1/exchange/access-report?subject=001099000001", &admin).await;
    assert_eq!(
        (seqs(&nobody), nobody["archives"][0]["found"].as_i64()),
        (vec![], Some(0)),
        "another person matches nothing"
    );

    let (session, csrf) = app.session("auditor").await;
    let html = session.get(app.url("/admin/exchange/log")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"archives\"") && html.contains("#1 – #2 (2)"), "{html}");
    assert!(html.contains(&file.display().to_string()), "{html}");
    let look_up = || async {
        let form = [("identifier", CITIZEN), ("csrf_token", csrf.as_str())];
        let r = session.post(app.url("/admin/exchange/log/access")).form(&form).send().await.unwrap();
        r.text().await.unwrap()
    };
    let html = look_up().await;
    let rows = html
        .split("id=\"access-report\"")
        .nth(1)
        .map_or(0, |t| t.split("</table>").next().unwrap().matches("<tr>").count());
    assert_eq!(rows, 4, "a heading and three exchanges: {html}");
    assert!(html.contains("data-outcome=\"Searched\"") && html.contains("đã tra cứu, số lần tìm thấy: 2"), "{html}");

    // A file changed after it was archived is not trusted: its exchanges are left out and
    // the report says why; moved away, it is named as missing, and a copy given is searched.
    let original = std::fs::read(&file).unwrap();
    let mut changed = original.clone();
    changed.extend_from_slice(b"\n");
    std::fs::write(&file, &changed).unwrap();
    let altered = report(String::new()).await;
    assert_eq!((seqs(&altered), altered["archives"][0]["outcome"].as_str()), (vec![3], Some("altered")), "{altered}");
    assert!(altered["archives"][0]["note"].as_str().unwrap().contains("is not the one archived"), "{altered}");
    let html = look_up().await;
    assert!(html.contains("data-outcome=\"Altered\"") && html.contains("tệp đã bị thay đổi"), "{html}");
    let copy = dir.path().join("ban-sao.ndjson");
    std::fs::write(&copy, &original).unwrap();
    std::fs::remove_file(&file).unwrap();
    let missing = report(String::new()).await;
    assert_eq!((seqs(&missing), missing["archives"][0]["outcome"].as_str()), (vec![3], Some("missing")), "{missing}");
    let with_copy = vec![(
        copy.display().to_string(),
        Box::new(std::io::BufReader::new(std::fs::File::open(&copy).unwrap())) as Box<dyn std::io::BufRead + Send>,
    )];
    let found = app.kho.access_report(&Subject::operator(), &ctx, CITIZEN, 100, with_copy).await.unwrap();
    assert_eq!(found.records.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 2, 1], "the copy given is searched");
}

#[tokio::test]
async fn a_node_given_an_archive_directory_archives_its_old_records_by_itself_and_shows_when() {
    let place = tempfile::tempdir().unwrap();
    let dir = place.path().join("luu-tru");
    let app = spawn_app_with(|s| {
        s.checkpoint_every_records = 1;
        s.archive_dir = Some(dir.clone());
        s.archive_keep_days = 1;
    })
    .await;
    let (p, _, _) = masked_citizens(&app).await;
    let url = format!("{}/r1/{PROVIDER}/dan-cu/rows/{CITIZEN}", app.base);
    assert_eq!(exchanges_signed(&app.kho, &url, &p, 2).await, 2);

    // The schedule is shown: daily at 02:00 Vietnam time, the next within a day.
    let admin = app.token("admin").await;
    let listed = app.get_json("/api/v1/exchange/archives", &admin).await;
    let schedule = &listed["schedule"];
    assert_eq!((schedule["dir"].as_str(), schedule["keep_days"].as_i64()), (dir.to_str(), Some(1)), "{listed}");
    let next: chrono::DateTime<chrono::Utc> = schedule["next_at"].as_str().unwrap().parse().unwrap();
    let ahead = next - chrono::Utc::now();
    assert!(ahead > chrono::Duration::zero() && ahead <= chrono::Duration::days(1), "{listed}");
    assert_eq!(
        next.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap()).format("%H:%M").to_string(),
        "02:00"
    );
    let (session, _) = app.session("auditor").await;
    let html = session.get(app.url("/admin/exchange/log")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"archive-schedule\"") && html.contains("Lưu trữ tự động hằng ngày lúc 02:00"), "{html}");

    // Today's records are younger than a day: the daily archive leaves them.
    let now = chrono::Utc::now();
    assert!(archiver::archive_once(&app.kho, now).await.unwrap().is_none());
    assert!(!dir.exists(), "no directory and no file for nothing");
    // Two days on, they are old enough: they move into a file in the directory.
    let a = archiver::archive_once(&app.kho, now + chrono::Duration::days(2)).await.unwrap().expect("an archive");
    assert_eq!((a.start.seq, a.end.seq, a.records), (0, 2, 2));
    let file = std::path::PathBuf::from(&a.file);
    assert_eq!(file.parent(), Some(dir.as_path()));
    assert!(file.file_name().unwrap().to_str().unwrap().starts_with("nhat-ky-thong-diep-"), "{}", a.file);
    assert_eq!(app.kho.store.count_messages().await.unwrap(), 0);
    let report = app.kho.verify_messages().await.unwrap();
    assert!(report.intact, "{}", report.message);
    let audited = app.kho.store.audit_range(0, 100_000).await.unwrap();
    let entry = audited.iter().rfind(|e| e.action == "message_log.archive").expect("the archive is audited");
    assert_eq!(entry.request_id.as_deref(), Some("daily-archive"));
    // The access report still finds them, in the file.
    let found =
        app.kho.access_report(&Subject::operator(), &AuditContext::operator(), CITIZEN, 100, Vec::new()).await.unwrap();
    assert_eq!(found.records.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 1]);
}

// ---- a client that knows only the protocol ------------------------------------------

#[tokio::test]
async fn a_plain_http_xroad_client_calls_dataset_and_proxied_services_and_metaservices() {
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "python3 must be installed in CI");
        eprintln!("python3 not found: skipping the plain X-Road client");
        return;
    }
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let dataset = citizens_service(&app, "dan-cu").await;
    let persons = proxied(&app.kho, "persons", &provider_backend().await, None, None).await;
    agree(&app.kho, &dataset, masked_terms(), true).await;
    agree(&app.kho, &persons, terms(&["GET /v1/persons/*"]), true).await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/xroad_client.py");
    let mut command = std::process::Command::new("python3");
    command
        .arg(script)
        .env("XROAD_BASE", &app.base)
        .env("XROAD_CLIENT", CONSUMER)
        .env("XROAD_TOKEN", &p.token)
        .env("XROAD_PURPOSE", PURPOSE)
        .env("XROAD_PROVIDER", PROVIDER)
        .env("XROAD_DATASET_SERVICE", "dan-cu")
        .env("XROAD_ROW_KEY", CITIZEN)
        .env("XROAD_PROXIED_SERVICE", "persons")
        .env("XROAD_PROXIED_PATH", format!("/v1/persons/{CITIZEN}"));
    let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().expect("run python3");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    eprintln!("{stdout}");
    assert!(output.status.success(), "the plain client failed ({}):\n{stdout}\n{stderr}", output.status);
    assert!(stdout.contains("all checks passed"), "{stdout}");

    // Its service calls are in the log under the ids it chose.
    let records = all_records(&app.kho).await;
    let by_service = |s: &str| records.iter().filter(|r| r.service == format!("{PROVIDER}/{s}")).count();
    assert!(by_service("dan-cu") >= 2 && by_service("persons") >= 1, "{records:#?}");
    assert!(records.iter().any(|r| r.service.ends_with("/listMethods")));
}

// ---- streaming ----------------------------------------------------------------------

/// Bytes each way in the streaming test, sent as a first MiB and then the rest.
const STREAMED: usize = 8 << 20;
const PIECE: usize = 1 << 20;

/// A backend whose `GET /download` sends a first MiB and the rest only once `release`
/// is notified, and whose `POST /upload` notifies `seen` on the first bytes of the body
/// and answers with the number of bytes it received.
async fn streaming_backend(release: Arc<tokio::sync::Notify>, seen: Arc<tokio::sync::Notify>) -> String {
    let download = get(move || async move {
        let pieces = futures::stream::unfold(0usize, move |sent| {
            let release = release.clone();
            async move {
                if sent == STREAMED {
                    return None;
                }
                if sent == PIECE {
                    // The rest waits until the caller has the first MiB.
                    if tokio::time::timeout(Duration::from_secs(30), release.notified()).await.is_err() {
                        return Some((Err(std::io::Error::other("the first MiB never reached the caller")), sent));
                    }
                }
                Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b'd'; PIECE])), sent + PIECE))
            }
        });
        axum::body::Body::from_stream(pieces)
    });
    let upload = post(move |mut body: axum::body::Body| async move {
        use http_body_util::BodyExt;
        let mut received = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.unwrap().into_data() else { continue };
            if received == 0 && !data.is_empty() {
                seen.notify_one();
            }
            received += data.len();
        }
        Json(json!({ "received": received }))
    });
    let app = Router::new().route("/download", download).route("/upload", upload);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn bodies_stream_both_ways_and_are_never_held_whole() {
    let app = spawn_app().await;
    let p = Parties::create(&app.kho).await;
    let (release, seen) = (Arc::new(tokio::sync::Notify::new()), Arc::new(tokio::sync::Notify::new()));
    let files = proxied(&app.kho, "files", &streaming_backend(release.clone(), seen.clone()).await, None, None).await;
    agree(&app.kho, &files, terms(&["GET /download", "POST /upload"]), true).await;
    let wait = Duration::from_secs(10);

    // Download: the caller has the first MiB while the backend still holds the rest.
    let download = format!("{}/r1/{PROVIDER}/files/download", app.base);
    let mut r = consumer_get(&client(), download, &p, "tai-xuong").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let mut got = tokio::time::timeout(wait, r.chunk())
        .await
        .expect("the answer's first bytes arrive before the backend sends the rest")
        .unwrap()
        .expect("a first chunk")
        .len();
    release.notify_one();
    while let Some(chunk) = r.chunk().await.unwrap() {
        got += chunk.len();
    }
    assert_eq!(got, STREAMED);

    // Upload: the backend has the first MiB before the caller sends the rest.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /r1/{PROVIDER}/files/upload HTTP/1.1\r\nHost: {address}\r\nX-Road-Client: {CONSUMER}\r\n\
         X-Road-Purpose: {PURPOSE}\r\nX-Road-Id: tai-len\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        p.token
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let piece = [format!("{PIECE:x}\r\n").into_bytes(), vec![b'u'; PIECE], b"\r\n".to_vec()].concat();
    tcp.write_all(&piece).await.unwrap();
    tokio::time::timeout(wait, seen.notified()).await.expect("the backend has the first bytes before the rest is sent");
    for _ in 1..STREAMED / PIECE {
        tcp.write_all(&piece).await.unwrap();
    }
    tcp.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let receipt = json!({ "received": STREAMED }).to_string();
    assert!(answer.ends_with(&receipt), "{answer}");

    let uploaded = (STREAMED as i64, receipt.len() as i64);
    for (id, (request_size, response_size)) in [("tai-xuong", (0, STREAMED as i64)), ("tai-len", uploaded)] {
        let records = records_of(&app.kho, id).await;
        assert_eq!(records.len(), 1, "{id}");
        let r = &records[0];
        assert_eq!((r.status_code, r.request_size, r.response_size), (200, request_size, response_size), "{id}");
    }
}
