//! One exchange: its record from the moment the request arrives, the checks that
//! decide it (token, agreement, limits), the X-Road headers of its response, and the
//! [`Finish`] that completes and logs the record when the response body ends.

use super::logbook::{Finish, LoggedBody};
use super::{fault_response, header, names, Gateway};
use crate::services::exchange::{Directory, ServiceEntry};
use crate::tls::ClientCertificate;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use base64::Engine;
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body::Body as _;
use http_body_util::BodyExt;
use kho_core::identity::SubsystemId;
use kho_core::{secret, time};
use kho_exchange::health::NO_SERVICE;
use kho_exchange::msglog::MessageRecord;
use kho_exchange::{Agreement, AgreementStatus, Fault, FaultKind, Quota, RateLimiter, ServiceRequest};
use sha2::{Digest, Sha512};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Answers of known length up to this size go out in one piece after their record.
const WHOLE_LIMIT: u64 = 64 * 1024;
/// Bytes of each body kept for a service that logs bodies.
const BODY_LOG_LIMIT: usize = 64 * 1024;

/// SHA-512 of an empty body, the body of nearly every call (a `GET`): computed once.
static EMPTY_BODY_DIGEST: std::sync::LazyLock<[u8; 64]> = std::sync::LazyLock::new(|| Sha512::digest([]).into());

/// The request body as it went by: size, SHA-512, and the first bytes when kept.
#[derive(Default)]
pub struct BodyTally {
    pub size: i64,
    pub digest: Sha512,
    pub kept: Option<Vec<u8>>,
}

