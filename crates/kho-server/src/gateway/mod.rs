//! Cổng chia sẻ — the sharing gateway: `/r1/{INSTANCE}/{CLASS}/{MEMBER}/{SUBSYSTEM}/
//! {SERVICE}/{path}` as the X-Road Message Protocol for REST writes it, with a
//! required purpose. A call is authenticated (the subsystem's bearer token must be the
//! `X-Road-Client`'s), allowed by an approved agreement (endpoint, purpose, dates),
//! limited (rate, burst, daily quota), served (a dataset service by Kho, a proxied
//! service by streaming to the provider's backend) and logged before its response
//! ends ([`logbook`]).
//!
//! The same gateway runs as an Agent Node ([`Mode::Agent`]): the agency's own systems
//! call it with the same protocol; it adds the subsystem's token, forwards to the
//! central Kho and keeps its own signed log, and it can expose the agency's local
//! backends to the central node only.

pub mod archiver;
mod dataset;
mod exchange;
pub mod journal;
pub mod logbook;
mod meta;
mod upstream;

use crate::metrics::Metrics;
use crate::services::Kho;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use exchange::Exchange;
use kho_core::identity::SubsystemId;
use kho_exchange::msglog::NodeKey;
use kho_exchange::{Fault, FaultKind, Quota, RateLimiter, ServiceRequest, ServiceTarget};
use std::collections::HashMap;
use std::sync::Arc;

pub use logbook::{CheckpointPolicy, JournalStats, Logbook};

/// The X-Road headers the gateway reads and writes, named once.
pub(crate) mod names {
    use axum::http::HeaderName;

    pub const CLIENT: HeaderName = HeaderName::from_static("x-road-client");
    pub const SERVICE: HeaderName = HeaderName::from_static("x-road-service");
    pub const ID: HeaderName = HeaderName::from_static("x-road-id");
    pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-road-request-id");
    pub const REQUEST_HASH: HeaderName = HeaderName::from_static("x-road-request-hash");
    pub const USER_ID: HeaderName = HeaderName::from_static("x-road-userid");
    pub const ISSUE: HeaderName = HeaderName::from_static("x-road-issue");
    pub const PURPOSE: HeaderName = HeaderName::from_static("x-road-purpose");
    pub const ERROR: HeaderName = HeaderName::from_static("x-road-error");
}

/// Where a node's message journal lives, under its data directory.
pub const JOURNAL_DIR: &str = "message-journal";

/// Where the gateway runs.
#[derive(Debug, Clone)]
pub enum Mode {
    /// The province's central node: decides and serves calls.
    Central,
    /// An agency's Agent Node (nút đại lý).
    Agent(Box<AgentSettings>),
}

/// What an Agent Node needs to reach the central node.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// The central Kho's base URL, e.g. `https://lgsp.example.gov.vn`.
    pub central: String,
    /// The agency's subsystem the local systems call as.
    pub subsystem: SubsystemId,
    /// That subsystem's API token, sent to the central node (none when the agent
    /// authenticates with its client certificate).
    pub token: Option<String>,
    /// What the central node must send to reach the exposed local backends
    /// [default: the token].
    pub backend_token: Option<String>,
    /// Local backends exposed to the central node, by name.
    pub backends: HashMap<String, String>,
    /// The CA that issued the central node's certificate, when not a system one.
    pub central_ca: Option<std::path::PathBuf>,
    /// The agent's client certificate and key (PEM), for mutual TLS with the central node.
    pub identity: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// The gateway's state.
pub struct Gateway {
    pub kho: Arc<Kho>,
    pub logbook: Arc<Logbook>,
    metrics: Arc<Metrics>,
    /// The upstream TLS settings, and a pooled client per thread built from them: an
    /// exchange's upstream connection is driven on the thread that serves it.
    tls: rustls::ClientConfig,
    clients: thread_local::ThreadLocal<upstream::Client>,
    limiter: RateLimiter,
    quota: Quota,
    /// The daily archive of the message log, when the settings ask for it.
    pub archiver: Option<archiver::Archiver>,
    /// The main multi-threaded runtime, where dataset reads run (see [`on_main`]).
    main: tokio::runtime::Handle,
    pub mode: Mode,
}

