//! Prometheus metrics, in one place: request counts and latencies per route.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExchangeLabels {
    pub service: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    pub service: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;
type ServiceHistograms = Family<ServiceLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily,
    exchanges: Family<ExchangeLabels, Counter>,
    exchange_durations: ServiceHistograms,
    /// Each service's series, found by name without building labels for every exchange.
    exchange_series: std::sync::Mutex<foldhash::HashMap<String, ExchangeSeries>>,
    journal: crate::gateway::JournalStats,
    connections: crate::listen::ConnectionStats,
}

/// One service's exchange counters and latency histogram.
struct ExchangeSeries {
    successes: Counter,
    failures: Counter,
    durations: Histogram,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn exchange_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0002, 2.0, 18))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kho");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency", durations.clone());
        let exchanges = Family::<ExchangeLabels, Counter>::default();
        let exchange_durations: ServiceHistograms = Family::new_with_constructor(exchange_histogram);
        registry.register("gateway_exchanges", "Gateway exchanges per service and outcome", exchanges.clone());
        registry.register(
            "gateway_exchange_duration_seconds",
            "Gateway exchange latency per service",
            exchange_durations.clone(),
        );
        let journal = crate::gateway::JournalStats::default();
        registry.register(
            "gateway_message_journal_records",
            "Message-log records journaled and not yet moved into the store",
            journal.backlog.clone(),
        );
        registry.register(
            "gateway_message_journal_moves",
            "Message-journal segments moved into the store",
            journal.moved.clone(),
        );
        registry.register(
            "gateway_message_journal_move_failures",
            "Message-journal segments left in the journal for the next start (the store refused them)",
            journal.failed.clone(),
        );
        let connections = crate::listen::ConnectionStats::default();
        registry.register("http_connections_open", "HTTP connections open", connections.open.clone());
        registry.register(
            "http_connections_limit",
            "HTTP connections that may be open at once (max_connections)",
            connections.limit.clone(),
        );
        registry.register(
            "http_connections_waited",
            "Connections that waited to be served because all max_connections places were taken",
            connections.waited.clone(),
        );
        registry.register(
            "http_connections_timed_out",
            "Connections closed for sending no complete request head (or TLS handshake) within idle_timeout_secs",
            connections.timed_out.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            exchanges,
            exchange_durations,
            exchange_series: Default::default(),
            journal,
            connections,
        }
    }
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = RequestLabels { method: method.to_string(), route: route.to_string(), status };
        self.requests.get_or_create(&labels).inc();
        self.durations.get_or_create(&RouteLabels { route: route.to_string() }).observe(seconds);
    }

    /// One gateway exchange of `service` (`INSTANCE/…/CODE`, `-` when unknown).
    pub fn observe_exchange(&self, service: &str, succeeded: bool, seconds: f64) {
        let mut all = self.exchange_series.lock().unwrap_or_else(|e| e.into_inner());
        // One lookup for a known service; its series are made the first time.
        let series = match all.get(service) {
            Some(series) => series,
            None => {
                let counter = |outcome| {
                    self.exchanges.get_or_create(&ExchangeLabels { service: service.into(), outcome }).clone()
                };
                let series = ExchangeSeries {
                    successes: counter("success"),
                    failures: counter("failure"),
                    durations: self
                        .exchange_durations
                        .get_or_create(&ServiceLabels { service: service.into() })
                        .clone(),
                };
                all.entry(service.to_string()).or_insert(series)
            }
        };
        if succeeded { &series.successes } else { &series.failures }.inc();
        series.durations.observe(seconds);
    }

    /// The message log writer's figures, shared with it.
    pub fn journal_stats(&self) -> crate::gateway::JournalStats {
        self.journal.clone()
    }

    /// The connection figures, shared with the accepting threads.
    pub fn connection_stats(&self) -> crate::listen::ConnectionStats {
        self.connections.clone()
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
