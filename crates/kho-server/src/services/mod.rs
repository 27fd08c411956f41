//! The application services: what a caller may do, decided by the policy, carried
//! out by the store, recorded in the audit log. HTTP handlers and CLI commands both
//! call these functions; neither talks to the store for a change directly.

use crate::config::Settings;
mod archive;
mod catalog;
pub mod codelists;
mod conformance;
mod dictionary;
pub mod exchange;
mod portal;
pub mod quality;
mod query;
mod requests;
mod warehouse;

use crate::attempt_limit::AttemptLimiter;
pub use archive::{AccessReport, ArchiveSearch, SearchOutcome};
pub use catalog::ResourceFilter;
use chrono::Duration;
pub use conformance::{BoundColumn, SuggestedBinding};
pub use dictionary::{DictionaryFormat, ElementImport};
use kho_core::admin_units::AdminUnit;
use kho_core::agency::{Agency, AgencyCode, AgencyKind, NewAgency};
use kho_core::audit::{AuditContext, AuditEntry, ChainBreak, Outcome};
use kho_core::identity::{
    validate_password, validate_token_days, ApiToken, NewSubsystem, NewUser, Principal, Role, Subject, Subsystem,
    TokenOwner, User,
};
use kho_core::policy::{authorize, Action, Decision, Resource, ResourceKind};
use kho_core::{secret, time, Error, ErrorCode, Result};
use kho_store::objects::Objects;
use kho_store::{AuditQuery, MetadataStore, NewToken, Page, Session, UserChange, UserQuery};
pub use portal::{OpenCatalogue, OpenDataset};
pub use query::QueryableTable;
use serde::Serialize;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
pub use warehouse::{parse_schema, DownloadRequest, Load, OnError};

/// A running Kho: its store, object storage and settings.
/// Requests and feedback one address may send in an hour.
const SUBMISSIONS_PER_HOUR: u32 = 10;

pub struct Kho {
    pub store: Arc<dyn MetadataStore>,
    pub objects: Objects,
    /// Kho dữ liệu — the Delta tables of the resources.
    pub lake: kho_lake::Lake,
    /// The full-text index of the open data (`<data dir>/search`).
    pub search: kho_search::SearchIndex,
    pub settings: Settings,
    logins: AttemptLimiter,
    /// Requests and feedback from the public, per address.
    submissions: AttemptLimiter,
    /// The open catalogue as the portal last read it.
    portal: portal::PortalCache,
    /// The published code lists read so far, indexed for lookups.
    codelists: codelists::CodeListCache,
    /// The sharing gateway's directory (services, agreements, subsystem tokens).
    exchange: exchange::DirectoryCache,
    /// The node's signing and sealing keys, read on first use.
    keys: std::sync::OnceLock<exchange::NodeKeys>,
    /// The running gateway's message log, which readers settle first.
    message_log: std::sync::OnceLock<Arc<crate::gateway::Logbook>>,
}

/// What the first start created, to print once.
#[derive(Debug, Clone)]
pub struct FirstRun {
    pub username: String,
    /// The admin password, when Kho generated it (it is shown only now).
    pub generated_password: Option<String>,
    pub demo_users: Vec<String>,
    /// The demo's consumer subsystem and its gateway token (shown only now).
    pub demo_gateway_token: Option<(String, String)>,
}

/// The answer of `audit verify`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// Whether the whole chain is intact.
    pub intact: bool,
    /// Number of entries checked (up to the break).
    pub entries: i64,
    /// The first break, when there is one.
    pub first_break: Option<ChainBreak>,
    pub message: String,
}

/// Result of importing communes from the admin-unit list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub already_present: usize,
}

/// Builds the agency code of the `index`-th (1-based) commune of a province whose
/// agencies share the level-1 group `level1`. The codes are illustrative: they keep
/// the four-group format and are stable for a given admin-unit list.
pub fn commune_agency_code(level1: &str, index: usize) -> String {
    format!("{index:03}.99.00.{level1}")
}