impl Gateway {
    /// Starts the message-log writer on Kho's store with the node's key. Called on the
    /// main runtime, which then also runs the dataset reads.
    pub fn start(kho: Arc<Kho>, metrics: Arc<Metrics>, mode: Mode) -> kho_core::Result<Arc<Self>> {
        let tls = match &mode {
            Mode::Agent(a) => {
                let identity = a.identity.as_ref().map(|(c, k)| (c.as_path(), k.as_path()));
                crate::tls::client_config(a.central_ca.as_deref(), identity)
            }
            Mode::Central => crate::tls::client_config(None, None),
        }
        .map_err(|e| kho_core::Error::invalid("tls", e.to_string()))?;
        let logbook = Arc::new(open_logbook(&kho, metrics.journal_stats())?);
        kho.attach_message_log(logbook.clone());
        Ok(Arc::new(Self {
            archiver: archiver::Archiver::start(kho.clone()),
            kho,
            logbook,
            metrics,
            tls,
            clients: thread_local::ThreadLocal::new(),
            limiter: RateLimiter::default(),
            quota: Quota::default(),
            main: tokio::runtime::Handle::current(),
            mode,
        }))
    }

    /// The gateway's directory. A fresh cached one is read in place; a refresh reads
    /// the store (and, for dataset services, the warehouse) and runs on the main
    /// runtime: a store connection opened on a serving thread would belong to that
    /// thread's runtime and break when the serving threads stop, before the log's last
    /// records are written.
    pub async fn directory(&self) -> kho_core::Result<Arc<crate::services::exchange::Directory>> {
        if let Some(d) = self.kho.cached_directory() {
            return Ok(d);
        }
        let kho = self.kho.clone();
        on_main(&self.main, async move { kho.directory().await })
            .await
            .unwrap_or_else(|e| Err(kho_core::Error::internal(format!("the directory refresh stopped: {e}"))))
    }

    /// This thread's pooled upstream client.
    fn client(&self) -> &upstream::Client {
        self.clients.get_or(|| upstream::client(self.tls.clone()))
    }

    /// Stops the archiver (after the archive it is making) and the log writer after
    /// what is queued (call after the server stopped).
    pub async fn close(&self) {
        if let Some(archiver) = &self.archiver {
            archiver.close().await;
        }
        self.logbook.close().await;
    }
}

/// Opens the node's message journal and starts its log writer.
fn open_logbook(kho: &Kho, stats: JournalStats) -> kho_core::Result<Logbook> {
    let policy = CheckpointPolicy {
        every_records: kho.settings.checkpoint_every_records,
        every: std::time::Duration::from_secs(kho.settings.checkpoint_every_secs),
    };
    let key: NodeKey = kho.node_keys()?.signing.clone();
    let journal = kho.settings.data_dir.join(JOURNAL_DIR);
    Logbook::start(kho.store.clone(), key, policy, &journal, stats).map_err(|e| {
        let message = format!("cannot open the message journal {}: {e}", journal.display());
        if e.kind() == std::io::ErrorKind::ResourceBusy {
            kho_core::Error::conflict(message)
        } else {
            kho_core::Error::internal(message)
        }
    })
}

/// For readers outside a running node (the command line): moves what a stopped node
/// left in its journal into the store — a node that crashed leaves its last records
/// there until it starts again. Answers whether the store now holds every record
/// journaled in this data directory: `false` when a running node holds the journal (it
/// moves it itself, every second).
pub async fn move_journal_left(kho: &Kho) -> kho_core::Result<bool> {
    if !kho.settings.data_dir.join(JOURNAL_DIR).exists() {
        return Ok(true);
    }
    match open_logbook(kho, JournalStats::default()) {
        Ok(logbook) => {
            logbook.close().await;
            Ok(true)
        }
        Err(e) if e.code == kho_core::error::ErrorCode::Conflict => Ok(false),
        Err(e) => Err(e),
    }
}

