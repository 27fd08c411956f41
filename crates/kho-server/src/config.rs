//! Settings of a Kho installation. The binary fills them from a TOML file, then
//! `KHO_*` environment variables, then command-line flags (each later source wins);
//! anything left unset takes the defaults below.

use serde::Deserialize;
use std::path::PathBuf;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The settings a server (and every CLI command) runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where Kho keeps its files (default `./kho-data`).
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…` (default `sqlite://<data-dir>/kho.db`).
    pub database_url: String,
    /// `file://…` or `s3://…` (default `file://<data-dir>/objects`).
    pub object_store_url: String,
    /// Address to listen on (default `127.0.0.1:8080`; port 0 picks a free port).
    pub listen: String,
    /// The address people reach Kho at; `https://` turns on `Secure` cookies.
    pub public_url: Option<String>,
    /// Seed a demo province when the store is empty.
    pub demo: bool,
    /// With `demo`, also load and publish the demo's open datasets (schools, health
    /// facilities, communes, tourist sites).
    pub demo_datasets: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Largest file upload accepted (loads into tables), in bytes.
    pub upload_limit_bytes: usize,
    /// Longest time a request may take, in seconds.
    pub request_timeout_secs: u64,
    /// HTTP connections open at once; `None`: half the open files the process may
    /// have, less a reserve, from 64 to 16,384 ([`crate::listen`]).
    pub max_connections: Option<usize>,
    /// A connection that sends no complete request head for this many seconds (new,
    /// kept alive between requests, or sending its head slowly) is closed.
    pub idle_timeout_secs: u64,
    /// Retention policy (lưu giữ): after each load, the data of versions replaced more
    /// than this many days ago is deleted. `None` keeps every version readable.
    pub retention_days: Option<u32>,
    /// SQL queries (truy vấn): longest run in seconds, memory for sorts, joins and
    /// aggregations in MB, and most rows returned.
    pub query_timeout_secs: u64,
    pub query_memory_mb: usize,
    pub query_max_rows: usize,
    /// How long a browser session lasts, in hours.
    pub session_hours: i64,
    /// Failed logins allowed per username and address within the window.
    pub login_attempts: u32,
    pub login_window_secs: u64,
    /// Name and code of the root agency created on first start (without `--demo`).
    pub root_agency_name: String,
    pub root_agency_code: String,
    /// The message log signs a checkpoint after this many records…
    pub checkpoint_every_records: i64,
    /// …or this many seconds after the first unsigned record.
    pub checkpoint_every_secs: u64,
    /// Lưu trữ tự động — when set, the node archives its own message log into a new file
    /// in this directory once a day at `archive_hour` (Vietnam time, UTC+7): the records
    /// of requests older than `archive_keep_days` leave the store, as with `kho audit
    /// archive`. Unset, only that command archives.
    pub archive_dir: Option<PathBuf>,
    pub archive_keep_days: u32,
    pub archive_hour: u32,
    /// Serve over TLS with this certificate and key (and accept subsystems' client
    /// certificates issued by `client_ca`).
    pub tls: Option<crate::tls::TlsFiles>,
}

impl Settings {
    /// Defaults for a data directory.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        let abs = std::path::absolute(&data_dir).unwrap_or_else(|_| data_dir.clone());
        Self {
            database_url: format!("sqlite://{}/kho.db", abs.display()),
            object_store_url: format!("file://{}/objects", abs.display()),
            data_dir,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            demo: false,
            demo_datasets: true,
            body_limit_bytes: 2 * 1024 * 1024,
            upload_limit_bytes: 4 * 1024 * 1024 * 1024,
            request_timeout_secs: 30,
            max_connections: None,
            idle_timeout_secs: 30,
            retention_days: None,
            query_timeout_secs: 20,
            query_memory_mb: 512,
            query_max_rows: 10_000,
            session_hours: 8,
            login_attempts: 5,
            login_window_secs: 300,
            root_agency_name: "Ủy ban nhân dân tỉnh".into(),
            root_agency_code: "000.00.00.H00".into(),
            checkpoint_every_records: 1000,
            checkpoint_every_secs: 10,
            archive_dir: None,
            archive_keep_days: 90,
            archive_hour: 2,
            tls: None,
        }
    }

    /// The limits every SQL query runs under.
    pub fn query_limits(&self) -> kho_lake::QueryLimits {
        kho_lake::QueryLimits {
            timeout: std::time::Duration::from_secs(self.query_timeout_secs.max(1)),
            memory_bytes: self.query_memory_mb.max(1) << 20,
            max_rows: self.query_max_rows.max(1),
        }
    }

    /// The limits a quality run's queries run under: the query limits with four times
    /// the memory (at least 2 GiB) and at least ten minutes, since a run reads every
    /// row and groups by keys.
    pub fn quality_limits(&self) -> kho_lake::QueryLimits {
        let q = self.query_limits();
        kho_lake::QueryLimits {
            timeout: q.timeout.max(std::time::Duration::from_secs(600)),
            memory_bytes: (q.memory_bytes.saturating_mul(4)).max(2 << 30),
            max_rows: 1_000,
        }
    }

    /// Whether cookies must carry the `Secure` flag.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::for_data_dir("kho-data")
    }
}
