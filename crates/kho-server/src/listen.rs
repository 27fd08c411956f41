//! Kết nối — how Kho takes HTTP connections, for `kho serve` and `kho agent`, plain or
//! TLS: a cap on the connections open at once, shared by every accepting thread, and a
//! time limit on a connection that sends no complete request head.
//!
//! - **The cap** ([`Gate`]). A connection is served only when one of the
//!   [`ConnectionLimits::max`] places is free; otherwise the thread that accepted it
//!   waits for one before it accepts more, and new connections wait in the kernel's
//!   listen queue, as with nginx's `worker_connections`. The default follows the process's open-files limit (raised
//!   to its hard limit at start): each connection may hold a second one to a backend.
//! - **The idle limit** ([`ConnectionLimits::idle`]). A connection that sends no complete
//!   request head for that long — a new one, a kept-alive one between requests, or one
//!   that sends its head a byte at a time — is closed; a TLS handshake gets as long. So
//!   idle or stalled clients cannot hold the places and the open files forever.
//!
//! What happens shows on `/metrics`: `kho_http_connections_open`, `…_limit`,
//! `…_waited_total` (connections that waited for a free place) and `…_timed_out_total`.
//!
//! A connection's requests go to [`Routes`]: a gateway exchange straight to the
//! gateway's handler, anything else through the router.

use crate::config::Settings;
use crate::gateway::{self, Gateway};
use crate::tls::ClientCertificate;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use axum::Router;
use futures::future::Either;
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::Service;

/// Open files kept for the store, the journal, logs and tables besides the connections.
const RESERVED_FILES: u64 = 256;
/// Bounds of the default cap.
const DEFAULT_MAX: (u64, u64) = (64, 16_384);
/// How long an accept that fails for want of resources (open files, memory) waits
/// before it tries again.
const ACCEPT_RETRY: Duration = Duration::from_secs(1);
/// At most one warning a minute that every place is taken.
const FULL_WARNING_EVERY_SECS: i64 = 60;

/// Where a connection's requests go. A gateway exchange (`/r1/…`, the metaservices at
/// the root: [`gateway::handles`]) is handed to the gateway's handler directly: the
/// busiest path skips the router's matching, its path parameters and the matched route
/// it records, none of which the gateway reads. Everything else goes to the router.
#[derive(Clone)]
pub struct Routes {
    pub router: Router,
    pub gateway: Arc<Gateway>,
}

impl Routes {
    fn call(
        &self,
        request: Request,
    ) -> Either<
        impl std::future::Future<Output = Result<Response, Infallible>> + Send,
        axum::routing::future::RouteFuture<Infallible>,
    > {
        if gateway::handles(request.uri().path()) {
            let gw = self.gateway.clone();
            Either::Left(async move { Ok(gateway::call(gw, request).await) })
        } else {
            Either::Right(self.router.clone().call(request))
        }
    }
}

/// The limits connections are taken under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max: usize,
    /// How long a connection may go without a complete request head.
    pub idle: Duration,
}

impl ConnectionLimits {
    /// From the settings; without `max_connections`, from the open-files limit.
    pub fn from_settings(settings: &Settings) -> Self {
        let files = open_files_limit();
        let max = match settings.max_connections {
            Some(max) => {
                let needed = (max as u64).saturating_mul(2).saturating_add(RESERVED_FILES);
                if files.is_some_and(|f| f < needed) {
                    tracing::warn!(
                        max_connections = max,
                        open_files_limit = files,
                        "max_connections {max} may need about {needed} open files, more than the process may open; \
                         raise its limit (systemd: LimitNOFILE=) or lower max_connections"
                    );
                }
                max.max(1)
            }
            None => default_max(files),
        };
        Self { max, idle: Duration::from_secs(settings.idle_timeout_secs.max(1)) }
    }
}

