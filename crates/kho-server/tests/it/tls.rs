//! Mutual TLS between an Agent Node and the central node: the central node serves
//! HTTPS and accepts client certificates issued by the province's CA; a subsystem whose
//! certificate is registered is let through without a token, until the certificate is
//! revoked. Certificates are made with the `openssl` command, as an operator would.

use crate::gateway::subsystem;
use crate::{spawn_app_with, TestApp, PASSWORD};
use kho_core::audit::AuditContext;
use kho_core::identity::{Subject, SubsystemId};
use kho_exchange::{AgreementTerms, NewService, ServiceTarget};
use kho_server::gateway::AgentSettings;
use kho_server::tls::TlsFiles;
use kho_server::{AgentNode, Settings};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const CONSUMER: &str = "VN/GOV/000.00.02.H24/TRO-CAP";
const PROVIDER: &str = "VN/GOV/000.00.01.H24/DOANH-NGHIEP";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the
/// CA, in `dir`: `ca.pem`, `server.pem` and `server.key`, `client.pem` and `client.key`.
pub fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Kho test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    for (name, ext) in [
        ("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"),
        ("client", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                &format!("/CN=kho-{name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-out",
                &format!("{name}.pem"),
                "-extfile",
                &format!("{name}.ext"),
            ],
        );
    }
}

