//! Giới hạn số lần thử — counts attempts per key in a sliding window; past the limit,
//! the key waits until the window has passed. Used for failed logins (per address and
//! username, and per address) and for the public's requests and feedback (per
//! address). In memory, per server: each server behind a load balancer limits on its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct AttemptLimiter {
    attempts: u32,
    window: Duration,
    attempts_at: Mutex<HashMap<String, Vec<Instant>>>,
}

impl AttemptLimiter {
    pub fn new(attempts: u32, window: Duration) -> Self {
        Self { attempts: attempts.max(1), window, attempts_at: Mutex::new(HashMap::new()) }
    }

    /// `Err(wait)` when the key has used up `factor` times the allowed attempts.
    pub fn check(&self, key: &str, factor: u32) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.attempts_at.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = map.get_mut(key) else { return Ok(()) };
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() as u32 >= self.attempts * factor {
            let oldest = times[0];
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Counts one attempt of `key`.
    pub fn record(&self, key: &str) {
        let now = Instant::now();
        let mut map = self.attempts_at.lock().unwrap_or_else(|e| e.into_inner());
        // Keep the map small: forget keys whose attempts have all aged out.
        if map.len() > 10_000 {
            map.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        map.entry(key.to_string()).or_default().push(now);
    }

    /// Forgets the attempts of `key` (a login that succeeded).
    pub fn forget(&self, key: &str) {
        self.attempts_at.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_resets_on_success() {
        let l = AttemptLimiter::new(2, Duration::from_secs(60));
        l.check("k", 1).unwrap();
        l.record("k");
        l.record("k");
        assert!(l.check("k", 1).is_err());
        assert!(l.check("k", 2).is_ok(), "a larger allowance is not used up yet");
        assert!(l.check("other", 1).is_ok());
        l.forget("k");
        assert!(l.check("k", 1).is_ok());
    }

    #[test]
    fn attempts_age_out() {
        let l = AttemptLimiter::new(1, Duration::from_millis(20));
        l.record("k");
        assert!(l.check("k", 1).is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(l.check("k", 1).is_ok());
    }
}
