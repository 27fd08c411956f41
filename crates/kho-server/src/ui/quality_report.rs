//! Báo cáo kiểm tra chất lượng dữ liệu — the periodic data quality audit report: per
//! agency, the six scores, each resource's overall score and trend, and the checks
//! failing in the newest runs. One standalone HTML page (its own styles, no script,
//! laid out for printing to PDF), written by `kho audit quality --html` and shown at
//! `/admin/quality/report`.

use super::Lang;
use crate::services::quality::AgencyQuality;
use kho_quality::{Criterion, Scores};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// A share as a percent, `–` when there is none.
pub(crate) fn percent(share: Option<f64>) -> String {
    share.map_or("–".to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// The class colouring a score: good (≥ 90 %), fair (≥ 70 %) or poor.
pub(crate) fn grade(share: Option<f64>) -> &'static str {
    match share {
        Some(s) if s >= 0.9 => "good",
        Some(s) if s >= 0.7 => "fair",
        Some(_) => "poor",
        None => "none",
    }
}

/// The six scores and the overall one as table cells.
pub(crate) fn score_cells(scores: &Scores) -> Markup {
    html! {
        @for c in Criterion::ALL {
            td class=(grade(scores.get(c))) { (percent(scores.get(c))) }
        }
        td class=(grade(scores.overall)) { strong { (percent(scores.overall)) } }
    }
}

/// A criterion's name in `l` (Đúng, Đủ, Sạch, Sống, Thống nhất, Dùng chung).
pub(crate) fn criterion_name(l: Lang, c: Criterion) -> &'static str {
    match l {
        Lang::Vi => c.vietnamese(),
        Lang::En => match c {
            Criterion::Accurate => "Accurate",
            Criterion::Complete => "Complete",
            Criterion::Clean => "Clean",
            Criterion::Live => "Live",
            Criterion::Unified => "Unified",
            Criterion::Shared => "Shared",
        },
    }
}

/// The criteria as table headings.
pub(crate) fn score_headings(l: Lang) -> Markup {
    html! {
        @for c in Criterion::ALL {
            th title=(c.as_str()) { (criterion_name(l, c)) }
        }
        th { (l.t("Chung", "Overall")) }
    }
}

/// The report's body: one section per agency.
pub(crate) fn report_body(l: Lang, report: &[AgencyQuality]) -> Markup {
    html! {
        @if report.is_empty() {
            p { (l.t("Chưa có bảng nào được kiểm tra.", "No table has been checked yet.")) }
        }
        table.scores {
            caption { (l.t("Điểm theo cơ quan", "Scores by agency")) }
            thead { tr { th { (l.t("Cơ quan", "Agency")) } (score_headings(l)) th { (l.t("Kiểm tra lỗi", "Failing checks")) } } }
            tbody {
                @for a in report {
                    tr { th { (a.agency_name) " (" (a.agency_code) ")" } (score_cells(&a.scores)) td { (a.failing_checks) } }
                }
            }
        }
        @for a in report {
            section.agency {
                h2 { (a.agency_name) " — " (a.agency_code) }
                table.scores {
                    thead { tr { th { (l.t("Tài nguyên", "Resource")) } (score_headings(l)) th { (l.t("Xu hướng", "Trend")) } } }
                    tbody {
                        @for r in &a.resources {
                            tr {
                                th { (r.title) br; small { (r.slug) } }
                                (score_cells(&r.scores))
                                td { (trend(&r.trend)) }
                            }
                        }
                    }
                }
                @let failing: Vec<(&str, &String)> = a.resources.iter().flat_map(|r| r.failing_checks.iter().map(move |f| (r.slug.as_str(), f))).collect();
                @if !failing.is_empty() {
                    h3 { (l.t("Kiểm tra không đạt", "Failing checks")) }
                    ul { @for (slug, f) in failing { li { code { (slug) } ": " (f) } } }
                }
            }
        }
    }
}

