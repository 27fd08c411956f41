//! A small W3C WebDriver client for driving real headless Chromium through
//! chromedriver (Debian's `chromium` and `chromium-driver`). When `CI` is set and
//! they are missing, the browser tests fail instead of being skipped.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long finding an element waits for it to appear.
const IMPLICIT_WAIT_MS: u64 = 10_000;

pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

fn locate(var: &str, default: &str) -> Option<String> {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_string());
    std::path::Path::new(&path).exists().then_some(path)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or returns `None` outside
    /// CI when they are not installed.
    pub async fn start() -> Option<Self> {
        let (Some(driver_bin), Some(chromium)) = (
            locate("KHO_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"),
            locate("KHO_TEST_CHROMIUM", "/usr/bin/chromium"),
        ) else {
            assert!(std::env::var_os("CI").is_none(), "chromium and chromedriver must be installed in CI");
            eprintln!("chromium/chromedriver not installed: skipping the browser test");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}
        }}});
        let r: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session =
            r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {r}")).to_string();
        let browser = Self { driver, base, session, http, _profile: profile };
        // Finding an element waits for it to appear (pages load after clicks).
        browser.call(reqwest::Method::POST, "/timeouts", Some(json!({"implicit": IMPLICIT_WAIT_MS}))).await;
        Some(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        if r["value"]["error"].is_string() {
            panic!("WebDriver {path}: {}", r["value"]);
        }
        r["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn url(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/url", None).await;
        v.as_str().unwrap_or_else(|| panic!("GET /url: {v}")).to_string()
    }

    /// Waits until the current address satisfies `done` and its document has loaded (a
    /// click that navigates may return before the new page has), and returns it.
    pub async fn wait_for_url(&self, done: impl Fn(&str) -> bool) -> String {
        let mut url = self.url().await;
        for _ in 0..100 {
            if done(&url) && self.loaded().await {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            url = self.url().await;
        }
        panic!("timed out waiting for the page to change; still at {url}");
    }

    /// Whether the current document has finished loading.
    async fn loaded(&self) -> bool {
        let script = json!({"script": "return document.readyState", "args": []});
        self.call(reqwest::Method::POST, "/execute/sync", Some(script)).await == "complete"
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap().to_string()
    }

    /// Waits (up to the implicit timeout) until an element matching `css` exists.
    pub async fn wait_for(&self, css: &str) {
        self.find(css).await;
    }

    async fn find(&self, css: &str) -> String {
        let v =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None).await.as_str().unwrap().to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    /// Empties an input or a text area (typing adds to what it holds).
    pub async fn clear(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
    }

    /// Clicks `css` (a form's button) and waits until the next document has loaded, for
    /// forms whose answer comes back to the page's own address.
    pub async fn click_and_wait(&self, css: &str) {
        let mark = json!({"script": "window.khoBeforeClick = true", "args": []});
        self.call(reqwest::Method::POST, "/execute/sync", Some(mark)).await;
        self.click(css).await;
        let check = json!({"script": "return window.khoBeforeClick !== true && document.readyState", "args": []});
        for _ in 0..100 {
            if self.call(reqwest::Method::POST, "/execute/sync", Some(check.clone())).await == "complete" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for the page after clicking {css}; still at {}", self.url().await);
    }

    /// How many elements match `css` now, without waiting for one to appear.
    pub async fn count(&self, css: &str) -> usize {
        self.call(reqwest::Method::POST, "/timeouts", Some(json!({"implicit": 0}))).await;
        let found =
            self.call(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css}))).await;
        self.call(reqwest::Method::POST, "/timeouts", Some(json!({"implicit": IMPLICIT_WAIT_MS}))).await;
        found.as_array().unwrap_or_else(|| panic!("POST /elements {css}: {found}")).len()
    }

    /// The visible text of every element matching `css`, in document order; waits,
    /// like [`Self::wait_for`], for the first one to appear (none after the wait).
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let found =
            self.call(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css}))).await;
        let mut out = Vec::new();
        for element in found.as_array().unwrap_or_else(|| panic!("POST /elements {css}: {found}")) {
            let id = element[ELEMENT_KEY].as_str().unwrap();
            let text = self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None).await;
            out.push(text.as_str().unwrap().to_string());
        }
        out
    }

    /// A DOM property of the first element matching `css` (`href` gives the absolute
    /// address of a link).
    pub async fn property(&self, css: &str, name: &str) -> String {
        let id = self.find(css).await;
        let v = self.call(reqwest::Method::GET, &format!("/element/{id}/property/{name}"), None).await;
        v.as_str().unwrap_or_else(|| panic!("{css} has no property {name}: {v}")).to_string()
    }

    /// The value of one of the browser's cookies for the current page (HttpOnly ones
    /// included), to make requests with the browser's session.
    pub async fn cookie(&self, name: &str) -> String {
        let v = self.call(reqwest::Method::GET, &format!("/cookie/{name}"), None).await;
        v["value"].as_str().unwrap_or_else(|| panic!("cookie {name}: {v}")).to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the session ends Chromium; then stop the driver.
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async { reqwest::Client::new().delete(url).send().await.ok() });
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Logs `username` in on the login page (password [`crate::PASSWORD`]) and waits for the
/// admin home.
pub async fn log_in(browser: &Browser, app: &crate::TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser.type_into("#username", username).await;
    browser.type_into("#password", crate::PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_url(|u| u.ends_with("/admin")).await;
}
