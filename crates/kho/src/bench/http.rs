//! The Kho side of the read benchmark: `kho serve` as a child process on a free
//! port, and an HTTP client keeping its connection alive between requests.

use anyhow::{anyhow, Context};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `kho serve` running on a data directory; stopped when dropped.
pub struct Server {
    child: Option<Child>,
    pub address: String,
}

impl Server {
    /// Starts the server and waits until it says where it listens.
    pub fn start(mut command: Command, log: &Path) -> anyhow::Result<Self> {
        let log = std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        command.args(["serve", "--listen", "127.0.0.1:0"]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(log);
        let mut child = command.spawn().context("cannot start kho serve")?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("Kho is listening on http://") {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_string());
                }
            }
        });
        let mut server = Self { child: Some(child), address: String::new() };
        server.address = rx
            .recv_timeout(Duration::from_secs(120))
            .map_err(|_| anyhow!("kho serve did not say where it listens within 120 s"))?;
        Ok(server)
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and returns its peak RSS.
    pub fn stop(mut self) -> Option<u64> {
        self.child.take().and_then(|mut c| super::process::stop(&mut c, Duration::from_secs(10)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            super::process::stop(&mut c, Duration::from_secs(5));
        }
    }
}

/// A client with kept-alive connections to the server.
pub struct Client {
    base: String,
    http: reqwest::blocking::Client,
}

/// A response: status and body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| anyhow!("the answer is not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(500).collect()
    }
}

impl Client {
    pub fn new(address: &str) -> Self {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()
            .expect("an HTTP client without TLS builds");
        Self { base: format!("http://{address}"), http }
    }

    /// Sends a request and reads the whole answer.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Response> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut request = self.http.request(method, format!("{}{path}", self.base)).body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().with_context(|| format!("{path}: the server did not answer"))?;
        let status = response.status().as_u16();
        Ok(Response { status, body: response.bytes()?.to_vec() })
    }
}

/// `value` for a URL query string.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
