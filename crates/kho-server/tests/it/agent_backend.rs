//! An agency exposes a local backend through its Agent Node: the central node's proxied
//! service points at the agent's `/backend/NAME`, with the agent's backend token, so
//! the backend itself is reachable only from the agent's host.

use crate::gateway::{subsystem, token};
use crate::spawn_app;
use kho_core::audit::AuditContext;
use kho_core::identity::{Subject, SubsystemId};
use kho_exchange::{AgreementTerms, NewService, ServiceTarget};
use kho_server::gateway::AgentSettings;
use kho_server::{AgentNode, Settings};

const PROVIDER: &str = "VN/GOV/000.00.03.H24/HO-TICH";
const CONSUMER: &str = "VN/GOV/000.00.02.H24/TRO-CAP";
const BACKEND_SECRET: &str = "only-the-central-node-knows-this";

#[tokio::test]
async fn a_local_backend_exposed_by_an_agent_node_is_reached_only_through_it() {
    let app = spawn_app().await;
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    // The agency's local backend, on its own network.
    let local = axum::Router::new().route(
        "/khai-sinh/{so}",
        axum::routing::get(
            |axum::extract::Path(so): axum::extract::Path<String>, headers: axum::http::HeaderMap| async move {
                let leaked = headers.contains_key("authorization");
                axum::Json(serde_json::json!({"so_dang_ky": so, "authorization_seen": leaked}))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, local).await.unwrap() });

    let mut tokens = Vec::new();
    for (xroad, agency) in [(PROVIDER, "000.00.03.H24"), (CONSUMER, "000.00.02.H24")] {
        tokens.push(token(&app.kho, &subsystem(&app.kho, xroad, agency, xroad).await).await);
    }

    // The provider's Agent Node exposes the backend as "ho-tich".
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_data_dir(dir.path());
    settings.listen = "127.0.0.1:0".into();
    let node = AgentNode::build(
        settings,
        AgentSettings {
            central: app.base.clone(),
            subsystem: SubsystemId::parse(PROVIDER).unwrap(),
            token: Some(tokens[0].clone()),
            backend_token: Some(BACKEND_SECRET.into()),
            backends: [("ho-tich".to_string(), local_url)].into(),
            central_ca: None,
            identity: None,
        },
    )
    .await
    .unwrap();
    let agent = format!("http://{}", node.address());
    tokio::spawn(node.run_until(std::future::pending()));

    let service = NewService {
        provider: SubsystemId::parse(PROVIDER).unwrap(),
        code: "khai-sinh".into(),
        description: "Tra cứu đăng ký khai sinh".into(),
        target: ServiceTarget::Proxied {
            backend_url: format!("{agent}/backend/ho-tich"),
            openapi: None,
            backend_token: Some(BACKEND_SECRET.into()),
        },
        timeout_ms: Some(5_000),
        log_bodies: false,
    };
    app.kho.register_service(&operator, &ctx, service).await.unwrap();
    let terms: AgreementTerms =
        serde_json::from_value(serde_json::json!({"endpoints": ["GET /khai-sinh/*"], "purposes": ["xac-minh"]}))
            .unwrap();
    let consumer = SubsystemId::parse(CONSUMER).unwrap();
    app.kho
        .request_agreement(&operator, &ctx, &consumer, &format!("{PROVIDER}/khai-sinh"), &terms, true)
        .await
        .unwrap();

    let client = reqwest::Client::new();
    let answer = client
        .get(app.url(&format!("/r1/{PROVIDER}/khai-sinh/khai-sinh/123-2025")))
        .header("X-Road-Client", CONSUMER)
        .header("X-Road-Purpose", "xac-minh")
        .header("X-Road-Id", "goi-khai-sinh-1")
        .bearer_auth(&tokens[1])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"so_dang_ky": "123-2025", "authorization_seen": false}));

    // Without the backend token, the agent refuses to reach the backend.
    let direct = client.get(format!("{agent}/backend/ho-tich/khai-sinh/123-2025")).send().await.unwrap();
    assert_eq!(direct.status(), 401);
    assert_eq!(direct.headers()["x-road-error"], "Client.Unauthorized");
    let wrong =
        client.get(format!("{agent}/backend/ho-tich/khai-sinh/1")).bearer_auth(&tokens[0]).send().await.unwrap();
    assert_eq!(wrong.status(), 401, "the subsystem's gateway token is not the backend token");

    // The central node logged the exchange under the caller's X-Road-Id.
    let query = kho_store::MessageQuery { message_id: Some("goi-khai-sinh-1".into()), limit: 5, ..Default::default() };
    app.kho.settle_message_log().await.unwrap();
    let records = app.kho.store.list_messages(&query).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].status_code, records[0].purpose.as_str()), (200, "xac-minh"));
}
