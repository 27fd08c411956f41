//! Kho's metadata repository. [`MetadataStore`] is the one interface the rest of Kho
//! uses; [`connect`] picks the backend from the URL scheme (`sqlite://` or
//! `postgres://`) and applies the migrations. Object storage (dataset files) goes
//! through [`objects::open`].
//!
//! Every state-changing method takes an [`AuditContext`] and writes its audit entry in
//! the same transaction as the change: a change is never without its record.

pub mod catalog;
pub mod codelists;
pub mod conformance;
pub mod dictionary;
pub mod exchange;
mod migrate;
pub mod objects;
pub mod quality;
pub mod requests;
mod sql;
pub mod testing;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kho_core::agency::{Agency, NewAgency};
use kho_core::audit::{AuditContext, AuditEntry, AuditEvent, Outcome};
use kho_core::identity::{ApiToken, NewSubsystem, NewUser, Role, Subsystem, TokenOwner, User};
use std::sync::Arc;

pub use catalog::{CatalogStore, ResourceQuery, Visibility};
pub use codelists::CodeListStore;
pub use conformance::{Binding, ConformanceStore};
pub use dictionary::{DictionaryStore, ElementQuery};
pub use exchange::{AgreementQuery, ExchangeStore, GatewayCredential, MessageQuery};
pub use quality::{QualityStore, StoredRules};
pub use requests::{RequestQuery, RequestStore};
pub use sql::SqlStore;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("unsupported database url {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration { version: i64, name: &'static str, source: sqlx::Error },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<StoreError> for kho_core::Error {
    fn from(e: StoreError) -> Self {
        use kho_core::ErrorCode;
        match e {
            StoreError::Conflict(m) => kho_core::Error::conflict(m),
            StoreError::NotFound(what) => kho_core::Error::not_found(what),
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)) => {
                tracing::error!(error = %e, "metadata store unavailable");
                kho_core::Error::new(ErrorCode::Unavailable, "the metadata store is unavailable; try again shortly")
            }
            other => {
                tracing::error!(error = %other, "metadata store failure");
                kho_core::Error::internal("internal error in the metadata store; see the server log")
            }
        }
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A logged-in browser session. The cookie holds the session id; the store keeps
/// only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// One page of a listing, and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// Which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Only users of agencies in this subtree (a materialised path).
    pub within_path: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Which audit entries to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    /// Matches the action exactly or as a dotted prefix (`user` matches `user.create`).
    pub action: Option<String>,
    pub target: Option<String>,
    pub outcome: Option<Outcome>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Keyset pagination: only entries with a smaller seq.
    pub before_seq: Option<i64>,
    pub limit: i64,
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub display_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
}

/// A new API token's record (the secret itself is never stored).
#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub owner: TokenOwner,
    pub token_hash: String,
    pub prefix: String,
    pub expires_at: DateTime<Utc>,
}

/// The metadata repository.
#[async_trait]
pub trait MetadataStore:
    CatalogStore
    + CodeListStore
    + ConformanceStore
    + DictionaryStore
    + ExchangeStore
    + QualityStore
    + RequestStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;
    /// Answers when the database does (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    // Cơ quan — agencies.
    async fn create_agency(&self, ctx: &AuditContext, new: &NewAgency) -> StoreResult<Agency>;
    async fn agency(&self, id: &str) -> StoreResult<Option<Agency>>;
    async fn agency_by_code(&self, code: &str) -> StoreResult<Option<Agency>>;
    async fn agency_by_admin_unit(&self, admin_unit_code: &str) -> StoreResult<Option<Agency>>;
    /// Every agency, in tree order (parents before children).
    async fn list_agencies(&self) -> StoreResult<Vec<Agency>>;

    // Người dùng — users.
    async fn create_user(&self, ctx: &AuditContext, new: &NewUser, password_hash: &str) -> StoreResult<User>;
    async fn user(&self, id: &str) -> StoreResult<Option<User>>;
    /// The user and the stored password hash, for logging in.
    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Page<User>>;
    async fn count_users(&self) -> StoreResult<i64>;
    async fn update_user(&self, ctx: &AuditContext, id: &str, change: &UserChange) -> StoreResult<User>;

    // Phân hệ — subsystems.
    async fn create_subsystem(&self, ctx: &AuditContext, new: &NewSubsystem) -> StoreResult<Subsystem>;
    async fn subsystem(&self, id: &str) -> StoreResult<Option<Subsystem>>;
    async fn list_subsystems(&self) -> StoreResult<Vec<Subsystem>>;

    // Khóa API — API tokens.
    async fn create_token(&self, ctx: &AuditContext, new: &NewToken) -> StoreResult<ApiToken>;
    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>>;
    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    /// Tokens of one owner, or all of them, newest first.
    async fn list_tokens(&self, owner: Option<&TokenOwner>) -> StoreResult<Vec<ApiToken>>;
    async fn revoke_token(&self, ctx: &AuditContext, id: &str) -> StoreResult<ApiToken>;
    async fn touch_token(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;

    // Phiên — browser sessions.
    async fn create_session(&self, id_hash: &str, session: &Session) -> StoreResult<()>;
    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;

    // Nhật ký kiểm toán — the audit log.
    /// Appends an event that has no state change of its own (a read, a denial, a login).
    async fn append_audit(&self, event: AuditEvent) -> StoreResult<AuditEntry>;
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
    /// Entries with `seq > after_seq`, oldest first, at most `limit`.
    async fn audit_range(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// The recorded head of the chain: newest seq and hash.
    async fn audit_head(&self) -> StoreResult<(i64, String)>;
}

/// Opens the store at `url`, creating the SQLite file when needed, and migrates it.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn MetadataStore>> {
    Ok(Arc::new(SqlStore::connect(url).await?))
}

/// Walks the whole chain, page by page, and reports the first break.
pub async fn verify_audit_chain(store: &dyn MetadataStore) -> StoreResult<Result<i64, kho_core::audit::ChainBreak>> {
    let mut verifier = kho_core::audit::ChainVerifier::default();
    let mut after = 0;
    loop {
        let page = store.audit_range(after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for entry in &page {
            if let Err(brk) = verifier.push(entry) {
                return Ok(Err(brk));
            }
        }
    }
    let (head_seq, head_hash) = store.audit_head().await?;
    Ok(verifier.finish(head_seq, &head_hash))
}