/// An Agent Node's own routes besides the exchanges: the agency's local backends it
/// exposes as proxied services (`/backend/…`). Outside any management stack (no request
/// timeout, no body limit, no per-request trace line).
pub fn agent_routes<S: Clone + Send + Sync + 'static>(gateway: Arc<Gateway>) -> Router<S> {
    Router::new().route("/backend/{*path}", any(upstream::local_backend)).with_state(gateway)
}

/// Whether a request to `path` is a gateway exchange ([`call`]): under `/r1/`, or a
/// metaservice asked at the root. Every server hands these to [`call`] itself, before
/// any router ([`crate::listen::Routes`]): outside the management stack (no request
/// timeout, no body limit, no per-request trace line), each exchange has its own record.
pub fn handles(path: &str) -> bool {
    path.starts_with("/r1/") || path == "/listClients"
}

/// One gateway call, from the request to a response whose end waits for its record.
/// The forwarding and the metaservices are awaited boxed: their state (the upstream
/// call, the response on its way) is then allocated once, instead of making this
/// future — which is moved whole as it is handed on — several KiB larger.
pub async fn call(gw: Arc<Gateway>, request: Request) -> Response {
    let mut ex = Exchange::begin(&gw, &request);
    if matches!(gw.mode, Mode::Agent(_)) {
        return Box::pin(upstream::to_central(gw, ex, request)).await;
    }
    // A clone of the URI shares its bytes: the path stays readable after the request moves on.
    let uri = request.uri().clone();
    let path = uri.path();
    if let Some(meta) = meta::which(path) {
        return Box::pin(meta::serve(gw, ex, meta, request)).await;
    }
    // The record holds the client and the purpose as the headers, trimmed, gave them:
    // the call is parsed from that very text.
    let parsed = ServiceRequest::parse(path, Some(&ex.record.client), Some(&ex.record.purpose), &ex.record.message_id);
    let call = match parsed {
        Ok(call) => call,
        Err(fault) => return ex.fail(fault, None).await,
    };
    ex.record.service = call.service_id.clone();
    ex.record.path.clear();
    ex.record.path.push_str(&call.path);
    if let Some(q) = uri.query() {
        ex.record.path.push('?');
        ex.record.path.push_str(q);
    }
    if has_dot_segment(&call.path) {
        let message = format!("{:?} has a . or .. segment; send the path without them", call.path);
        let fault = Fault::new(FaultKind::BadRequest, message, &ex.record.message_id);
        return ex.fail(fault, None).await;
    }
    let directory = match gw.directory().await {
        Ok(d) => d,
        Err(e) => {
            let fault = internal(&ex, &e.message);
            return ex.fail(fault, None).await;
        }
    };
    let arrived = ex.record.request_in_ts;
    if let Err(fault) = exchange::authenticate(&directory, &request, &call.client, arrived, &ex.record.message_id) {
        return ex.fail(fault, None).await;
    }
    let Some(entry) = directory.services.get(&ex.record.service).cloned() else {
        let fault = Fault::new(
            FaultKind::UnknownService,
            format!("{} offers no service {:?}; see its listMethods", call.provider, call.service),
            &ex.record.message_id,
        );
        return ex.fail(fault, None).await;
    };
    let method = request.method().as_str();
    let today = arrived.date_naive();
    let agreement =
        match exchange::agreement_for(&directory, &call, &entry.service.id, method, today, &ex.record.message_id) {
            Ok(a) => a,
            Err(fault) => return ex.fail(fault, None).await,
        };
    ex.record.agreement_id = Some(agreement.id.clone());
    // A suspended service forwards nothing; its consumers (and only they) read why.
    if let Some(d) = &entry.service.disabled {
        let message = format!("{} is suspended by its provider: {}", ex.record.service, d.notice);
        let fault = Fault::new(FaultKind::ServiceDisabled, message, &ex.record.message_id);
        return ex.fail(fault, None).await;
    }
    if let Err((fault, retry_after)) = exchange::limit(&gw.limiter, &gw.quota, &agreement, &ex.record.message_id) {
        return ex.fail(fault, Some(retry_after)).await;
    }
    ex.service = Some(entry.clone());
    match &entry.service.target {
        ServiceTarget::Dataset { .. } => {
            // A dataset read is a query over the warehouse: it runs on the main runtime,
            // so that it never holds up the other exchanges of the serving thread.
            let (main, id) = (gw.main.clone(), ex.record.message_id.clone());
            let read = async move { dataset::serve(gw, ex, &entry, &agreement, &call, request).await };
            on_main(&main, read).await.unwrap_or_else(|_| {
                let fault = Fault::new(FaultKind::Internal, "the dataset read stopped; see the server log", &id);
                fault_response(&fault, None)
            })
        }
        ServiceTarget::Proxied { backend_url, backend_token, .. } => {
            let target = upstream::Target {
                base: backend_url.clone(),
                tail: ex.record.path.clone(),
                token: backend_token.clone(),
                timeout: std::time::Duration::from_millis(entry.service.timeout_ms),
                party: "the backend",
            };
            Box::pin(upstream::forward(gw, ex, target, request)).await
        }
    }
}

