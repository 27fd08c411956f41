//! Nền tảng chia sẻ — the sharing platform's management: registering services,
//! requesting and deciding agreements, reading the message log (auditors), a data
//! subject's access report, and verifying or exporting the signed log. Also the
//! [`Directory`] the gateway decides calls with: services, approved agreements and
//! subsystem tokens, kept in memory and read again when the audit log's head moves
//! (every change to them is audited).

use super::Kho;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use kho_catalog::PersonalData;
use kho_core::audit::AuditContext;
use kho_core::identity::{ApiToken, Subject, Subsystem, SubsystemCertificate, SubsystemId, TokenOwner};
use kho_core::policy::{authorize, Action, Resource, ResourceKind};
use kho_core::{time, Error, ErrorCode, Result};
use kho_exchange::msglog::{BundleWriter, ChainVerifier, MessageRecord, NodeKey, SealKey, VerifyReport};
use kho_exchange::registry::NOTICE_LIMIT;
use kho_exchange::{
    Agreement, AgreementDecision, AgreementStatus, AgreementTerms, NewService, Service, ServiceChange, ServiceHealth,
    ServiceTarget,
};
use kho_store::{AgreementQuery, MessageQuery, MetadataStore};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// How long the gateway trusts its directory before looking at the audit head again.
const DIRECTORY_FRESH: Duration = Duration::from_millis(250);
/// Records read from the store at a time when verifying or exporting.
const PAGE: i64 = 5_000;

/// A subsystem with what it can call the gateway with.
pub struct SubsystemCredentials {
    pub subsystem: Subsystem,
    /// Its tokens neither revoked nor expired.
    pub active_tokens: usize,
    /// Those of them within `EXPIRY_WARNING_DAYS` of their expiry: name, whole days left.
    pub expiring: Vec<(String, i64)>,
    /// Its certificates not revoked.
    pub active_certificates: usize,
}

/// A service and what the gateway needs to know about its data.
pub struct ServiceEntry {
    pub service: Service,
    /// The dataset service's resource holds personal data: record whose rows were served.
    pub personal_data: bool,
    /// The dataset service's table columns, read with the directory (a load is audited,
    /// so a new version's columns come with the next directory); `None` when the table
    /// could not be read.
    pub table_columns: Option<Vec<String>>,
    /// The dataset service's resource, as pages name it; `None` for a proxied service
    /// or a resource the store no longer has.
    pub resource: Option<ResourceName>,
}

/// A resource's title and the slug its page is found by.
pub struct ResourceName {
    pub title: String,
    pub slug: String,
}

/// What the gateway decides calls with.
#[derive(Default)]
pub struct Directory {
    /// By the service's full identifier, `INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE`.
    pub services: foldhash::HashMap<String, Arc<ServiceEntry>>,
    /// Agreements by consumer subsystem, then by service id, every status.
    agreements: foldhash::HashMap<SubsystemId, foldhash::HashMap<String, Vec<Arc<Agreement>>>>,
    /// Subsystem by token hash.
    pub credentials: foldhash::HashMap<String, (String, chrono::DateTime<chrono::Utc>)>,
    /// Subsystem by client-certificate fingerprint.
    pub certificates: foldhash::HashMap<String, String>,
    pub subsystems: Vec<Subsystem>,
}

impl Directory {
    /// The agreements (every status) between `consumer` and the service `service_id`.
    pub fn agreements(&self, consumer: &SubsystemId, service_id: &str) -> &[Arc<Agreement>] {
        self.agreements.get(consumer).and_then(|by_service| by_service.get(service_id)).map_or(&[], Vec::as_slice)
    }
}

#[derive(Default)]
pub(crate) struct DirectoryCache {
    current: RwLock<Option<(Arc<Directory>, i64, Instant)>>,
    refresh: tokio::sync::Mutex<()>,
    dirty: AtomicBool,
}

impl DirectoryCache {
    pub(crate) fn invalidate(&self) {
        self.dirty.store(true, Ordering::SeqCst);
    }
}

/// The node's keys: the Ed25519 key that signs checkpoints, and the key that seals
/// logged bodies and keys data-subject digests. Both live in `<data dir>/keys/`.
pub struct NodeKeys {
    pub signing: NodeKey,
    pub seal: SealKey,
}

pub(crate) fn load_keys(data_dir: &std::path::Path) -> Result<NodeKeys> {
    let dir = data_dir.join("keys");
    let signing = NodeKey::load_or_create(&dir.join("node-ed25519.key")).map_err(Error::internal)?;
    let seal = SealKey::load_or_create(&dir.join("message-log.key")).map_err(Error::internal)?;
    Ok(NodeKeys { signing, seal })
}

