//! Layers the settings: a TOML file (`--config`), then `KHO_*` environment
//! variables, then command-line flags; clap already puts flags above the
//! environment, so each setting is `flag-or-env`, else file, else default.

use anyhow::Context;
use kho_server::{LogFormat, Settings};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The TOML configuration file. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub object_store_url: Option<String>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub demo: Option<bool>,
    pub demo_datasets: Option<bool>,
    pub body_limit_bytes: Option<usize>,
    pub upload_limit_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub idle_timeout_secs: Option<u64>,
    pub retention_days: Option<u32>,
    pub query_timeout_secs: Option<u64>,
    pub query_memory_mb: Option<usize>,
    pub query_max_rows: Option<usize>,
    pub session_hours: Option<i64>,
    pub login_attempts: Option<u32>,
    pub login_window_secs: Option<u64>,
    pub root_agency_name: Option<String>,
    pub root_agency_code: Option<String>,
    pub checkpoint_every_records: Option<i64>,
    pub checkpoint_every_secs: Option<u64>,
    pub archive_dir: Option<PathBuf>,
    pub archive_keep_days: Option<u32>,
    pub archive_hour: Option<u32>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else { return Ok(Self::default()) };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read the config file {}", path.display()))?;
        let file: Self = toml::from_str(&text).map_err(|e| {
            let place = e
                .span()
                .map(|s| {
                    let line = text[..s.start].matches('\n').count() + 1;
                    let column = s.start - text[..s.start].rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
                    format!(", line {line}, column {column}")
                })
                .unwrap_or_default();
            anyhow::anyhow!("{}{place}: {}", path.display(), e.message())
        })?;
        if let Some(hour) = file.archive_hour.filter(|h| *h > 23) {
            anyhow::bail!(
                "{}: archive_hour is {hour}; give an hour of the day from 0 to 23 (Vietnam time)",
                path.display()
            );
        }
        Ok(file)
    }
}

/// The values given on the command line or in the environment.
#[derive(Debug, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub object_store_url: Option<String>,
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub demo: bool,
}

pub fn resolve(file: FileConfig, over: Overrides) -> Settings {
    let data_dir = over.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("kho-data"));
    let d = Settings::for_data_dir(data_dir);
    Settings {
        database_url: over.database_url.or(file.database_url).unwrap_or(d.database_url),
        object_store_url: over.object_store_url.or(file.object_store_url).unwrap_or(d.object_store_url),
        listen: over.listen.or(file.listen).unwrap_or(d.listen),
        public_url: over.public_url.or(file.public_url),
        demo: over.demo || file.demo.unwrap_or(false),
        demo_datasets: file.demo_datasets.unwrap_or(d.demo_datasets),
        body_limit_bytes: file.body_limit_bytes.unwrap_or(d.body_limit_bytes),
        upload_limit_bytes: file.upload_limit_bytes.unwrap_or(d.upload_limit_bytes),
        request_timeout_secs: file.request_timeout_secs.unwrap_or(d.request_timeout_secs),
        max_connections: file.max_connections.or(d.max_connections),
        idle_timeout_secs: file.idle_timeout_secs.unwrap_or(d.idle_timeout_secs),
        retention_days: file.retention_days.or(d.retention_days),
        query_timeout_secs: file.query_timeout_secs.unwrap_or(d.query_timeout_secs),
        query_memory_mb: file.query_memory_mb.unwrap_or(d.query_memory_mb),
        query_max_rows: file.query_max_rows.unwrap_or(d.query_max_rows),
        session_hours: file.session_hours.unwrap_or(d.session_hours),
        login_attempts: file.login_attempts.unwrap_or(d.login_attempts),
        login_window_secs: file.login_window_secs.unwrap_or(d.login_window_secs),
        root_agency_name: file.root_agency_name.unwrap_or(d.root_agency_name),
        root_agency_code: file.root_agency_code.unwrap_or(d.root_agency_code),
        checkpoint_every_records: file.checkpoint_every_records.unwrap_or(d.checkpoint_every_records).max(1),
        checkpoint_every_secs: file.checkpoint_every_secs.unwrap_or(d.checkpoint_every_secs).max(1),
        archive_dir: file.archive_dir,
        archive_keep_days: file.archive_keep_days.unwrap_or(d.archive_keep_days),
        archive_hour: file.archive_hour.unwrap_or(d.archive_hour),
        tls: None,
        data_dir: d.data_dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let file: FileConfig =
            toml::from_str("listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/kho\"\nsession_hours = 2").unwrap();
        let s = resolve(file, Overrides { listen: Some("127.0.0.1:1".into()), ..Default::default() });
        assert_eq!(s.listen, "127.0.0.1:1");
        assert_eq!(s.data_dir, PathBuf::from("/srv/kho"));
        assert_eq!(s.database_url, "sqlite:///srv/kho/kho.db");
        assert_eq!(s.object_store_url, "file:///srv/kho/objects");
        assert_eq!(s.session_hours, 2);
        let d = resolve(FileConfig::default(), Overrides::default());
        assert_eq!(d.listen, "127.0.0.1:8080");
        assert!(d.database_url.ends_with("/kho-data/kho.db"));
    }

    #[test]
    fn unknown_keys_are_named_with_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kho.toml");
        std::fs::write(&path, "listen = \"x\"\nlisten_port = 1\n").unwrap();
        let err = FileConfig::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("line 2, column 1"), "{err}");
        assert!(err.contains("unknown field `listen_port`"), "{err}");
        std::fs::write(&path, "archive_dir = \"/srv/luu-tru\"\narchive_hour = 24\n").unwrap();
        let err = FileConfig::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("archive_hour is 24; give an hour of the day from 0 to 23"), "{err}");
    }
}
