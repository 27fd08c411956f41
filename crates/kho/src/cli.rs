//! The command line: `kho serve` and the administrative commands.

use crate::settings::{resolve, FileConfig, Overrides};
use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use kho_catalog::{ResourceDraft, Status};
use kho_core::agency::{Agency, AgencyCode, AgencyKind, NewAgency};
use kho_core::audit::AuditContext;
use kho_core::identity::{NewSubsystem, NewUser, Role, Subject, SubsystemId, TokenOwner};
use kho_server::services::{Kho, ResourceFilter};
use kho_server::{Application, LogFormat, Settings};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kho",
    version,
    about = "Kho — the provincial data platform (catalogue, warehouse, open data, sharing)",
    long_about = "Kho — the provincial data platform.\n\n\
        `kho serve` runs everything on an embedded default (SQLite and local files under \
        ./kho-data). The other commands act on the same store, whether or not a server is \
        running on it; what they change is recorded in the audit log as the local operator.\n\n\
        Settings come from a TOML file (--config), then KHO_* environment variables, then flags."
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "KHO_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory [default: ./kho-data].
    #[arg(long, global = true, env = "KHO_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Metadata database: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB [default: sqlite://<data-dir>/kho.db].
    #[arg(long, global = true, env = "KHO_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Object storage for dataset files: file://DIR or s3://BUCKET/PREFIX [default: file://<data-dir>/objects].
    #[arg(long, global = true, env = "KHO_OBJECT_STORE_URL", value_name = "URL")]
    object_store_url: Option<String>,
    /// Log format.
    #[arg(long, global = true, env = "KHO_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: public portal at /, management at /admin, API at /api/v1.
    ///
    /// On an empty data directory it creates the store and the first administrator
    /// "admin" (password from KHO_ADMIN_PASSWORD, or generated and printed once).
    Serve(ServeArgs),
    /// Manage users (người dùng).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens (khóa API) of users and subsystems.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage subsystems (phân hệ): machine clients of an agency.
    #[command(subcommand)]
    Subsystem(SubsystemCommand),
    /// Dịch vụ chia sẻ — services of the sharing platform.
    #[command(subcommand)]
    Service(crate::exchange::ServiceCommand),
    /// Thỏa thuận chia sẻ — agreements: who may call which service, how.
    #[command(subcommand)]
    Agreement(crate::exchange::AgreementCommand),
    /// Run an Agent Node (nút đại lý) at an agency, connected to the central Kho.
    Agent(AgentArgs),
    /// Standardise Vietnamese values (chuẩn hóa): one a line from stdin, or a CSV
    /// column; writes CSV input,output,status,note (status ok, fixed or invalid).
    Standardize(crate::standardize::StandardizeArgs),
    /// Manage agencies (cơ quan).
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Manage data resources (tài nguyên dữ liệu): catalogue entries.
    #[command(subcommand)]
    Resource(ResourceCommand),
    /// Load a file into a resource's table as a new version (creating the resource as a
    /// draft when the slug is new).
    Ingest(IngestArgs),
    /// List the versions of a resource's table.
    Versions {
        /// Resource slug or id.
        resource: String,
        #[arg(long, default_value = "main")]
        table: String,
    },
    /// Compare a version of a table with the one before it (columns, rows by key).
    Diff {
        /// Resource slug or id.
        resource: String,
        /// The version to compare with its predecessor.
        version: i64,
        #[arg(long, default_value = "main")]
        table: String,
    },
    /// Run one read-only SQL statement over the warehouse (truy vấn). Tables are named
    /// <resource>.<table>: the resource's slug with _ for -, e.g. dan_so_2025.main.
    Query {
        /// The SELECT statement; `-` reads it from standard input.
        sql: String,
        #[arg(long, value_enum, default_value = "table")]
        format: QueryFormat,
    },
    /// Data quality (chất lượng dữ liệu): run a table's checks, set its rules,
    /// profile it, clean it into a new version.
    #[command(subcommand)]
    Quality(crate::quality::QualityCommand),
    /// Work with the audit log (nhật ký kiểm toán).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The open data portal's search index (tìm kiếm).
    #[command(subcommand)]
    Search(SearchCommand),
    /// Reference data (danh mục dùng chung): convert legacy administrative units and
    /// addresses to the 2025 units (the lists built into Kho; no store), and manage
    /// code lists (`refdata codelist`, on the store).
    #[command(subcommand)]
    Refdata(crate::refdata::RefdataCommand),
    /// Measure ingest and reads on a generated CSV against DuckDB, side by side; see
    /// docs/benchmarks.md. Works in its own directory, not on --data-dir.
    Bench(crate::bench::BenchArgs),
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Rebuild the index from the catalogue (after a restore, or if it was damaged).
    Reindex,
}

