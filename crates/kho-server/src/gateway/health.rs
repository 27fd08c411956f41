//! Tình trạng dịch vụ — each service's health since the gateway started, as X-Road's
//! operational monitoring keeps it: last success and failure, counts, and the
//! duration's minimum, average and maximum.

use chrono::{DateTime, Utc};
use kho_exchange::msglog::MessageRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ServiceHealth {
    /// `INSTANCE/CLASS/MEMBER/SUBSYSTEM/CODE` (`-` for calls that named no service).
    pub service: String,
    pub last_success: Option<DateTime<Utc>>,
    pub last_failure: Option<DateTime<Utc>>,
    pub successes: u64,
    pub failures: u64,
    pub min_ms: f64,
    pub avg_ms: f64,
    pub max_ms: f64,
    pub request_bytes: i64,
    pub response_bytes: i64,
}

#[derive(Default)]
pub struct Health {
    services: Mutex<BTreeMap<String, ServiceHealth>>,
}

impl Health {
    pub fn observe(&self, service: &str, r: &MessageRecord, took: Duration) {
        let ms = took.as_secs_f64() * 1000.0;
        let mut all = self.services.lock().unwrap_or_else(|e| e.into_inner());
        if !all.contains_key(service) {
            let first = ServiceHealth { service: service.to_string(), min_ms: f64::MAX, ..Default::default() };
            all.insert(service.to_string(), first);
        }
        let h = all.get_mut(service).expect("inserted above");
        let n = (h.successes + h.failures) as f64;
        h.avg_ms = (h.avg_ms * n + ms) / (n + 1.0);
        h.min_ms = h.min_ms.min(ms);
        h.max_ms = h.max_ms.max(ms);
        h.request_bytes += r.request_size;
        h.response_bytes += r.response_size;
        if r.succeeded {
            h.successes += 1;
            h.last_success = Some(r.response_out_ts);
        } else {
            h.failures += 1;
            h.last_failure = Some(r.response_out_ts);
        }
    }

    /// Every service seen, by name.
    pub fn report(&self) -> Vec<ServiceHealth> {
        self.services.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }
}
