//! Điểm chất lượng — the six criteria of the province's standard (đúng, đủ, sạch, sống,
//! thống nhất, dùng chung), each a share from 0 to 1, or none when nothing measures it:
//!
//! | criterion | score |
//! |---|---|
//! | accurate (đúng) | mean pass rate of the validity checks: regex, format, code list, range, length, reference, custom SQL |
//! | complete (đủ) | mean pass rate of the `not_null` checks (without any: the share of filled cells), times rows ÷ the `row_count` minimum when fewer |
//! | clean (sạch) | mean pass rate of the `unique` and `standard` checks |
//! | live (sống) | 1 while the last load is younger than the declared update frequency, falling to 0 at twice it; averaged with the `freshness` checks |
//! | unified (thống nhất) | conforming ÷ checked values of the columns bound to the data dictionary, averaged with the `schema` checks |
//! | shared (dùng chung) | 0 when the resource is neither open data nor behind a data service, ½ when it is offered, 1 when it was also used in the last 90 days |
//!
//! The overall score is the mean of the criteria that have one.

use crate::result::CheckResult;
use crate::rules::Criterion;
use serde::{Deserialize, Serialize};

/// The six scores and their mean, each 0–1 or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Scores {
    pub accurate: Option<f64>,
    pub complete: Option<f64>,
    pub clean: Option<f64>,
    pub live: Option<f64>,
    pub unified: Option<f64>,
    pub shared: Option<f64>,
    pub overall: Option<f64>,
}

/// How a resource is shared, for the `shared` criterion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sharing {
    /// Published as open data, or served by a data service.
    pub offered: bool,
    /// Downloaded or called in the last 90 days.
    pub used: bool,
}

/// What the scores are computed from.
#[derive(Debug, Clone, Default)]
pub struct Evidence<'a> {
    pub results: &'a [CheckResult],
    /// Rows of the version, and the `row_count` minimum declared.
    pub rows: u64,
    pub expected_rows: Option<u64>,
    /// The share of filled cells over every column.
    pub filled_share: Option<f64>,
    /// (checked, conforming) values of the columns bound to the dictionary.
    pub conformance: Option<(u64, u64)>,
    /// The last load's age and the declared update period, in seconds.
    pub age_seconds: Option<i64>,
    pub period_seconds: Option<i64>,
    pub sharing: Sharing,
}

fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.into_iter().fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The pass rates of the answered checks of one criterion.
fn rates<'a>(results: &'a [CheckResult], criterion: Criterion, kinds: &'a [&str]) -> impl Iterator<Item = f64> + 'a {
    results
        .iter()
        .filter(move |r| {
            r.criterion == criterion && r.error.is_none() && (kinds.is_empty() || kinds.contains(&r.kind.as_str()))
        })
        .map(|r| r.pass_rate)
}

/// How live a table is: 1 within its period, down to 0 at twice the period.
pub fn liveness(age_seconds: i64, period_seconds: i64) -> f64 {
    if period_seconds <= 0 || age_seconds <= period_seconds {
        return 1.0;
    }
    (2.0 - age_seconds as f64 / period_seconds as f64).clamp(0.0, 1.0)
}

impl Scores {
    pub fn compute(e: &Evidence<'_>) -> Self {
        let accurate = mean(rates(e.results, Criterion::Accurate, &[]));
        let values = mean(rates(e.results, Criterion::Complete, &["not_null"])).or(e.filled_share);
        let rows_factor = match e.expected_rows {
            Some(min) if min > 0 && e.rows < min => e.rows as f64 / min as f64,
            _ => 1.0,
        };
        let complete = values.map(|v| v * rows_factor);
        let clean = mean(rates(e.results, Criterion::Clean, &[]));
        let period = match (e.age_seconds, e.period_seconds) {
            (Some(age), Some(period)) => Some(liveness(age, period)),
            _ => None,
        };
        let live = mean(period.into_iter().chain(rates(e.results, Criterion::Live, &[])));
        let conformance =
            e.conformance.map(|(checked, ok)| if checked == 0 { 1.0 } else { ok as f64 / checked as f64 });
        let unified = mean(conformance.into_iter().chain(rates(e.results, Criterion::Unified, &[])));
        let shared = Some(match (e.sharing.offered, e.sharing.used) {
            (false, _) => 0.0,
            (true, false) => 0.5,
            (true, true) => 1.0,
        });
        let overall = mean([accurate, complete, clean, live, unified, shared].into_iter().flatten());
        Self { accurate, complete, clean, live, unified, shared, overall }
    }

