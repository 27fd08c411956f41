//! Integration tests: the real server on port 0 with a fresh data directory (and a
//! fresh PostgreSQL database when `KHO_TEST_POSTGRES_URL` is set), spoken to over
//! real HTTP — and, for the web UI, through real headless Chromium.

mod acceptance;
mod agent_backend;
mod api;
mod audit;
mod auth;
mod browser;
mod catalog;
mod ckan;
mod codelists;
mod codelists_browser;
mod connections;
mod dcat;
mod dictionary;
mod exchange_browser;
mod gateway;
mod gateway_load;
mod ops;
mod portal;
mod portal_browser;
mod quality;
mod quality_browser;
mod quality_cleaning;
mod query;
mod refdata;
mod requests;
mod tls;
mod warehouse;
mod webdriver;

use kho_server::services::Kho;
use kho_server::{Application, Settings};
use serde_json::{json, Value};
use std::sync::Arc;

/// The password every demo user has in tests.
pub const PASSWORD: &str = "mật khẩu thử nghiệm";

pub struct TestApp {
    pub base: String,
    pub kho: Arc<Kho>,
    pub db_url: String,
    _dir: tempfile::TempDir,
    _db: kho_store::testing::TestDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Kho with the demo province, letting the test adjust the settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = match kho_store::testing::TestDb::postgres().await {
        Some(db) => db,
        None => kho_store::testing::TestDb::sqlite(),
    };
    let mut settings = Settings::for_data_dir(dir.path());
    settings.database_url = db.url.clone();
    settings.listen = "127.0.0.1:0".into();
    settings.demo = true;
    // The tests bring their own data; one test turns the demo's datasets on.
    settings.demo_datasets = false;
    adjust(&mut settings);
    let app = Application::build(settings, Some(PASSWORD.into())).await.expect("build the application");
    let base = format!("http://{}", app.address());
    let kho = app.kho();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp { base, kho, db_url: db.url.clone(), _dir: dir, _db: db }
}

/// An HTTP client with its own cookie jar.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POST a username and password to the login endpoint with a fresh client.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        let body = json!({"username": username, "password": password});
        client().post(self.url("/api/v1/session")).json(&body).send().await.unwrap()
    }

    /// A client logged in as `username` through the JSON API, and its CSRF token.
    pub async fn session(&self, username: &str) -> (reqwest::Client, String) {
        let c = client();
        let r = c
            .post(self.url("/api/v1/session"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login as {username}");
        let body: Value = r.json().await.unwrap();
        (c, body["csrf_token"].as_str().unwrap().to_string())
    }

    /// An API token of `username`.
    pub async fn token(&self, username: &str) -> String {
        let (c, csrf) = self.session(username).await;
        let r = c
            .post(self.url("/api/v1/tokens"))
            .header("x-csrf-token", csrf)
            .json(&json!({"name": "test", "expires_in_days": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_string()
    }

    /// GET `path` with a bearer token, as JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let r = client().get(self.url(path)).bearer_auth(token).send().await.unwrap();
        r.json().await.expect("a JSON answer")
    }

    /// GET `path` without credentials, as JSON.
    pub async fn get_public(&self, path: &str) -> Value {
        client().get(self.url(path)).send().await.unwrap().json().await.expect("a JSON answer")
    }

    /// [`Self::get_public`] for a path built on the spot.
    pub async fn get_public_owned(&self, path: String) -> Value {
        self.get_public(&path).await
    }

    /// Loads `csv` into a resource's table as a new version, with a bearer token.
    pub async fn load_csv(&self, token: &str, slug: &str, table: &str, csv: &str) {
        let r = client()
            .post(self.url(&format!("/api/v1/resources/{slug}/tables/{table}/versions?filename={table}.csv")))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }

    /// POST a JSON body to `path` with a bearer token.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        client().post(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    pub async fn agency_id(&self, code: &str) -> String {
        self.kho.store.agency_by_code(code).await.unwrap().unwrap_or_else(|| panic!("agency {code}")).id
    }
}

/// Asserts the native error shape and returns the body.
pub async fn expect_error(r: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let body: Value = r.json().await.expect("a JSON error body");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["type"].is_string(), "{body}");
    body
}
