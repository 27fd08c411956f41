//! `kho service …`, `kho agreement …` and `kho audit verify|export --messages`: the
//! sharing platform's setup and its message log from the command line, on the data
//! dir, as the local operator — so an operator can script the whole setup.

use crate::cli::core;
use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use kho_core::audit::AuditContext;
use kho_core::identity::{Subject, SubsystemId};
use kho_exchange::registry::parse_rate;
use kho_exchange::{AgreementDecision, AgreementStatus, AgreementTerms, NewService, ServiceChange, ServiceTarget};
use kho_server::services::Kho;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ServiceCommand {
    /// Register a service of a provider subsystem: a proxied backend (--backend) or a
    /// dataset service over a resource's table (--resource).
    Add(Box<ServiceAdd>),
    /// Change a registered service's settings; what is not given stays as it is.
    Update(Box<ServiceUpdate>),
    /// Suspend a service (tạm ngừng): the gateway answers its calls with 503 and the notice.
    Disable {
        /// The service, PROVIDER_SUBSYSTEM/CODE.
        service: String,
        /// What its consumers are told: why, and until when.
        #[arg(long)]
        notice: String,
    },
    /// Resume a suspended service.
    Enable {
        /// The service, PROVIDER_SUBSYSTEM/CODE.
        service: String,
    },
    /// List the registered services.
    List,
}

#[derive(Args)]
pub struct ServiceUpdate {
    /// The service, PROVIDER_SUBSYSTEM/CODE.
    service: String,
    #[arg(long)]
    description: Option<String>,
    /// A proxied service's new backend URL.
    #[arg(long)]
    backend: Option<String>,
    /// A proxied service's OpenAPI document (JSON).
    #[arg(long, value_name = "FILE", conflicts_with = "no_openapi")]
    openapi: Option<PathBuf>,
    /// Remove a proxied service's OpenAPI document.
    #[arg(long)]
    no_openapi: bool,
    /// A proxied service's token for its backend ("" removes it). Unlike `add`, not
    /// read from KHO_BACKEND_TOKEN: a change names only what it changes.
    #[arg(long)]
    backend_token: Option<String>,
    /// A dataset service's columns served, comma-separated ("" serves all).
    #[arg(long)]
    columns: Option<String>,
    /// A dataset service's row filter in SQL ("" removes it).
    #[arg(long)]
    filter: Option<String>,
    /// A dataset service's key column ("" removes it).
    #[arg(long)]
    key: Option<String>,
    /// How long the backend's answer (or a dataset read) may take, in milliseconds.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Keep request and response bodies, sealed, in the message log (true or false).
    #[arg(long)]
    log_bodies: Option<bool>,
}

#[derive(Args)]
pub struct ServiceAdd {
    /// The provider subsystem, INSTANCE/CLASS/MEMBER/SUBSYSTEM.
    #[arg(long)]
    provider: String,
    /// The service code, e.g. ho-tich.
    #[arg(long)]
    code: String,
    #[arg(long, default_value = "")]
    description: String,
    /// The backend's base URL (a proxied service).
    #[arg(long, conflicts_with = "resource", required_unless_present = "resource")]
    backend: Option<String>,
    /// The backend's OpenAPI document (JSON).
    #[arg(long, value_name = "FILE", requires = "backend")]
    openapi: Option<PathBuf>,
    /// Sent to the backend as a bearer token (e.g. an Agent Node's token).
    #[arg(long, env = "KHO_BACKEND_TOKEN", requires = "backend")]
    backend_token: Option<String>,
    /// The data resource (slug or id) whose table is served (a dataset service).
    #[arg(long)]
    resource: Option<String>,
    #[arg(long, default_value = "main", requires = "resource")]
    table: String,
    /// Columns served, comma-separated (all by default).
    #[arg(long, value_delimiter = ',', requires = "resource")]
    columns: Vec<String>,
    /// Rows served, as an SQL condition, e.g. "trang_thai = 'hoat_dong'".
    #[arg(long, requires = "resource")]
    filter: Option<String>,
    /// The column GET /rows/{key} looks up (and, for personal data, names the data subject).
    #[arg(long, requires = "resource")]
    key: Option<String>,
    /// How long the backend's answer (or a dataset read) may take, in milliseconds.
    #[arg(long)]
    timeout_ms: Option<u64>,
    /// Keep request and response bodies, sealed, in the message log.
    #[arg(long)]
    log_bodies: bool,
}

