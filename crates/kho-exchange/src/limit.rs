//! Giới hạn tần suất — how fast and how much an agreement's consumer may call: a token
//! bucket per agreement (the rate a second, the burst above it) and a count per day.
//! In memory, per gateway: each gateway behind a load balancer limits on its own.

use foldhash::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets, one per key (an agreement).
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes one request for `key` at `now`: `Err(wait)` when the bucket is empty,
    /// with how long until a token is back (for `Retry-After`).
    pub fn take(&self, key: &str, per_second: u32, burst: u32, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(per_second.max(1));
        let capacity = f64::from(burst.max(per_second).max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        // One lookup for a known key; the key is copied only when it is new.
        let b = match buckets.get_mut(key) {
            Some(b) => b,
            None => buckets.entry(key.to_string()).or_insert(Bucket { tokens: capacity, at: now }),
        };
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }
}

/// Requests counted per key and day.
#[derive(Default)]
pub struct Quota {
    days: Mutex<HashMap<String, (chrono::NaiveDate, u64)>>,
}

impl Quota {
    /// Counts one request of `key` on `day`; `false` when `limit` is already reached.
    pub fn take(&self, key: &str, day: chrono::NaiveDate, limit: u64) -> bool {
        let mut days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        let entry = match days.get_mut(key) {
            Some(entry) => entry,
            None => days.entry(key.to_string()).or_insert((day, 0)),
        };
        if entry.0 != day {
            *entry = (day, 0);
        }
        if entry.1 >= limit {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_the_burst_then_the_rate() {
        let l = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(l.take("a", 2, 5, t0).is_ok());
        }
        let wait = l.take("a", 2, 5, t0).unwrap_err();
        assert!(wait > Duration::from_millis(400) && wait <= Duration::from_millis(500), "{wait:?}");
        assert!(l.take("a", 2, 5, t0 + Duration::from_millis(500)).is_ok(), "a token back after 1/rate");
        assert!(l.take("a", 2, 5, t0 + Duration::from_millis(500)).is_err());
        assert!(l.take("b", 2, 5, t0).is_ok(), "keys are apart");
    }

    #[test]
    fn a_quota_counts_a_day() {
        let q = Quota::default();
        let d1 = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert!(q.take("a", d1, 2) && q.take("a", d1, 2));
        assert!(!q.take("a", d1, 2));
        assert!(q.take("a", d1.succ_opt().unwrap(), 2), "a new day starts again");
    }
}
