//! Mutual TLS between an Agent Node and the central node: the central node serves
//! HTTPS and accepts client certificates issued by the province's CA; a subsystem whose
//! certificate is registered is let through without a token. Certificates are made
//! with the `openssl` command, as an operator would.

use crate::gateway::subsystem;
use crate::spawn_app_with;
use kho_core::audit::AuditContext;
use kho_core::identity::{Subject, SubsystemId};
use kho_exchange::{AgreementTerms, NewService, ServiceTarget};
use kho_server::gateway::AgentSettings;
use kho_server::tls::TlsFiles;
use kho_server::{AgentNode, Settings};
use std::path::{Path, PathBuf};
use std::process::Command;

const CONSUMER: &str = "VN/GOV/000.00.02.H24/TRO-CAP";
const PROVIDER: &str = "VN/GOV/000.00.01.H24/DOANH-NGHIEP";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl command runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
fn certificates(dir: &Path) {
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

async fn agent(dir: &Path, central: &str, identity: Option<(PathBuf, PathBuf)>) -> String {
    let mut settings = Settings::for_data_dir(dir);
    settings.listen = "127.0.0.1:0".into();
    let node = AgentNode::build(
        settings,
        AgentSettings {
            central: central.into(),
            subsystem: SubsystemId::parse(CONSUMER).unwrap(),
            token: None,
            backend_token: None,
            backends: Default::default(),
            central_ca: Some(dir.parent().unwrap().join("ca.pem")),
            identity,
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}", node.address());
    tokio::spawn(node.run_until(std::future::pending()));
    url
}

#[tokio::test]
async fn an_agent_node_reaches_the_central_gateway_with_its_client_certificate_and_no_token() {
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
        serde_json::from_value(serde_json::json!({"endpoints": ["GET /v1/*"], "purposes": ["thanh-tra"]})).unwrap();
    let consumer = SubsystemId::parse(CONSUMER).unwrap();
    let service_id = format!("{PROVIDER}/doanh-nghiep");
    app.kho.request_agreement(&operator, &ctx, &consumer, &service_id, &terms, true).await.unwrap();
    let pem = std::fs::read(p("client.pem")).unwrap();
    app.kho.register_certificate(&operator, &ctx, &consumer, &pem, "agent").await.unwrap();

    let call = |agent: String| async move {
        reqwest::Client::new()
            .get(format!("{agent}/r1/{PROVIDER}/doanh-nghiep/v1/companies/0101234567"))
            .header("X-Road-Client", CONSUMER)
            .header("X-Road-Purpose", "thanh-tra")
            .send()
            .await
            .unwrap()
    };
    let with_cert = tempfile::tempdir_in(certs.path()).unwrap();
    let answer = call(agent(with_cert.path(), &central, Some((p("client.pem"), p("client.key")))).await).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-road-service"], format!("{PROVIDER}/doanh-nghiep").as_str());
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["ma_so_thue"], "0101234567");

    // The same agent without its certificate (and without a token) is refused by the central node.
    let without = tempfile::tempdir_in(certs.path()).unwrap();
    let refused = call(agent(without.path(), &central, None).await).await;
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["x-road-error"], "Client.Unauthorized");
    let fault: serde_json::Value = refused.json().await.unwrap();
    assert!(fault["message"].as_str().unwrap().contains("client certificate"), "{fault}");
}
