//! The SQL backend of [`MetadataStore`], one implementation for SQLite and
//! PostgreSQL through sqlx's `Any` driver. The SQL is portable (`$N` parameters,
//! text timestamps, no booleans), so the same statements run on both.

use crate::{
    AuditQuery, Backend, MetadataStore, NewToken, Page, Session, StoreError, StoreResult, UserChange, UserQuery,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kho_core::agency::{Agency, AgencyCode, AgencyKind, NewAgency};
use kho_core::audit::{AuditContext, AuditEntry, AuditEvent, Outcome};
use kho_core::identity::{ApiToken, NewSubsystem, NewUser, Role, Subsystem, SubsystemId, TokenOwner, User};
use kho_core::time;
use serde_json::json;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Row, Transaction};
use std::time::Duration;

pub struct SqlStore {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

pub(crate) type Tx = Transaction<'static, Any>;

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    time::format(t)
}

pub(crate) fn parse_ts(s: &str) -> StoreResult<DateTime<Utc>> {
    time::parse(s).ok_or_else(|| StoreError::Corrupt(format!("bad timestamp {s:?}")))
}

pub(crate) fn parse_opt_ts(s: Option<String>) -> StoreResult<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

fn parse_roles(s: &str) -> StoreResult<Vec<Role>> {
    Role::parse_list(s).map_err(|e| StoreError::Corrupt(e.message))
}

/// Turns a unique-constraint violation into a conflict the caller can act on.
pub(crate) fn conflict_on_unique(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
    match e.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => StoreError::Database(e),
    }
}

/// The `VALUES` tuples of a multi-row insert of `rows` rows of `columns` parameters:
/// numbered (`$1, $2, …`) on PostgreSQL, anonymous (`?`) on SQLite. SQLite keeps a
/// statement's numbered parameters in a list it searches from the start, both when it
/// parses one and when the driver asks a parameter's name to bind it: a statement of
/// thousands of them costs time quadratic in their number, while `?`s are counted.
pub(crate) fn values_rows(backend: Backend, rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 6);
    for row in 0..rows {
        out.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            match backend {
                Backend::Sqlite => out.push('?'),
                Backend::Postgres => {
                    out.push('$');
                    out.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        out.push(')');
    }
    out
}

const AGENCY_COLS: &str = "id, code, name, name_en, kind, parent_id, admin_unit_code, path, created_at";
const USER_COLS: &str = "id, username, display_name, agency_id, roles, disabled_at, created_at";
const SUBSYSTEM_COLS: &str = "id, xroad_id, name, agency_id, roles, created_at";
const TOKEN_COLS: &str = "id, name, user_id, subsystem_id, prefix, created_at, expires_at, revoked_at, last_used_at";
const AUDIT_COLS: &str =
    "seq, at, actor, actor_agency_id, action, target, request_id, outcome, detail, prev_hash, hash";

fn agency_from(r: &AnyRow) -> StoreResult<Agency> {
    let kind: String = r.try_get("kind")?;
    let code: String = r.try_get("code")?;
    Ok(Agency {
        id: r.try_get("id")?,
        code: AgencyCode::parse(&code).map_err(|e| StoreError::Corrupt(e.message))?,
        name: r.try_get("name")?,
        name_en: r.try_get("name_en")?,
        kind: AgencyKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.message))?,
        parent_id: r.try_get("parent_id")?,
        admin_unit_code: r.try_get("admin_unit_code")?,
        path: r.try_get("path")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
    })
}

fn user_from(r: &AnyRow) -> StoreResult<User> {
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        agency_id: r.try_get("agency_id")?,
        roles: parse_roles(&r.try_get::<String, _>("roles")?)?,
        disabled: r.try_get::<Option<String>, _>("disabled_at")?.is_some(),
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
    })
}

fn subsystem_from(r: &AnyRow) -> StoreResult<Subsystem> {
    let xroad: String = r.try_get("xroad_id")?;
    Ok(Subsystem {
        id: r.try_get("id")?,
        xroad_id: SubsystemId::parse(&xroad).map_err(|e| StoreError::Corrupt(e.message))?,
        name: r.try_get("name")?,
        agency_id: r.try_get("agency_id")?,
        roles: parse_roles(&r.try_get::<String, _>("roles")?)?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
    })
}

