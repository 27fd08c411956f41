//! The repository test suite. Every test runs twice: on SQLite and on PostgreSQL
//! (`KHO_TEST_POSTGRES_URL`; required when `CI` is set).

mod audit;
mod catalog;
mod codelists;
mod dictionary;
mod exchange;
mod identity;
mod quality;

use kho_core::agency::{AgencyCode, AgencyKind, NewAgency};
use kho_core::audit::AuditContext;
use kho_store::testing::TestDb;
use kho_store::MetadataStore;
use std::sync::Arc;

/// A store on a fresh database, plus raw SQL access for tampering.
pub struct Fixture {
    pub store: Arc<dyn MetadataStore>,
    pub raw: sqlx::AnyPool,
    pub db: TestDb,
}

impl Fixture {
    pub async fn new(db: TestDb) -> Self {
        let store = kho_store::connect(&db.url).await.expect("open store");
        let raw = sqlx::AnyPool::connect(&db.url).await.expect("raw connection");
        Self { store, raw, db }
    }

    pub async fn sql(&self, statement: &str) {
        sqlx::query(statement).execute(&self.raw).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

pub fn ctx() -> AuditContext {
    AuditContext::operator()
}

pub fn new_agency(code: &str, name: &str, kind: AgencyKind, parent: Option<&str>) -> NewAgency {
    NewAgency {
        code: AgencyCode::parse(code).unwrap(),
        name: name.into(),
        name_en: None,
        kind,
        parent_id: parent.map(String::from),
        admin_unit_code: None,
    }
}

/// Declares each test once per backend.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name($crate::Fixture::new(kho_store::testing::TestDb::sqlite()).await).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() {
                if let Some(db) = kho_store::testing::TestDb::postgres().await {
                    super::$name($crate::Fixture::new(db).await).await
                }
            } )*
        }
    };
}