impl BodyTally {
    pub fn add(&mut self, data: &[u8]) {
        self.size += data.len() as i64;
        self.digest.update(data);
        if let Some(k) = &mut self.kept {
            let room = BODY_LOG_LIMIT.saturating_sub(k.len());
            k.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
}

pub struct Exchange {
    pub record: MessageRecord,
    pub started: Instant,
    /// SHA-512 of the request's headers, for `X-Road-Request-Hash`.
    headers_digest: [u8; 64],
    pub request_body: Arc<Mutex<BodyTally>>,
    /// The response's first bytes, when the service logs bodies.
    response_kept: Option<Vec<u8>>,
    pub service: Option<Arc<ServiceEntry>>,
    gateway: Option<Arc<Gateway>>,
}

impl Exchange {
    /// The record of a request that just arrived.
    pub fn begin(gw: &Arc<Gateway>, request: &Request) -> Self {
        let headers = request.headers();
        let message_id = header(headers, names::ID)
            .map(str::trim)
            .filter(|id| !id.is_empty() && id.len() <= 200)
            .map(String::from)
            // Time-ordered when Kho makes it: the log's index on X-Road-Id then grows at
            // its end instead of dirtying a random page for every record.
            .unwrap_or_else(|| uuid_text(uuid::Uuid::now_v7()));
        let record = MessageRecord {
            message_id,
            request_id: uuid_text(uuid::Uuid::now_v7()),
            client: header(headers, names::CLIENT).unwrap_or("").trim().to_string(),
            method: request.method().as_str().to_owned(),
            path: request.uri().path_and_query().map_or_else(String::new, |p| p.as_str().to_owned()),
            purpose: header(headers, names::PURPOSE).unwrap_or("").trim().to_string(),
            user_id: header(headers, names::USER_ID).map(String::from),
            issue: header(headers, names::ISSUE).map(String::from),
            ..empty_record()
        };
        Self {
            record,
            started: Instant::now(),
            headers_digest: headers_digest(headers),
            request_body: Default::default(),
            response_kept: None,
            service: None,
            gateway: Some(gw.clone()),
        }
    }

    /// Keeps bodies from here on (the service logs them).
    pub fn keep_bodies(&mut self) {
        self.request_body.lock().unwrap_or_else(|e| e.into_inner()).kept = Some(Vec::new());
        self.response_kept = Some(Vec::new());
    }

    /// Answers with a gateway fault.
    pub async fn fail(mut self, fault: Fault, retry_after: Option<u64>) -> Response {
        self.record.fault_code = Some(fault.kind.clone());
        self.record.fault_string = Some(fault.message.clone());
        let response = fault_response(&fault, retry_after);
        self.respond(response).await
    }

    /// Sets the X-Road headers and sends the answer once its record is stored: a body
    /// of known length up to [`WHOLE_LIMIT`] is collected and sent in one piece after
    /// the record is committed; a longer one streams through a [`LoggedBody`], which
    /// holds back its last chunk until then.
    pub async fn respond(mut self, response: Response) -> Response {
        let (mut parts, body) = response.into_parts();
        self.record.status_code = parts.status.as_u16();
        self.record.succeeded = self.record.fault_code.is_none() && parts.status.as_u16() < 500;
        self.record.request_hash = self.request_hash();
        self.record.response_in_ts.get_or_insert_with(time::now);
        let h = &mut parts.headers;
        let mut set = |name: HeaderName, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(name, v);
            }
        };
        set(names::CLIENT, &self.record.client);
        set(names::SERVICE, &self.record.service);
        set(names::ID, &self.record.message_id);
        set(names::REQUEST_ID, &self.record.request_id);
        set(names::REQUEST_HASH, &self.record.request_hash);
        if body.size_hint().exact().is_none_or(|n| n > WHOLE_LIMIT) {
            return Response::from_parts(parts, Body::new(LoggedBody::new(body, Box::new(self))));
        }
        let id = self.record.message_id.clone();
        let bytes = match body.collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) => {
                Box::new(self).abandon(0, format!("the answer broke before its end: {e}"));
                return fault_response(
                    &Fault::new(FaultKind::BadGateway, "the answer broke before its end", &id),
                    None,
                );
            }
        };
        self.chunk(&bytes);
        let (gw, record) = self.complete(bytes.len() as i64);
        match gw.logbook.submit(record).await {
            Ok(()) => Response::from_parts(parts, Body::from(bytes)),
            Err(_) => {
                let fault =
                    Fault::new(FaultKind::Internal, "the message log could not be written; nothing was delivered", &id);
                fault_response(&fault, None)
            }
        }
    }

    /// The request's hash over the body read so far ([`request_hash`]).
    fn request_hash(&self) -> String {
        request_hash(&self.headers_digest, &self.request_body.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn complete(&mut self, response_size: i64) -> (Arc<Gateway>, MessageRecord) {
        let gw = self.gateway.take().expect("an exchange finishes once");
        // The record left behind is never read: it needs no clock reading of its own.
        let arrived = self.record.request_in_ts;
        let mut r = std::mem::replace(&mut self.record, record_at(arrived));
        r.response_size = response_size;
        r.response_out_ts = time::now();
        let tally = self.request_body.lock().unwrap_or_else(|e| e.into_inner());
        r.request_size = tally.size;
        if let (Some(request), Some(response)) = (&tally.kept, &self.response_kept) {
            let engine = base64::engine::general_purpose::STANDARD;
            let bodies = serde_json::json!({"request": engine.encode(request), "response": engine.encode(response)});
            if let Ok(keys) = gw.kho.node_keys() {
                r.body = Some(keys.seal.seal(bodies.to_string().as_bytes()));
            }
        }
        drop(tally);
        gw.observe(&r, self.started.elapsed());
        (gw, r)
    }
}

impl Finish for Exchange {
    fn chunk(&mut self, data: &Bytes) {
        if let Some(k) = &mut self.response_kept {
            let room = BODY_LOG_LIMIT.saturating_sub(k.len());
            k.extend_from_slice(&data[..data.len().min(room)]);
        }
    }

    fn finish(mut self: Box<Self>, response_size: i64) -> BoxFuture<'static, Result<(), String>> {
        let (gw, record) = self.complete(response_size);
        Box::pin(async move { gw.logbook.submit(record).await })
    }

    fn abandon(mut self: Box<Self>, response_size: i64, why: String) {
        self.record.succeeded = false;
        self.record.fault_code.get_or_insert_with(|| "Server.ClientProxy.ResponseAbandoned".into());
        self.record.fault_string.get_or_insert(why);
        let (gw, record) = self.complete(response_size);
        gw.logbook.submit_detached(record);
    }
}

/// An exchange dropped before its answer was handed over — the caller closed the
/// connection while the backend was still answering — is logged too.
impl Drop for Exchange {
    fn drop(&mut self) {
        if self.gateway.is_some() {
            self.record.succeeded = false;
            self.record.status_code = 499;
            self.record.fault_code.get_or_insert_with(|| "Client.ConnectionClosed".into());
            self.record.fault_string.get_or_insert_with(|| "the caller closed the connection before the answer".into());
            let (gw, record) = self.complete(0);
            gw.logbook.submit_detached(record);
        }
    }
}