/// What `listMethods` and `allowedMethods` say of one service.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MethodListing {
    pub xroad_instance: String,
    pub member_class: String,
    pub member_code: String,
    pub subsystem_code: String,
    pub service_code: String,
    pub service_type: &'static str,
    pub endpoint_list: Vec<serde_json::Value>,
}

impl Kho {
    /// The node's keys, created on first use.
    pub fn node_keys(&self) -> Result<&NodeKeys> {
        static_keys(&self.keys, &self.settings.data_dir)
    }

    /// The directory when the cached one is still fresh, without touching the store
    /// (the gateway's serving threads call this; a refresh runs on the main runtime).
    pub fn cached_directory(&self) -> Option<Arc<Directory>> {
        let cache = &self.exchange;
        match &*cache.current.read().unwrap_or_else(|e| e.into_inner()) {
            Some((d, _, at)) if at.elapsed() < DIRECTORY_FRESH && !cache.dirty.load(Ordering::SeqCst) => {
                Some(d.clone())
            }
            _ => None,
        }
    }

    /// The gateway's directory, fresh within a quarter of a second of any change.
    pub async fn directory(&self) -> Result<Arc<Directory>> {
        let cache = &self.exchange;
        if let Some(d) = self.cached_directory() {
            return Ok(d);
        }
        let _one = cache.refresh.lock().await;
        if let Some(d) = self.cached_directory() {
            return Ok(d);
        }
        let (seq, _) = self.store.audit_head().await?;
        let dirty = cache.dirty.swap(false, Ordering::SeqCst);
        let known = cache.current.read().unwrap_or_else(|e| e.into_inner()).clone();
        let directory = match known {
            Some((d, known_seq, _)) if known_seq == seq && !dirty => d,
            _ => Arc::new(self.read_directory().await?),
        };
        *cache.current.write().unwrap_or_else(|e| e.into_inner()) = Some((directory.clone(), seq, Instant::now()));
        Ok(directory)
    }

    async fn read_directory(&self) -> Result<Directory> {
        let subsystems = self.store.list_subsystems().await?;
        let xroad: HashMap<&str, String> = subsystems.iter().map(|s| (s.id.as_str(), s.xroad_id.to_string())).collect();
        let mut d = Directory::default();
        for service in self.store.list_services().await? {
            let (personal_data, table_columns, resource) = match &service.target {
                ServiceTarget::Dataset { resource_id, table, .. } => {
                    let resource = self.store.resource(resource_id).await?;
                    let columns = match self.lake.columns(resource_id, table).await {
                        Ok(c) => Some(c.into_iter().map(|(name, _, _)| name).collect()),
                        Err(e) => {
                            tracing::error!(error = %e, service = %service.full_id(), "the service's table cannot be read");
                            None
                        }
                    };
                    let personal = resource.as_ref().is_some_and(|r| r.draft.personal_data != PersonalData::None);
                    let name = resource.map(|r| ResourceName { title: r.draft.title, slug: r.slug });
                    (personal, columns, name)
                }
                ServiceTarget::Proxied { .. } => (false, None, None),
            };
            let entry = ServiceEntry { service, personal_data, table_columns, resource };
            d.services.insert(entry.service.full_id(), Arc::new(entry));
        }
        for a in self.store.list_agreements(&AgreementQuery::default()).await? {
            let by_service = d.agreements.entry(a.consumer.clone()).or_default();
            by_service.entry(a.service_id.clone()).or_default().push(Arc::new(a));
        }
        for c in self.store.gateway_credentials().await? {
            if let Some(x) = xroad.get(c.subsystem_id.as_str()) {
                d.credentials.insert(c.token_hash, (x.clone(), c.expires_at));
            }
        }
        for (fingerprint, subsystem_id) in self.store.gateway_certificates().await? {
            if let Some(x) = xroad.get(subsystem_id.as_str()) {
                d.certificates.insert(fingerprint, x.clone());
            }
        }
        d.subsystems = subsystems;
        Ok(d)
    }

    /// The registered subsystem `id`; its absence is an error in `field`.
    async fn subsystem_named(&self, id: &SubsystemId, field: &str) -> Result<Subsystem> {
        self.find_subsystem(&id.to_string())
            .await
            .map_err(|_| Error::invalid(field, format!("no subsystem {id} is registered; create it first")))
    }

    /// Checks `action` on the sharing setup of `subsystem` (its services and
    /// agreements are managed by the stewards of its agency).
    async fn check_subsystem(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        action: Action,
        subsystem: &Subsystem,
        audit_action: &str,
        target: &str,
    ) -> Result<()> {
        let path = self.agency_path(&subsystem.agency_id).await?;
        self.check(subject, ctx, action, Resource::new(ResourceKind::Subsystem).in_agency(&path), audit_action, target)
            .await
    }