/// Runs `work` on the `main` runtime and waits for it there, leaving the calling
/// thread free for its other tasks. When the caller goes first (its client closed the
/// connection), the work is stopped: an exchange dropped with it is logged as such.
/// (The management routes' hand-off, `http::on_main_runtime`, lets its work finish
/// instead: an ingest stopped between its steps would leave them half done, while a
/// dataset read only reads.)
/// The work is handed over at once, so that the future waiting for it holds only its
/// handle, not the work's own state.
fn on_main<T: Send + 'static>(
    main: &tokio::runtime::Handle,
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> impl std::future::Future<Output = Result<T, tokio::task::JoinError>> {
    struct StopWhenDropped(tokio::task::AbortHandle);
    impl Drop for StopWhenDropped {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let task = main.spawn(work);
    let stop = StopWhenDropped(task.abort_handle());
    async move {
        let _stop = stop;
        task.await
    }
}

pub(crate) fn header(headers: &HeaderMap, name: impl axum::http::header::AsHeaderName) -> Option<&str> {
    headers.get_all(name).iter().next_back().and_then(|v| v.to_str().ok())
}

/// Whether a path has a `.` or `..` segment, also percent-encoded (`%2e%2e`, `..%2f`)
/// or split by a backslash: a backend that resolves it would serve a path the agreement
/// does not cover.
fn has_dot_segment(path: &str) -> bool {
    let bytes = path.as_bytes();
    // The current segment's dots, and whether it has anything else.
    let (mut dots, mut other) = (0, false);
    let mut i = 0;
    loop {
        let escaped =
            |code: &[u8; 2]| bytes.get(i..i + 3).is_some_and(|b| b[0] == b'%' && b[1..].eq_ignore_ascii_case(code));
        let (separator, step) = match bytes.get(i) {
            None => (true, 1),
            Some(b'/' | b'\\') => (true, 1),
            Some(_) if escaped(b"2f") || escaped(b"5c") => (true, 3),
            Some(b'.') => (false, 1),
            Some(_) if escaped(b"2e") => (false, 3),
            Some(_) => {
                other = true;
                (false, 1)
            }
        };
        if separator {
            if !other && (dots == 1 || dots == 2) {
                return true;
            }
            if i >= bytes.len() {
                return false;
            }
            (dots, other) = (0, false);
        } else if !other {
            dots += 1;
        }
        i += step;
    }
}

fn internal(ex: &Exchange, message: &str) -> Fault {
    Fault::new(FaultKind::Internal, message, &ex.record.message_id)
}

/// A fault as an HTTP response (its record is written by the caller).
fn fault_response(fault: &Fault, retry_after: Option<u64>) -> Response {
    let body = serde_json::to_vec(fault).expect("a fault serialises");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = response.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&fault.kind) {
        h.insert(names::ERROR, v);
    }
    if let Some(secs) = retry_after {
        h.insert("retry-after", HeaderValue::from(secs));
    }
    response
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Settings;
    use journal::tests::entry;
    use journal::Journal;

    #[test]
    fn exchanges_are_told_from_the_other_routes_by_their_path() {
        for path in ["/r1/VN/GOV/000.00.00.H24/PORTAL/echo/x", "/r1/", "/listClients"] {
            assert!(handles(path), "{path} is an exchange");
        }
        for path in ["/r1", "/r10/x", "/listClients/x", "/api/v1/exchange/services", "/"] {
            assert!(!handles(path), "{path} is not an exchange");
        }
    }

    /// Signals when it is dropped: moved into a piece of work, it tells the test that
    /// the work was stopped.
    pub(crate) struct DropSignal(Option<tokio::sync::oneshot::Sender<()>>);

    impl Drop for DropSignal {
        fn drop(&mut self) {
            let _ = self.0.take().map(|s| s.send(()));
        }
    }

    pub(crate) fn drop_signal() -> (DropSignal, tokio::sync::oneshot::Receiver<()>) {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        (DropSignal(Some(sender)), receiver)
    }

    #[test]
    fn work_handed_to_the_main_runtime_runs_there_and_leaves_the_serving_thread_free() {
        let main = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("main-runtime")
            .enable_all()
            .build()
            .unwrap();
        let serving = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let handle = main.handle().clone();
        serving.block_on(async move {
            let ran_on = on_main(&handle, async { std::thread::current().name().map(String::from) }).await;
            assert_eq!(ran_on.unwrap().as_deref(), Some("main-runtime"));

            // A long read (a busy thread for 600 ms) while another exchange of this
            // thread waits 20 ms: that one is answered long before the read ends.
            let started = std::time::Instant::now();
            let read = on_main(&handle, async { std::thread::sleep(std::time::Duration::from_millis(600)) });
            let other = async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                started.elapsed()
            };
            let (read, other) = tokio::join!(read, other);
            read.unwrap();
            assert!(other < std::time::Duration::from_millis(400), "the other exchange waited {other:?}");
        });
    }

    #[test]
    fn work_on_the_main_runtime_stops_when_its_caller_goes() {
        let main = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let serving = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (handle, (guard, was_dropped)) = (main.handle().clone(), drop_signal());
        serving.block_on(async move {
            let work = on_main(&handle, async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            let gone = tokio::time::timeout(std::time::Duration::from_millis(50), work).await;
            assert!(gone.is_err(), "the work never ends by itself");
            tokio::time::timeout(std::time::Duration::from_secs(5), was_dropped)
                .await
                .expect("the work is stopped once its caller is gone")
                .unwrap();
        });
    }

    #[test]
    fn dot_segments_are_found_however_they_are_written() {
        for climb in
            ["/a/../b", "/..", "/.", "/a/.", "/%2e%2E/x", "/a/..%2Fb", "/a%2f..", "/a\\..\\b", "/a%5C..", "..", "./x"]
        {
            assert!(has_dot_segment(climb), "{climb}");
        }
        for plain in ["/", "", "/a/b", "/.../x", "/a..b", "/.hidden", "/a/%2e%2e%2e", "/v1.2/x", "/%2ex", "/a//b"] {
            assert!(!has_dot_segment(plain), "{plain}");
        }
    }

    #[tokio::test]
    async fn what_a_stopped_node_left_in_its_journal_is_moved_before_the_log_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let kho = Kho::open(Settings::for_data_dir(dir.path())).await.unwrap();
        assert!(move_journal_left(&kho).await.unwrap(), "no journal yet: nothing to move");
        {
            let (mut running, _) = Journal::open(&dir.path().join(JOURNAL_DIR), false).unwrap();
            running.append(&[entry("left-1"), entry("left-2")]).unwrap();
            assert!(!move_journal_left(&kho).await.unwrap(), "a running node's journal is left to it");
            assert_eq!(kho.store.count_messages().await.unwrap(), 0);
        }
        assert!(move_journal_left(&kho).await.unwrap());
        assert_eq!(kho.store.count_messages().await.unwrap(), 2);
        let report = kho.verify_messages().await.unwrap();
        assert!(report.intact && report.records == 2, "{}", report.message);
        assert_eq!(kho.store.checkpoints().await.unwrap().last().map(|c| c.seq), Some(2), "signed on close");
    }
}
