//! Tình trạng dịch vụ — each service's health as X-Road's operational monitoring keeps
//! it (last success and failure, counts, the duration's minimum, average and maximum),
//! counted from the message log: the records are what is counted, so a service's
//! counts are its records in the log and survive a restart of the gateway.

use crate::msglog::LogEntry;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// The name health is kept under for calls that named no service.
pub const NO_SERVICE: &str = "-";

/// How one exchange ended, as its record says: what a service's health is counted from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    pub succeeded: bool,
    pub response_out_ts: DateTime<Utc>,
    pub request_size: i64,
    pub response_size: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceHealth {
    /// `INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE` (`-` for calls that named no service).
    pub service: String,
    /// When the first exchange counted was received.
    pub since: DateTime<Utc>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    pub successes: u64,
    pub failures: u64,
    pub min_ms: f64,
    pub avg_ms: f64,
    pub max_ms: f64,
    /// The durations' sum, which the average is kept from.
    #[serde(skip)]
    pub total_ms: f64,
    pub request_bytes: i64,
    pub response_bytes: i64,
}

impl ServiceHealth {
    /// No exchange counted yet.
    pub fn new(service: &str, since: DateTime<Utc>) -> Self {
        ServiceHealth {
            service: service.to_string(),
            since,
            last_success: None,
            last_failure: None,
            successes: 0,
            failures: 0,
            min_ms: f64::MAX,
            avg_ms: 0.0,
            max_ms: 0.0,
            total_ms: 0.0,
            request_bytes: 0,
            response_bytes: 0,
        }
    }

    /// Every exchange counted, successful or not.
    pub fn exchanges(&self) -> u64 {
        self.successes + self.failures
    }

    /// Counts one exchange received at `request_in_ts` that ended as `o`.
    pub fn add(&mut self, request_in_ts: DateTime<Utc>, o: &Outcome) {
        let took = o.response_out_ts.signed_duration_since(request_in_ts);
        let ms = took.num_microseconds().unwrap_or(i64::MAX).max(0) as f64 / 1000.0;
        self.since = self.since.min(request_in_ts);
        self.total_ms += ms;
        self.min_ms = self.min_ms.min(ms);
        self.max_ms = self.max_ms.max(ms);
        self.request_bytes += o.request_size;
        self.response_bytes += o.response_size;
        let (count, last) = match o.succeeded {
            true => (&mut self.successes, &mut self.last_success),
            false => (&mut self.failures, &mut self.last_failure),
        };
        *count += 1;
        *last = (*last).max(Some(o.response_out_ts));
        self.average();
    }

    /// Adds what `later` counted (exchanges logged after these).
    pub fn merge(&mut self, later: &ServiceHealth) {
        self.since = self.since.min(later.since);
        self.last_success = self.last_success.max(later.last_success);
        self.last_failure = self.last_failure.max(later.last_failure);
        self.successes += later.successes;
        self.failures += later.failures;
        self.min_ms = self.min_ms.min(later.min_ms);
        self.max_ms = self.max_ms.max(later.max_ms);
        self.total_ms += later.total_ms;
        self.request_bytes += later.request_bytes;
        self.response_bytes += later.response_bytes;
        self.average();
    }

    /// Sets the average from the durations' sum and the count (after they change).
    pub fn average(&mut self) {
        self.avg_ms = if self.exchanges() == 0 { 0.0 } else { self.total_ms / self.exchanges() as f64 };
    }
}

/// Each service's health over `entries`, by service name.
pub fn tally<'a>(entries: impl IntoIterator<Item = &'a LogEntry>) -> BTreeMap<String, ServiceHealth> {
    let mut all: BTreeMap<String, ServiceHealth> = BTreeMap::new();
    for e in entries {
        let service = if e.service.is_empty() { NO_SERVICE } else { e.service.as_str() };
        // Under load nearly every record names the service of the one before.
        let h = match all.get_mut(service) {
            Some(h) => h,
            None => all.entry(service.to_string()).or_insert_with(|| ServiceHealth::new(service, e.request_in_ts)),
        };
        h.add(e.request_in_ts, &e.outcome);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msglog::MessageRecord;
    use chrono::TimeZone;

    fn entry(service: &str, at_ms: i64, took_ms: i64, succeeded: bool) -> LogEntry {
        let t = |ms: i64| Utc.timestamp_millis_opt(1_780_000_000_000 + ms).unwrap();
        let mut r: MessageRecord = serde_json::from_value(serde_json::json!({
            "seq": 0, "message_id": "m", "request_id": "r", "client": "VN/GOV/A/S", "service": service,
            "method": "GET", "path": "/", "purpose": "p",
            "request_in_ts": "2026-01-01T00:00:00.000000Z", "response_out_ts": "2026-01-01T00:00:00.000000Z",
            "request_size": 10, "response_size": 100, "status_code": 200, "succeeded": succeeded,
            "request_hash": "", "subjects": [], "prev_hash": "", "hash": ""
        }))
        .unwrap();
        r.request_in_ts = t(at_ms);
        r.response_out_ts = t(at_ms + took_ms);
        r.into_entry()
    }

    #[test]
    fn each_service_is_counted_apart_with_its_durations_and_last_outcomes() {
        let entries = [
            entry("VN/GOV/P/S/a", 0, 4, true),
            entry("VN/GOV/P/S/a", 10, 2, false),
            entry("VN/GOV/P/S/a", 20, 6, true),
            entry("", 30, 1, false),
        ];
        let all = tally(&entries);
        assert_eq!(all.keys().collect::<Vec<_>>(), ["-", "VN/GOV/P/S/a"]);
        let a = &all["VN/GOV/P/S/a"];
        assert_eq!((a.successes, a.failures), (2, 1));
        assert_eq!((a.min_ms, a.avg_ms, a.max_ms), (2.0, 4.0, 6.0));
        assert_eq!((a.request_bytes, a.response_bytes), (30, 300));
        assert_eq!(a.since, entries[0].request_in_ts);
        assert_eq!(a.last_success, Some(entries[2].outcome.response_out_ts));
        assert_eq!(a.last_failure, Some(entries[1].outcome.response_out_ts));
        assert_eq!(all["-"].failures, 1);
    }

    #[test]
    fn merging_two_tallies_counts_as_one_over_both() {
        let entries: Vec<LogEntry> = (0..7).map(|i| entry("VN/GOV/P/S/a", i * 10, 1 + i % 3, i % 4 != 0)).collect();
        let whole = tally(&entries);
        let mut first = tally(&entries[..3]);
        let later = tally(&entries[3..]);
        first.get_mut("VN/GOV/P/S/a").unwrap().merge(&later["VN/GOV/P/S/a"]);
        assert_eq!(first, whole);
    }
}