    /// The subsystems whose sharing setup the subject manages (offers services for,
    /// requests and decides agreements for).
    pub async fn manageable_subsystems(&self, subject: &Subject) -> Result<Vec<Subsystem>> {
        Ok(self
            .subsystems_where(subject, Action::Update)
            .await?
            .into_iter()
            .filter(|(_, ok)| *ok)
            .map(|(s, _)| s)
            .collect())
    }

    /// Every subsystem, and whether the subject may do `action` on its sharing setup
    /// (the agencies read once for all of them).
    async fn subsystems_where(&self, subject: &Subject, action: Action) -> Result<Vec<(Subsystem, bool)>> {
        let paths: HashMap<String, String> =
            self.store.list_agencies().await?.into_iter().map(|a| (a.id, a.path)).collect();
        Ok(self
            .store
            .list_subsystems()
            .await?
            .into_iter()
            .map(|s| {
                let ok = paths.get(&s.agency_id).is_some_and(|path| {
                    authorize(subject, action, &Resource::new(ResourceKind::Subsystem).in_agency(path)).is_allowed()
                });
                (s, ok)
            })
            .collect())
    }

    /// Whether the subject may read the message log (auditors and administrators).
    pub fn may_read_message_log(subject: &Subject) -> bool {
        authorize(subject, Action::Read, &Resource::new(ResourceKind::AuditLog)).is_allowed()
    }

    /// Registers a client TLS certificate (PEM) for a subsystem: the gateway then
    /// accepts the subsystem when it presents it, without a token.
    pub async fn register_certificate(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        pem: &[u8],
        label: &str,
    ) -> Result<SubsystemCertificate> {
        let subsystem = self.find_subsystem(key).await?;
        let target = subsystem.xroad_id.audit_target();
        self.check_subsystem(subject, ctx, Action::Update, &subsystem, "subsystem.certificate.add", &target).await?;
        let label = label.trim();
        if label.chars().count() > 200 {
            return Err(Error::invalid("label", "must be at most 200 characters, e.g. the server it is installed on"));
        }
        let fingerprint = crate::tls::pem_fingerprint(pem).map_err(|m| Error::invalid("certificate", m))?;
        let added = self.store.add_certificate(ctx, &subsystem.id, &fingerprint, label).await?;
        self.exchange.invalidate();
        Ok(added)
    }

    /// The subsystem named by its id or by its X-Road identifier
    /// (`INSTANCE/CLASS/MEMBER/SUBSYSTEM`); who may do what with it is checked by the caller.
    pub async fn find_subsystem(&self, key: &str) -> Result<Subsystem> {
        let key = key.trim();
        let found = match SubsystemId::parse(key) {
            Ok(xroad_id) => self.store.list_subsystems().await?.into_iter().find(|s| s.xroad_id == xroad_id),
            Err(e) if key.contains('/') => return Err(Error::invalid("subsystem", e.message)),
            Err(_) => self.store.subsystem(key).await?,
        };
        found.ok_or_else(|| Error::not_found(format!("subsystem {key}")))
    }

