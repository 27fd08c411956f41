//! Versioned schema migrations, embedded in the binary and applied in order on start.
//! Each runs in its own transaction and is recorded in `kho_migrations`.

use crate::{Backend, StoreError, StoreResult};
use sqlx::{AnyPool, Row};

/// A migration's SQL: one script, or one per backend where their dialects differ.
enum Script {
    Both(&'static str),
    PerBackend { sqlite: &'static str, postgres: &'static str },
}

use Script::{Both, PerBackend};

/// (version, name, SQL). Append only: never edit a migration that has shipped.
const MIGRATIONS: &[(i64, &str, Script)] = &[
    (1, "identity", Both(include_str!("../migrations/0001_identity.sql"))),
    (2, "catalog", Both(include_str!("../migrations/0002_catalog.sql"))),
    (3, "requests", Both(include_str!("../migrations/0003_requests.sql"))),
    (4, "views", Both(include_str!("../migrations/0004_views.sql"))),
    (5, "code_lists", Both(include_str!("../migrations/0005_code_lists.sql"))),
    (6, "dictionary", Both(include_str!("../migrations/0006_dictionary.sql"))),
    (7, "conformance", Both(include_str!("../migrations/0007_conformance.sql"))),
    (8, "exchange", Both(include_str!("../migrations/0008_exchange.sql"))),
    (9, "subsystem_certificates", Both(include_str!("../migrations/0009_subsystem_certificates.sql"))),
    (11, "quality", Both(include_str!("../migrations/0011_quality.sql"))),
    (
        12,
        "message_fields",
        PerBackend {
            sqlite: include_str!("../migrations/0012_message_fields.sqlite.sql"),
            postgres: include_str!("../migrations/0012_message_fields.postgres.sql"),
        },
    ),
    (13, "message_archives", Both(include_str!("../migrations/0013_message_archives.sql"))),
    (14, "service_changes", Both(include_str!("../migrations/0014_service_changes.sql"))),
    (15, "service_health", Both(include_str!("../migrations/0015_service_health.sql"))),
];

pub async fn run(pool: &AnyPool, backend: Backend) -> StoreResult<()> {
    sqlx::query("CREATE TABLE IF NOT EXISTS kho_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        .execute(pool)
        .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM kho_migrations")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<Result<_, _>>()?;
    for (version, name, script) in MIGRATIONS {
        let (version, name) = (*version, *name);
        if applied.contains(&version) {
            continue;
        }
        let script = match (script, backend) {
            (Both(sql), _) => sql,
            (PerBackend { sqlite, .. }, Backend::Sqlite) => sqlite,
            (PerBackend { postgres, .. }, Backend::Postgres) => postgres,
        };
        let fail = |source| StoreError::Migration { version, name, source };
        let mut tx = pool.begin().await?;
        sqlx::raw_sql(script).execute(&mut *tx).await.map_err(fail)?;
        sqlx::query("INSERT INTO kho_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(version)
            .bind(name)
            .bind(kho_core::time::format(&kho_core::time::now()))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}
