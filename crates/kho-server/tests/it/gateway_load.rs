//! The gateway under load, on loopback only: concurrent keep-alive clients call a
//! proxied service through the central gateway, each request with its own X-Road-Id.
//! Every response a client received whole must have its record in the message log —
//! after a long run, and when the server is stopped gracefully in the middle of one.
//! `KHO_LOAD_SECS` sets the long run's length (60 seconds by default).

use crate::gateway::{agree, provider_backend, proxied, terms, Central, Parties, CONSUMER, PROVIDER, PURPOSE};
use kho_store::testing::TestDb;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Concurrent clients, each with its own keep-alive connection.
const CLIENTS: usize = 16;
/// The fault code of a record whose response did not reach its end.
const ABANDONED: &str = "Server.ClientProxy.ResponseAbandoned";

fn load_secs() -> u64 {
    std::env::var("KHO_LOAD_SECS").ok().and_then(|s| s.parse().ok()).filter(|s| *s > 0).unwrap_or(60)
}

/// What the clients saw, by X-Road-Id.
#[derive(Default)]
struct Seen {
    /// 200 responses read to their end.
    complete: Vec<String>,
    /// Requests that got no response (refused, or the connection closed first).
    refused: Vec<String>,
    /// Responses that broke after their headers.
    broken: Vec<String>,
    /// Anything else, said in words: a failure while the server was meant to be up, or
    /// a complete response that was not a 200.
    errors: Vec<String>,
}

impl Seen {
    fn sent(&self) -> usize {
        self.complete.len() + self.refused.len() + self.broken.len()
    }

    fn merge(&mut self, other: Seen) {
        self.complete.extend(other.complete);
        self.refused.extend(other.refused);
        self.broken.extend(other.broken);
        self.errors.extend(other.errors);
    }
}

/// A central node with a proxied service whose agreement allows a million calls a
/// second, the URL to call it, the consumer's token and the backend's own URL.
struct Loaded {
    central: Central,
    url: String,
    token: String,
    direct: String,
}

async fn loaded_central() -> Loaded {
    let central = Central::start(TestDb::postgres().await).await;
    let parties = Parties::create(&central.kho).await;
    let backend = provider_backend().await;
    let persons = proxied(&central.kho, "persons", &backend, None, None).await;
    let fast = kho_exchange::AgreementTerms { rate_per_second: 1_000_000, ..terms(&["GET /v1/persons/*"]) };
    agree(&central.kho, &persons, fast, true).await;
    let url = format!("{}/r1/{PROVIDER}/persons/v1/persons/079203001234", central.base);
    Loaded { central, url, token: parties.token, direct: format!("{backend}/v1/persons/079203001234") }
}

/// Runs `CLIENTS` clients until `deadline`, or — once `stopping` is set — until each
/// has seen its first failure.
async fn run_clients(url: String, token: String, deadline: Instant, stopping: Arc<AtomicBool>) -> Seen {
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (url, token, stopping) = (url.clone(), token.clone(), stopping.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut seen = Seen::default();
            while Instant::now() < deadline {
                let id = uuid::Uuid::new_v4().to_string();
                let sent = client
                    .get(&url)
                    .header("x-road-client", CONSUMER)
                    .header("x-road-purpose", PURPOSE)
                    .header("x-road-id", &id)
                    .bearer_auth(&token)
                    .send()
                    .await;
                let stopped = stopping.load(Ordering::SeqCst);
                match sent {
                    Err(e) => {
                        seen.refused.push(id);
                        if !stopped {
                            seen.errors.push(format!("no response while the server was up: {e}"));
                        }
                        break;
                    }
                    Ok(r) => {
                        let status = r.status();
                        match r.bytes().await {
                            Ok(_) if status == 200 => seen.complete.push(id),
                            Ok(body) => {
                                seen.complete.push(id);
                                seen.errors.push(format!("{status}: {}", String::from_utf8_lossy(&body)));
                            }
                            Err(e) => {
                                seen.broken.push(id);
                                if !stopped {
                                    seen.errors.push(format!("a response broke while the server was up: {e}"));
                                }
                                break;
                            }
                        }
                    }
                }
            }
            seen
        }));
    }
    let mut all = Seen::default();
    for task in tasks {
        all.merge(task.await.unwrap());
    }
    all
}