/// Half the open files left after the reserved ones (a connection may hold one to a
/// backend), within [`DEFAULT_MAX`]; the upper bound when the limit is unknown.
fn default_max(open_files: Option<u64>) -> usize {
    let (low, high) = DEFAULT_MAX;
    open_files.map_or(high, |f| (f.saturating_sub(RESERVED_FILES) / 2).clamp(low, high)) as usize
}

/// The process's open-files limit, raised first to its hard limit (as servers commonly
/// do: the soft limit is often 1,024); `None` where it cannot be read.
fn open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit and setrlimit only read and write the struct they are given.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit.rlim_cur = limit.rlim_max;
                }
            }
        }
        // RLIM_INFINITY is u64::MAX: no limit reads as the largest.
        Some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

/// What `/metrics` shows of the connections.
#[derive(Clone, Default)]
pub struct ConnectionStats {
    pub open: Gauge,
    pub limit: Gauge,
    /// Connections that waited for a place because every one was taken.
    pub waited: Counter,
    /// Connections closed for sending no complete request head (or TLS handshake) in time.
    pub timed_out: Counter,
}

/// The places for open connections, shared by the threads that accept them.
#[derive(Clone)]
pub struct Gate {
    places: Arc<Semaphore>,
    limits: ConnectionLimits,
    stats: ConnectionStats,
    /// When the last "every place is taken" warning was written (Unix seconds).
    warned_at: Arc<AtomicI64>,
}

/// An accepted connection's place; freed when dropped.
pub struct Place {
    _permit: OwnedSemaphorePermit,
    open: Gauge,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.open.dec();
    }
}

impl Gate {
    pub fn new(limits: ConnectionLimits, stats: ConnectionStats) -> Self {
        stats.limit.set(limits.max as i64);
        Self { places: Arc::new(Semaphore::new(limits.max)), limits, stats, warned_at: Arc::default() }
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Accepts a connection, then waits for a free place for it. Failed accepts are
    /// retried: at once when the client went away, after [`ACCEPT_RETRY`] when the
    /// process is out of open files or memory (retrying at once would spin). While a
    /// thread waits for a place it accepts nothing more, so at most one connection a
    /// thread waits accepted; the others wait in the kernel's listen queue.
    pub async fn accept(&self, listener: &TcpListener) -> (TcpStream, SocketAddr, Place) {
        let (tcp, peer) = loop {
            match listener.accept().await {
                Ok(accepted) => break accepted,
                Err(e) if client_went_away(&e) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "cannot accept a connection; trying again in a second");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            }
        };
        let permit = match self.places.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                self.stats.waited.inc();
                self.warn_full();
                self.places.clone().acquire_owned().await.expect("the places are never closed")
            }
        };
        // An answer's held-back last chunk must not wait for the client's delayed ACK
        // (about 40 ms on Linux).
        let _ = tcp.set_nodelay(true);
        self.stats.open.inc();
        (tcp, peer, Place { _permit: permit, open: self.stats.open.clone() })
    }

    fn warn_full(&self) {
        let now = kho_core::time::now().timestamp();
        let last = self.warned_at.load(Ordering::Relaxed);
        if now - last >= FULL_WARNING_EVERY_SECS
            && self.warned_at.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            tracing::warn!(
                max_connections = self.limits.max,
                "all {} connections are in use; new ones wait to be accepted (raise max_connections if this lasts)",
                self.limits.max
            );
        }
    }

    /// Serves HTTP/1.1 on one accepted connection until the client closes it, it stays
    /// without a request head for the idle limit, or `stopping` turns true (then the
    /// request under way is finished and the connection closed). Each request carries
    /// the peer's address and, over TLS, the client certificate's fingerprint.
    pub async fn serve<I>(
        &self,
        io: I,
        peer: SocketAddr,
        certificate: Option<ClientCertificate>,
        routes: Routes,
        mut stopping: watch::Receiver<bool>,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            if let Some(c) = &certificate {
                request.extensions_mut().insert(c.clone());
            }
            routes.call(request)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(self.limits.idle);
        let connection = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        let ended = tokio::select! {
            ended = connection.as_mut() => ended,
            _ = stopped(&mut stopping) => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if ended.is_err_and(|e| e.is_timeout()) {
            self.stats.timed_out.inc();
        }
    }

    /// Counts a TLS handshake that did not end within the idle limit.
    pub fn handshake_timed_out(&self) {
        self.stats.timed_out.inc();
    }
}

