//! Kho's server: the application services shared by the HTTP service and the CLI,
//! the HTTP router (native API, web UI shell, operations endpoints) and
//! [`Application`], which binds a listener and serves until told to stop.

mod attempt_limit;
pub mod config;
pub mod demo;
mod demo_datasets;
mod demo_dictionary;
pub mod http;
pub mod metrics;
pub mod services;
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
        let listener = tokio::net::TcpListener::bind(&kho.settings.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", kho.settings.listen))?;
        let state = AppState { kho: Arc::new(kho), metrics: Arc::default() };
        Ok(Self { listener, state, first_run })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn kho(&self) -> Arc<Kho> {
        self.state.kho.clone()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = http::router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app).with_graceful_shutdown(shutdown).await
    }
}
