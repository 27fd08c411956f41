//! Fresh databases for test suites: a SQLite file in a temporary directory, or a new
//! PostgreSQL database on the server named by `KHO_TEST_POSTGRES_URL`. When `CI` is
//! set, a missing PostgreSQL URL is an error, so PostgreSQL tests never skip there.

use crate::Backend;
use sqlx::{Connection, Executor};

pub const POSTGRES_URL_VAR: &str = "KHO_TEST_POSTGRES_URL";

/// A database that exists for one test: a PostgreSQL one is dropped with it.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    /// The server's URL and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}/kho.db", dir.path().display());
        Self { url, backend: Backend::Sqlite, _dir: Some(dir), postgres: None }
    }

    /// A new, empty PostgreSQL database, or `None` outside CI when no server is configured.
    pub async fn postgres() -> Option<Self> {
        let Ok(server) = std::env::var(POSTGRES_URL_VAR) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{POSTGRES_URL_VAR} must be set in CI: PostgreSQL tests may not be skipped there"
            );
            eprintln!("{POSTGRES_URL_VAR} not set: skipping the PostgreSQL run of this test");
            return None;
        };
        let name = format!("kho_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}={server}: {e}"));
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
        let (base, query) = match server.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (server.as_str(), String::new()),
        };
        let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
        let url = format!("{base}/{name}{query}");
        Some(Self { url, backend: Backend::Postgres, _dir: None, postgres: Some((server, name)) })
    }
}

impl Drop for TestDb {
    /// Drops the PostgreSQL database, closing the connections the test left open. It
    /// runs on its own thread and runtime: `Drop` cannot wait on the test's runtime.
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else { return };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&server).await?;
                admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await?;
                Ok::<_, sqlx::Error>(())
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("the test database could not be dropped: {e}"),
            Err(_) => eprintln!("the test database could not be dropped: the dropping thread panicked"),
        }
    }
}