    pub fn get(&self, criterion: Criterion) -> Option<f64> {
        match criterion {
            Criterion::Accurate => self.accurate,
            Criterion::Complete => self.complete,
            Criterion::Clean => self.clean,
            Criterion::Live => self.live,
            Criterion::Unified => self.unified,
            Criterion::Shared => self.shared,
        }
    }

    /// The mean of several versions' or tables' scores, criterion by criterion.
    pub fn mean_of<'a>(all: impl IntoIterator<Item = &'a Scores> + Clone) -> Self {
        let of = |get: fn(&Scores) -> Option<f64>| mean(all.clone().into_iter().filter_map(get));
        Self {
            accurate: of(|s| s.accurate),
            complete: of(|s| s.complete),
            clean: of(|s| s.clean),
            live: of(|s| s.live),
            unified: of(|s| s.unified),
            shared: of(|s| s.shared),
            overall: of(|s| s.overall),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn result(rule: &str, checked: u64, failed: u64) -> CheckResult {
        let check = RuleSet::parse(&format!("checks: [{rule}]")).unwrap().checks.remove(0);
        CheckResult::of(&check).counted(checked, failed)
    }

    #[test]
    fn each_criterion_reads_its_checks() {
        let results = [
            result("{format: {column: a, format: phone}}", 100, 20),
            result("{regex: {column: a, pattern: x}}", 100, 0),
            result("{not_null: a}", 100, 10),
            result("{unique: a}", 100, 50),
            result("{schema: {columns: {a: text}}}", 1, 0),
        ];
        let e = Evidence {
            results: &results,
            rows: 100,
            expected_rows: Some(200),
            conformance: Some((100, 80)),
            age_seconds: Some(45 * 86_400),
            period_seconds: Some(30 * 86_400),
            sharing: Sharing { offered: true, used: false },
            ..Default::default()
        };
        let s = Scores::compute(&e);
        assert_eq!(s.accurate, Some(0.9));
        assert_eq!(s.complete, Some(0.45));
        assert_eq!(s.clean, Some(0.5));
        assert_eq!(s.live, Some(0.5));
        assert_eq!(s.unified, Some(0.9));
        assert_eq!(s.shared, Some(0.5));
        assert!((s.overall.unwrap() - (0.9 + 0.45 + 0.5 + 0.5 + 0.9 + 0.5) / 6.0).abs() < 1e-12);
    }

    #[test]
    fn without_evidence_a_criterion_has_no_score() {
        let s = Scores::compute(&Evidence { filled_share: Some(0.75), ..Default::default() });
        assert_eq!((s.accurate, s.clean, s.live, s.unified), (None, None, None, None));
        assert_eq!(s.complete, Some(0.75));
        assert_eq!(s.shared, Some(0.0));
        assert_eq!(s.overall, Some(0.375));
    }

    #[test]
    fn liveness_falls_after_the_period() {
        assert_eq!(liveness(10, 30), 1.0);
        assert_eq!(liveness(45, 30), 0.5);
        assert_eq!(liveness(90, 30), 0.0);
    }

    #[test]
    fn scores_average_criterion_by_criterion() {
        let a = Scores { accurate: Some(1.0), clean: None, ..Default::default() };
        let b = Scores { accurate: Some(0.5), clean: Some(0.2), ..Default::default() };
        let m = Scores::mean_of([&a, &b]);
        assert_eq!((m.accurate, m.clean, m.live), (Some(0.75), Some(0.2), None));
    }
}
