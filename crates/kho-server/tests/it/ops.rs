//! Health, readiness, metrics, request ids and the OpenAPI document.

use crate::{client, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let r = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let r = client().get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn a_given_request_id_is_echoed() {
    let app = spawn_app().await;
    let r = client().get(app.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let app = spawn_app().await;
    client().get(app.url("/api/v1/agencies")).send().await.unwrap();
    let text = client().get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        text.contains("kho_http_requests_total{method=\"GET\",route=\"/api/v1/agencies\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("kho_http_request_duration_seconds_bucket"), "{text}");
}

#[tokio::test]
async fn the_openapi_document_lists_the_endpoints() {
    let app = spawn_app().await;
    let doc: Value = app.get_public("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/session", "/api/v1/agencies", "/api/v1/users/{id}", "/api/v1/tokens", "/api/v1/audit/verify"]
    {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}