fn token_from(r: &AnyRow) -> StoreResult<ApiToken> {
    let owner = match (r.try_get::<Option<String>, _>("user_id")?, r.try_get::<Option<String>, _>("subsystem_id")?) {
        (Some(u), None) => TokenOwner::User(u),
        (None, Some(s)) => TokenOwner::Subsystem(s),
        _ => return Err(StoreError::Corrupt("a token must have exactly one owner".into())),
    };
    Ok(ApiToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        owner,
        prefix: r.try_get("prefix")?,
        created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
        expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
        revoked_at: parse_opt_ts(r.try_get("revoked_at")?)?,
        last_used_at: parse_opt_ts(r.try_get("last_used_at")?)?,
    })
}

fn audit_from(r: &AnyRow) -> StoreResult<AuditEntry> {
    let outcome: String = r.try_get("outcome")?;
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        at: parse_ts(&r.try_get::<String, _>("at")?)?,
        actor: r.try_get("actor")?,
        actor_agency_id: r.try_get("actor_agency_id")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        request_id: r.try_get("request_id")?,
        // An unknown outcome is kept visible as a failure; its hash no longer matches.
        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Failure),
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

impl SqlStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // 16 KiB pages (a new database only: the size is fixed before WAL
                        // mode is set) carry the message log's appends in a quarter of the
                        // write-ahead-log writes of 4 KiB ones. A 64 MiB page cache holds
                        // the pages one move of the log changes until its commit: with
                        // callers' random `X-Road-Id`s they are spread over the whole
                        // `message_id` index, and a smaller cache writes them out
                        // (spills) over and over within the transaction.
                        conn.execute(
                            "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA wal_autocheckpoint = 20000; PRAGMA mmap_size = 268435456; PRAGMA cache_size = -65536;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        crate::migrate::run(&pool, backend).await?;
        Ok(Self { pool, backend })
    }

    /// Starts a transaction that holds the audit head lock: it serialises every
    /// audited write (SQLite takes its write lock here instead of failing later on
    /// upgrade; PostgreSQL locks the head row).
    pub(crate) async fn begin_audited(&self) -> StoreResult<Tx> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(&mut *tx).await?;
        Ok(tx)
    }

    /// Appends one entry inside a transaction opened by [`Self::begin_audited`].
    pub(crate) async fn append_in(tx: &mut Tx, event: AuditEvent) -> StoreResult<AuditEntry> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&mut **tx).await?;
        let entry = AuditEntry::chain(head.try_get("seq")?, &head.try_get::<String, _>("hash")?, time::now(), event);
        sqlx::query(&format!(
            "INSERT INTO audit_log ({AUDIT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(entry.seq)
        .bind(ts(&entry.at))
        .bind(&entry.actor)
        .bind(&entry.actor_agency_id)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.request_id)
        .bind(entry.outcome.as_str())
        .bind(&entry.detail)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(entry.seq)
            .bind(&entry.hash)
            .execute(&mut **tx)
            .await?;
        Ok(entry)
    }

    async fn fetch_optional<T>(
        &self,
        sql: &str,
        key: &str,
        map: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        sqlx::query(sql).bind(key).fetch_optional(&self.pool).await?.as_ref().map(map).transpose()
    }
}