async fn backend() -> String {
    let app = axum::Router::new().route(
        "/v1/companies/{id}",
        axum::routing::get(|axum::extract::Path(id): axum::extract::Path<String>| async move {
            axum::Json(serde_json::json!({"ma_so_thue": id, "ten": "Công ty TNHH Đổi Mới"}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The SHA-256 fingerprint of a PEM certificate as `openssl x509 -fingerprint` prints
/// it (`AB:CD:…`), to hold Kho's own against.
pub fn openssl_fingerprint(pem: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(pem)
        .output()
        .expect("the openssl command runs");
    assert!(out.status.success(), "openssl x509 -fingerprint: {}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    printed.trim().split_once('=').unwrap_or_else(|| panic!("a fingerprint: {printed}")).1.to_string()
}

/// The central node serving HTTPS with the test CA's server certificate and accepting
/// the CA's client certificates; the consumer and the provider; the provider's service
/// on a live backend; the consumer's approved agreement; and the consumer's client
/// certificate registered, labelled "agent".
struct Province {
    /// Held for its data directory and database, which the running node uses.
    _app: TestApp,
    /// The certificates and keys, and the Agent Nodes' data directories.
    certs: tempfile::TempDir,
    /// The central node's `https://` address.
    central: String,
}

impl Province {
    async fn start() -> Self {
        let certs = tempfile::tempdir().unwrap();
        certificates(certs.path());
        let p = |f: &str| certs.path().join(f);
        let files = TlsFiles { cert: p("server.pem"), key: p("server.key"), client_ca: Some(p("ca.pem")) };
        let app = spawn_app_with(move |s| s.tls = Some(files)).await;
        let central = app.base.replace("http://", "https://");
        let (operator, ctx) = (Subject::operator(), AuditContext::operator());
        for (xroad, agency) in [(CONSUMER, "000.00.02.H24"), (PROVIDER, "000.00.01.H24")] {
            subsystem(&app.kho, xroad, agency, xroad).await;
        }
        let service = NewService {
            provider: SubsystemId::parse(PROVIDER).unwrap(),
            code: "doanh-nghiep".into(),
            description: String::new(),
            target: ServiceTarget::Proxied { backend_url: backend().await, openapi: None, backend_token: None },
            timeout_ms: None,
            log_bodies: false,
        };
        app.kho.register_service(&operator, &ctx, service).await.unwrap();
        let terms: AgreementTerms =
            serde_json::from_value(json!({"endpoints": ["GET /v1/*"], "purposes": ["thanh-tra"]})).unwrap();
        let consumer = SubsystemId::parse(CONSUMER).unwrap();
        let service_id = format!("{PROVIDER}/doanh-nghiep");
        app.kho.request_agreement(&operator, &ctx, &consumer, &service_id, &terms, true).await.unwrap();
        let pem = std::fs::read(p("client.pem")).unwrap();
        app.kho.register_certificate(&operator, &ctx, CONSUMER, &pem, "agent").await.unwrap();
        Self { _app: app, certs, central }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.certs.path().join(name)
    }

    /// A new Agent Node of the consumer that connects to the central node with the
    /// client certificate or without one, and never holds a token; its address.
    async fn agent(&self, with_certificate: bool) -> String {
        // Inside the certificates' directory, which goes with them.
        let dir = tempfile::tempdir_in(self.certs.path()).unwrap().keep();
        let mut settings = Settings::for_data_dir(&dir);
        settings.listen = "127.0.0.1:0".into();
        let identity = with_certificate.then(|| (self.file("client.pem"), self.file("client.key")));
        let node = AgentNode::build(
            settings,
            AgentSettings {
                central: self.central.clone(),
                subsystem: SubsystemId::parse(CONSUMER).unwrap(),
                token: None,
                backend_token: None,
                backends: Default::default(),
                central_ca: Some(self.file("ca.pem")),
                identity,
            },
        )
        .await
        .unwrap();
        let url = format!("http://{}", node.address());
        tokio::spawn(node.run_until(std::future::pending()));
        url
    }
}

/// The consumer's system asking its Agent Node for a company.
async fn call(agent: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{agent}/r1/{PROVIDER}/doanh-nghiep/v1/companies/0101234567"))
        .header("X-Road-Client", CONSUMER)
        .header("X-Road-Purpose", "thanh-tra")
        .send()
        .await
        .unwrap()
}

/// Asserts the central node's refusal, passed on by the Agent Node.
async fn expect_unauthorized(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-road-error"], "Client.Unauthorized");
    let fault: Value = r.json().await.unwrap();
    assert!(fault["message"].as_str().unwrap().contains("client certificate"), "{fault}");
    fault
}

#[tokio::test]
async fn an_agent_node_reaches_the_central_gateway_with_its_client_certificate_and_no_token() {
    let province = Province::start().await;

    let answer = call(&province.agent(true).await).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-road-service"], format!("{PROVIDER}/doanh-nghiep").as_str());
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["ma_so_thue"], "0101234567");

    // The same agent without its certificate (and without a token) is refused by the central node.
    expect_unauthorized(call(&province.agent(false).await).await).await;
}

#[tokio::test]
async fn a_certificate_revoked_through_the_api_is_refused_from_the_gateways_next_call() {
    let province = Province::start().await;
    let agent = province.agent(true).await;
    assert_eq!(call(&agent).await.status(), 200);

    // An administrator revokes it, over the central node's HTTPS like everyone else.
    let admin = Https::admin(&province.central, &province.file("ca.pem")).await;
    let certificates = format!("/api/v1/subsystems/{}/certificates", CONSUMER.replace('/', "%2F"));
    let fingerprint = openssl_fingerprint(&province.file("client.pem")).replace(':', "").to_lowercase();
    let (status, revoked) = admin.send("DELETE", &format!("{certificates}/{fingerprint}"), None).await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!((&revoked["fingerprint"], &revoked["label"]), (&json!(fingerprint), &json!("agent")));
    assert!(revoked["revoked_at"].is_string(), "{revoked}");

    // The same running agent, with the same certificate, is refused from its next call.
    expect_unauthorized(call(&agent).await).await;

    let (status, listed) = admin.send("GET", &certificates, None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"], json!([revoked]), "listed with its revocation");
    // A revoked certificate stays revoked: registering it again is a conflict.
    let pem = std::fs::read_to_string(province.file("client.pem")).unwrap();
    let (status, again) = admin.send("POST", &certificates, Some(json!({"pem": pem, "label": "agent"}))).await;
    assert_eq!((status, &again["code"]), (409, &json!("conflict")), "{again}");
    assert_eq!(call(&agent).await.status(), 401);
}

/// The central node's JSON API over HTTPS, trusting the test CA (the tests' reqwest
/// speaks plain HTTP only), with an administrator's API token.
struct Https {
    client: HttpsClient,
    base: String,
    token: String,
}

type HttpsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    String,
>;

impl Https {
    /// Logs in as `admin` and makes an API token with the session.
    async fn admin(base: &str, ca: &Path) -> Self {
        let tls = kho_server::tls::client_config(Some(ca), None).unwrap();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().build();
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
        let mut https = Self { client, base: base.into(), token: String::new() };
        let login = json!({"username": "admin", "password": PASSWORD});
        let (status, headers, session) = https.request("POST", "/api/v1/session", &[], Some(login)).await;
        assert_eq!(status, 200, "{session}");
        let cookie = headers["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let csrf = session["csrf_token"].as_str().unwrap();
        let headers = [("cookie", cookie.as_str()), ("x-csrf-token", csrf)];
        let new_token = json!({"name": "test", "expires_in_days": 1});
        let (status, _, created) = https.request("POST", "/api/v1/tokens", &headers, Some(new_token)).await;
        assert_eq!(status, 201, "{created}");
        https.token = created["secret"].as_str().unwrap().to_string();
        https
    }

    /// `method path` with the token and `body`: the status and the JSON answer.
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let bearer = format!("Bearer {}", self.token);
        let (status, _, answer) = self.request(method, path, &[("authorization", &bearer)], body).await;
        (status, answer)
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, hyper::HeaderMap, Value) {
        let mut request = hyper::Request::builder().method(method).uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(body.map(|b| b.to_string()).unwrap_or_default()).unwrap();
        let (parts, body) = self.client.request(request).await.unwrap().into_parts();
        let bytes = http_body_util::BodyExt::collect(body).await.unwrap().to_bytes();
        let answer = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}: {}", String::from_utf8_lossy(&bytes)));
        (parts.status.as_u16(), parts.headers, answer)
    }
}