impl Kho {
    /// Opens the data directory, the metadata store (migrating it) and object storage.
    pub async fn open(settings: Settings) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}", settings.data_dir.display()))?;
        let store = kho_store::connect(&settings.database_url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the metadata store {}: {e}", settings.database_url))?;
        let objects = kho_store::objects::open(&settings.object_store_url)?;
        let lake = kho_lake::Lake::new(&settings.object_store_url)?;
        let logins =
            AttemptLimiter::new(settings.login_attempts, std::time::Duration::from_secs(settings.login_window_secs));
        let submissions = AttemptLimiter::new(SUBMISSIONS_PER_HOUR, std::time::Duration::from_secs(3600));
        let search = kho_search::SearchIndex::open(&settings.data_dir.join("search"))?;
        let kho = Self {
            store,
            objects,
            lake,
            settings,
            logins,
            submissions,
            search,
            portal: Default::default(),
            codelists: Default::default(),
            exchange: Default::default(),
            keys: Default::default(),
            message_log: Default::default(),
        };
        if kho.search.is_empty() {
            // A new index (or one made before search existed) is filled from the catalogue.
            kho.reindex_search().await?;
        }
        Ok(kho)
    }

    /// Checks the policy; a denial is itself recorded in the audit log.
    pub(crate) async fn check(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        action: Action,
        resource: Resource<'_>,
        audit_action: &str,
        target: &str,
    ) -> Result<()> {
        match authorize(subject, action, &resource) {
            Decision::Allow => Ok(()),
            Decision::Deny(reason) => {
                if !subject.is_authenticated() {
                    return Err(Error::unauthenticated("log in or send an API token to do this"));
                }
                let event = ctx.event(audit_action, target).outcome(Outcome::Denied).detail(json!({"reason": reason}));
                self.store.append_audit(event).await?;
                Err(Error::forbidden(format!("not allowed: {reason}")))
            }
        }
    }

    pub(crate) async fn agency_path(&self, agency_id: &str) -> Result<String> {
        Ok(self.agency(agency_id).await?.path)
    }

    // ---- identity ---------------------------------------------------------------

    /// The subject a user acts as.
    pub async fn subject_for_user(&self, user: &User) -> Result<Subject> {
        let agency = self.agency(&user.agency_id).await?;
        Ok(Subject {
            principal: Principal::User { id: user.id.clone(), username: user.username.clone() },
            roles: user.roles.clone(),
            agency_id: Some(agency.id),
            agency_path: Some(agency.path),
        })
    }

    /// Resolves an API token secret to the subject it stands for.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Subject> {
        let invalid = || Error::unauthenticated("the API token is unknown, revoked or expired; create a new one");
        let token = self.store.token_by_hash(&secret::token_hash(secret)).await?.ok_or_else(invalid)?;
        let now = time::now();
        if !token.is_active(now) {
            return Err(invalid());
        }
        if token.last_used_at.is_none_or(|t| now - t > Duration::minutes(1)) {
            self.store.touch_token(&token.id, now).await?;
        }
        match &token.owner {
            TokenOwner::User(id) => {
                let user = self.store.user(id).await?.filter(|u| !u.disabled).ok_or_else(invalid)?;
                self.subject_for_user(&user).await
            }
            TokenOwner::Subsystem(id) => {
                let sub = self.store.subsystem(id).await?.ok_or_else(invalid)?;
                Ok(Subject {
                    principal: Principal::Subsystem { id: sub.id.clone(), xroad_id: sub.xroad_id.to_string() },
                    roles: sub.roles.clone(),
                    agency_path: Some(self.agency_path(&sub.agency_id).await?),
                    agency_id: Some(sub.agency_id),
                })
            }
        }
    }

    /// Resolves a session cookie value; `None` when it is unknown or expired.
    pub async fn authenticate_session(&self, session_id: &str) -> Result<Option<(Subject, Session)>> {
        let hash = secret::token_hash(session_id);
        let Some(session) = self.store.session(&hash).await? else { return Ok(None) };
        if session.expires_at <= time::now() {
            self.store.delete_session(&hash).await?;
            return Ok(None);
        }
        match self.store.user(&session.user_id).await? {
            Some(user) if !user.disabled => Ok(Some((self.subject_for_user(&user).await?, session))),
            _ => Ok(None),
        }
    }

    /// Checks a username and password and opens a session. Failures are counted per
    /// address and username; past the limit the caller must wait.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: IpAddr,
        request_id: Option<String>,
    ) -> Result<(String, Session, User)> {
        // Failures count per address and username, and per address alone (with a
        // larger allowance) so that trying many usernames is slowed down too.
        let key = format!("{client}|{}", username.to_lowercase());
        let address_key = client.to_string();
        if let Err(wait) = self.logins.check(&key, 1).and_then(|_| self.logins.check(&address_key, 4)) {
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!("too many failed logins; try again in {} seconds", wait.as_secs().max(1)),
            ));
        }
        let found = self.store.user_credentials(username).await?;
        let hash = found.as_ref().map(|(_, h)| h.clone()).unwrap_or_else(|| secret::dummy_password_hash().to_string());
        let password = password.to_string();
        let verified = tokio::task::spawn_blocking(move || secret::verify_password(&password, &hash))
            .await
            .map_err(|e| Error::internal(format!("password check failed: {e}")))?;
        let ctx = AuditContext { actor: format!("user:{username}"), actor_agency_id: None, request_id };
        match found {
            Some((user, _)) if verified && !user.disabled => {
                self.logins.forget(&key);
                let session_id = secret::random_string(32);
                let now = time::now();
                let session = Session {
                    user_id: user.id.clone(),
                    csrf_token: secret::random_string(24),
                    created_at: now,
                    expires_at: now + Duration::hours(self.settings.session_hours),
                };
                self.store.create_session(&secret::token_hash(&session_id), &session).await?;
                let ctx = AuditContext { actor_agency_id: Some(user.agency_id.clone()), ..ctx };
                self.store.append_audit(ctx.event("session.login", format!("user:{}", user.id))).await?;
                Ok((session_id, session, user))
            }
            _ => {
                self.logins.record(&key);
                self.logins.record(&address_key);
                let event = ctx.event("session.login", format!("username:{username}")).outcome(Outcome::Failure);
                self.store.append_audit(event).await?;
                Err(Error::unauthenticated("wrong username or password"))
            }
        }
    }

    pub async fn logout(&self, session_id: &str, subject: &Subject, ctx: &AuditContext) -> Result<()> {
        self.store.delete_session(&secret::token_hash(session_id)).await?;
        let target = subject.user_id().map(|id| format!("user:{id}")).unwrap_or_default();
        self.store.append_audit(ctx.event("session.logout", target)).await?;
        Ok(())
    }

    // ---- agencies ---------------------------------------------------------------

    /// The agency tree is public: anyone may read it.
    pub async fn list_agencies(&self) -> Result<Vec<Agency>> {
        Ok(self.store.list_agencies().await?)
    }

    pub async fn agency(&self, id: &str) -> Result<Agency> {
        self.store.agency(id).await?.ok_or_else(|| Error::not_found(format!("agency {id}")))
    }

    pub async fn create_agency(&self, subject: &Subject, ctx: &AuditContext, new: NewAgency) -> Result<Agency> {
        self.check(
            subject,
            ctx,
            Action::Create,
            Resource::new(ResourceKind::Agency),
            "agency.create",
            new.code.as_str(),
        )
        .await?;
        new.validate()?;
        if let Some(parent) = &new.parent_id {
            self.store.agency(parent).await?.ok_or_else(|| {
                Error::invalid("parent_id", format!("no agency has id {parent:?}; pick an existing parent"))
            })?;
        }
        Ok(self.store.create_agency(ctx, &new).await?)
    }

    /// Creates a commune agency under `parent` for each unit of `province_code` in
    /// `units` that has none yet; units already present are left as they are.
    pub async fn import_communes(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        units: &[AdminUnit],
        province_code: &str,
        parent: &Agency,
    ) -> Result<ImportReport> {
        self.check(subject, ctx, Action::Create, Resource::new(ResourceKind::Agency), "agency.import", &parent.id)
            .await?;
        let mine: Vec<&AdminUnit> = units.iter().filter(|u| u.province_code == province_code).collect();
        if mine.is_empty() {
            return Err(Error::invalid("province", format!("the list has no units of province {province_code:?}")));
        }
        let mut report = ImportReport::default();
        for (i, unit) in mine.iter().enumerate() {
            if self.store.agency_by_admin_unit(&unit.ward_code).await?.is_some() {
                report.already_present += 1;
                continue;
            }
            let new = NewAgency {
                code: AgencyCode::parse(&commune_agency_code(parent.code.level1(), i + 1))?,
                name: format!("UBND {}", unit.ward_name),
                name_en: None,
                kind: AgencyKind::Commune,
                parent_id: Some(parent.id.clone()),
                admin_unit_code: Some(unit.ward_code.clone()),
            };
            self.store.create_agency(ctx, &new).await?;
            report.created += 1;
        }
        Ok(report)
    }

    // ---- users ------------------------------------------------------------------

    pub async fn create_user(&self, subject: &Subject, ctx: &AuditContext, new: NewUser) -> Result<User> {
        let path = self.agency_path_for_field(&new.agency_id).await?;
        self.check(
            subject,
            ctx,
            Action::Create,
            Resource::new(ResourceKind::User).in_agency(&path),
            "user.create",
            &new.username,
        )
        .await?;
        new.validate()?;
        let password = new.password.clone();
        let hash = tokio::task::spawn_blocking(move || secret::hash_password(&password))
            .await
            .map_err(|e| Error::internal(format!("password hashing failed: {e}")))?;
        Ok(self.store.create_user(ctx, &new, &hash).await?)
    }

    pub(crate) async fn agency_path_for_field(&self, agency_id: &str) -> Result<String> {
        match self.store.agency(agency_id).await? {
            Some(a) => Ok(a.path),
            None => {
                Err(Error::invalid("agency_id", format!("no agency has id {agency_id:?}; pick an existing agency")))
            }
        }
    }

    /// Users the subject may see: all for admins and auditors, the subtree for
    /// stewards, only themselves otherwise. The read is recorded.
    pub async fn list_users(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        limit: i64,
        offset: i64,
    ) -> Result<Page<User>> {
        if !subject.is_authenticated() {
            return Err(Error::unauthenticated("log in or send an API token to list users"));
        }
        let query = |within_path| UserQuery { within_path, limit: limit.clamp(1, 500), offset: offset.max(0) };
        let page = if subject.has(Role::Admin) || subject.has(Role::Auditor) {
            self.store.list_users(&query(None)).await?
        } else if subject.has(Role::Steward) {
            self.store.list_users(&query(subject.agency_path.clone())).await?
        } else {
            let me = match subject.user_id() {
                Some(id) => self.store.user(id).await?,
                None => None,
            };
            Page { total: me.iter().len() as i64, items: me.into_iter().collect() }
        };
        self.store.append_audit(ctx.event("user.list", "users").detail(json!({"count": page.items.len()}))).await?;
        Ok(page)
    }

    pub async fn user(&self, subject: &Subject, ctx: &AuditContext, id: &str) -> Result<User> {
        let user = self.store.user(id).await?.ok_or_else(|| Error::not_found(format!("user {id}")))?;
        let path = self.agency_path(&user.agency_id).await?;
        let resource = Resource::new(ResourceKind::User).in_agency(&path).owned_by(&user.id);
        self.check(subject, ctx, Action::Read, resource, "user.read", &format!("user:{id}")).await?;
        self.store.append_audit(ctx.event("user.read", format!("user:{id}"))).await?;
        Ok(user)
    }

    /// Changes a user. Users may change their own display name and password; roles
    /// and disabling are for administrators.
    pub async fn update_user(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        id: &str,
        change: UserPatch,
    ) -> Result<User> {
        let user = self.store.user(id).await?.ok_or_else(|| Error::not_found(format!("user {id}")))?;
        let path = self.agency_path(&user.agency_id).await?;
        let target = format!("user:{id}");
        let mut resource = Resource::new(ResourceKind::User).in_agency(&path);
        if change.roles.is_none() && change.disabled.is_none() {
            resource = resource.owned_by(&user.id);
        }
        self.check(subject, ctx, Action::Update, resource, "user.update", &target).await?;
        if let Some(roles) = &change.roles {
            if roles.is_empty() {
                return Err(Error::invalid("roles", "give at least one role"));
            }
        }
        let password_hash = match change.password {
            Some(p) => {
                validate_password(&p)?;
                Some(
                    tokio::task::spawn_blocking(move || secret::hash_password(&p))
                        .await
                        .map_err(|e| Error::internal(e.to_string()))?,
                )
            }
            None => None,
        };
        let change = UserChange {
            display_name: change.display_name,
            roles: change.roles,
            password_hash,
            disabled: change.disabled,
        };
        Ok(self.store.update_user(ctx, id, &change).await?)
    }

    // ---- subsystems -------------------------------------------------------------

    pub async fn create_subsystem(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        new: NewSubsystem,
    ) -> Result<Subsystem> {
        let path = self.agency_path_for_field(&new.agency_id).await?;
        let resource = Resource::new(ResourceKind::Subsystem).in_agency(&path);
        self.check(subject, ctx, Action::Create, resource, "subsystem.create", &new.xroad_id.to_string()).await?;
        new.validate()?;
        let created = self.store.create_subsystem(ctx, &new).await?;
        self.exchange.invalidate();
        Ok(created)
    }

    /// Subsystems the subject may read.
    pub async fn list_subsystems(&self, subject: &Subject) -> Result<Vec<Subsystem>> {
        let mut visible = Vec::new();
        for s in self.store.list_subsystems().await? {
            let path = self.agency_path(&s.agency_id).await?;
            if authorize(subject, Action::Read, &Resource::new(ResourceKind::Subsystem).in_agency(&path)).is_allowed() {
                visible.push(s);
            }
        }
        Ok(visible)
    }

    /// The agencies the subject may register subsystems in (a steward's own subtree;
    /// every agency for an administrator).
    pub async fn agencies_for_subsystems(&self, subject: &Subject) -> Result<Vec<Agency>> {
        let mut agencies = self.list_agencies().await?;
        agencies.retain(|a| {
            authorize(subject, Action::Create, &Resource::new(ResourceKind::Subsystem).in_agency(&a.path)).is_allowed()
        });
        Ok(agencies)
    }

    // ---- API tokens -------------------------------------------------------------

    /// Checks the policy for `action` on a token (or a future token) of `owner`: the
    /// owner's agency scopes it, and a user's token is that user's own.
    async fn check_token(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        action: Action,
        owner: &TokenOwner,
        audit_action: &str,
        target: &str,
    ) -> Result<()> {
        let (agency_id, owner_user) = match owner {
            TokenOwner::User(id) => {
                let user = self.store.user(id).await?;
                let user = user.ok_or_else(|| Error::invalid("owner", format!("no user has id {id:?}")))?;
                (user.agency_id, Some(user.id))
            }
            TokenOwner::Subsystem(id) => {
                let sub = self.store.subsystem(id).await?;
                (sub.ok_or_else(|| Error::invalid("owner", format!("no subsystem has id {id:?}")))?.agency_id, None)
            }
        };
        let path = self.agency_path(&agency_id).await?;
        let mut resource = Resource::new(ResourceKind::ApiToken).in_agency(&path);
        if let Some(u) = &owner_user {
            resource = resource.owned_by(u);
        }
        self.check(subject, ctx, action, resource, audit_action, target).await
    }

    /// Creates a token and returns it with its secret — the only time the secret exists
    /// outside the caller's hands.
    pub async fn create_token(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        owner: TokenOwner,
        name: &str,
        days: i64,
    ) -> Result<(ApiToken, String)> {
        self.check_token(subject, ctx, Action::Create, &owner, "token.create", name).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters, e.g. what the token is for"));
        }
        let days = validate_token_days(days)?;
        let secret = secret::new_token();
        let new = NewToken {
            name: name.to_string(),
            owner,
            token_hash: secret::token_hash(&secret),
            prefix: secret::token_display_prefix(&secret),
            expires_at: time::now() + Duration::days(days),
        };
        let subsystem = matches!(new.owner, TokenOwner::Subsystem(_));
        let token = self.store.create_token(ctx, &new).await?;
        if subsystem {
            // The gateway's directory holds subsystem tokens.
            self.exchange.invalidate();
        }
        Ok((token, secret))
    }

    /// The subject's own tokens; admins and auditors see every token.
    pub async fn list_tokens(&self, subject: &Subject, all: bool) -> Result<Vec<ApiToken>> {
        if all && (subject.has(Role::Admin) || subject.has(Role::Auditor)) {
            return Ok(self.store.list_tokens(None).await?);
        }
        match subject.user_id() {
            Some(id) => Ok(self.store.list_tokens(Some(&TokenOwner::User(id.to_string()))).await?),
            None => Err(Error::unauthenticated("log in to list your API tokens")),
        }
    }

    pub async fn revoke_token(&self, subject: &Subject, ctx: &AuditContext, id: &str) -> Result<ApiToken> {
        let token = self.store.token(id).await?.ok_or_else(|| Error::not_found(format!("API token {id}")))?;
        self.check_token(subject, ctx, Action::Delete, &token.owner, "token.revoke", &format!("token:{id}")).await?;
        let revoked = self.store.revoke_token(ctx, id).await?;
        if matches!(token.owner, TokenOwner::Subsystem(_)) {
            self.exchange.invalidate();
        }
        Ok(revoked)
    }

    // ---- audit log --------------------------------------------------------------

    pub async fn list_audit(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        query: AuditQuery,
    ) -> Result<Vec<AuditEntry>> {
        self.check(subject, ctx, Action::Read, Resource::new(ResourceKind::AuditLog), "audit.read", "audit").await?;
        let query = AuditQuery { limit: query.limit.clamp(1, 500), ..query };
        let entries = self.store.list_audit(&query).await?;
        self.store.append_audit(ctx.event("audit.read", "audit").detail(json!({"count": entries.len()}))).await?;
        Ok(entries)
    }

    pub async fn verify_audit(&self, subject: &Subject, ctx: &AuditContext) -> Result<ChainReport> {
        self.check(subject, ctx, Action::Read, Resource::new(ResourceKind::AuditLog), "audit.verify", "audit").await?;
        let report = match kho_store::verify_audit_chain(self.store.as_ref()).await? {
            Ok(n) => ChainReport {
                intact: true,
                entries: n,
                first_break: None,
                message: format!("the chain of {n} entries is intact"),
            },
            Err(brk) => {
                let entries = match &brk {
                    ChainBreak::Altered { seq } | ChainBreak::BrokenLink { seq } => seq - 1,
                    ChainBreak::Missing { expected_seq, .. } => expected_seq - 1,
                    ChainBreak::Truncated { last_seq, .. } => *last_seq,
                };
                ChainReport { intact: false, entries, message: brk.to_string(), first_break: Some(brk) }
            }
        };
        // Recorded after the walk so that the walk itself is not affected by it.
        let event =
            ctx.event("audit.verify", "audit").detail(json!({"intact": report.intact, "entries": report.entries}));
        self.store.append_audit(event).await?;
        Ok(report)
    }

    // ---- first start ------------------------------------------------------------

    /// On an empty store, creates the root agency and the first administrator (or,
    /// with `demo`, the demo province). Returns what to tell the operator, or `None`
    /// when the store already had users.
    pub async fn initialise(&self, admin_password: Option<String>) -> Result<Option<FirstRun>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let (password, generated) = match admin_password.filter(|p| !p.is_empty()) {
            Some(p) => {
                validate_password(&p).map_err(|e| Error::invalid("KHO_ADMIN_PASSWORD", e.message))?;
                (p, None)
            }
            None => {
                let p = secret::generate_password();
                (p.clone(), Some(p))
            }
        };
        let operator = Subject::operator();
        let ctx = AuditContext::operator();
        let mut demo_gateway_token = None;
        let demo_users = if self.settings.demo {
            let seeded = crate::demo::seed(self, &operator, &ctx, &password).await?;
            demo_gateway_token = seeded.gateway_token;
            seeded.users
        } else {
            let root = match self.store.list_agencies().await?.into_iter().find(|a| a.parent_id.is_none()) {
                Some(root) => root,
                None => {
                    let new = NewAgency {
                        code: AgencyCode::parse(&self.settings.root_agency_code)?,
                        name: self.settings.root_agency_name.clone(),
                        name_en: None,
                        kind: AgencyKind::Province,
                        parent_id: None,
                        admin_unit_code: None,
                    };
                    self.create_agency(&operator, &ctx, new).await?
                }
            };
            let admin = NewUser {
                username: "admin".into(),
                display_name: Some("Quản trị hệ thống".into()),
                agency_id: root.id,
                roles: vec![Role::Admin],
                password: password.clone(),
            };
            self.create_user(&operator, &ctx, admin).await?;
            vec![]
        };
        Ok(Some(FirstRun { username: "admin".into(), generated_password: generated, demo_users, demo_gateway_token }))
    }
}

/// A change to a user as a caller asks for it (the password in clear, to be hashed).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
}