/// Resolves once `stopping` turns true (or its sender is gone).
pub async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Accept errors that concern one client only.
fn client_went_away(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted)
}

/// A connection accepted by [`dispatch`] for a serving thread: its socket (taken off
/// the accepting runtime, for the serving thread's own), its peer, its place under the
/// cap and its count in the thread's load.
pub struct Arrival {
    tcp: std::net::TcpStream,
    peer: SocketAddr,
    place: Place,
    share: Share,
}

/// One connection counted in a serving thread's load, until it is dropped.
struct Share {
    loads: Arc<[AtomicUsize]>,
    thread: usize,
}

impl Drop for Share {
    fn drop(&mut self) {
        self.loads[self.thread].fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts on `listener` with `gate` until `stopping` turns true, handing each connection
/// to the serving thread (`inboxes`, one a thread) that holds the fewest open ones. The
/// threads then carry equal shares of the load: when they accepted from the listening
/// socket themselves, whichever woke first took a burst of new connections (all 32 of a
/// load generator's, at times), and one thread then served them all while the other
/// idled.
pub async fn dispatch(
    listener: TcpListener,
    gate: &Gate,
    inboxes: Vec<tokio::sync::mpsc::UnboundedSender<Arrival>>,
    mut stopping: watch::Receiver<bool>,
) {
    let loads: Arc<[AtomicUsize]> = inboxes.iter().map(|_| AtomicUsize::new(0)).collect();
    loop {
        let (tcp, peer, place) = tokio::select! {
            accepted = gate.accept(&listener) => accepted,
            _ = stopped(&mut stopping) => break,
        };
        let tcp = match tcp.into_std() {
            Ok(tcp) => tcp,
            Err(e) => {
                tracing::warn!(error = %e, %peer, "cannot hand an accepted connection to a serving thread");
                continue;
            }
        };
        let thread = (0..loads.len()).min_by_key(|&t| loads[t].load(Ordering::Relaxed)).unwrap_or(0);
        loads[thread].fetch_add(1, Ordering::Relaxed);
        let share = Share { loads: loads.clone(), thread };
        if inboxes[thread].send(Arrival { tcp, peer, place, share }).is_err() {
            tracing::error!(thread, "a serving thread has stopped; its connection is closed");
        }
    }
}

/// Serves the connections [`dispatch`] hands this thread, on its runtime, until the
/// dispatcher stops; then waits for them to finish (they see `stopping` themselves).
pub async fn serve_arrivals(
    mut arrivals: tokio::sync::mpsc::UnboundedReceiver<Arrival>,
    gate: Gate,
    routes: Routes,
    stopping: watch::Receiver<bool>,
) {
    let mut connections = Connections::default();
    while let Some(Arrival { tcp, peer, place, share }) = arrivals.recv().await {
        let tcp = match TcpStream::from_std(tcp) {
            Ok(tcp) => tcp,
            Err(e) => {
                tracing::warn!(error = %e, %peer, "a serving thread cannot take a connection");
                continue;
            }
        };
        let (gate, routes, stopping) = (gate.clone(), routes.clone(), stopping.clone());
        connections.start((place, share), async move { gate.serve(tcp, peer, None, routes, stopping).await });
    }
    connections.finish().await;
}

/// The connections an accepting loop has started, each holding what it was given (its
/// place under the cap) until it ends.
#[derive(Default)]
struct Connections(tokio::task::JoinSet<()>);

impl Connections {
    fn start<H: Send + 'static>(&mut self, held: H, served: impl std::future::Future<Output = ()> + Send + 'static) {
        self.0.spawn(async move {
            let _held = held;
            served.await;
        });
        // Finished connections leave the set as new ones come.
        while self.0.try_join_next().is_some() {}
    }

    /// Waits for every connection started to end.
    async fn finish(mut self) {
        while self.0.join_next().await.is_some() {}
    }
}

/// The accept loop of plain and TLS serving: takes connections through `gate` until
/// `stopping` turns true, runs `serve_one` for each (holding its place until it ends),
/// then waits for the connections under way to finish.
pub async fn serve_connections<F, Served>(
    listener: TcpListener,
    gate: &Gate,
    mut stopping: watch::Receiver<bool>,
    serve_one: F,
) -> std::io::Result<()>
where
    F: Fn(TcpStream, SocketAddr) -> Served,
    Served: std::future::Future<Output = ()> + Send + 'static,
{
    let mut connections = Connections::default();
    loop {
        let (tcp, peer, place) = tokio::select! {
            accepted = gate.accept(&listener) => accepted,
            _ = stopped(&mut stopping) => break,
        };
        connections.start(place, serve_one(tcp, peer));
    }
    drop(listener);
    connections.finish().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_connection_goes_to_the_serving_thread_holding_the_fewest() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let gate = Gate::new(ConnectionLimits { max: 16, idle: Duration::from_secs(5) }, ConnectionStats::default());
        let (stop, stopping) = watch::channel(false);
        let (inboxes, mut arrivals): (Vec<_>, Vec<_>) = (0..2).map(|_| tokio::sync::mpsc::unbounded_channel()).unzip();
        let dispatcher = tokio::spawn(async move { dispatch(listener, &gate, inboxes, stopping).await });
        let (mut clients, mut held) = (Vec::new(), [Vec::new(), Vec::new()]);
        // Four connections in a row: two a thread, in turn.
        for expected in [0, 1, 0, 1] {
            clients.push(TcpStream::connect(address).await.unwrap());
            let [first, second] = &mut arrivals[..] else { unreachable!("two inboxes") };
            let (thread, arrival) = tokio::select! {
                a = first.recv() => (0, a),
                a = second.recv() => (1, a),
            };
            assert_eq!(thread, expected, "connection {} went to thread {thread}", clients.len());
            held[thread].push(arrival.unwrap());
        }
        // Thread 1's two connections end: the next two go to it, none to thread 0.
        held[1].clear();
        for _ in 0..2 {
            clients.push(TcpStream::connect(address).await.unwrap());
            held[1].push(arrivals[1].recv().await.unwrap());
        }
        assert!(arrivals[0].try_recv().is_err(), "thread 0 holds two already");
        let _ = stop.send(true);
        dispatcher.await.unwrap();
        assert!(arrivals[0].recv().await.is_none(), "the inboxes close when the dispatcher stops");
    }

    #[test]
    fn the_default_cap_follows_the_open_files_limit() {
        assert_eq!(default_max(Some(1024)), 384);
        assert_eq!(default_max(Some(65_536)), 16_384);
        assert_eq!(default_max(Some(200)), 64, "never below the lower bound");
        assert_eq!(default_max(None), 16_384);
    }

    #[test]
    fn configured_limits_are_kept_and_the_open_files_limit_is_raised() {
        let mut settings = Settings::for_data_dir("/tmp/unused");
        settings.max_connections = Some(10);
        settings.idle_timeout_secs = 5;
        let limits = ConnectionLimits::from_settings(&settings);
        assert_eq!(limits, ConnectionLimits { max: 10, idle: Duration::from_secs(5) });
        #[cfg(unix)]
        {
            let mut now = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            // SAFETY: getrlimit writes the struct it is given.
            assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut now) }, 0);
            assert_eq!(now.rlim_cur, now.rlim_max, "the soft limit is raised to the hard one");
        }
    }
}
