//! Timestamps as Kho stores and hashes them: UTC, RFC 3339, microsecond precision.
//! One textual form keeps the audit chain identical on every backend.

use chrono::{DateTime, SecondsFormat, Utc};

/// The current time, truncated to microseconds (what every backend can store exactly).
pub fn now() -> DateTime<Utc> {
    // Read as microseconds since the epoch and made a date once (`Utc::now` makes one
    // of the nanoseconds first): the gateway reads the clock several times a call.
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros());
    match micros.ok().and_then(|m| i64::try_from(m).ok()).and_then(DateTime::from_timestamp_micros) {
        Some(t) => t,
        None => {
            let t = Utc::now();
            DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
        }
    }
}

/// Canonical text of a timestamp: `2026-01-31T08:00:00.000000Z`.
pub fn format(t: &DateTime<Utc>) -> String {
    Canonical::of(t).as_str().to_string()
}

/// The canonical text of a timestamp, written without allocating: the message log
/// writes four of them per record into its journal, its hash and its row.
pub enum Canonical {
    Fixed([u8; CANONICAL_LEN]),
    /// Years outside 0000–9999, which the fixed layout cannot hold, take chrono's path.
    Wide(String),
}

const CANONICAL_LEN: usize = "2026-01-31T08:00:00.000000Z".len();

impl Canonical {
    pub fn of(t: &DateTime<Utc>) -> Self {
        use chrono::{Datelike, Timelike};
        // The fields of the UTC date and time, read from it directly (the time zone's
        // accessors add the zero offset again for each).
        let n = t.naive_utc();
        let year = n.year();
        if !(0..=9999).contains(&year) {
            return Self::Wide(t.to_rfc3339_opts(SecondsFormat::Micros, true));
        }
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: usize, mut value: u32| {
            for i in (at..at + width).rev() {
                text[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, n.month());
        put(8, 2, n.day());
        put(11, 2, n.hour());
        put(14, 2, n.minute());
        // A leap second is carried in the nanoseconds (≥ 1e9): seconds 60, as chrono writes it.
        let (second, nanos) = match n.nanosecond() {
            ns if ns >= 1_000_000_000 => (n.second() + 1, ns - 1_000_000_000),
            ns => (n.second(), ns),
        };
        put(17, 2, second);
        put(20, 6, nanos / 1_000);
        Self::Fixed(text)
    }

    pub fn as_str(&self) -> &str {
        match self {
            // Digits and ASCII punctuation only.
            Self::Fixed(text) => std::str::from_utf8(text).expect("ASCII"),
            Self::Wide(text) => text,
        }
    }
}

/// `#[serde(with = "kho_core::time::canonical")]`: a timestamp as its canonical text.
pub mod canonical {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(super::Canonical::of(t).as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        read(&<std::borrow::Cow<'de, str>>::deserialize(d)?)
    }

    fn read<E: serde::de::Error>(text: &str) -> Result<DateTime<Utc>, E> {
        super::parse(text).ok_or_else(|| E::custom(format!("{text:?} is not an RFC 3339 timestamp")))
    }

    /// The same for an optional timestamp.
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?.map(|t| super::read(&t)).transpose()
        }
    }
}

/// Parses the canonical text (or any RFC 3339 timestamp) back to UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_canonical_text_is_chronos() {
        let mut t = DateTime::from_timestamp_micros(0).unwrap();
        // Every field's carries, whole seconds, leap years and both ends of the layout.
        let steps = [1, 999_999, 1_000_000, 59_999_999, 3_599_000_001, 86_399_999_999, 2_629_743_830_017];
        for i in 0..20_000u64 {
            let step = steps[(i % steps.len() as u64) as usize] * (1 + i as i64 % 7);
            t += chrono::Duration::microseconds(step);
            assert_eq!(Canonical::of(&t).as_str(), t.to_rfc3339_opts(SecondsFormat::Micros, true));
        }
        for raw in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2024-02-29T12:00:00.5Z"] {
            let t = parse(raw).unwrap();
            assert_eq!(format(&t), t.to_rfc3339_opts(SecondsFormat::Micros, true), "{raw}");
        }
        let leap =
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_micro_opt(23, 59, 59, 1_250_000).unwrap();
        let leap = leap.and_utc();
        assert_eq!(format(&leap), leap.to_rfc3339_opts(SecondsFormat::Micros, true), "a leap second");
        let far = DateTime::from_timestamp(300_000_000_000, 0).unwrap();
        assert_eq!(format(&far), far.to_rfc3339_opts(SecondsFormat::Micros, true), "a year past 9999");
    }

    #[test]
    fn now_is_the_clock_to_the_microsecond() {
        let before = Utc::now();
        let t = now();
        let after = Utc::now();
        assert_eq!(t.timestamp_subsec_nanos() % 1_000, 0, "truncated to microseconds");
        assert!(before.timestamp_micros() <= t.timestamp_micros() && t <= after, "{before} ≤ {t} ≤ {after}");
    }

    #[test]
    fn canonical_form_round_trips() {
        let t = now();
        assert_eq!(parse(&format(&t)), Some(t));
        assert!(format(&t).ends_with('Z'));
    }
}