#[async_trait]
impl MetadataStore for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn create_agency(&self, ctx: &AuditContext, new: &NewAgency) -> StoreResult<Agency> {
        let mut tx = self.begin_audited().await?;
        let parent_path = match &new.parent_id {
            Some(pid) => Some(
                sqlx::query("SELECT path FROM agencies WHERE id = $1")
                    .bind(pid)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("parent agency {pid}")))?
                    .try_get::<String, _>("path")?,
            ),
            None => None,
        };
        let id = new_id();
        let agency = Agency {
            path: Agency::child_path(parent_path.as_deref(), &id),
            id,
            code: new.code.clone(),
            name: new.name.trim().to_string(),
            name_en: new.name_en.clone(),
            kind: new.kind,
            parent_id: new.parent_id.clone(),
            admin_unit_code: new.admin_unit_code.clone(),
            created_at: time::now(),
        };
        sqlx::query(&format!("INSERT INTO agencies ({AGENCY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(&agency.id)
            .bind(agency.code.as_str())
            .bind(&agency.name)
            .bind(&agency.name_en)
            .bind(agency.kind.as_str())
            .bind(&agency.parent_id)
            .bind(&agency.admin_unit_code)
            .bind(&agency.path)
            .bind(ts(&agency.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                conflict_on_unique(e, || {
                    format!(
                        "an agency with code {} or admin-unit code {} already exists",
                        agency.code,
                        agency.admin_unit_code.as_deref().unwrap_or("-")
                    )
                })
            })?;
        let event = ctx
            .event("agency.create", format!("agency:{}", agency.id))
            .detail(json!({"code": agency.code, "name": agency.name, "kind": agency.kind}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(agency)
    }

    async fn agency(&self, id: &str) -> StoreResult<Option<Agency>> {
        self.fetch_optional(&format!("SELECT {AGENCY_COLS} FROM agencies WHERE id = $1"), id, agency_from).await
    }

    async fn agency_by_code(&self, code: &str) -> StoreResult<Option<Agency>> {
        self.fetch_optional(&format!("SELECT {AGENCY_COLS} FROM agencies WHERE code = $1"), code, agency_from).await
    }

    async fn agency_by_admin_unit(&self, admin_unit_code: &str) -> StoreResult<Option<Agency>> {
        let sql = format!("SELECT {AGENCY_COLS} FROM agencies WHERE admin_unit_code = $1");
        self.fetch_optional(&sql, admin_unit_code, agency_from).await
    }

    async fn list_agencies(&self) -> StoreResult<Vec<Agency>> {
        let rows =
            sqlx::query(&format!("SELECT {AGENCY_COLS} FROM agencies ORDER BY path")).fetch_all(&self.pool).await?;
        rows.iter().map(agency_from).collect()
    }

    async fn create_user(&self, ctx: &AuditContext, new: &NewUser, password_hash: &str) -> StoreResult<User> {
        let mut tx = self.begin_audited().await?;
        let user = User {
            id: new_id(),
            username: new.username.clone(),
            display_name: new.display_name.clone().unwrap_or_else(|| new.username.clone()),
            agency_id: new.agency_id.clone(),
            roles: {
                let mut r = new.roles.clone();
                r.sort();
                r.dedup();
                r
            },
            disabled: false,
            created_at: time::now(),
        };
        sqlx::query(
            "INSERT INTO users (id, username, display_name, agency_id, roles, password_hash, disabled_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(&user.agency_id)
        .bind(Role::join(&user.roles))
        .bind(password_hash)
        .bind(ts(&user.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_on_unique(e, || format!("the username {:?} is taken; choose another", user.username)))?;
        let event = ctx
            .event("user.create", format!("user:{}", user.id))
            .detail(json!({"username": user.username, "agency_id": user.agency_id, "roles": user.roles}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn user(&self, id: &str) -> StoreResult<Option<User>> {
        self.fetch_optional(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"), id, user_from).await
    }

    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query(&format!("SELECT {USER_COLS}, password_hash FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((user_from(&r)?, r.try_get("password_hash")?))).transpose()
    }

    async fn list_users(&self, q: &UserQuery) -> StoreResult<Page<User>> {
        let prefix = format!("{}%", q.within_path.as_deref().unwrap_or(""));
        let from = "FROM users u JOIN agencies a ON a.id = u.agency_id WHERE a.path LIKE $1";
        let total: i64 =
            sqlx::query(&format!("SELECT COUNT(*) {from}")).bind(&prefix).fetch_one(&self.pool).await?.try_get(0)?;
        let cols = USER_COLS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!("SELECT {cols} {from} ORDER BY u.username LIMIT $2 OFFSET $3"))
            .bind(&prefix)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(&self.pool)
            .await?;
        Ok(Page { items: rows.iter().map(user_from).collect::<StoreResult<_>>()?, total })
    }

    async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?.try_get(0)?)
    }

    async fn update_user(&self, ctx: &AuditContext, id: &str, change: &UserChange) -> StoreResult<User> {
        let mut tx = self.begin_audited().await?;
        let mut detail = serde_json::Map::new();
        if let Some(name) = &change.display_name {
            sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
                .bind(name)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            detail.insert("display_name".into(), json!(name));
        }
        if let Some(roles) = &change.roles {
            sqlx::query("UPDATE users SET roles = $1 WHERE id = $2")
                .bind(Role::join(roles))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            detail.insert("roles".into(), json!(roles));
        }
        if let Some(hash) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            detail.insert("password".into(), json!("changed"));
        }
        if let Some(disabled) = change.disabled {
            let at = disabled.then(|| ts(&time::now()));
            sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2").bind(at).bind(id).execute(&mut *tx).await?;
            detail.insert("disabled".into(), json!(disabled));
        }
        // A new password or a disabled account ends every open session of the user.
        if change.password_hash.is_some() || change.disabled == Some(true) {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        let user = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        let user = user_from(&user)?;
        Self::append_in(&mut tx, ctx.event("user.update", format!("user:{id}")).detail(detail.into())).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn create_subsystem(&self, ctx: &AuditContext, new: &NewSubsystem) -> StoreResult<Subsystem> {
        let mut tx = self.begin_audited().await?;
        let s = Subsystem {
            id: new_id(),
            xroad_id: new.xroad_id.clone(),
            name: new.name.trim().to_string(),
            agency_id: new.agency_id.clone(),
            roles: new.roles.clone(),
            created_at: time::now(),
        };
        sqlx::query(&format!("INSERT INTO subsystems ({SUBSYSTEM_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&s.id)
            .bind(s.xroad_id.to_string())
            .bind(&s.name)
            .bind(&s.agency_id)
            .bind(Role::join(&s.roles))
            .bind(ts(&s.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("the subsystem {} is already registered", s.xroad_id)))?;
        let event = ctx
            .event("subsystem.create", s.xroad_id.audit_target())
            .detail(json!({"id": s.id, "agency_id": s.agency_id}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn subsystem(&self, id: &str) -> StoreResult<Option<Subsystem>> {
        self.fetch_optional(&format!("SELECT {SUBSYSTEM_COLS} FROM subsystems WHERE id = $1"), id, subsystem_from).await
    }

    async fn list_subsystems(&self) -> StoreResult<Vec<Subsystem>> {
        let rows = sqlx::query(&format!("SELECT {SUBSYSTEM_COLS} FROM subsystems ORDER BY xroad_id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(subsystem_from).collect()
    }

    async fn create_token(&self, ctx: &AuditContext, new: &NewToken) -> StoreResult<ApiToken> {
        let mut tx = self.begin_audited().await?;
        let token = ApiToken {
            id: new_id(),
            name: new.name.clone(),
            owner: new.owner.clone(),
            prefix: new.prefix.clone(),
            created_at: time::now(),
            expires_at: new.expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        let (user_id, subsystem_id) = match &token.owner {
            TokenOwner::User(u) => (Some(u.as_str()), None),
            TokenOwner::Subsystem(s) => (None, Some(s.as_str())),
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, name, user_id, subsystem_id, token_hash, prefix, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&token.id)
        .bind(&token.name)
        .bind(user_id)
        .bind(subsystem_id)
        .bind(&new.token_hash)
        .bind(&token.prefix)
        .bind(ts(&token.created_at))
        .bind(ts(&token.expires_at))
        .execute(&mut *tx)
        .await?;
        let event = ctx
            .event("token.create", format!("token:{}", token.id))
            .detail(json!({"name": token.name, "owner": token.owner, "expires_at": ts(&token.expires_at)}));
        Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn token(&self, id: &str) -> StoreResult<Option<ApiToken>> {
        self.fetch_optional(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"), id, token_from).await
    }

    async fn token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE token_hash = $1");
        self.fetch_optional(&sql, token_hash, token_from).await
    }

    async fn list_tokens(&self, owner: Option<&TokenOwner>) -> StoreResult<Vec<ApiToken>> {
        let (filter, key) = match owner {
            None => ("", None),
            Some(TokenOwner::User(u)) => ("WHERE user_id = $1", Some(u)),
            Some(TokenOwner::Subsystem(s)) => ("WHERE subsystem_id = $1", Some(s)),
        };
        let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens {filter} ORDER BY created_at DESC, id DESC");
        let mut query = sqlx::query(&sql);
        if let Some(k) = key {
            query = query.bind(k);
        }
        query.fetch_all(&self.pool).await?.iter().map(token_from).collect()
    }

    async fn revoke_token(&self, ctx: &AuditContext, id: &str) -> StoreResult<ApiToken> {
        let mut tx = self.begin_audited().await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(ts(&time::now()))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let token = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("API token {id}")))?;
        let token = token_from(&token)?;
        Self::append_in(&mut tx, ctx.event("token.revoke", format!("token:{id}"))).await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn touch_token(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(ts(&at))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_session(&self, id_hash: &str, s: &Session) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(&s.user_id)
        .bind(&s.csrf_token)
        .bind(ts(&s.created_at))
        .bind(ts(&s.expires_at))
        .execute(&self.pool)
        .await?;
        // Sweep expired sessions while we are here; there are few of them.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(ts(&time::now())).execute(&self.pool).await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query("SELECT user_id, csrf_token, created_at, expires_at FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Session {
                user_id: r.try_get("user_id")?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
                expires_at: parse_ts(&r.try_get::<String, _>("expires_at")?)?,
            })
        })
        .transpose()
    }

    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&self.pool).await?;
        Ok(())
    }

    async fn append_audit(&self, event: AuditEvent) -> StoreResult<AuditEntry> {
        let mut tx = self.begin_audited().await?;
        let entry = Self::append_in(&mut tx, event).await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let mut clauses = Vec::new();
        let mut args: Vec<String> = Vec::new();
        let mut arg = |v: String| {
            args.push(v);
            format!("${}", args.len())
        };
        if let Some(actor) = &q.actor {
            clauses.push(format!("actor = {}", arg(actor.clone())));
        }
        if let Some(action) = &q.action {
            let (exact, prefix) = (arg(action.clone()), arg(format!("{action}.%")));
            clauses.push(format!("(action = {exact} OR action LIKE {prefix})"));
        }
        if let Some(target) = &q.target {
            clauses.push(format!("target = {}", arg(target.clone())));
        }
        if let Some(outcome) = q.outcome {
            clauses.push(format!("outcome = {}", arg(outcome.as_str().into())));
        }
        if let Some(from) = &q.from {
            clauses.push(format!("at >= {}", arg(ts(from))));
        }
        if let Some(until) = &q.until {
            clauses.push(format!("at < {}", arg(ts(until))));
        }
        let where_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let (before_sql, limit_sql) = (args.len() + 1, args.len() + 2);
        let joiner = if clauses.is_empty() { "WHERE" } else { "AND" };
        let sql = format!(
            "SELECT {AUDIT_COLS} FROM audit_log {where_sql} {joiner} seq < ${before_sql} ORDER BY seq DESC LIMIT ${limit_sql}"
        );
        let mut query = sqlx::query(&sql);
        for a in &args {
            query = query.bind(a.as_str());
        }
        let rows = query.bind(q.before_seq.unwrap_or(i64::MAX)).bind(q.limit).fetch_all(&self.pool).await?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_range(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!("SELECT {AUDIT_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_from).collect()
    }

    async fn audit_head(&self) -> StoreResult<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?;
        Ok((row.try_get("seq")?, row.try_get("hash")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use sqlx::Connection;

    #[tokio::test]
    async fn a_new_sqlite_store_has_16_kib_pages_in_wal_mode() {
        let db = TestDb::sqlite();
        let _store = SqlStore::connect(&db.url).await.unwrap();
        let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let page_size: i64 = sqlx::query_scalar("PRAGMA page_size").fetch_one(&mut conn).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await.unwrap();
        assert_eq!((page_size, mode.as_str()), (16384, "wal"), "the page size is set before WAL mode fixes it");
    }

    #[test]
    fn multi_row_values_are_numbered_on_postgresql_and_anonymous_on_sqlite() {
        assert_eq!(values_rows(Backend::Postgres, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_rows(Backend::Sqlite, 2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(values_rows(Backend::Sqlite, 1, 1), "(?)");
    }
}