#[derive(Clone, Copy, ValueEnum)]
enum QueryFormat {
    Table,
    Csv,
    Json,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "KHO_LISTEN", value_name = "ADDR")]
    listen: Option<String>,
    /// Seed a demo province (Bắc Ninh) with agencies and a user per role when the store is empty.
    #[arg(long, env = "KHO_DEMO")]
    demo: bool,
    /// Public address of this Kho (https:// turns on Secure cookies).
    #[arg(long, env = "KHO_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Serve HTTPS with this PEM certificate (chain) …
    #[arg(long, env = "KHO_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// … and this PEM private key.
    #[arg(long, env = "KHO_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Accept subsystems' client certificates issued by this CA (PEM) at the gateway.
    #[arg(long, env = "KHO_TLS_CLIENT_CA", value_name = "FILE", requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from stdin with --password-stdin, or generated and printed.
    Create {
        #[arg(long)]
        username: String,
        /// Agency code (e.g. 000.00.01.H24) or id.
        #[arg(long)]
        agency: String,
        /// Comma-separated roles: admin, steward, viewer, auditor.
        #[arg(long, default_value = "viewer")]
        roles: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token; the secret is printed once on stdout.
    Create {
        /// Username of the owner.
        #[arg(long, conflicts_with = "subsystem", required_unless_present = "subsystem")]
        user: Option<String>,
        /// Subsystem identifier of the owner, e.g. VN/GOV/000.00.01.H24/DATA-PORTAL.
        #[arg(long)]
        subsystem: Option<String>,
        /// What the token is for.
        #[arg(long)]
        name: String,
        /// Lifetime in days (1–730).
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
    /// List every API token.
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Subcommand)]
enum SubsystemCommand {
    /// Register a subsystem of an agency; its first API token is printed once on stdout.
    Create {
        /// INSTANCE/CLASS/MEMBER/SUBSYSTEM, e.g. VN/GOV/000.00.01.H24/DATA-PORTAL.
        xroad_id: String,
        /// Agency code or id.
        #[arg(long)]
        agency: String,
        /// A name for people [default: the subsystem code].
        #[arg(long)]
        name: Option<String>,
        /// Comma-separated roles (not admin).
        #[arg(long, default_value = "viewer")]
        roles: String,
        /// Lifetime of the token in days (1–730).
        #[arg(long, default_value_t = 365)]
        token_days: i64,
    },
    /// Register a client TLS certificate for a subsystem: the gateway then accepts it
    /// without a token (Kho must serve TLS with --tls-client-ca).
    Certificate {
        /// INSTANCE/CLASS/MEMBER/SUBSYSTEM.
        xroad_id: String,
        /// The certificate, PEM.
        #[arg(long, value_name = "FILE")]
        cert: PathBuf,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List the certificates registered for a subsystem, revoked ones included.
    Certificates {
        /// INSTANCE/CLASS/MEMBER/SUBSYSTEM.
        xroad_id: String,
    },
    /// Revoke a subsystem's certificate: the gateway refuses it from its next call.
    RevokeCertificate {
        /// INSTANCE/CLASS/MEMBER/SUBSYSTEM.
        xroad_id: String,
        /// The certificate's SHA-256 fingerprint, as `certificates` lists it.
        fingerprint: String,
    },
    /// List subsystems.
    List,
}

#[derive(Args)]
struct AgentArgs {
    /// The central Kho's base URL, e.g. https://lgsp.tinh.gov.vn.
    #[arg(long, env = "KHO_AGENT_CENTRAL")]
    central: String,
    /// The agency's subsystem the local systems call as.
    #[arg(long, env = "KHO_AGENT_SUBSYSTEM")]
    subsystem: String,
    /// That subsystem's API token [not needed with --client-cert].
    #[arg(long, env = "KHO_AGENT_TOKEN", hide_env_values = true, required_unless_present = "client_cert")]
    token: Option<String>,
    /// A client certificate (PEM) registered for the subsystem, for mutual TLS with the central node.
    #[arg(long, env = "KHO_AGENT_CLIENT_CERT", value_name = "FILE", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long, env = "KHO_AGENT_CLIENT_KEY", value_name = "FILE", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// The CA (PEM) of the central node's certificate, when the system does not trust it.
    #[arg(long, env = "KHO_AGENT_CENTRAL_CA", value_name = "FILE")]
    central_ca: Option<PathBuf>,
    /// What the central node sends to reach the exposed backends [default: the token].
    #[arg(long, env = "KHO_AGENT_BACKEND_TOKEN", hide_env_values = true)]
    backend_token: Option<String>,
    /// Address to listen on for the agency's systems [default: 127.0.0.1:8090].
    #[arg(long, env = "KHO_LISTEN", default_value = "127.0.0.1:8090")]
    listen: String,
    /// A local backend the central node may reach at /backend/NAME/…, as NAME=URL (repeat).
    #[arg(long, value_name = "NAME=URL")]
    expose: Vec<String>,
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Create one agency.
    Create {
        /// Electronic identifier code (mã định danh điện tử), e.g. 000.00.00.H24.
        #[arg(long)]
        code: String,
        /// Its name (tên cơ quan), e.g. "Sở Y tế".
        #[arg(long)]
        name: String,
        /// province, department, unit or commune.
        #[arg(long)]
        kind: String,
        /// Parent agency (code or id); none for a province.
        #[arg(long)]
        parent: Option<String>,
        /// 2025 admin-unit code, for communes and wards.
        #[arg(long)]
        admin_unit_code: Option<String>,
    },
    /// Create commune agencies from an admin-unit list like data/admin-units-2025.csv.
    Import {
        /// The CSV file (columns province_code, province_name, ward_code, ward_name, ward_type).
        file: PathBuf,
        /// Two-digit 2025 province code whose communes to import, e.g. 24.
        #[arg(long)]
        province: String,
        /// Parent agency (code or id) [default: the single province agency].
        #[arg(long)]
        parent: Option<String>,
    },
    /// List agencies in tree order.
    List,
}

#[derive(Subcommand)]
enum ResourceCommand {
    /// Register a data resource (a draft) from flags, or from a JSON description with --from.
    Create {
        /// A JSON file with the whole description (the API's request body).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["title", "agency"])]
        from: Option<PathBuf>,
        #[arg(long, required_unless_present = "from")]
        title: Option<String>,
        /// Publishing agency (code or id).
        #[arg(long, required_unless_present = "from")]
        agency: Option<String>,
        /// open, shared, specialised or private.
        #[arg(long, default_value = "private")]
        scope: String,
        #[arg(long)]
        slug: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Comma-separated keywords.
        #[arg(long, default_value = "")]
        keywords: String,
        /// Theme or sector (lĩnh vực).
        #[arg(long, default_value = "")]
        theme: String,
        /// none, basic or sensitive.
        #[arg(long, default_value = "none")]
        personal_data: String,
        /// core, important or ordinary.
        #[arg(long, default_value = "ordinary")]
        importance: String,
    },
    /// List data resources.
    List {
        /// Words in the title, slug or keywords (diacritics ignored).
        #[arg(long)]
        q: Option<String>,
        /// draft, published or retired.
        #[arg(long)]
        status: Option<String>,
        /// Only this agency (code or id) and those under it.
        #[arg(long)]
        agency: Option<String>,
    },
    /// Show one resource as JSON.
    Show { key: String },
    /// Move a resource to draft, published or retired.
    Status { key: String, status: String },
}

#[derive(Args)]
struct IngestArgs {
    /// The file: CSV/TSV (UTF-8, UTF-16 or Windows-1258), XLSX, XLS, JSON, NDJSON,
    /// GeoJSON or Parquet.
    file: PathBuf,
    /// Resource slug (or id). A new slug creates the resource as a draft.
    #[arg(long)]
    resource: String,
    /// Table name within the resource.
    #[arg(long, default_value = "main")]
    table: String,
    /// replace: the file becomes the table; append: its rows are added; upsert: rows
    /// replace those with the same key, new keys are added.
    #[arg(long, default_value = "replace")]
    mode: String,
    /// The column(s) that identify a row (comma-separated): needed for upsert; with
    /// replace, lets versions be compared row by row.
    #[arg(long, value_delimiter = ',')]
    key: Vec<String>,
    /// Agency (code or id) that publishes a newly created resource [default: the province agency].
    #[arg(long)]
    agency: Option<String>,
    /// The format (csv, xlsx, xls, json, ndjson, geojson, parquet) [default: detected].
    #[arg(long)]
    format: Option<String>,
    /// The sheet of a workbook to load [default: the first sheet with data]; see --list-sheets.
    #[arg(long)]
    sheet: Option<String>,
    /// List the sheets of a workbook and exit.
    #[arg(long)]
    list_sheets: bool,
    /// The header row as the file numbers it; 0 for a file without a header [default: detected].
    #[arg(long)]
    header_row: Option<u64>,
    /// Declared column types overriding inference: column:type,... with types integer,
    /// decimal, date, boolean or text (e.g. "Mã xã:text,ngay:date").
    #[arg(long)]
    schema: Option<String>,
    /// Load the good rows and write rows with bad cells to this CSV file, instead of failing.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exits with status 1 and names the first broken entry.
    /// With --messages, the gateway's message log and its signed checkpoints; with
    /// --bundle, an exported message log (offline, no store needed).
    Verify {
        /// Verify the gateway's message log (nhật ký thông điệp) and its signed
        /// checkpoints instead of the audit log.
        #[arg(long, conflicts_with = "bundle")]
        messages: bool,
        /// Verify a bundle written by `kho audit export --messages` or `kho audit archive
        /// --messages`, offline. Repeat it to verify archives (and a last export) as one
        /// chain, oldest first.
        #[arg(long, value_name = "FILE")]
        bundle: Vec<PathBuf>,
        /// The node's public key (hex) the bundle must be signed with.
        #[arg(long, requires = "bundle")]
        public_key: Option<String>,
    },
    /// The data quality audit report (báo cáo chất lượng): per agency, the six scores,
    /// each resource's trend and the failing checks; --html writes a page to print as PDF.
    Quality {
        /// One agency, by code.
        #[arg(long)]
        agency: Option<String>,
        #[arg(long, conflicts_with = "html")]
        json: bool,
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Move the message log's older records out of the store into a bundle file
    /// (lưu trữ): every record up to the last checkpoint signed before --before, from
    /// where the previous archive ended. The file is verified before the records leave
    /// the store; keep it, and check it with `kho audit verify --bundle`.
    Archive {
        /// The message log (the only log archived today).
        #[arg(long, required = true)]
        messages: bool,
        /// Archive what was signed before this UTC day (2026-11-01) or instant
        /// (2026-11-01T00:00:00+07:00).
        #[arg(long)]
        before: String,
        /// The archive to write; an existing file is never replaced.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// The data subject's access report (báo cáo truy cập): every gateway exchange that
    /// served records of the person with this identifier, from the store, from the
    /// archive files where the archives put them (each checked against its signed
    /// SHA-256) and from files given with --bundle, oldest first. The lookup is audited.
    Access {
        /// The person's identifier, e.g. a citizen ID number.
        #[arg(long)]
        subject: String,
        /// An archive (or export) to search as well: a copy kept elsewhere.
        #[arg(long, value_name = "FILE")]
        bundle: Vec<PathBuf>,
        /// The newest exchanges listed at most.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
        limit: i64,
    },
    /// Export the message log with its checkpoints and the node's public key.
    Export {
        /// The message log (the only log exported today).
        #[arg(long, required = true)]
        messages: bool,
        /// The bundle to write: one JSON object a line (a header, the checkpoints, the
        /// records), for `kho audit verify --bundle`.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// What the log shows unless `KHO_LOG` says otherwise: Kho's own events (every
/// `kho*` target) and the request lines from `tower_http` at `info`; the libraries
/// underneath (the Delta kernel, tantivy, DataFusion, sqlx, hyper) only warnings and
/// errors, since their `info` events (each table scan, each index commit) drown what an
/// operator needs to see. The Delta kernel's snapshot builder logs every failed build
/// as an error, also the expected one of a table not created yet (each first load);
/// its failures are returned to Kho, which logs those that are errors, so it is off.
const DEFAULT_LOG_FILTER: &str = "warn,kho=info,tower_http=info,buoyant_kernel::snapshot::builder=off";

/// What an administrative command shows unless `KHO_LOG` says otherwise: only errors,
/// so that one reported as "see the server log" has its cause on stderr beside it.
const COMMAND_LOG_FILTER: &str = "error,buoyant_kernel::snapshot::builder=off";

/// Says on stderr, when a list is empty, that there is nothing yet and the command
/// that makes the first one (stdout stays empty for scripts).
pub(crate) fn none_yet<T>(items: &[T], what: &str, first: &str) {
    if items.is_empty() {
        eprintln!("no {what} yet; create one with `{first}`");
    }
}

fn init_tracing(format: LogFormat, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KHO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = FileConfig::load(cli.config.as_deref())?;
    let log_format = match cli.log_format {
        Some(LogFormatArg::Json) => LogFormat::Json,
        Some(LogFormatArg::Text) => LogFormat::Text,
        None => file.log_format.unwrap_or_default(),
    };
    let mut over = Overrides {
        data_dir: cli.data_dir,
        database_url: cli.database_url,
        object_store_url: cli.object_store_url,
        ..Default::default()
    };
    if let Command::Serve(args) = &cli.command {
        over.listen = args.listen.clone();
        over.public_url = args.public_url.clone();
        over.demo = args.demo;
    }
    let mut settings = resolve(file, over);
    if let Command::Serve(ServeArgs { tls_cert: Some(cert), tls_key: Some(key), tls_client_ca, .. }) = &cli.command {
        settings.tls =
            Some(kho_server::tls::TlsFiles { cert: cert.clone(), key: key.clone(), client_ca: tls_client_ca.clone() });
    }
    match cli.command {
        Command::Serve(_) => {
            init_tracing(log_format, DEFAULT_LOG_FILTER);
            serve(settings).await
        }
        Command::Bench(args) => crate::bench::run(args).await,
        Command::Audit(AuditCommand::Verify { bundle, public_key, .. }) if !bundle.is_empty() => {
            crate::exchange::verify_bundles(&bundle, public_key.as_deref())
        }
        Command::Agent(args) => {
            init_tracing(log_format, DEFAULT_LOG_FILTER);
            agent(settings, args).await
        }
        Command::Standardize(args) => tokio::task::spawn_blocking(move || crate::standardize::run(args))
            .await
            .map_err(|e| anyhow!("the standardisation stopped: {e}"))?,
        Command::Refdata(crate::refdata::RefdataCommand::Codelist(command)) => {
            init_tracing(log_format, COMMAND_LOG_FILTER);
            let kho = Kho::open(settings).await?;
            crate::codelist::run(&kho, command).await
        }
        Command::Refdata(command) => tokio::task::spawn_blocking(move || crate::refdata::run(command))
            .await
            .map_err(|e| anyhow!("the conversion stopped: {e}"))?,
        command => {
            init_tracing(log_format, COMMAND_LOG_FILTER);
            let kho = Kho::open(settings).await?;
            admin(&kho, command).await
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let admin_password = std::env::var("KHO_ADMIN_PASSWORD").ok();
    let app = Application::build(settings, admin_password).await?;
    let url = format!("http://{}", app.address());
    if let Some(first) = &app.first_run {
        println!("Kho initialised a new store.");
        match &first.generated_password {
            Some(p) => println!(
                "  administrator: {}   password: {p}\n  (generated and shown only now; set KHO_ADMIN_PASSWORD to choose it)",
                first.username
            ),
            None => println!("  administrator: {}   password: the value of KHO_ADMIN_PASSWORD", first.username),
        }
        if !first.demo_users.is_empty() {
            println!("  demo users (same password): {}", first.demo_users.join(", "));
        }
        if let Some((consumer, token)) = &first.demo_gateway_token {
            println!("  demo gateway client {consumer}, token (shown only now): {token}");
        }
    }
    println!("Kho is listening on {url} — log in at {url}/login");
    tracing::info!(address = %url, "listening");
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// `kho agent`: an Agent Node on the data dir, until SIGINT/SIGTERM.
async fn agent(mut settings: Settings, args: AgentArgs) -> anyhow::Result<ExitCode> {
    settings.listen = args.listen;
    let subsystem = SubsystemId::parse(&args.subsystem).map_err(|e| anyhow!("--subsystem: {}", e.message))?;
    let mut backends = std::collections::HashMap::new();
    for e in &args.expose {
        let (name, url) = e
            .split_once('=')
            .ok_or_else(|| anyhow!("--expose {e:?}: write NAME=URL, e.g. ho-tich=http://10.0.0.5:8080"))?;
        backends.insert(name.trim().to_string(), url.trim().to_string());
    }
    let central = args.central.trim_end_matches('/').to_string();
    let node = kho_server::AgentNode::build(
        settings,
        kho_server::gateway::AgentSettings {
            central: central.clone(),
            subsystem,
            token: args.token,
            backend_token: args.backend_token,
            backends,
            central_ca: args.central_ca,
            identity: args.client_cert.zip(args.client_key),
        },
    )
    .await?;
    println!("Kho Agent Node is listening on http://{} — forwarding to {central}", node.address());
    node.run_until(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Finds an agency by its electronic identifier code or its id.
async fn find_agency(kho: &Kho, key: &str) -> anyhow::Result<Agency> {
    if let Some(a) = kho.store.agency_by_code(&key.trim().to_ascii_uppercase()).await? {
        return Ok(a);
    }
    kho.store.agency(key).await?.ok_or_else(|| anyhow!("no agency has code or id {key:?}; see `kho agency list`"))
}

/// A service's error as the command line reports it.
pub(crate) fn core(e: kho_core::Error) -> anyhow::Error {
    anyhow!("{}", e.message)
}

async fn admin(kho: &Kho, command: Command) -> anyhow::Result<ExitCode> {
    let operator = Subject::operator();
    let ctx = AuditContext::operator();
    let mut out = std::io::stdout().lock();
    match command {
        Command::Serve(_) | Command::Bench(_) | Command::Refdata(_) | Command::Agent(_) | Command::Standardize(_) => {
            unreachable!("handled by run")
        }
        Command::User(UserCommand::Create { username, agency, roles, display_name, password_stdin }) => {
            let agency = find_agency(kho, &agency).await?;
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (kho_core::secret::generate_password(), true)
            };
            let new = NewUser {
                username,
                display_name,
                agency_id: agency.id,
                roles: Role::parse_list(&roles).map_err(core)?,
                password: password.clone(),
            };
            let user = kho.create_user(&operator, &ctx, new).await.map_err(core)?;
            writeln!(out, "created user {} ({}) in {}", user.username, Role::join(&user.roles), agency.name)?;
            if generated {
                writeln!(out, "password: {password}")?;
            }
        }
        Command::User(UserCommand::List) => {
            let agencies = kho.list_agencies().await.map_err(core)?;
            let page = kho.list_users(&operator, &ctx, 500, 0).await.map_err(core)?;
            writeln!(out, "{:<24} {:<20} {:<10} agency", "username", "roles", "status")?;
            for u in page.items {
                let agency = agencies.iter().find(|a| a.id == u.agency_id).map(|a| a.name.as_str()).unwrap_or("");
                let status = if u.disabled { "disabled" } else { "active" };
                writeln!(out, "{:<24} {:<20} {:<10} {agency}", u.username, Role::join(&u.roles), status)?;
            }
        }
        Command::Token(TokenCommand::Create { user, subsystem, name, days }) => {
            let owner = match (user, subsystem) {
                (Some(username), _) => {
                    let (u, _) = kho
                        .store
                        .user_credentials(&username)
                        .await?
                        .ok_or_else(|| anyhow!("no user is named {username:?}"))?;
                    TokenOwner::User(u.id)
                }
                (None, Some(xroad)) => {
                    SubsystemId::parse(&xroad).map_err(core)?;
                    TokenOwner::Subsystem(kho.find_subsystem(&xroad).await.map_err(core)?.id)
                }
                (None, None) => bail!("give --user or --subsystem"),
            };
            let (token, secret) = kho.create_token(&operator, &ctx, owner, &name, days).await.map_err(core)?;
            eprintln!(
                "created token {} ({}), expires {}; the secret below is shown only now:",
                token.id,
                token.name,
                token.expires_at.format("%Y-%m-%d")
            );
            writeln!(out, "{secret}")?;
        }
        Command::Token(TokenCommand::List) => {
            let now = kho_core::time::now();
            writeln!(out, "{:<34} {:<12} {:<10} {:<11} name", "id", "prefix", "status", "expires")?;
            for t in kho.list_tokens(&operator, true).await.map_err(core)? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.is_active(now) {
                    "active"
                } else {
                    "expired"
                };
                writeln!(
                    out,
                    "{:<34} {:<12} {:<10} {:<11} {}",
                    t.id,
                    t.prefix,
                    status,
                    t.expires_at.format("%Y-%m-%d"),
                    t.name
                )?;
            }
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let t = kho.revoke_token(&operator, &ctx, &id).await.map_err(core)?;
            writeln!(out, "revoked token {} ({})", t.id, t.name)?;
        }
        Command::Subsystem(SubsystemCommand::Create { xroad_id, agency, name, roles, token_days }) => {
            let agency = find_agency(kho, &agency).await?;
            let xroad_id = SubsystemId::parse(&xroad_id).map_err(core)?;
            let new = NewSubsystem {
                name: name.unwrap_or_else(|| xroad_id.subsystem_code.clone()),
                xroad_id,
                agency_id: agency.id,
                roles: Role::parse_list(&roles).map_err(core)?,
            };
            let s = kho.create_subsystem(&operator, &ctx, new).await.map_err(core)?;
            let owner = TokenOwner::Subsystem(s.id.clone());
            let (token, secret) =
                kho.create_token(&operator, &ctx, owner, "gateway", token_days).await.map_err(core)?;
            eprintln!(
                "registered subsystem {} ({}) of {}; its token expires {} and is shown only now:",
                s.xroad_id,
                s.id,
                agency.name,
                token.expires_at.format("%Y-%m-%d")
            );
            writeln!(out, "{secret}")?;
        }
        Command::Service(command) => return crate::exchange::service(kho, command).await,
        Command::Agreement(command) => return crate::exchange::agreement(kho, command).await,
        Command::Audit(AuditCommand::Verify { messages: true, .. }) => {
            return crate::exchange::verify_messages(kho).await;
        }
        Command::Audit(AuditCommand::Export { out: path, .. }) => {
            return crate::exchange::export_messages(kho, &path).await;
        }
        Command::Audit(AuditCommand::Access { subject, bundle, limit }) => {
            return crate::exchange::subject_access(kho, &subject, &bundle, limit).await;
        }
        Command::Audit(AuditCommand::Archive { before, out: path, .. }) => {
            return crate::exchange::archive_messages(kho, &before, &path).await;
        }
        Command::Audit(AuditCommand::Quality { agency, json, html }) => {
            return crate::quality::audit(kho, agency.as_deref(), json, html.as_ref()).await;
        }
        Command::Quality(command) => return crate::quality::run(kho, command).await,
        Command::Subsystem(SubsystemCommand::Certificate { xroad_id, cert, label }) => {
            let pem = std::fs::read(&cert).with_context(|| format!("cannot read {}", cert.display()))?;
            let added = kho.register_certificate(&operator, &ctx, &xroad_id, &pem, &label).await.map_err(core)?;
            writeln!(out, "registered certificate {} for {}", added.fingerprint, xroad_id.trim())?;
        }
        Command::Subsystem(SubsystemCommand::Certificates { xroad_id }) => {
            let certificates = kho.subsystem_certificates(&operator, &ctx, &xroad_id).await.map_err(core)?;
            let register = format!("kho subsystem certificate {xroad_id} --cert FILE");
            none_yet(&certificates, "certificate", &register);
            for c in certificates {
                let state = match c.revoked_at {
                    Some(at) => format!("revoked {}", kho_core::time::format(&at)),
                    None => "active".into(),
                };
                writeln!(
                    out,
                    "{}  {:<30} added {}  {state}",
                    c.fingerprint,
                    c.label,
                    kho_core::time::format(&c.added_at)
                )?;
            }
        }
        Command::Subsystem(SubsystemCommand::RevokeCertificate { xroad_id, fingerprint }) => {
            let revoked = kho.revoke_certificate(&operator, &ctx, &xroad_id, &fingerprint).await.map_err(core)?;
            writeln!(out, "revoked certificate {} of {xroad_id}", revoked.fingerprint)?;
        }
        Command::Subsystem(SubsystemCommand::List) => {
            let subsystems = kho.list_subsystems(&operator).await.map_err(core)?;
            none_yet(&subsystems, "subsystem", "kho subsystem create INSTANCE/CLASS/MEMBER/SUBSYSTEM --agency CODE");
            for s in subsystems {
                writeln!(out, "{:<48} {:<20} {}", s.xroad_id.to_string(), Role::join(&s.roles), s.name)?;
            }
        }
        Command::Agency(AgencyCommand::Create { code, name, kind, parent, admin_unit_code }) => {
            let parent_id = match parent {
                Some(key) => Some(find_agency(kho, &key).await?.id),
                None => None,
            };
            let new = NewAgency {
                code: AgencyCode::parse(&code).map_err(core)?,
                name,
                name_en: None,
                kind: AgencyKind::parse(&kind).map_err(core)?,
                parent_id,
                admin_unit_code,
            };
            let a = kho.create_agency(&operator, &ctx, new).await.map_err(core)?;
            writeln!(out, "created agency {} {} ({})", a.code, a.name, a.id)?;
        }
        Command::Agency(AgencyCommand::Import { file, province, parent }) => {
            let reader = std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let units = kho_core::admin_units::read_2025(&file.display().to_string(), std::io::BufReader::new(reader))
                .map_err(core)?;
            let parent = match parent {
                Some(key) => find_agency(kho, &key).await?,
                None => {
                    let provinces: Vec<Agency> = kho
                        .list_agencies()
                        .await
                        .map_err(core)?
                        .into_iter()
                        .filter(|a| a.kind == AgencyKind::Province)
                        .collect();
                    match provinces.len() {
                        1 => provinces.into_iter().next().expect("one element"),
                        0 => bail!("there is no province agency to import under; create one or pass --parent"),
                        _ => bail!("there are several province agencies; choose one with --parent CODE"),
                    }
                }
            };
            let report = kho.import_communes(&operator, &ctx, &units, &province, &parent).await.map_err(core)?;
            writeln!(
                out,
                "imported communes of province {province} under {}: {} created, {} already present",
                parent.name, report.created, report.already_present
            )?;
        }
        Command::Agency(AgencyCommand::List) => {
            let agencies = kho.list_agencies().await.map_err(core)?;
            none_yet(&agencies, "agency", "kho agency create --code 000.00.00.H24 --name … --kind province");
            for a in agencies {
                let depth = a.path.matches('/').count().saturating_sub(2);
                writeln!(out, "{:indent$}{}  {}  [{}]", "", a.code, a.name, a.kind.as_str(), indent = depth * 2)?;
            }
        }
        Command::Resource(command) => resource(kho, &operator, &ctx, command, &mut out).await?,
        Command::Ingest(args) => ingest(kho, &operator, &ctx, args, &mut out).await?,
        Command::Versions { resource, table } => {
            let versions = kho.table_versions(&operator, &ctx, &resource, &table).await.map_err(core)?;
            writeln!(
                out,
                "{:<8} {:<8} {:>12}  {:<20} {:<24} {:<12} source",
                "version", "mode", "rows", "loaded at (UTC)", "loaded by", "sha256"
            )?;
            for v in versions {
                let at = v
                    .timestamp_ms
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default();
                let rows = v.rows.map(|r| r.to_string()).unwrap_or_default();
                let by = v.loaded_by.unwrap_or_default();
                let hash: String = v.source_sha256.unwrap_or_default().chars().take(12).collect();
                writeln!(
                    out,
                    "{:<8} {:<8} {:>12}  {:<20} {:<24} {:<12} {}",
                    v.version,
                    v.mode,
                    rows,
                    at,
                    by,
                    hash,
                    v.source_file.unwrap_or_default()
                )?;
            }
        }
        Command::Diff { resource, version, table } => {
            let d = kho.table_diff(&operator, &ctx, &resource, &table, version).await.map_err(core)?;
            let previous = d.previous.map(|p| format!("version {p}")).unwrap_or_else(|| "an empty table".into());
            writeln!(out, "version {} against {previous}: rows {} -> {}", d.version, d.rows_before, d.rows_after)?;
            match d.rows {
                Some(c) => writeln!(out, "rows added {}, removed {}, changed {}", c.added, c.removed, c.changed)?,
                None => writeln!(out, "rows not compared one by one: no key declared (load with --key)")?,
            }
            for c in &d.columns_added {
                writeln!(out, "column added: {c}")?;
            }
            for c in &d.columns_removed {
                writeln!(out, "column removed: {c}")?;
            }
            for r in &d.columns_retyped {
                writeln!(out, "column retyped: {} {} -> {}", r.name, r.from, r.to)?;
            }
        }
        Command::Query { sql, format } => {
            let sql = if sql == "-" { std::io::read_to_string(std::io::stdin())? } else { sql };
            let result = kho.query(&operator, &ctx, &sql).await.map_err(core)?;
            match format {
                QueryFormat::Table => writeln!(out, "{}", result.to_table().map_err(|e| anyhow!("{e}"))?)?,
                QueryFormat::Csv => out.write_all(&result.to_csv().map_err(|e| anyhow!("{e}"))?)?,
                QueryFormat::Json => {
                    let rows = kho_lake::to_json_rows(&result.batches)?;
                    writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
                }
            }
            let note = if result.truncated { ", cut at the row limit (query_max_rows)" } else { "" };
            eprintln!("{} rows in {} ms{note}", result.rows, result.elapsed.as_millis());
        }
        Command::Search(SearchCommand::Reindex) => {
            let n = kho.reindex_search().await.map_err(core)?;
            writeln!(out, "indexed {n} open datasets")?;
        }
        Command::Audit(AuditCommand::Verify { .. }) => {
            let report = kho.verify_audit(&operator, &ctx).await.map_err(core)?;
            if report.intact {
                writeln!(out, "ok: {}", report.message)?;
            } else {
                writeln!(out, "BROKEN: {}", report.message)?;
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn resource(
    kho: &Kho,
    operator: &Subject,
    ctx: &AuditContext,
    command: ResourceCommand,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match command {
        ResourceCommand::Create {
            from,
            title,
            agency,
            scope,
            slug,
            description,
            keywords,
            theme,
            personal_data,
            importance,
        } => {
            let draft: ResourceDraft = match from {
                Some(file) => {
                    let text =
                        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
                    serde_json::from_str(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?
                }
                None => {
                    let agency = find_agency(kho, agency.as_deref().unwrap_or_default()).await?;
                    serde_json::from_value(serde_json::json!({
                        "title": title,
                        "publisher_agency_id": agency.id,
                        "sharing_scope": scope,
                        "slug": slug,
                        "description": description,
                        "keywords": keywords.split(',').map(str::trim).filter(|k| !k.is_empty()).collect::<Vec<_>>(),
                        "theme": theme,
                        "personal_data": personal_data,
                        "importance": importance,
                    }))
                    .map_err(|e| anyhow!("{e}"))?
                }
            };
            let r = kho.create_resource(operator, ctx, draft).await.map_err(core)?;
            writeln!(out, "created data resource {} ({}) as a draft", r.slug, r.id)?;
        }
        ResourceCommand::List { q, status, agency } => {
            let agency_id = match agency {
                Some(key) => Some(find_agency(kho, &key).await?.id),
                None => None,
            };
            let filter = ResourceFilter {
                agency_id,
                status: status.map(|s| Status::parse("status", &s)).transpose().map_err(core)?,
                text: q,
                limit: 500,
                ..Default::default()
            };
            let page = kho.list_resources(operator, filter).await.map_err(core)?;
            writeln!(out, "{:<40} {:<10} {:<12} title", "slug", "status", "scope")?;
            for r in page.items {
                let scope = kho_catalog::scope_str(r.draft.sharing_scope);
                writeln!(out, "{:<40} {:<10} {:<12} {}", r.slug, r.status.as_str(), scope, r.draft.title)?;
            }
            if page.total > 500 {
                writeln!(out, "… {} in all; narrow the list with --q, --status or --agency", page.total)?;
            }
        }
        ResourceCommand::Show { key } => {
            let r = kho.resource(operator, ctx, &key).await.map_err(core)?;
            writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
        }
        ResourceCommand::Status { key, status } => {
            let status = Status::parse("status", &status).map_err(core)?;
            let r = kho.set_resource_status(operator, ctx, &key, status).await.map_err(core)?;
            writeln!(out, "{} is now {}", r.slug, r.status.as_str())?;
        }
    }
    Ok(())
}

/// What was read: format, encoding and delimiter, sheet, header row.
fn describe_source(report: &kho_lake::IngestReport) -> String {
    let mut parts = vec![report.format.clone()];
    if !report.encoding.is_empty() {
        parts.push(report.encoding.clone());
    }
    if !report.delimiter.is_empty() {
        parts.push(format!("delimiter {:?}", report.delimiter));
    }
    if let Some(sheet) = &report.sheet {
        parts.push(format!("sheet {sheet:?}"));
    }
    match report.header_row {
        Some(row) => parts.push(format!("header on row {row}")),
        None if matches!(report.format.as_str(), "csv" | "xlsx" | "xls") => parts.push("no header row".into()),
        None => {}
    }
    parts.join(", ")
}

async fn ingest(
    kho: &Kho,
    operator: &Subject,
    ctx: &AuditContext,
    args: IngestArgs,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !args.file.is_file() {
        bail!("{} is not a file", args.file.display());
    }
    let source_name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if args.list_sheets {
        for sheet in kho_lake::Lake::sheets(&args.file, &source_name).map_err(|e| anyhow!("{e}"))? {
            writeln!(out, "{sheet}")?;
        }
        return Ok(());
    }
    let mode = kho_lake::LoadMode::parse(&args.mode).map_err(|e| anyhow!("{e}"))?;
    let format = args.format.as_deref().map(kho_lake::source::Format::parse).transpose().map_err(|e| anyhow!("{e}"))?;
    let schema = kho_server::services::parse_schema(args.schema.as_deref().unwrap_or("")).map_err(core)?;
    let on_error = match &args.rejects {
        Some(path) => kho_server::services::OnError::RejectTo(path.clone()),
        None => kho_server::services::OnError::Fail,
    };
    if kho.store.resource(&args.resource).await?.is_none() {
        let agency = match &args.agency {
            Some(key) => find_agency(kho, key).await?,
            None => kho
                .list_agencies()
                .await
                .map_err(core)?
                .into_iter()
                .find(|a| a.kind == AgencyKind::Province)
                .ok_or_else(|| anyhow!("there is no province agency; pass --agency"))?,
        };
        let title = args.file.file_stem().map(|s| s.to_string_lossy().replace(['-', '_'], " ")).unwrap_or_default();
        let draft: ResourceDraft = serde_json::from_value(serde_json::json!({
            "title": if title.chars().count() >= 3 { title } else { args.resource.clone() },
            "slug": args.resource,
            "publisher_agency_id": agency.id,
            "sharing_scope": "private",
        }))?;
        let r = kho.create_resource(operator, ctx, draft).await.map_err(core)?;
        eprintln!("created data resource {} as a private draft of {}", r.slug, agency.name);
    }
    let load = kho_server::services::Load {
        resource: &args.resource,
        table: &args.table,
        path: &args.file,
        source_name,
        mode,
        key: args.key.clone(),
        format,
        sheet: args.sheet.clone(),
        header_row: args.header_row,
        schema,
        on_error,
    };
    let report = kho
        .load_table(operator, ctx, load, |p| {
            let pct = (p.bytes_read * 100).checked_div(p.total_bytes).unwrap_or(0);
            eprint!(
                "\r  {pct:>3}%  {:>8.1} / {:.1} MB  {:>10} rows",
                p.bytes_read as f64 / 1e6,
                p.total_bytes as f64 / 1e6,
                p.rows
            );
        })
        .await
        .map_err(core);
    eprintln!();
    let report = report?;
    let mb = report.bytes as f64 / 1e6;
    writeln!(
        out,
        "loaded {} rows, {} columns into {}/{} as version {} in {:.2} s ({:.0} rows/s, {:.1} MB/s; {})",
        report.rows,
        report.columns.len(),
        args.resource,
        args.table,
        report.version,
        report.seconds,
        report.rows as f64 / report.seconds.max(1e-9),
        mb / report.seconds.max(1e-9),
        describe_source(&report),
    )?;
    if let Some(c) = report.changes {
        writeln!(out, "rows added {}, removed {}, changed {}", c.added, c.removed, c.changed)?;
    }
    if report.rejected_rows > 0 {
        let file = report.rejects_file.as_deref().unwrap_or_default();
        writeln!(out, "rejected {} rows with bad cells; they are in {file}", report.rejected_rows)?;
    }
    for c in &report.columns {
        writeln!(out, "  {:<32} {:<8} {}", c.name, c.kind, c.header)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A log sink the test reads back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_default_log_shows_kho_and_the_request_lines_and_only_the_warnings_of_libraries() {
        let sink = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER))
            .with_writer({
                let sink = sink.clone();
                move || sink.clone()
            })
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "kho::cli", "listening");
            tracing::info!(target: "kho_server::gateway::logbook", "moving a journal segment");
            tracing::info!(target: "tower_http::trace::on_response", "finished processing request");
            tracing::info!(target: "buoyant_kernel::scan", "ScanMetadataCompleted");
            tracing::error!(target: "buoyant_kernel::snapshot::builder", "No files in log segment");
            tracing::info!(target: "tantivy::indexer::index_writer", "Preparing commit");
            tracing::warn!(target: "tantivy::directory", "a library's warning");
            tracing::debug!(target: "kho_store::sql", "a debug line");
        });
        let log = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        for shown in ["listening", "moving a journal segment", "finished processing request", "a library's warning"] {
            assert!(log.contains(shown), "{shown:?} is missing from:\n{log}");
        }
        for hidden in ["ScanMetadataCompleted", "No files in log segment", "Preparing commit", "a debug line"] {
            assert!(!log.contains(hidden), "{hidden:?} should not be in:\n{log}");
        }
    }
}
