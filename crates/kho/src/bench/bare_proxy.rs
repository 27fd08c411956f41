//! The floor of a Rust proxy on this machine, for `kho bench gateway`: the HTTP stack
//! Kho's gateway is built on, as `kho serve` runs it — one thread a core, each with its
//! own single-threaded runtime, hyper's HTTP/1.1 server and a hyper-util pooled client
//! of its own — forwarding the gateway's path to the backend with nothing else: no
//! authentication, no agreement, no limiter, no log. What Kho's gateway costs beyond it
//! is its own work. (Its threads accept from the same socket themselves, as `kho serve`'s
//! did before it handed connections out by count: at its cost a request one thread can
//! carry the whole load.)

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::Arc;

/// The name of the proxy's threads (its CPU time is read by it).
pub const THREAD_NAME: &str = "bench-hyper";
// Linux keeps 15 bytes of a thread's name; a longer one would never be found.
const _: () = assert!(THREAD_NAME.len() <= 15);

type Answer = hyper::Response<BoxBody<Bytes, hyper::Error>>;

/// A bare proxy on its own threads, stopped when dropped.
pub struct BareProxy {
    pub address: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl BareProxy {
    /// Listens on a free loopback port and forwards `{prefix}{rest}` to `{backend}{rest}`.
    pub fn start(backend: SocketAddr, prefix: &str) -> std::io::Result<Self> {
        let prefix: Arc<str> = prefix.into();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let mut threads = Vec::new();
        for _ in 0..std::thread::available_parallelism().map_or(1, |n| n.get()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (listener, stopping, prefix) = (listener.try_clone()?, stopping.clone(), prefix.clone());
            let serve = move || runtime.block_on(serve(listener, stopping, backend, prefix));
            threads.push(std::thread::Builder::new().name(THREAD_NAME.into()).spawn(serve)?);
        }
        Ok(Self { address, stop, threads })
    }
}

impl Drop for BareProxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// One thread's accept loop, with the thread's own pooled client.
async fn serve(
    listener: std::net::TcpListener,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    backend: SocketAddr,
    prefix: Arc<str>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build(connector);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = stopping.wait_for(|stop| *stop) => return,
        };
        let _ = stream.set_nodelay(true);
        let (client, prefix) = (client.clone(), prefix.clone());
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| forward(client.clone(), backend, prefix.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn forward(
    client: Client<HttpConnector, Incoming>,
    backend: SocketAddr,
    prefix: Arc<str>,
    request: hyper::Request<Incoming>,
) -> Result<Answer, hyper::Error> {
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let rest = path.strip_prefix(&*prefix).unwrap_or(path);
    let Ok(uri) = format!("http://{backend}/{}", rest.trim_start_matches('/')).parse() else {
        return Ok(status(400));
    };
    parts.uri = uri;
    parts.headers.remove(hyper::header::HOST);
    match client.request(hyper::Request::from_parts(parts, body)).await {
        Ok(answer) => Ok(answer.map(BodyExt::boxed)),
        Err(_) => Ok(status(502)),
    }
}

fn status(code: u16) -> Answer {
    let mut answer = hyper::Response::new(Full::new(Bytes::new()).map_err(|never| match never {}).boxed());
    *answer.status_mut() = hyper::StatusCode::from_u16(code).expect("a valid status");
    answer
}