/// The message log's records as (status, fault code) by X-Road-Id; panics on an id
/// logged twice.
async fn logged(central: &Central) -> HashMap<String, (u16, Option<String>)> {
    let mut by_id = HashMap::new();
    let mut after = 0;
    central.kho.settle_message_log().await.unwrap();
    loop {
        let page = central.kho.store.message_range(after, 5_000).await.unwrap();
        let Some(last) = page.last() else { return by_id };
        after = last.seq;
        for r in page {
            let id = r.message_id.clone();
            assert!(by_id.insert(r.message_id, (r.status_code, r.fault_code)).is_none(), "{id} is logged twice");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_served_request_has_its_log_record_after_60_seconds_of_load() {
    let Loaded { mut central, url, token, direct } = loaded_central().await;
    let secs = load_secs();
    // The same clients straight at the backend first: what the machine does without a gateway.
    let baseline = Duration::from_secs((secs / 6).clamp(1, 10));
    let started = Instant::now();
    let without = run_clients(direct, token.clone(), started + baseline, Arc::default()).await;
    let without_rate = without.complete.len() as f64 / started.elapsed().as_secs_f64();
    assert!(without.errors.is_empty(), "{:?}", without.errors.first());

    let started = Instant::now();
    let seen = run_clients(url, token, started + Duration::from_secs(secs), Arc::default()).await;
    let took = started.elapsed().as_secs_f64();
    central.stop().await;

    let n = seen.complete.len();
    eprintln!(
        "load: {n} requests answered in {took:.1} s = {:.0} requests/s through the central gateway to a proxied \
         loopback backend ({CLIENTS} keep-alive clients, message log on {}, {} errors); the same clients straight \
         at the backend: {without_rate:.0} requests/s",
        n as f64 / took,
        central.backend(),
        seen.errors.len()
    );
    assert!(seen.errors.is_empty(), "{} errors, the first: {:?}", seen.errors.len(), seen.errors.first());
    assert!(n > 0 && seen.refused.is_empty() && seen.broken.is_empty());

    let log = logged(&central).await;
    let answered: HashSet<&str> = seen.complete.iter().map(String::as_str).collect();
    assert_eq!(answered.len(), n, "each request had its own X-Road-Id");
    assert_eq!(log.len(), n, "one record for each answered request");
    let unlogged: Vec<&&str> = answered.iter().filter(|id| !log.contains_key(**id)).take(5).collect();
    assert!(unlogged.is_empty(), "answered but not logged: {unlogged:?}");
    assert!(log.values().all(|(status, fault)| *status == 200 && fault.is_none()));

    let report = central.kho.verify_messages().await.unwrap();
    eprintln!("load: message log {}", report.message);
    assert!(report.intact, "{}", report.message);
    assert_eq!(report.records as usize, n);
    assert!(report.checkpoints >= 1, "{}", report.message);
    assert_eq!(report.unsigned_tail, 0, "a graceful stop signs the last records: {}", report.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_graceful_stop_mid_run_loses_no_log_record() {
    let Loaded { mut central, url, token, .. } = loaded_central().await;
    let secs = load_secs().clamp(2, 10);
    let started = Instant::now();
    let stopping = Arc::new(AtomicBool::new(false));
    let clients = tokio::spawn(run_clients(url, token, started + Duration::from_secs(secs), stopping.clone()));
    tokio::time::sleep(Duration::from_secs(secs) / 2).await;
    stopping.store(true, Ordering::SeqCst);
    let stop_at = started.elapsed().as_secs_f64();
    // Returns once in-flight requests are finished and the log writer has closed.
    central.stop().await;
    let seen = clients.await.unwrap();
    assert!(seen.errors.is_empty(), "{} errors, the first: {:?}", seen.errors.len(), seen.errors.first());

    let log = logged(&central).await;
    let abandoned: Vec<&String> =
        log.iter().filter(|(_, (_, fault))| fault.as_deref() == Some(ABANDONED)).map(|(id, _)| id).collect();
    eprintln!(
        "graceful stop after {stop_at:.1} s: {} requests sent, {} answered ({:.0}/s), {} refused after the stop, \
         {} broken mid-response; {} records, of which {} of abandoned responses (message log on {})",
        seen.sent(),
        seen.complete.len(),
        seen.complete.len() as f64 / stop_at,
        seen.refused.len(),
        seen.broken.len(),
        log.len(),
        abandoned.len(),
        central.backend()
    );
    assert!(!seen.complete.is_empty());
    let unlogged: Vec<&String> = seen.complete.iter().filter(|id| !log.contains_key(*id)).take(5).collect();
    assert!(unlogged.is_empty(), "answered but not logged: {unlogged:?}");
    assert!(seen.complete.iter().all(|id| log[id] == (200, None)), "answered requests are logged as served");
    let unfinished: HashSet<&String> = seen.refused.iter().chain(&seen.broken).collect();
    assert!(
        abandoned.iter().all(|id| unfinished.contains(id)),
        "only a response the client did not get whole may be logged as abandoned"
    );
    assert_eq!(log.len(), seen.complete.len() + abandoned.len(), "records = answered + abandoned");

    let report = central.kho.verify_messages().await.unwrap();
    assert!(report.intact, "{}", report.message);
    assert_eq!(report.unsigned_tail, 0, "the stop signed a last checkpoint: {}", report.message);
}
