//! Logging in: sessions, CSRF protection, rate limiting, disabled users, and the
//! policy's denials as the API shows them.

use crate::{client, expect_error, spawn_app, spawn_app_with, PASSWORD};
use serde_json::{json, Value};

#[tokio::test]
async fn wrong_credentials_are_refused_with_the_error_shape() {
    let app = spawn_app().await;
    for (user, pass) in [("admin", "wrong password"), ("nobody", PASSWORD)] {
        let r = app.login(user, pass).await;
        let err = expect_error(r, 401, "unauthenticated").await;
        assert_eq!(err["message"], "wrong username or password");
    }
    let r = client().get(app.url("/api/v1/me")).bearer_auth("kho_not_a_real_token").send().await.unwrap();
    expect_error(r, 401, "unauthenticated").await;
}

#[tokio::test]
async fn repeated_failures_are_rate_limited() {
    let app = spawn_app_with(|s| s.login_attempts = 3).await;
    let attempt = |password: &'static str| {
        client().post(app.url("/api/v1/session")).json(&json!({"username": "admin", "password": password})).send()
    };
    for _ in 0..3 {
        expect_error(attempt("wrong password").await.unwrap(), 401, "unauthenticated").await;
    }
    let err = expect_error(attempt("wrong password").await.unwrap(), 429, "rate_limited").await;
    assert!(err["message"].as_str().unwrap().contains("try again in"), "{err}");
    // Even the right password waits until the window has passed.
    expect_error(attempt(PASSWORD).await.unwrap(), 429, "rate_limited").await;
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_for_writes() {
    let app = spawn_app().await;
    let (c, csrf) = app.session("admin").await;
    let cookie_header = c.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(cookie_header.json::<Value>().await.unwrap()["actor"], "user:admin");

    let body = json!({"name": "t", "expires_in_days": 1});
    let r = c.post(app.url("/api/v1/tokens")).json(&body).send().await.unwrap();
    expect_error(r, 403, "csrf_failed").await;
    let r = c.post(app.url("/api/v1/tokens")).header("x-csrf-token", "forged").json(&body).send().await.unwrap();
    expect_error(r, 403, "csrf_failed").await;
    let r = c.post(app.url("/api/v1/tokens")).header("x-csrf-token", &csrf).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);

    let r = c.delete(app.url("/api/v1/session")).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let me: Value = c.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["actor"], "anonymous");
}

#[tokio::test]
async fn session_cookies_are_http_only() {
    let app = spawn_app().await;
    let r = app.login("admin", PASSWORD).await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("kho_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http on loopback");
    let app = spawn_app_with(|s| s.public_url = Some("https://data.bacninh.gov.vn".into())).await;
    let r = app.login("admin", PASSWORD).await;
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn disabled_users_lose_their_sessions_and_tokens() {
    let app = spawn_app().await;
    let viewer_token = app.token("viewer.taichinh").await;
    let (viewer, _) = app.session("viewer.taichinh").await;
    let admin = app.token("admin").await;
    let users: Value = app.get_json("/api/v1/users?limit=100", &admin).await;
    let id =
        users["items"].as_array().unwrap().iter().find(|u| u["username"] == "viewer.taichinh").unwrap()["id"].clone();
    let r = client()
        .patch(app.url(&format!("/api/v1/users/{}", id.as_str().unwrap())))
        .bearer_auth(&admin)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["disabled"], true);
    let me: Value = viewer.get(app.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["actor"], "anonymous");
    expect_error(
        client().get(app.url("/api/v1/me")).bearer_auth(&viewer_token).send().await.unwrap(),
        401,
        "unauthenticated",
    )
    .await;
    let r = app.login("viewer.taichinh", PASSWORD).await;
    expect_error(r, 401, "unauthenticated").await;
}

#[tokio::test]
async fn users_change_their_own_password_but_not_their_roles() {
    let app = spawn_app().await;
    let token = app.token("steward.khcn").await;
    let me = app.kho.store.user_credentials("steward.khcn").await.unwrap().unwrap().0;
    let url = app.url(&format!("/api/v1/users/{}", me.id));
    let r = client().patch(&url).bearer_auth(&token).json(&json!({"roles": ["admin"]})).send().await.unwrap();
    expect_error(r, 403, "forbidden").await;
    let r = client().patch(&url).bearer_auth(&token).json(&json!({"password": "short"})).send().await.unwrap();
    expect_error(r, 422, "invalid_field").await;
    let r = client()
        .patch(&url)
        .bearer_auth(&token)
        .json(&json!({"password": "mat-khau-moi-dai-hon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app.login("steward.khcn", "mat-khau-moi-dai-hon").await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_policy_denies_and_the_denial_is_recorded() {
    let app = spawn_app().await;
    let steward = app.token("steward.khcn").await;
    let province = app.agency_id("000.00.00.H24").await;
    let new_agency = json!({"code": "000.00.10.H24", "name": "Sở mới", "kind": "department", "parent_id": province});
    let r = app.post_json("/api/v1/agencies", &steward, &new_agency).await;
    let err = expect_error(r, 403, "forbidden").await;
    assert!(err["message"].as_str().unwrap().contains("only administrators manage agencies"), "{err}");
    let r = client().post(app.url("/api/v1/agencies")).json(&new_agency).send().await.unwrap();
    expect_error(r, 401, "unauthenticated").await;

    let auditor = app.token("auditor").await;
    let log: Value = app.get_json("/api/v1/audit?outcome=denied", &auditor).await;
    let denied = &log["items"][0];
    assert_eq!(denied["actor"], "user:steward.khcn");
    assert_eq!(denied["action"], "agency.create");
    assert_eq!(denied["outcome"], "denied");
}