impl Gateway {
    fn observe(&self, r: &MessageRecord, took: std::time::Duration) {
        let service = if r.service.is_empty() { NO_SERVICE } else { r.service.as_str() };
        self.metrics.observe_exchange(service, r.succeeded, took.as_secs_f64());
    }
}

/// A record with nothing in it yet but its arrival, now.
pub(crate) fn empty_record() -> MessageRecord {
    record_at(time::now())
}

/// A record with nothing in it yet but its arrival, `now`.
fn record_at(now: chrono::DateTime<chrono::Utc>) -> MessageRecord {
    MessageRecord {
        seq: 0,
        message_id: String::new(),
        request_id: String::new(),
        client: String::new(),
        service: String::new(),
        method: String::new(),
        path: String::new(),
        purpose: String::new(),
        agreement_id: None,
        user_id: None,
        issue: None,
        request_in_ts: now,
        request_out_ts: None,
        response_in_ts: None,
        response_out_ts: now,
        request_size: 0,
        response_size: 0,
        status_code: 0,
        succeeded: false,
        fault_code: None,
        fault_string: None,
        request_hash: String::new(),
        subjects: Vec::new(),
        body: None,
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// `X-Road-Request-Hash`: base64(SHA-512(SHA-512(headers) ‖ SHA-512(body))).
fn request_hash(headers_digest: &[u8], body: &BodyTally) -> String {
    let mut outer = Sha512::new();
    outer.update(headers_digest);
    if body.size == 0 {
        outer.update(*EMPTY_BODY_DIGEST);
    } else {
        outer.update(body.digest.clone().finalize());
    }
    base64::engine::general_purpose::STANDARD.encode(outer.finalize())
}

/// SHA-512 over the request's headers, lowercase names sorted, one `name: value\n`
/// line each (a value that is not UTF-8 with its bad bytes replaced by U+FFFD); the
/// credentials (`authorization`) are left out. The lines are written once into one
/// buffer and sorted as byte strings.
fn headers_digest(headers: &HeaderMap) -> [u8; 64] {
    let mut text = Vec::with_capacity(256);
    let mut lines = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if name == axum::http::header::AUTHORIZATION {
            continue;
        }
        let start = text.len();
        text.extend_from_slice(name.as_str().as_bytes());
        text.extend_from_slice(b": ");
        text.extend_from_slice(String::from_utf8_lossy(value.as_bytes()).as_bytes());
        text.push(b'\n');
        lines.push(start..text.len());
    }
    lines.sort_by(|a, b| text[a.clone()].cmp(&text[b.clone()]));
    let mut d = Sha512::new();
    for line in lines {
        d.update(&text[line]);
    }
    d.finalize().into()
}

/// A UUID's hyphenated lowercase text, encoded directly rather than through `Display`.
fn uuid_text(id: uuid::Uuid) -> String {
    id.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()).to_owned()
}

/// The caller must present a client certificate registered for the subsystem it
/// names in `X-Road-Client`, or hold one of its tokens, unexpired `at` the call's arrival.
pub fn authenticate(
    directory: &Directory,
    request: &Request,
    client: &SubsystemId,
    at: chrono::DateTime<chrono::Utc>,
    id: &str,
) -> Result<(), Fault> {
    let unauthorized = |m: String| Fault::new(FaultKind::Unauthorized, m, id);
    let certified = request.extensions().get::<ClientCertificate>().and_then(|c| directory.certificates.get(&c.0));
    if let Some(owner) = certified {
        if client.is(owner) {
            return Ok(());
        }
        return Err(unauthorized(format!(
            "the client certificate belongs to {owner}, not to the X-Road-Client {client}"
        )));
    }
    let token = header(request.headers(), axum::http::header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| {
            unauthorized(format!(
                "send the token of {client} as \"Authorization: Bearer <token>\", or connect with its client certificate"
            ))
        })?;
    let (owner, expires) = directory
        .credentials
        .get(&secret::token_hash(token))
        .ok_or_else(|| unauthorized("the token is unknown, revoked or expired; ask for a new one".into()))?;
    if *expires <= at {
        return Err(unauthorized("the token has expired; ask for a new one".into()));
    }
    if !client.is(owner) {
        return Err(unauthorized(format!("the token belongs to {owner}, not to the X-Road-Client {client}")));
    }
    Ok(())
}

