//! Kho's server: the application services shared by the HTTP service and the CLI,
//! the HTTP router (native API, web UI shell, operations endpoints) and
//! [`Application`], which binds a listener and serves until told to stop.

mod attempt_limit;
pub mod config;
pub mod demo;
mod demo_datasets;
mod demo_dictionary;
pub mod demo_exchange;
pub mod gateway;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod services;
pub mod tls;
pub mod ui;

use crate::http::AppState;
use crate::services::Kho;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{LogFormat, Settings};
pub use services::FirstRun;

/// A bound, ready-to-serve Kho.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    pub first_run: Option<FirstRun>,
}

impl Application {
    /// Opens the store, initialises an empty one (first admin, or the demo province)
    /// and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings, admin_password: Option<String>) -> anyhow::Result<Self> {
        let kho = Kho::open(settings).await?;
        let first_run = kho.initialise(admin_password).await.map_err(|e| anyhow::anyhow!("{}", e.message))?;
        // Danh mục dùng chung: the administrative units, on a store without code lists.
        kho.seed_code_lists().await.map_err(|e| anyhow::anyhow!("cannot create the code lists: {}", e.message))?;
        let listener = bind(&kho.settings).await?;
        let kho = Arc::new(kho);
        let metrics: Arc<metrics::Metrics> = Arc::default();
        let gateway = gateway::Gateway::start(kho.clone(), metrics.clone(), gateway::Mode::Central)
            .map_err(|e| anyhow::anyhow!("cannot start the sharing gateway: {}", e.message))?;
        let state = AppState { kho, metrics, gateway };
        Ok(Self { listener, state, first_run })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn kho(&self) -> Arc<Kho> {
        self.state.kho.clone()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and writes
    /// the message log's last records and checkpoint.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let gateway = self.state.gateway.clone();
        let tls = self.state.kho.settings.tls.clone();
        let gate = listen::Gate::new(
            listen::ConnectionLimits::from_settings(&self.state.kho.settings),
            self.state.metrics.connection_stats(),
        );
        let routes = listen::Routes { router: http::router(self.state), gateway: gateway.clone() };
        let stopping = stop_on(shutdown);
        let served = match tls {
            Some(files) => {
                let config = tls::server_config(&files).map_err(std::io::Error::other)?;
                tls::serve(self.listener, config, gate, routes, stopping).await
            }
            None => serve_per_core(self.listener, gate, routes, stopping).await,
        };
        gateway.close().await;
        served
    }
}

/// Binds the configured address (port 0 picks a free port).
async fn bind(settings: &Settings) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(&settings.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.listen))
}

/// The name of `kho serve`'s serving threads, before their number.
pub const SERVING_THREAD_PREFIX: &str = "kho-http-";

/// A stop signal that turns true once `shutdown` completes.
fn stop_on(shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> tokio::sync::watch::Receiver<bool> {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    stopping
}

/// Serves `routes` on one thread a core, each with a single-threaded runtime. The
/// connections are accepted here, through the shared `gate`, and each is handed to the
/// thread holding the fewest ([`listen::dispatch`]); a connection, and every gateway
/// exchange on it (with its upstream connection), then stays on that thread, with no
/// hand-off between threads. (The management routes hand their requests to the main
/// runtime themselves: see [`http::router`].) Once `stopping` turns true no connection
/// is accepted, each thread finishes the requests it has, and this returns when all have.
async fn serve_per_core(
    listener: tokio::net::TcpListener,
    gate: listen::Gate,
    routes: listen::Routes,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut finished = Vec::new();
    let mut inboxes = Vec::new();
    for n in 0..std::thread::available_parallelism().map_or(1, |n| n.get()) {
        let (inbox, arrivals) = tokio::sync::mpsc::unbounded_channel();
        inboxes.push(inbox);
        let (gate, routes, stopping) = (gate.clone(), routes.clone(), stopping.clone());
        let (done, served) = tokio::sync::oneshot::channel();
        std::thread::Builder::new().name(format!("{SERVING_THREAD_PREFIX}{n}")).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let result =
                runtime.map(|runtime| runtime.block_on(listen::serve_arrivals(arrivals, gate, routes, stopping)));
            let _ = done.send(result);
        })?;
        finished.push(served);
    }
    // Returns once `stopping` turns true; the inboxes close with it.
    listen::dispatch(listener, &gate, inboxes, stopping).await;
    let mut result = Ok(());
    for served in finished {
        match served.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(_) => result = Err(std::io::Error::other("a serving thread stopped without a word")),
        }
    }
    result
}

/// An Agent Node (nút đại lý): the gateway alone, in agent mode, with its own data
/// directory and signed message log; `/healthz` and `/metrics` beside it.
pub struct AgentNode {
    listener: tokio::net::TcpListener,
    gateway: Arc<gateway::Gateway>,
    metrics: Arc<metrics::Metrics>,
}

impl AgentNode {
    pub async fn build(settings: Settings, agent: gateway::AgentSettings) -> anyhow::Result<Self> {
        let kho = Arc::new(Kho::open(settings).await?);
        let metrics: Arc<metrics::Metrics> = Arc::default();
        let listener = bind(&kho.settings).await?;
        let gateway = gateway::Gateway::start(kho, metrics.clone(), gateway::Mode::Agent(Box::new(agent)))
            .map_err(|e| anyhow::anyhow!("cannot start the Agent Node: {}", e.message))?;
        Ok(Self { listener, gateway, metrics })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The node's services (its store and message log).
    pub fn kho(&self) -> Arc<Kho> {
        self.gateway.kho.clone()
    }

    /// Serves until `shutdown`, then writes the log's last records and checkpoint.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let metrics = self.metrics.clone();
        let app = gateway::agent_routes::<()>(self.gateway.clone())
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .route("/metrics", axum::routing::get(move || async move { metrics.render() }));
        let gate = listen::Gate::new(
            listen::ConnectionLimits::from_settings(&self.gateway.kho.settings),
            self.metrics.connection_stats(),
        );
        let routes = listen::Routes { router: app, gateway: self.gateway.clone() };
        let served = serve_per_core(self.listener, gate, routes, stop_on(shutdown)).await;
        self.gateway.close().await;
        served
    }
}
