//! Forwarding: a proxied service's call to the provider's backend, an Agent Node's
//! call to the central node, and the central node's call to a backend an Agent Node
//! exposes. Bodies stream both ways (never buffered, never spooled), connections are
//! pooled, redirects are returned as they are (never followed), hop-by-hop headers
//! and the caller's credentials stay behind.

use super::exchange::{BodyTally, Exchange};
use super::{header, names, Gateway, Mode};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Uri};
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kho_core::{secret, time};
use kho_exchange::registry::TIMEOUT_RANGE_MS;
use kho_exchange::{Fault, FaultKind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

pub type Client = hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Body>;

/// How long an Agent Node waits for the central node, which applies each service's own
/// timeout and answers 504 past it: a little longer than the longest a service may set,
/// so that the central node's answer, not the agent's guess, reaches the caller.
const CENTRAL_TIMEOUT: Duration = Duration::from_millis(*TIMEOUT_RANGE_MS.end() + 5_000);
/// How long the central node's call may take at an exposed local backend: the central
/// node's service for it sets the real limit, up to the longest a service may set.
const LOCAL_TIMEOUT: Duration = Duration::from_millis(*TIMEOUT_RANGE_MS.end());

/// A pooled HTTP/1.1 client for backends, `http://` and `https://` (see [`crate::tls::client_config`]).
pub fn client(tls: rustls::ClientConfig) -> Client {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(5)));
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(connector)
}

/// Where a call goes.
pub struct Target {
    /// The base URL; `tail` (path and query) is appended.
    pub base: String,
    pub tail: String,
    /// Sent as `Authorization: Bearer …`.
    pub token: Option<String>,
    pub timeout: Duration,
    /// Who answers there, as faults name it: the provider's backend, the central node
    /// (for an Agent Node), an agency's local backend.
    pub party: &'static str,
}

// Header names as constants: comparing two of the standard ones compares a tag.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// What a request's headers leave behind besides the hop-by-hop ones.
const REQUEST_DROPS: [HeaderName; 3] = [header::HOST, header::USER_AGENT, header::AUTHORIZATION];
/// What an answer's headers leave behind besides the hop-by-hop ones.
const ANSWER_DROPS: [HeaderName; 1] = [header::SERVER];

/// The headers that travel on: without hop-by-hop ones (and those `Connection`
/// names) and `extra_drop` (`Host`, `User-Agent`, `Server`, the caller's credentials).
fn travelling(headers: &HeaderMap, extra_drop: &[HeaderName]) -> HeaderMap {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if HOP_BY_HOP.contains(name) || extra_drop.contains(name) || named.iter().any(|x| x == name.as_str()) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

fn join(base: &str, tail: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), tail)
}

/// Sends the call to `target` and streams the answer back through the exchange.
pub async fn forward(gw: Arc<Gateway>, mut ex: Exchange, target: Target, request: Request) -> Response {
    let id = ex.record.message_id.clone();
    let (parts, body) = request.into_parts();
    let uri: Uri = match join(&target.base, &target.tail).parse() {
        Ok(u) => u,
        Err(_) => {
            let fault = Fault::new(FaultKind::Internal, "the service's backend URL is not valid", &id);
            return ex.fail(fault, None).await;
        }
    };
    let mut headers = travelling(&parts.headers, &REQUEST_DROPS);
    headers.insert(names::ID, HeaderValue::from_str(&id).expect("ids are ASCII"));
    if !headers.contains_key(header::ACCEPT) {
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    }
    if let Some(token) = target.token.as_deref().and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()) {
        headers.insert(header::AUTHORIZATION, token);
    }
    if ex.service.as_ref().is_some_and(|s| s.service.log_bodies) {
        ex.keep_bodies();
    }
    let body = Body::new(Tallied { inner: body, tally: ex.request_body.clone() });
    let mut outgoing = hyper::Request::new(body);
    *outgoing.method_mut() = parts.method;
    *outgoing.uri_mut() = uri;
    *outgoing.headers_mut() = headers;
    ex.record.request_out_ts = Some(time::now());
    match tokio::time::timeout(target.timeout, gw.client().request(outgoing)).await {
        Err(_) => {
            let message = format!("{} did not answer within {} ms", target.party, target.timeout.as_millis());
            ex.fail(Fault::new(FaultKind::Timeout, message, &id), None).await
        }
        Ok(Err(e)) => {
            let (party, base) = (target.party, target.base.as_str());
            tracing::warn!(error = %e, service = %ex.record.service, %party, %base, "unreachable");
            let message = if e.is_connect() {
                format!("{party} refused or did not take the connection")
            } else {
                format!("{party} closed the connection before answering")
            };
            ex.fail(Fault::new(FaultKind::BadGateway, message, &id), None).await
        }
        Ok(Ok(answer)) => {
            ex.record.response_in_ts = Some(time::now());
            let (mut parts, body) = answer.into_parts();
            parts.headers = travelling(&parts.headers, &ANSWER_DROPS);
            if let Some(kind) = header(&parts.headers, names::ERROR) {
                ex.record.fault_code = Some(kind.to_string());
            }
            ex.respond(Response::from_parts(parts, Body::new(body))).await
        }
    }
}