    /// The subsystem named by its id or by its X-Road identifier, when the subject may
    /// see it.
    pub async fn subsystem(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<Subsystem> {
        let subsystem = self.find_subsystem(key).await?;
        let target = subsystem.xroad_id.audit_target();
        self.check_subsystem(subject, ctx, Action::Read, &subsystem, "subsystem.read", &target).await?;
        Ok(subsystem)
    }

    /// The certificates registered for a subsystem, revoked ones included, newest first.
    pub async fn subsystem_certificates(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
    ) -> Result<Vec<SubsystemCertificate>> {
        let subsystem = self.find_subsystem(key).await?;
        let target = subsystem.xroad_id.audit_target();
        self.check_subsystem(subject, ctx, Action::Read, &subsystem, "subsystem.certificate.read", &target).await?;
        Ok(self.store.subsystem_certificates(&subsystem.id).await?)
    }

    /// Revokes a subsystem's certificate; the gateway refuses it from its next call.
    pub async fn revoke_certificate(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        fingerprint: &str,
    ) -> Result<SubsystemCertificate> {
        let subsystem = self.find_subsystem(key).await?;
        let target = subsystem.xroad_id.audit_target();
        self.check_subsystem(subject, ctx, Action::Update, &subsystem, "subsystem.certificate.revoke", &target).await?;
        let fingerprint = fingerprint.trim().to_ascii_lowercase().replace(':', "");
        let revoked = self.store.revoke_certificate(ctx, &subsystem.id, &fingerprint).await?;
        self.exchange.invalidate();
        Ok(revoked)
    }

    /// Issues an API token to a subsystem; its secret is returned this once.
    pub async fn issue_subsystem_token(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        name: &str,
        days: i64,
    ) -> Result<(ApiToken, String)> {
        let subsystem = self.find_subsystem(key).await?;
        let owner = TokenOwner::Subsystem(subsystem.id.clone());
        // Checked here first so that a refusal is audited under the subsystem.
        let target = subsystem.xroad_id.audit_target();
        self.check_token(subject, ctx, Action::Create, &owner, "token.create", &target).await?;
        self.create_token(subject, ctx, owner, name, days).await
    }

    /// The subsystems the subject may see, each with what it can call the gateway with:
    /// its active tokens (and those about to expire) and certificates.
    pub async fn subsystems_with_credentials(&self, subject: &Subject) -> Result<Vec<SubsystemCredentials>> {
        let subsystems = self.list_subsystems(subject).await?;
        let (tokens, certificates) = (self.store.list_tokens(None).await?, self.store.all_certificates().await?);
        let now = time::now();
        Ok(subsystems
            .into_iter()
            .map(|s| {
                let owned = |t: &&ApiToken| matches!(&t.owner, TokenOwner::Subsystem(id) if *id == s.id);
                let active: Vec<&ApiToken> = tokens.iter().filter(owned).filter(|t| t.is_active(now)).collect();
                SubsystemCredentials {
                    active_tokens: active.len(),
                    expiring: active.iter().filter_map(|t| Some((t.name.clone(), t.expiring_in(now)?))).collect(),
                    active_certificates: certificates
                        .iter()
                        .filter(|c| c.subsystem_id == s.id && c.revoked_at.is_none())
                        .count(),
                    subsystem: s,
                }
            })
            .collect())
    }

    /// The API tokens of a subsystem, revoked and expired ones included.
    pub async fn subsystem_tokens(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<Vec<ApiToken>> {
        let subsystem = self.find_subsystem(key).await?;
        let owner = TokenOwner::Subsystem(subsystem.id.clone());
        let target = subsystem.xroad_id.audit_target();
        self.check_token(subject, ctx, Action::Read, &owner, "token.read", &target).await?;
        Ok(self.store.list_tokens(Some(&owner)).await?)
    }

    /// Registers a service of a provider subsystem. A dataset service's resource,
    /// table, columns, key and row filter are checked against the table.
    pub async fn register_service(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        mut new: NewService,
    ) -> Result<Service> {
        let provider = self.subsystem_named(&new.provider, "provider").await?;
        let target = format!("service:{}/{}", new.provider, new.code);
        self.check_subsystem(subject, ctx, Action::Create, &provider, "service.create", &target).await?;
        new.validate()?;
        self.check_dataset_target(subject, ctx, &mut new.target).await?;
        let service = self.store.create_service(ctx, &provider.id, &new).await?;
        self.exchange.invalidate();
        Ok(service)
    }

    /// A dataset service's resource, table, columns, key and row filter, checked against
    /// the table (the resource named by its id from then on); a proxied one passes.
    async fn check_dataset_target(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        target: &mut ServiceTarget,
    ) -> Result<()> {
        let ServiceTarget::Dataset { resource_id, table, columns, filter, key_column } = target else {
            return Ok(());
        };
        let r = self.resource(subject, ctx, resource_id).await?;
        *resource_id = r.id.clone();
        let known = self.lake.columns(&r.id, table).await?;
        let has = |c: &str| known.iter().any(|(name, _, _)| name == c);
        for (field, c) in columns.iter().map(|c| ("columns", c)).chain(key_column.iter().map(|k| ("key_column", k))) {
            if !has(c) {
                let names: Vec<&str> = known.iter().map(|(n, _, _)| n.as_str()).collect();
                return Err(Error::invalid(field, format!("{table} has no column {c:?}; it has {}", names.join(", "))));
            }
        }
        if filter.is_some() {
            let probe = kho_lake::RowQuery { limit: 1, predicate: filter.clone(), ..Default::default() };
            self.lake.rows(&r.id, table, &probe).await.map_err(|e| Error::invalid("filter", e.to_string()))?;
        }
        Ok(())
    }

    /// The service named by its id or by `PROVIDER_SUBSYSTEM/CODE`.
    pub async fn find_service(&self, key: &str) -> Result<Service> {
        let key = key.trim();
        if let Some(s) = self.store.service(key).await? {
            return Ok(s);
        }
        let not_found = || Error::not_found(format!("service {key}"));
        let Some((provider, code)) = key.rsplit_once('/') else { return Err(not_found()) };
        // A malformed PROVIDER/CODE says what is wrong with it.
        let provider = SubsystemId::parse(provider).map_err(|e| Error::invalid("service", e.message))?;
        let services = self.store.list_services().await?;
        services.into_iter().find(|s| s.provider == provider && s.code == code).ok_or_else(not_found)
    }

    /// Checks that the subject manages the provider of `service` (its stewards do).
    async fn check_provider(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        service: &Service,
        audit_action: &str,
    ) -> Result<()> {
        let provider = self.subsystem_named(&service.provider, "provider").await?;
        let target = format!("service:{}", service.full_id());
        self.check_subsystem(subject, ctx, Action::Update, &provider, audit_action, &target).await
    }

    /// Changes a service's settings (cập nhật dịch vụ); the gateway uses them from its
    /// next call. What the change does not name stays as it is.
    pub async fn update_service(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        change: &ServiceChange,
    ) -> Result<Service> {
        let service = self.find_service(key).await?;
        self.check_provider(subject, ctx, &service, "service.update").await?;
        if change.is_empty() {
            return Err(Error::invalid("change", "name at least one setting to change"));
        }
        let mut changed = change.apply(&service)?;
        self.check_dataset_target(subject, ctx, &mut changed.target).await?;
        if changed.changed_settings(&service).is_empty() {
            // Settings given as they already are: nothing to write or audit.
            return Ok(service);
        }
        let updated = self.store.update_service(ctx, &service.id, &changed).await?;
        self.exchange.invalidate();
        Ok(updated)
    }

    /// Suspends a service (tạm ngừng): until it is resumed the gateway answers its calls
    /// with `Server.ServerProxy.ServiceDisabled` and `notice`, and forwards nothing.
    pub async fn disable_service(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        notice: &str,
    ) -> Result<Service> {
        let service = self.find_service(key).await?;
        self.check_provider(subject, ctx, &service, "service.disable").await?;
        let notice = notice.trim();
        if notice.is_empty() || notice.chars().count() > NOTICE_LIMIT {
            return Err(Error::invalid(
                "notice",
                format!(
                    "tell the consumers why and until when, in 1 to {NOTICE_LIMIT} characters, e.g. \"Bảo trì đến 18:00 \
                     ngày 05/12\""
                ),
            ));
        }
        // The store refuses a service suspended already, as one step with the change.
        let disabled = self.store.set_service_disabled(ctx, &service.id, Some(notice)).await?;
        self.exchange.invalidate();
        Ok(disabled)
    }

    /// Resumes a suspended service.
    pub async fn enable_service(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<Service> {
        let service = self.find_service(key).await?;
        self.check_provider(subject, ctx, &service, "service.enable").await?;
        let enabled = self.store.set_service_disabled(ctx, &service.id, None).await?;
        self.exchange.invalidate();
        Ok(enabled)
    }

    /// Services anyone signed in may discover (the registry is the platform's catalogue).
    pub async fn services(&self, subject: &Subject) -> Result<Vec<Service>> {
        if !subject.is_authenticated() {
            return Err(Error::unauthenticated("log in or send an API token to see the service registry"));
        }
        Ok(self.store.list_services().await?)
    }

    /// One service of the registry, by its id or `PROVIDER_SUBSYSTEM/CODE` (anyone
    /// signed in, as for [`Self::services`]).
    pub async fn service(&self, subject: &Subject, key: &str) -> Result<Service> {
        if !subject.is_authenticated() {
            return Err(Error::unauthenticated("log in or send an API token to see the service registry"));
        }
        self.find_service(key).await
    }

    /// The service `PROVIDER_SUBSYSTEM/CODE` named in a request's `service` field.
    async fn service_named(&self, full_id: &str) -> Result<Service> {
        if !full_id.contains('/') {
            return Err(Error::invalid(
                "service",
                format!("{full_id:?} is not a service; write PROVIDER_SUBSYSTEM/CODE"),
            ));
        }
        self.find_service(full_id).await.map_err(|e| match e.code {
            ErrorCode::NotFound => Error::invalid("service", format!("no service {full_id} is registered")),
            _ => e,
        })
    }

    /// A consumer asks for access to a service (yêu cầu quyền truy cập); with
    /// `approve`, a subject who manages the provider too approves it at once.
    pub async fn request_agreement(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        consumer: &SubsystemId,
        service: &str,
        terms: &AgreementTerms,
        approve: bool,
    ) -> Result<Agreement> {
        let consumer = self.subsystem_named(consumer, "consumer").await?;
        let service = self.service_named(service).await?;
        let target = format!("agreement:{}→{}", consumer.xroad_id, service.full_id());
        self.check_subsystem(subject, ctx, Action::Create, &consumer, "agreement.create", &target).await?;
        let checked = terms.check(time::now().date_naive())?;
        let status = if approve {
            let provider = self.subsystem_named(&service.provider, "service").await?;
            self.check_subsystem(subject, ctx, Action::Update, &provider, "agreement.decide", &target).await?;
            AgreementStatus::Approved
        } else {
            AgreementStatus::Requested
        };
        let a = self.store.create_agreement(ctx, &consumer.id, &service.id, &checked, status).await?;
        self.exchange.invalidate();
        Ok(a)
    }

    /// The provider's steward approves (possibly narrowing the terms), refuses or
    /// later revokes an agreement.
    pub async fn decide_agreement(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        id: &str,
        decision: &AgreementDecision,
    ) -> Result<Agreement> {
        let a = self.store.agreement(id).await?.ok_or_else(|| Error::not_found(format!("agreement {id}")))?;
        let provider = self.subsystem_named(&a.provider, "provider").await?;
        self.check_subsystem(subject, ctx, Action::Update, &provider, "agreement.decide", &format!("agreement:{id}"))
            .await?;
        use AgreementStatus::*;
        let allowed = matches!((a.status, decision.status), (Requested, Approved | Refused) | (Approved, Revoked));
        if !allowed {
            return Err(Error::conflict(format!(
                "agreement {id} is {}; it can be {}",
                a.status.as_str(),
                match a.status {
                    Requested => "approved or refused",
                    Approved => "revoked",
                    _ => "left as it is (ask for a new one)",
                }
            )));
        }
        let terms = match (&decision.terms, decision.status) {
            (Some(t), Approved) => Some(t.check(a.valid_from)?),
            (Some(_), _) => return Err(Error::invalid("terms", "terms are narrowed only when approving")),
            (None, _) => None,
        };
        let a = self.store.decide_agreement(ctx, id, decision.status, terms.as_ref(), decision.note.trim()).await?;
        self.exchange.invalidate();
        Ok(a)
    }

    /// Agreements the subject may see: those of subsystems whose agency it manages
    /// (as consumer or provider), or all for auditors and administrators.
    pub async fn agreements(&self, subject: &Subject) -> Result<Vec<Agreement>> {
        if !subject.is_authenticated() {
            return Err(Error::unauthenticated("log in or send an API token to see agreements"));
        }
        let readable: HashMap<String, bool> = self
            .subsystems_where(subject, Action::Read)
            .await?
            .into_iter()
            .map(|(s, ok)| (s.xroad_id.to_string(), ok))
            .collect();
        let can = |id: &SubsystemId| readable.get(&id.to_string()).copied().unwrap_or(false);
        let all = self.store.list_agreements(&AgreementQuery::default()).await?;
        Ok(all.into_iter().filter(|a| can(&a.consumer) || can(&a.provider)).collect())
    }

    /// Ties the running gateway's message log to this node: readers of the log wait
    /// for what it has journaled to be in the store.
    pub fn attach_message_log(&self, log: Arc<crate::gateway::Logbook>) {
        if self.message_log.set(log).is_err() {
            tracing::warn!("a second gateway was started on this node; readers settle the first one's log");
        }
    }

    /// Waits until every record the gateway has written is in the store (a node
    /// without a running gateway has nothing waiting).
    pub async fn settle_message_log(&self) -> Result<()> {
        match self.message_log.get() {
            Some(log) => log.settle().await.map_err(Error::internal),
            None => Ok(()),
        }
    }

    /// Tình trạng dịch vụ — each service's health, counted from the message log: every
    /// exchange logged so far, also before the gateway last started. Signed-in users.
    pub async fn service_health(&self, subject: &Subject) -> Result<Vec<ServiceHealth>> {
        if !subject.is_authenticated() {
            return Err(Error::unauthenticated("log in or send an API token to see the services' health"));
        }
        self.settle_message_log().await?;
        Ok(self.store.service_health().await?)
    }

    /// Message-log records (auditors and administrators); the reading is audited.
    pub async fn messages(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        query: &MessageQuery,
    ) -> Result<Vec<MessageRecord>> {
        self.read_message_log(subject, ctx, "message_log.read", "message_log").await?;
        self.settle_message_log().await?;
        Ok(self.store.list_messages(query).await?)
    }

    /// Báo cáo truy cập — who was served records of the data subject with this
    /// identifier (e.g. a citizen ID), when, for which purpose and under which agreement.
    pub async fn subject_access(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        identifier: &str,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let identifier = identifier.trim();
        if identifier.is_empty() {
            return Err(Error::invalid("subject", "give the identifier, e.g. a citizen ID number"));
        }
        self.read_message_log(subject, ctx, "message_log.subject", "message_log:subject").await?;
        let digest = kho_exchange::msglog::subject_digest(&self.node_keys()?.seal, identifier);
        let query = MessageQuery { subject: Some(digest), limit, ..Default::default() };
        self.settle_message_log().await?;
        Ok(self.store.list_messages(&query).await?)
    }

    /// Auditors and administrators read the message log; each reading is audited.
    pub async fn read_message_log(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        action: &str,
        target: &str,
    ) -> Result<()> {
        self.check(subject, ctx, Action::Read, Resource::new(ResourceKind::AuditLog), action, target).await?;
        self.store.append_audit(ctx.event(action, target)).await?;
        Ok(())
    }

    /// [`Self::verify_messages`] for a subject who may read the message log (audited).
    pub async fn verify_messages_as(&self, subject: &Subject, ctx: &AuditContext) -> Result<VerifyReport> {
        self.read_message_log(subject, ctx, "message_log.verify", "message_log").await?;
        self.verify_messages().await
    }

    /// Walks the message log's chain and checkpoints against this node's key, from the
    /// end of its last archive (whose end must be a checkpoint this node signed).
    pub async fn verify_messages(&self) -> Result<VerifyReport> {
        self.verify_messages_showing(&|_| {}).await
    }

    /// [`Self::verify_messages`], telling `progress` each tenth of a long log checked.
    pub async fn verify_messages_showing(&self, progress: &(dyn Fn(&str) + Send + Sync)) -> Result<VerifyReport> {
        self.settle_message_log().await?;
        let mut verifier = ChainVerifier::new(Some(self.node_keys()?.signing.public_hex()));
        let checkpoints = self.store.checkpoints().await?;
        let archives = self.store.message_archives().await?;
        verifier.start_after_archives(&archives, &checkpoints);
        verifier.expect_checkpoints(checkpoints);
        let head = self.store.message_head().await?;
        let mut report = walk_to(&*self.store, verifier, head, progress).await?;
        if let (true, Some(last)) = (report.intact, archives.last()) {
            report.message.push_str(&format!(
                "; records 1 to {} are archived in {} file(s), the last {}",
                kho_exchange::msglog::thousands(last.end.seq),
                archives.len(),
                last.file
            ));
        }
        Ok(report)
    }

    /// Writes the message log the store keeps (after its last archive) with its
    /// checkpoints and the node's public key, for verification elsewhere (`kho audit
    /// verify --bundle`, after the archives when there are any).
    pub async fn export_messages(&self, out: impl std::io::Write) -> Result<i64> {
        let io = |e: std::io::Error| Error::internal(format!("cannot write the bundle: {e}"));
        let node = self.settings.public_url.clone().unwrap_or_else(|| "kho".into());
        self.settle_message_log().await?;
        let start = self.archived_through().await?;
        let mut w = BundleWriter::new(out, &self.node_keys()?.signing.public_hex(), &node, Some(&start)).map_err(io)?;
        let head = self.store.message_head().await?;
        for c in self.store.checkpoints().await?.iter().filter(|c| c.seq > start.seq && c.seq <= head.0) {
            w.checkpoint(c).map_err(io)?;
        }
        let (mut after, mut count) = (start.seq, 0);
        while after < head.0 {
            let page = self.store.message_range(after, PAGE.min(head.0 - after)).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in &page {
                w.record(r).map_err(io)?;
                count += 1;
            }
        }
        w.finish((head.0, &head.1)).map_err(io)?;
        Ok(count)
    }

    /// `listMethods` (every service of a provider) or, with `client`, `allowedMethods`
    /// (what that client's approved agreements open).
    pub fn methods(directory: &Directory, provider: &SubsystemId, client: Option<&SubsystemId>) -> Vec<MethodListing> {
        let today = time::now().date_naive();
        let mut out: Vec<MethodListing> = directory
            .services
            .values()
            .filter(|e| &e.service.provider == provider)
            .filter_map(|e| {
                let s = &e.service;
                let endpoints: Vec<serde_json::Value> = match client {
                    None => default_endpoints(s),
                    Some(c) => directory
                        .agreements(c, &s.id)
                        .iter()
                        .filter(|a| a.status == AgreementStatus::Approved && !a.expired(today) && a.valid_from <= today)
                        .flat_map(|a| a.endpoints.iter())
                        .map(|e| serde_json::json!({"method": e.method, "path": e.path}))
                        .collect(),
                };
                if client.is_some() && endpoints.is_empty() {
                    return None;
                }
                Some(MethodListing {
                    xroad_instance: s.provider.instance.clone(),
                    member_class: s.provider.member_class.clone(),
                    member_code: s.provider.member_code.clone(),
                    subsystem_code: s.provider.subsystem_code.clone(),
                    service_code: s.code.clone(),
                    service_type: if matches!(&s.target, ServiceTarget::Proxied { openapi: None, .. }) {
                        "REST"
                    } else {
                        "OPENAPI"
                    },
                    endpoint_list: endpoints,
                })
            })
            .collect();
        out.sort_by(|a, b| a.service_code.cmp(&b.service_code));
        out
    }
}

/// A period's bounds: from (included) and until (excluded), each open when `None`.
pub type Period = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A period of the message log from its bounds as people and scripts write them: a
/// day `YYYY-MM-DD` (UTC, as the log shows its times; `until` takes the whole day in)
/// or an RFC 3339 instant (`until` excluded). Blank bounds are open.
pub fn log_period(from: &str, until: &str) -> Result<Period> {
    let (from, until) = (log_instant("from", from, false)?, log_instant("until", until, true)?);
    if let (Some(f), Some(u)) = (from, until) {
        if u <= f {
            return Err(Error::invalid("until", "the period ends before it starts; swap from and until"));
        }
    }
    Ok((from, until))
}

/// An instant of the message log as a person gives it: a UTC day (its start, or with
/// `day_end` the start of the next day, so the whole day is in) or an RFC 3339 instant;
/// empty is none. The error names `field`.
pub fn log_instant(field: &str, text: &str, day_end: bool) -> Result<Option<DateTime<Utc>>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if day_end { day.succ_opt().unwrap_or(day) } else { day };
        return Ok(Some(day.and_time(NaiveTime::MIN).and_utc()));
    }
    DateTime::parse_from_rfc3339(text).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| {
        Error::invalid(
            field,
            format!("{text:?} is neither a day (2026-11-30) nor an instant (2026-11-30T08:00:00+07:00)"),
        )
    })
}