/// The approved agreement that allows this call `today`; the fault says why none does.
pub fn agreement_for(
    directory: &Directory,
    call: &ServiceRequest,
    service_id: &str,
    method: &str,
    today: chrono::NaiveDate,
    id: &str,
) -> Result<Arc<Agreement>, Fault> {
    let candidates = directory.agreements(&call.client, service_id);
    let mut first_fault = None;
    for a in candidates.iter().filter(|a| a.status == AgreementStatus::Approved) {
        match a.permits(method, &call.path, &call.purpose, today, id) {
            Ok(()) => return Ok((*a).clone()),
            Err(f) => {
                first_fault.get_or_insert(f);
            }
        }
    }
    Err(first_fault.unwrap_or_else(|| {
        let pending = candidates.iter().find(|a| a.status == AgreementStatus::Requested);
        let message = match pending {
            Some(a) => format!("agreement {} is requested and not yet approved by the provider", a.id),
            None => format!(
                "no agreement lets {} call {}/{}; request one from the provider",
                call.client, call.provider, call.service
            ),
        };
        Fault::new(FaultKind::AccessDenied, message, id)
    }))
}

/// Takes one call from the agreement's rate and daily quota; a refusal comes with
/// the seconds to wait.
pub fn limit(limiter: &RateLimiter, quota: &Quota, a: &Agreement, id: &str) -> Result<(), (Fault, u64)> {
    if let Err(wait) = limiter.take(&a.id, a.rate_per_second, a.burst, Instant::now()) {
        let fault = Fault::new(
            FaultKind::RateLimited,
            format!("agreement {} allows {} requests a second (burst {})", a.id, a.rate_per_second, a.burst),
            id,
        );
        return Err((fault, wait.as_secs_f64().ceil().max(1.0) as u64));
    }
    if let Some(q) = a.daily_quota {
        let now = time::now();
        if !quota.take(&a.id, now.date_naive(), q) {
            let midnight = (now.date_naive() + chrono::Days::new(1)).and_hms_opt(0, 0, 0).expect("midnight exists");
            let wait = (midnight.and_utc() - now).num_seconds().max(1) as u64;
            let fault = Fault::new(FaultKind::RateLimited, format!("agreement {} allows {q} requests a day", a.id), id);
            return Err((fault, wait));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash as its formula writes it, digest by digest.
    fn by_formula(headers_digest: &[u8], body: &[u8]) -> String {
        let inner = [headers_digest, Sha512::digest(body).as_slice()].concat();
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(inner))
    }

    #[test]
    fn the_request_hash_follows_its_formula_with_and_without_a_body() {
        let headers_digest = Sha512::digest(b"x-road-client: VN/GOV/1/A\n").to_vec();
        let empty = BodyTally::default();
        assert_eq!(request_hash(&headers_digest, &empty), by_formula(&headers_digest, b""));
        let mut sent = BodyTally::default();
        sent.add(b"{\"so_cccd\": ");
        sent.add(b"\"001099012345\"}");
        assert_eq!(
            request_hash(&headers_digest, &sent),
            by_formula(&headers_digest, b"{\"so_cccd\": \"001099012345\"}")
        );
        assert_ne!(request_hash(&headers_digest, &sent), request_hash(&headers_digest, &empty));
    }

    #[test]
    fn the_headers_digest_covers_the_sorted_lines_without_the_credentials() {
        let mut headers = HeaderMap::new();
        // A name that starts another sorts by its line: "x-a-b: …" before "x-a: …".
        headers.insert("x-a", HeaderValue::from_static("2"));
        headers.insert("x-a-b", HeaderValue::from_static("1"));
        headers.append("x-road-client", HeaderValue::from_static("VN/GOV/1/B"));
        headers.append("x-road-client", HeaderValue::from_static("VN/GOV/1/A"));
        headers.insert("authorization", HeaderValue::from_static("Bearer secret"));
        headers.insert("x-raw", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let mut lines = [
            "x-a: 2\n",
            "x-a-b: 1\n",
            "x-road-client: VN/GOV/1/B\n",
            "x-road-client: VN/GOV/1/A\n",
            "x-raw: caf\u{fffd}\n",
        ];
        lines.sort();
        assert_eq!(lines[0], "x-a-b: 1\n");
        let expected: [u8; 64] = Sha512::digest(lines.concat()).into();
        assert_eq!(headers_digest(&headers), expected);
    }
}