/// An Agent Node's call: the local system must call as the agent's subsystem; the
/// call goes to the central node with the subsystem's token.
pub async fn to_central(gw: Arc<Gateway>, mut ex: Exchange, request: Request) -> Response {
    let Mode::Agent(agent) = &gw.mode else { unreachable!("called in agent mode") };
    let id = ex.record.message_id.clone();
    let client = header(request.headers(), "x-road-client").unwrap_or("").trim().to_string();
    if client != agent.subsystem.to_string() {
        let message = if client.is_empty() {
            format!("the X-Road-Client header is missing; this Agent Node serves {}", agent.subsystem)
        } else {
            format!("this Agent Node serves {}, not {client}", agent.subsystem)
        };
        let kind = if client.is_empty() { FaultKind::BadRequest } else { FaultKind::AccessDenied };
        return ex.fail(Fault::new(kind, message, &id), None).await;
    }
    let path = request.uri().path();
    ex.record.service =
        path.strip_prefix("/r1/").map(|p| p.splitn(6, '/').take(5).collect::<Vec<_>>().join("/")).unwrap_or_default();
    let tail = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_else(|| path.to_string());
    let target = Target {
        base: agent.central.clone(),
        tail,
        token: agent.token.clone(),
        timeout: CENTRAL_TIMEOUT,
        party: "the central node",
    };
    forward(gw.clone(), ex, target, request).await
}

/// `/backend/{name}/{path}` on an Agent Node: the central node reaching a local
/// backend the agency exposes, with the agent's token.
pub async fn local_backend(State(gw): State<Arc<Gateway>>, request: Request) -> Response {
    let mut ex = Exchange::begin(&gw, &request);
    let id = ex.record.message_id.clone();
    let Mode::Agent(agent) = &gw.mode else {
        return ex.fail(Fault::new(FaultKind::UnknownService, "not an Agent Node", &id), None).await;
    };
    let sent = header(request.headers(), "authorization").and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
    let expected = agent.backend_token.as_deref().or(agent.token.as_deref()).unwrap_or("");
    if expected.is_empty() || !secret::constant_time_eq(sent, expected) {
        let fault = Fault::new(FaultKind::Unauthorized, "only the central node may call the exposed backends", &id);
        return ex.fail(fault, None).await;
    }
    let rest = request.uri().path().strip_prefix("/backend/").unwrap_or("");
    let (name, tail) = rest.split_once('/').map(|(n, t)| (n, format!("/{t}"))).unwrap_or((rest, "/".into()));
    let Some(base) = agent.backends.get(name).cloned() else {
        let fault = Fault::new(FaultKind::UnknownService, format!("this Agent Node exposes no backend {name:?}"), &id);
        return ex.fail(fault, None).await;
    };
    ex.record.service = format!("{}/backend/{name}", agent.subsystem);
    let tail = match request.uri().query() {
        Some(q) => format!("{tail}?{q}"),
        None => tail,
    };
    ex.record.path = tail.clone();
    let target = Target { base, tail, token: None, timeout: LOCAL_TIMEOUT, party: "the agency's local backend" };
    forward(gw.clone(), ex, target, request).await
}

/// A request body that tallies what goes by (size, digest, kept bytes).
struct Tallied {
    inner: Body,
    tally: Arc<Mutex<BodyTally>>,
}

impl HttpBody for Tallied {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.tally.lock().unwrap_or_else(|e| e.into_inner()).add(data);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