fn default_endpoints(s: &Service) -> Vec<serde_json::Value> {
    match &s.target {
        ServiceTarget::Dataset { .. } => vec![
            serde_json::json!({"method": "GET", "path": "/rows"}),
            serde_json::json!({"method": "GET", "path": "/rows/{key}"}),
        ],
        ServiceTarget::Proxied { openapi, .. } => {
            let paths = openapi.as_ref().and_then(|o| o.get("paths")).and_then(|p| p.as_object());
            match paths {
                Some(paths) => paths
                    .iter()
                    .flat_map(|(path, ops)| {
                        ops.as_object()
                            .into_iter()
                            .flat_map(|o| o.keys())
                            .filter(|m| {
                                ["get", "post", "put", "patch", "delete", "head", "options"].contains(&m.as_str())
                            })
                            .map(move |m| serde_json::json!({"method": m.to_ascii_uppercase(), "path": path}))
                    })
                    .collect(),
                None => vec![serde_json::json!({"method": "*", "path": "*"})],
            }
        }
    }
}

fn static_keys<'a>(cell: &'a OnceLock<NodeKeys>, data_dir: &std::path::Path) -> Result<&'a NodeKeys> {
    if let Some(k) = cell.get() {
        return Ok(k);
    }
    let keys = load_keys(data_dir)?;
    Ok(cell.get_or_init(|| keys))
}

