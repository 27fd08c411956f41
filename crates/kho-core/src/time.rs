//! Timestamps as Kho stores and hashes them: UTC, RFC 3339, microsecond precision.
//! One textual form keeps the audit chain identical on every backend.

use chrono::{DateTime, SecondsFormat, Utc};

/// The current time, truncated to microseconds (what every backend can store exactly).
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Canonical text of a timestamp: `2026-01-31T08:00:00.000000Z`.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses the canonical text (or any RFC 3339 timestamp) back to UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_round_trips() {
        let t = now();
        assert_eq!(parse(&format(&t)), Some(t));
        assert!(format(&t).ends_with('Z'));
    }
}
