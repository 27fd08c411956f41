//! The floor of a Rust proxy on this machine, for `kho bench gateway`: hyper's HTTP/1.1
//! server and hyper-util's pooled client — the HTTP stack Kho's gateway is built on —
//! forwarding the gateway's path to the backend with nothing else: no authentication,
//! no agreement, no limiter, no log. What Kho's gateway costs beyond it is its own work.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::sync::Arc;

/// The name of the proxy's runtime threads (its CPU time is read by it).
pub const THREAD_NAME: &str = "bench-hyper";
// Linux keeps 15 bytes of a thread's name; a longer one would never be found.
const _: () = assert!(THREAD_NAME.len() <= 15);

type Answer = hyper::Response<BoxBody<Bytes, hyper::Error>>;

/// A bare proxy on its own runtime, stopped when dropped.
pub struct BareProxy {
    pub address: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BareProxy {
    /// Listens on a free loopback port and forwards `{prefix}{rest}` to `{backend}{rest}`.
    pub fn start(backend: SocketAddr, prefix: &str) -> std::io::Result<Self> {
        let prefix: Arc<str> = prefix.into();
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let address = listener.local_addr()?;
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client: Client<HttpConnector, Incoming> =
            Client::builder(TokioExecutor::new()).pool_max_idle_per_host(256).build(connector);
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (client, prefix) = (client.clone(), prefix.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        forward(client.clone(), backend, prefix.clone(), request)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { address, runtime: Some(runtime) })
    }
}

impl Drop for BareProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
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