/// Pushes the stored records from the verifier's end up to `head` and reports. The walk
/// ends at `head`, read before it: records a running node appends meanwhile are left for
/// the next verification instead of seeming to outrun the head.
async fn walk_to(
    store: &dyn MetadataStore,
    mut verifier: ChainVerifier,
    head: (i64, String),
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<VerifyReport> {
    let start = verifier.end().seq;
    let mut after = start;
    while !verifier.broken() && after < head.0 {
        let page = store.stored_messages(after, PAGE.min(head.0 - after)).await?;
        let Some(last) = page.last() else { break };
        let before = after - start;
        after = last.seq;
        for r in &page {
            if verifier.push_stored(r).is_err() {
                break;
            }
        }
        if let Some(step) = super::archive::tenth(before, after - start, head.0 - start) {
            progress(&format!("  {step} records checked"));
        }
    }
    Ok(verifier.finish(Some(head)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::journal::tests::entry;
    use kho_store::testing::TestDb;

    /// Appends `n` records named after `from…`, as the gateway's mover does.
    async fn append(store: &dyn MetadataStore, from: usize, n: usize) {
        let mut entries: Vec<_> = (from..from + n).map(|i| entry(&format!("m{i}"))).collect();
        store.append_messages(&mut entries).await.unwrap();
    }

    #[tokio::test]
    async fn a_verification_ends_at_the_head_it_read_while_the_node_appends_after_it() {
        let db = TestDb::sqlite();
        let store = kho_store::connect(&db.url).await.unwrap();
        let key = NodeKey::generate();
        append(&*store, 0, 30).await;
        let head = store.message_head().await.unwrap();
        store.add_checkpoint(&key.sign_checkpoint(head.0, &head.1, time::now())).await.unwrap();
        let verifier = || async {
            let mut v = ChainVerifier::new(Some(key.public_hex()));
            v.expect_checkpoints(store.checkpoints().await.unwrap());
            v
        };
        // The head is read, then the node appends 20 more before the walk reads them.
        let read_first = store.message_head().await.unwrap();
        append(&*store, 30, 20).await;
        let report = walk_to(&*store, verifier().await, read_first, &|_| {}).await.unwrap();
        assert!(report.intact, "{}", report.message);
        assert_eq!((report.records, report.unsigned_tail), (30, 0), "{}", report.message);

        let report = walk_to(&*store, verifier().await, store.message_head().await.unwrap(), &|_| {}).await.unwrap();
        assert!(report.intact, "{}", report.message);
        assert_eq!((report.records, report.unsigned_tail), (50, 20), "the next one checks them: {}", report.message);
    }
}
