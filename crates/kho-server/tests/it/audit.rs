//! The audit log over HTTP: every change and every read of non-public data is
//! recorded with its request id; auditors browse and filter it; tampering in the
//! database shows up in the verification.

use crate::{client, expect_error, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn changes_and_reads_are_recorded_with_request_ids() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let r = client()
        .get(app.url("/api/v1/users"))
        .bearer_auth(&admin)
        .header("x-request-id", "req-users-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let auditor = app.token("auditor").await;
    let log: Value = app.get_json("/api/v1/audit?action=user.list", &auditor).await;
    let entry = &log["items"][0];
    assert_eq!(entry["actor"], "user:admin");
    assert_eq!(entry["request_id"], "req-users-1");
    assert!(entry["actor_agency_id"].is_string());

    let created: Value = app.get_json("/api/v1/audit?action=user.create&limit=500", &auditor).await;
    assert_eq!(created["items"].as_array().unwrap().len(), 5, "one entry per demo user");
}

#[tokio::test]
async fn only_auditors_and_admins_read_the_log() {
    let app = spawn_app().await;
    for user in ["steward.khcn", "viewer.taichinh"] {
        let token = app.token(user).await;
        let r = client().get(app.url("/api/v1/audit")).bearer_auth(&token).send().await.unwrap();
        expect_error(r, 403, "forbidden").await;
    }
    expect_error(client().get(app.url("/api/v1/audit")).send().await.unwrap(), 401, "unauthenticated").await;
    let admin = app.token("admin").await;
    assert_eq!(client().get(app.url("/api/v1/audit")).bearer_auth(&admin).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_log_pages_and_filters() {
    let app = spawn_app().await;
    let auditor = app.token("auditor").await;
    let get = |query: String| {
        let url = app.url(&format!("/api/v1/audit?{query}"));
        let token = auditor.clone();
        async move { client().get(url).bearer_auth(token).send().await.unwrap() }
    };
    let first: Value = get("limit=3".into()).await.json().await.unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    let before = first["next_before"].as_i64().unwrap();
    let second: Value = get(format!("limit=3&before={before}")).await.json().await.unwrap();
    assert!(second["items"][0]["seq"].as_i64().unwrap() < before);
    let none: Value = get("actor=user:nobody".into()).await.json().await.unwrap();
    assert_eq!(none["items"], json!([]));
    let err = expect_error(get("from=yesterday".into()).await, 422, "invalid_field").await;
    assert!(err["message"].as_str().unwrap().starts_with("from:"), "{err}");
    expect_error(get("outcome=maybe".into()).await, 422, "invalid_field").await;
    expect_error(get("colour=red".into()).await, 422, "invalid_field").await;
}

#[tokio::test]
async fn tampering_in_the_database_is_reported() {
    let app = spawn_app().await;
    let auditor = app.token("auditor").await;
    let verify = || client().get(app.url("/api/v1/audit/verify")).bearer_auth(&auditor).send();
    let report: Value = verify().await.unwrap().json().await.unwrap();
    assert_eq!(report["intact"], true, "{report}");

    let raw = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    sqlx::query("UPDATE audit_log SET target = 'user:someone-else' WHERE seq = 7").execute(&raw).await.unwrap();
    let report: Value = verify().await.unwrap().json().await.unwrap();
    assert_eq!(report["intact"], false);
    assert_eq!(report["first_break"], json!({"problem": "altered", "seq": 7}));
    assert!(report["message"].as_str().unwrap().contains("entry 7 was altered"));
}