/// A small line of the overall scores, oldest to newest, as SVG with the numbers.
pub(crate) fn trend(points: &[f64]) -> Markup {
    if points.is_empty() {
        return html! { "–" };
    }
    let (w, h) = (120.0, 28.0);
    let step = if points.len() > 1 { w / (points.len() - 1) as f64 } else { 0.0 };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", i as f64 * step, h - p.clamp(0.0, 1.0) * h))
        .collect();
    let numbers: Vec<String> = points.iter().map(|p| format!("{:.0}", p * 100.0)).collect();
    html! {
        svg width="120" height="28" viewBox="0 -2 120 32" role="img" aria-label=(numbers.join(" → ")) {
            polyline points=(path.join(" ")) fill="none" stroke="#0a5" stroke-width="2" {}
        }
        " " small { (numbers.join(" → ")) }
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse;margin:1rem 0;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}\
td.good{background:#e3f6e8}td.fair{background:#fff6d6}td.poor{background:#fde2e1}caption{text-align:left;font-weight:bold}\
section.agency{page-break-inside:avoid}@media print{body{margin:0}a{color:inherit}}";

/// The report as a whole page, in Vietnamese with the criteria defined at its end.
pub fn quality_report_document(report: &[AgencyQuality], at: chrono::DateTime<chrono::Utc>) -> String {
    let l = Lang::Vi;
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                title { "Báo cáo chất lượng dữ liệu" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "Báo cáo kiểm tra chất lượng dữ liệu" }
                p { "Lập lúc " (at.format("%Y-%m-%d %H:%M UTC")) " — " (report.len()) " cơ quan." }
                (report_body(l, report))
                (definitions(l))
            }
        }
    }
    .into_string()
}

/// What each criterion measures, as the docs define it.
pub(crate) fn definitions(l: Lang) -> Markup {
    html! {
        h2 { (l.t("Cách tính điểm", "How the scores are computed")) }
        dl {
            dt { (l.t("Đúng", "Accurate")) }
            dd { (l.t("Tỷ lệ dòng đạt các kiểm tra hợp lệ (định dạng, danh mục, khoảng giá trị, độ dài, tham chiếu, SQL).",
                "Mean pass rate of the validity checks (formats, code lists, ranges, lengths, references, custom SQL).")) }
            dt { (l.t("Đủ", "Complete")) }
            dd { (l.t("Tỷ lệ giá trị bắt buộc có mặt (kiểm tra not_null; nếu không có: tỷ lệ ô có giá trị), nhân với số dòng so với số dòng tối thiểu.",
                "Share of required values present (not_null checks; without any, the share of filled cells), times rows against the expected minimum.")) }
            dt { (l.t("Sạch", "Clean")) }
            dd { (l.t("Tỷ lệ dòng không trùng khóa và không có lỗi chuẩn hóa (kiểm tra unique và standard).",
                "Share of rows free of duplicate keys and standardisation defects (unique and standard checks).")) }
            dt { (l.t("Sống", "Live")) }
            dd { (l.t("1 khi lần nạp gần nhất còn trong chu kỳ cập nhật đã khai báo, giảm dần về 0 ở hai lần chu kỳ; cùng với kiểm tra freshness.",
                "1 while the last load is within the declared update frequency, falling to 0 at twice it; averaged with the freshness checks.")) }
            dt { (l.t("Thống nhất", "Unified")) }
            dd { (l.t("Tỷ lệ giá trị của các cột gắn với từ điển dữ liệu phù hợp với phần tử dữ liệu; cùng với kiểm tra schema.",
                "Share of conforming values in the columns bound to the data dictionary; averaged with the schema checks.")) }
            dt { (l.t("Dùng chung", "Shared")) }
            dd { (l.t("0 khi không chia sẻ; 0,5 khi là dữ liệu mở hoặc có dịch vụ dữ liệu; 1 khi còn được dùng trong 90 ngày qua.",
                "0 when not offered; ½ when open data or behind a data service; 1 when also used in the last 90 days.")) }
        }
    }
}