#[derive(Subcommand)]
pub enum AgreementCommand {
    /// Request (or, with --approve, grant) a consumer's access to a service.
    Add(Box<AgreementAdd>),
    /// List agreements.
    List,
    /// Approve a requested agreement.
    Approve {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Refuse a requested agreement.
    Refuse {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Revoke an approved agreement.
    Revoke {
        id: String,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Args)]
pub struct AgreementAdd {
    /// The consumer subsystem.
    #[arg(long)]
    consumer: String,
    /// The service, PROVIDER_SUBSYSTEM/CODE.
    #[arg(long)]
    service: String,
    /// Allowed endpoints, e.g. 'GET /rows/*' (repeat or separate with commas).
    #[arg(long, value_delimiter = ',', default_value = "GET /*")]
    endpoints: Vec<String>,
    /// Allowed purpose codes (repeat or separate with commas).
    #[arg(long, value_delimiter = ',', required = true)]
    purpose: Vec<String>,
    /// Fields the consumer sees (all by default).
    #[arg(long, value_delimiter = ',')]
    fields: Vec<String>,
    /// Fields shown masked (all but the last 4 characters hidden).
    #[arg(long, value_delimiter = ',')]
    mask: Vec<String>,
    /// The legal basis (căn cứ pháp lý).
    #[arg(long, default_value = "")]
    legal_basis: String,
    /// Rate, e.g. 50/s or 3000/min.
    #[arg(long, default_value = "10/s")]
    rate: String,
    /// Burst above the rate [default: twice the rate].
    #[arg(long)]
    burst: Option<u32>,
    /// Requests a day.
    #[arg(long)]
    quota: Option<u64>,
    /// First day of validity (YYYY-MM-DD) [default: today].
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Last day of validity (YYYY-MM-DD).
    #[arg(long)]
    until: Option<chrono::NaiveDate>,
    /// Approve at once (the operator manages the provider too).
    #[arg(long)]
    approve: bool,
}

pub async fn service(kho: &Kho, command: ServiceCommand) -> anyhow::Result<ExitCode> {
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let mut out = std::io::stdout().lock();
    match command {
        ServiceCommand::Add(a) => {
            let a = *a;
            let target = match (a.backend, a.resource) {
                (Some(backend_url), _) => {
                    let openapi = a.openapi.as_deref().map(openapi_document).transpose()?;
                    ServiceTarget::Proxied { backend_url, openapi, backend_token: a.backend_token }
                }
                (None, Some(resource_id)) => ServiceTarget::Dataset {
                    resource_id,
                    table: a.table,
                    columns: a.columns,
                    filter: a.filter,
                    key_column: a.key,
                },
                (None, None) => bail!("give --backend URL or --resource SLUG"),
            };
            let new = NewService {
                provider: SubsystemId::parse(&a.provider).map_err(core)?,
                code: a.code,
                description: a.description,
                target,
                timeout_ms: a.timeout_ms,
                log_bodies: a.log_bodies,
            };
            let s = kho.register_service(&operator, &ctx, new).await.map_err(core)?;
            writeln!(out, "registered {} service {} ({})", s.target.kind(), s.full_id(), s.id)?;
        }
        ServiceCommand::Update(u) => {
            let u = *u;
            let openapi = match (&u.openapi, u.no_openapi) {
                (Some(path), _) => Some(Some(openapi_document(path)?)),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let change = ServiceChange {
                description: u.description,
                backend_url: u.backend,
                openapi,
                backend_token: u.backend_token,
                columns: u.columns.map(|c| c.split(',').map(String::from).collect()),
                filter: u.filter,
                key_column: u.key,
                timeout_ms: u.timeout_ms,
                log_bodies: u.log_bodies,
            };
            let s = kho.update_service(&operator, &ctx, &u.service, &change).await.map_err(core)?;
            writeln!(out, "updated service {} ({})", s.full_id(), s.id)?;
        }
        ServiceCommand::Disable { service, notice } => {
            let s = kho.disable_service(&operator, &ctx, &service, &notice).await.map_err(core)?;
            writeln!(out, "suspended service {}: {}", s.full_id(), notice.trim())?;
        }
        ServiceCommand::Enable { service } => {
            let s = kho.enable_service(&operator, &ctx, &service).await.map_err(core)?;
            writeln!(out, "resumed service {}", s.full_id())?;
        }
        ServiceCommand::List => {
            let services = kho.services(&operator).await.map_err(core)?;
            crate::cli::none_yet(
                &services,
                "service",
                "kho service add --provider ID --code CODE --backend URL | --resource SLUG",
            );
            for s in services {
                let state = match &s.disabled {
                    Some(d) => format!("suspended: {}", d.notice),
                    None => "active".into(),
                };
                writeln!(out, "{:<56} {:<8} {:<10} {}", s.full_id(), s.target.kind(), state, s.description)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An OpenAPI document read from a JSON file; a parse error names the line and column.
fn openapi_document(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: line {}, column {}: not JSON: {e}", path.display(), e.line(), e.column()))
}

pub async fn agreement(kho: &Kho, command: AgreementCommand) -> anyhow::Result<ExitCode> {
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let mut out = std::io::stdout().lock();
    let decide = |id: String, status: AgreementStatus, note: String| async move {
        let decision = AgreementDecision { status, terms: None, note };
        kho.decide_agreement(&Subject::operator(), &AuditContext::operator(), &id, &decision).await.map_err(core)
    };
    let a = match command {
        AgreementCommand::Add(a) => {
            let a = *a;
            let terms = AgreementTerms {
                endpoints: a.endpoints,
                fields: a.fields,
                masked: a.mask,
                purposes: a.purpose,
                legal_basis: a.legal_basis,
                valid_from: a.from,
                valid_until: a.until,
                rate_per_second: parse_rate(&a.rate).map_err(|m| anyhow!("--rate: {m}"))?,
                burst: a.burst,
                daily_quota: a.quota,
            };
            let consumer = SubsystemId::parse(&a.consumer).map_err(core)?;
            kho.request_agreement(&operator, &ctx, &consumer, &a.service, &terms, a.approve).await.map_err(core)?
        }
        AgreementCommand::List => {
            let agreements = kho.agreements(&operator).await.map_err(core)?;
            crate::cli::none_yet(
                &agreements,
                "agreement",
                "kho agreement add --consumer ID --service PROVIDER_ID/CODE --endpoints 'GET /*' --purpose CODE",
            );
            for a in agreements {
                writeln!(
                    out,
                    "{:<34} {:<9} {} → {}/{}  until {}",
                    a.id,
                    a.status.as_str(),
                    a.consumer,
                    a.provider,
                    a.service,
                    a.valid_until.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
                )?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        AgreementCommand::Approve { id, note } => decide(id, AgreementStatus::Approved, note).await?,
        AgreementCommand::Refuse { id, note } => decide(id, AgreementStatus::Refused, note).await?,
        AgreementCommand::Revoke { id, note } => decide(id, AgreementStatus::Revoked, note).await?,
    };
    writeln!(out, "agreement {} is {}: {} → {}/{}", a.id, a.status.as_str(), a.consumer, a.provider, a.service)?;
    Ok(ExitCode::SUCCESS)
}

/// `kho audit verify --messages`: the chain and checkpoints against this node's key.
pub async fn verify_messages(kho: &Kho) -> anyhow::Result<ExitCode> {
    settle_journal(kho).await?;
    let report = kho.verify_messages_showing(&|step| eprintln!("{step}")).await.map_err(core)?;
    print_report(&report)
}

/// Moves what a stopped node left in its message journal into the store first; beside
/// a running node, says that its last records may still be in the journal.
async fn settle_journal(kho: &Kho) -> anyhow::Result<()> {
    if !kho_server::gateway::move_journal_left(kho).await.map_err(core)? {
        eprintln!(
            "note: a running Kho holds the message journal; the records of its last {} ms may not be in the store \
             yet",
            kho_server::gateway::logbook::MOVE_EVERY.as_millis()
        );
    }
    Ok(())
}

/// `kho audit verify --bundle FILE…`: exported or archived logs, offline, as one chain.
pub fn verify_bundles(paths: &[PathBuf], public_key: Option<&str>) -> anyhow::Result<ExitCode> {
    let mut bundles = Vec::new();
    for path in paths {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        bundles.push((path.display().to_string(), std::io::BufReader::new(file)));
    }
    let report = kho_exchange::msglog::verify_bundles(bundles, public_key).map_err(|e| anyhow!(e))?;
    print_report(&report)
}

fn print_report(report: &kho_exchange::msglog::VerifyReport) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if let Some(key) = &report.public_key {
        writeln!(out, "node key: {key}")?;
    }
    if report.intact {
        writeln!(out, "ok: {}", report.message)?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(out, "BROKEN: {}", report.message)?;
        Ok(ExitCode::from(1))
    }
}

/// `kho audit export --messages --out FILE`.
pub async fn export_messages(kho: &Kho, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    settle_journal(kho).await?;
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let count = kho.export_messages(std::io::BufWriter::new(file)).await.map_err(core)?;
    eprintln!("exported {count} message-log records to {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// `kho audit archive --messages --before WHEN --out FILE`.
pub async fn archive_messages(kho: &Kho, before: &str, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let before = kho_server::services::exchange::log_instant("before", before, false)
        .map_err(core)?
        .ok_or_else(|| anyhow!("--before needs a day (2026-11-01) or an instant (2026-11-01T00:00:00+07:00)"))?;
    settle_journal(kho).await?;
    let step = |what: &str| eprintln!("{what}");
    let a = kho.archive_messages(&AuditContext::operator(), before, path, &step).await.map_err(core)?;
    let day = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("-".to_string(), |t| kho_core::time::format(&t));
    let mut out = std::io::stdout().lock();
    let n = kho_exchange::msglog::thousands;
    writeln!(
        out,
        "archived records {} to {} ({} records) into {}",
        n(a.start.seq + 1),
        n(a.end.seq),
        n(a.records),
        a.file
    )?;
    writeln!(
        out,
        "requests from {} to {}; checkpoint signed {}",
        day(a.first_at),
        day(a.last_at),
        kho_core::time::format(&a.checkpoint_at)
    )?;
    writeln!(out, "sha256 {}", a.sha256)?;
    eprintln!(
        "the store keeps the records after {}; keep the file, and check it with `kho audit verify --bundle {}`",
        n(a.end.seq),
        a.file
    );
    Ok(ExitCode::SUCCESS)
}

/// `kho audit access --subject ID [--bundle FILE]… [--limit N]`: one line an exchange,
/// oldest first; on stderr, each archive searched or why not.
pub async fn subject_access(kho: &Kho, identifier: &str, bundles: &[PathBuf], limit: i64) -> anyhow::Result<ExitCode> {
    settle_journal(kho).await?;
    let mut files: Vec<(String, Box<dyn std::io::BufRead + Send>)> = Vec::new();
    for path in bundles {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        files.push((path.display().to_string(), Box::new(std::io::BufReader::new(file))));
    }
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let report = kho.access_report(&operator, &ctx, identifier, limit, files).await.map_err(core)?;
    let mut out = std::io::stdout().lock();
    for r in report.records.iter().rev() {
        let agreement = r.agreement_id.as_deref().unwrap_or("-");
        let at = kho_core::time::format(&r.request_in_ts);
        writeln!(out, "{at}\t{}\t{}\t{}\t{agreement}\t{} {}", r.client, r.service, r.purpose, r.method, r.path)?;
    }
    let n = kho_exchange::msglog::thousands;
    for a in report.archives.iter().rev() {
        let range = format!("archive of records {} to {}", n(a.start + 1), n(a.end));
        match &a.note {
            None => eprintln!("{range}: searched, {} exchange(s) found", a.found),
            Some(note) => eprintln!("{range}: {note}"),
        }
    }
    if report.records.is_empty() {
        eprintln!("nobody was served this person's records");
    } else if report.records.len() as i64 == limit {
        eprintln!("the newest {limit} exchanges are listed; raise --limit to see older ones");
    }
    Ok(ExitCode::SUCCESS)
}
