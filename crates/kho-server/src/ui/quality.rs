//! Chất lượng dữ liệu in the web UI: a resource's quality page
//! (`/admin/resources/{key}/quality`) — for each table the six scores, the newest run's
//! results with failing rows, the history of the scores, the button that runs the
//! checks, the rules editor, the profile with its suggested checks and the cleaning
//! form with its change report — the short summaries on the resource page and on the
//! open dataset page, and the audit report per agency (`/admin/quality/report`).

use super::quality_report::{criterion_name, definitions, grade, percent, report_body, score_cells, score_headings};
use super::{csrf_field, error_page, layout_with_head, require_login, urlencode, Lang};
use crate::http::caller::Caller;
use crate::http::AppState;
use crate::services::quality::{CleaningOutcome, ResourceQuality, TableProfileReport, TableQuality};
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kho_catalog::DataResource;
use kho_core::{Error, ErrorCode};
use kho_lake::LoadedColumn;
use kho_quality::result::{QualityRun, Trigger};
use kho_quality::{CheckResult, Criterion, Rule, RuleSet, Scores, Severity};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

/// Runs drawn in a table's history.
const HISTORY: i64 = 30;

fn severity_label(l: Lang, s: Severity) -> &'static str {
    match s {
        Severity::Error => l.t("lỗi", "error"),
        Severity::Warning => l.t("cảnh báo", "warning"),
        Severity::Info => l.t("thông tin", "info"),
    }
}

fn trigger_label(l: Lang, t: Trigger) -> &'static str {
    match t {
        Trigger::Load => l.t("sau khi nạp", "after a load"),
        Trigger::Manual => l.t("chạy theo yêu cầu", "on request"),
        Trigger::Cleaning => l.t("sau khi làm sạch", "after cleaning"),
    }
}

/// The kinds of value the cleaning step standardises, with their labels.
fn kind_label(l: Lang, kind: kho_standard::Kind) -> &'static str {
    use kho_standard::Kind;
    match kind {
        Kind::Text => l.t("Văn bản (mã cũ TCVN3/VNI → Unicode)", "Text (legacy TCVN3/VNI → Unicode)"),
        Kind::Name => l.t("Họ và tên", "Person name"),
        Kind::Phone => l.t("Số điện thoại", "Phone number"),
        Kind::CitizenId => l.t("Số CCCD", "Citizen ID"),
        Kind::TaxCode => l.t("Mã số thuế", "Tax code"),
        Kind::Date => l.t("Ngày tháng", "Date"),
        Kind::Amount => l.t("Số tiền", "Amount"),
        Kind::Address => l.t("Địa chỉ (đơn vị hành chính 2025)", "Address (2025 administrative units)"),
    }
}

/// Colours of the score classes of `quality_report::grade`, and of the history chart.
const STYLE: &str =
    "dl dt{font-weight:700}td.good{background:#e3f6e8}td.fair{background:#fff6d6}td.poor{background:#fde2e1}\
tr.fail td.status{color:#c81e1e;font-weight:700}tr.pass td.status{color:#1e7e34}\
textarea.rules{max-width:100%;width:100%;font-family:monospace;font-size:.9rem}\
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1rem}\
ul.legend span{display:inline-block;width:1.4rem;height:.3rem;vertical-align:middle;margin-right:.3rem}\
.scroll{overflow-x:auto}pre.yaml{background:#fff;border:1px solid #dde1e6;padding:.6rem;overflow-x:auto}\
@media print{header,form,.noprint{display:none}main{max-width:none}}";

pub(super) fn head() -> Markup {
    html! { style { (PreEscaped(STYLE)) } }
}

fn quality_page(caller: &Caller, path: &str, title: &str, status: StatusCode, content: Markup) -> Response {
    (status, Html(layout_with_head(caller, path, title, head(), content).into_string())).into_response()
}

fn page_path(key: &str) -> String {
    format!("/admin/resources/{key}/quality")
}

/// The six scores and the overall one as a small table.
fn scores_table(l: Lang, id: &str, scores: &Scores) -> Markup {
    html! {
        table.scores id=(id) {
            thead { tr { (score_headings(l)) } }
            tbody { tr { (score_cells(scores)) } }
        }
    }
}

/// The newest run among the tables of a resource, when one was made.
fn newest_run(q: &ResourceQuality) -> Option<&QualityRun> {
    q.tables.iter().filter_map(|t| t.latest.as_ref()).max_by_key(|run| run.started_at)
}

/// The short summary on a resource's management page, with a link to its quality page.
pub async fn summary_section(state: &AppState, caller: &Caller, r: &DataResource) -> Result<Markup, Error> {
    let l = caller.lang;
    let q = state.kho.quality_of(r).await?;
    let newest = newest_run(&q);
    Ok(html! {
        section.card #quality aria-labelledby="quality-h" {
            h2 #quality-h { (l.t("Chất lượng dữ liệu", "Data quality")) }
            @match newest {
                Some(run) => {
                    (scores_table(l, "quality-summary", &q.scores))
                    p.muted { (l.t("Lần kiểm tra gần nhất", "Newest run")) ": " (run.started_at.format("%Y-%m-%d %H:%M")) " UTC" }
                }
                None => p.muted { (l.t("Chưa có lần kiểm tra nào.", "No run of the checks yet.")) }
            }
            p { a #quality-link href=(page_path(&r.slug)) { (l.t("Xem chất lượng dữ liệu, quy tắc kiểm tra và làm sạch", "Quality, checks and cleaning")) " →" } }
        }
    })
}

/// The quality summary of an open dataset's public page: the overall score and the
/// six, with the date of the newest run (nothing before the first run).
pub async fn portal_section(state: &AppState, l: Lang, r: &DataResource) -> Result<Markup, Error> {
    let q = state.kho.quality_of(r).await?;
    let Some(run) = newest_run(&q) else { return Ok(html! {}) };
    Ok(html! {
        section.card #quality aria-labelledby="quality-h" {
            h2 #quality-h { (l.t("Chất lượng dữ liệu", "Data quality")) }
            p {
                (l.t("Điểm chung", "Overall score")) ": "
                strong #quality-overall { (percent(q.scores.overall)) }
                " · " (l.t("kiểm tra lần gần nhất ngày", "last checked on")) " "
                time #quality-date datetime=(run.started_at.to_rfc3339()) { (run.started_at.format("%d/%m/%Y")) }
            }
            table.scores #quality-scores {
                thead { tr { (score_headings(l)) } }
                tbody { tr { (score_cells(&q.scores)) } }
            }
            details {
                summary { (l.t("Cách tính điểm", "How the scores are computed")) }
                (definitions(l))
            }
            p.muted { "JSON: " a href={ "/api/v1/resources/" (r.slug) "/quality" } { "/api/v1/resources/" (r.slug) "/quality" } }
        }
    })
}

/// What a page shows besides the stored state: a message after a change, or a refused
/// change with what was typed.
#[derive(Default)]
struct Notice {
    table: String,
    ok: Option<&'static str>,
    error: Option<String>,
    /// The rules as typed, kept when saving them failed.
    rules: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PageParams {
    /// The table whose rules were saved, checks run or profile made.
    saved: Option<String>,
    ran: Option<String>,
    profiled: Option<String>,
    /// The table whose editor starts from the profile's suggested checks.
    suggested: Option<String>,
}

/// `/admin/resources/{key}/quality`.
pub async fn resource_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Path(key): Path<String>,
    Query(p): Query<PageParams>,
) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    let l = caller.lang;
    let notice = match (p.saved, p.ran, p.profiled) {
        (Some(t), _, _) => Notice {
            table: t,
            ok: Some(l.t("Đã lưu quy tắc kiểm tra.", "The rules were saved.")),
            ..Default::default()
        },
        (_, Some(t), _) => {
            Notice { table: t, ok: Some(l.t("Đã chạy kiểm tra.", "The checks ran.")), ..Default::default() }
        }
        (_, _, Some(t)) => {
            Notice {
                table: t, ok: Some(l.t("Đã lập hồ sơ dữ liệu.", "The profile was made.")), ..Default::default()
            }
        }
        _ => Notice::default(),
    };
    render(&state, &caller, &key, notice, p.suggested.as_deref(), StatusCode::OK).await
}

/// One table's part of the page.
struct TableView {
    quality: TableQuality,
    /// Recorded runs, oldest first.
    history: Vec<QualityRun>,
    columns: Vec<LoadedColumn>,
    /// The newest version, the one the cleaning form cleans.
    newest: Option<i64>,
    profile: Option<TableProfileReport>,
}

async fn render(
    state: &AppState,
    caller: &Caller,
    key: &str,
    notice: Notice,
    suggested: Option<&str>,
    status: StatusCode,
) -> Response {
    let l = caller.lang;
    let path = page_path(key);
    let result = async {
        let (subject, ctx) = (&caller.subject, caller.ctx());
        let r = state.kho.resource(subject, &ctx, key).await?;
        let can_edit = state.kho.may_update(&caller.subject, &r).await?;
        let agency = state.kho.agency(&r.draft.publisher_agency_id).await?;
        let q = state.kho.quality_of(&r).await?;
        let mut tables = Vec::new();
        for t in &q.tables {
            let mut history = state.kho.quality_runs(subject, &ctx, key, &t.table, HISTORY).await?;
            history.reverse();
            let versions = state.kho.table_versions(subject, &ctx, key, &t.table).await?;
            let columns = versions.first().and_then(|v| v.columns.clone()).unwrap_or_default();
            let newest = versions.first().map(|v| v.version);
            let profile = match can_edit {
                true => state.kho.table_profile(subject, &ctx, key, &t.table, None).await?,
                false => None,
            };
            tables.push(TableView { quality: t.clone(), history, columns, newest, profile });
        }
        Ok::<_, Error>((r, can_edit, agency, q, tables))
    };
    let (r, can_edit, agency, q, tables) = match result.await {
        Ok(v) => v,
        Err(e) => return error_page(caller, &path, &e),
    };
    let report = format!("/admin/quality/report?agency={}", urlencode(&agency.code.to_string()));
    let content = html! {
        p.noprint {
            a href={ "/admin/resources/" (r.slug) } { "← " (r.draft.title) }
            " · " a #report-link href=(report) { (l.t("Báo cáo chất lượng của cơ quan", "The agency's quality report")) }
        }
        @if tables.is_empty() {
            p { (l.t("Tài nguyên chưa có bảng dữ liệu nào: hãy nạp dữ liệu trước.", "The resource has no table yet: load data first.")) }
        } @else {
            h2 { (l.t("Điểm của tài nguyên", "The resource's scores")) }
            (scores_table(l, "resource-scores", &q.scores))
        }
        @for t in &tables {
            @let mine = notice.table == t.quality.table;
            (table_section(l, caller, &r.slug, t, can_edit, if mine { Some(&notice) } else { None }, suggested == Some(t.quality.table.as_str())))
        }
        section.card { (definitions(l)) }
    };
    let title = format!("{} — {}", l.t("Chất lượng dữ liệu", "Data quality"), r.draft.title);
    quality_page(caller, &path, &title, status, content)
}

/// A table's scores, newest run, history, rules, profile and cleaning form.
fn table_section(
    l: Lang,
    caller: &Caller,
    slug: &str,
    t: &TableView,
    can_edit: bool,
    notice: Option<&Notice>,
    suggested: bool,
) -> Markup {
    let table = &t.quality.table;
    let base = page_path(slug);
    let stored = t.quality.rules.as_ref().map(|s| s.rules.as_str());
    let typed = notice.and_then(|n| n.rules.as_deref());
    let suggestion = t.profile.as_ref().map(|p| p.suggested_rules.as_str()).filter(|_| suggested);
    let editor_text = typed.or(suggestion).or(stored).unwrap_or("");
    html! {
        section.card id={ "table-" (table) } data-table=(table) {
            h2 { (l.t("Bảng", "Table")) " " code { (table) } }
            @if let Some(n) = notice {
                @if let Some(ok) = n.ok { p.ok role="status" { (ok) } }
                @if n.rules.is_none() { @if let Some(e) = &n.error { p.error role="alert" { (e) } } }
            }
            @match &t.quality.latest {
                Some(run) => {
                    (scores_table(l, &format!("scores-{table}"), &run.scores))
                    h3 { (l.t("Lần kiểm tra gần nhất", "Newest run")) }
                    p.muted.run-info {
                        (l.t("Phiên bản", "Version")) " " span.version { (run.version) } " · "
                        (run.started_at.format("%Y-%m-%d %H:%M")) " UTC · " (trigger_label(l, run.trigger)) " · "
                        (run.rows) " " (l.t("dòng", "rows")) " · " (run.elapsed_ms) " ms · " (run.run_by)
                    }
                    (results_table(l, table, run))
                }
                None => p.muted { (l.t("Bảng chưa được kiểm tra.", "The table has not been checked yet.")) }
            }
            form.noprint.run method="post" action={ (base) "/run" } {
                (csrf_field(caller))
                input type="hidden" name="table" value=(table);
                button type="submit" { (l.t("Chạy kiểm tra", "Run the checks")) }
            }
            @if !t.history.is_empty() {
                h3 { (l.t("Lịch sử điểm theo phiên bản", "Scores by version")) }
                (history_chart(l, table, &t.history))
            }
            h3 id={ "rules-h-" (table) } { (l.t("Quy tắc kiểm tra", "Quality rules")) }
            @if can_edit {
                form.rules method="post" action={ (base) "/rules" } id={ "rules-form-" (table) } {
                    (csrf_field(caller))
                    input type="hidden" name="table" value=(table);
                    @if let Some(n) = notice { @if n.rules.is_some() { @if let Some(e) = &n.error {
                        p.error role="alert" id={ "rules-error-" (table) } { (e) }
                    } } }
                    @if suggestion.is_some() && typed.is_none() {
                        p.muted { (l.t("Trình soạn đang chứa các kiểm tra gợi ý từ hồ sơ dữ liệu; sửa rồi lưu.", "The editor holds the checks the profile suggests; edit them, then save.")) }
                    }
                    label for={ "rules-" (table) } { (l.t("Quy tắc (YAML hoặc JSON)", "Rules (YAML or JSON)")) }
                    textarea.rules id={ "rules-" (table) } name="rules" rows="16" spellcheck="false"
                        placeholder="checks:\n  - not_null: [ho_ten]\n  - unique: ma_ho\n  - format: { column: so_dien_thoai, format: phone }" { (editor_text) }
                    button type="submit" { (l.t("Lưu quy tắc", "Save the rules")) }
                }
            } @else {
                @match stored {
                    Some(text) => pre.yaml { (text) }
                    None => p.muted { (l.t("Chưa có quy tắc.", "No rules yet.")) }
                }
            }
            @if can_edit {
                (profile_part(l, caller, slug, table, t.profile.as_ref()))
                (cleaning_form(l, caller, slug, t))
            }
        }
    }
}

/// The newest run's results, failing checks first, with failing rows in `<details>`.
fn results_table(l: Lang, table: &str, run: &QualityRun) -> Markup {
    let mut results: Vec<&CheckResult> = run.results.iter().collect();
    results.sort_by_key(|r| (r.passed, std::cmp::Reverse(r.severity)));
    html! {
        @if results.is_empty() {
            p.muted { (l.t("Chưa có quy tắc nào: điểm chỉ tính từ dữ liệu và cách chia sẻ.", "No rules yet: the scores come from the data and its sharing only.")) }
        } @else {
            div.scroll {
                table.results id={ "results-" (table) } {
                    thead { tr {
                        th scope="col" { (l.t("Kiểm tra", "Check")) }
                        th scope="col" { (l.t("Kết quả", "Result")) }
                        th scope="col" { (l.t("Mức độ", "Severity")) }
                        th scope="col" { (l.t("Tiêu chí", "Criterion")) }
                        th scope="col" { (l.t("Tỷ lệ đạt / ngưỡng", "Pass rate / threshold")) }
                        th scope="col" { (l.t("Lỗi / đã kiểm tra", "Failed / checked")) }
                        th scope="col" { (l.t("Quan sát", "Observed")) }
                        th scope="col" { (l.t("Dòng lỗi mẫu", "Failing rows")) }
                    } }
                    tbody {
                        @for r in results {
                            tr class=(if r.passed { "pass" } else { "fail" }) data-check=(r.check) {
                                th scope="row" { code { (r.check) } }
                                td.status { (if r.passed { l.t("Đạt", "Pass") } else { l.t("Không đạt", "Fail") }) }
                                td { (severity_label(l, r.severity)) }
                                td { (criterion_name(l, r.criterion)) }
                                td class=(grade(Some(r.pass_rate))) { (percent(Some(r.pass_rate))) " / " (percent(Some(r.threshold))) }
                                td { (r.failed) " / " (r.checked) }
                                td {
                                    @if let Some(o) = &r.observed { (observed_text(l, o)) }
                                    @if let Some(e) = &r.error { p.error { (e) } }
                                }
                                td { @if !r.samples.is_empty() { (samples(l, &r.samples)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Failing rows (or duplicate keys, or defects with their standard form) as a table.
fn samples(l: Lang, rows: &[serde_json::Value]) -> Markup {
    let mut keys: Vec<&str> = Vec::new();
    for row in rows {
        if let Some(o) = row.as_object() {
            for k in o.keys() {
                if !keys.contains(&k.as_str()) {
                    keys.push(k);
                }
            }
        }
    }
    html! {
        details.samples {
            summary { (rows.len()) " " (l.t("dòng", "rows")) }
            table {
                thead { tr { @for k in &keys { th scope="col" { (k) } } } }
                tbody { @for row in rows { tr { @for k in &keys {
                    td { (row.get(*k).map(super::tables::cell).unwrap_or_default()) }
                } } } }
            }
        }
    }
}

/// Colours of the history's lines: the overall score, then each criterion.
const COLOURS: [&str; 7] = ["#1d2733", "#0b5cad", "#1e7e34", "#8b1a1a", "#d97706", "#7c3aed", "#0891b2"];

/// The overall score and each criterion per run, oldest to newest, as SVG lines
/// (version on the x axis), with the numbers in a table.
fn history_chart(l: Lang, table: &str, runs: &[QualityRun]) -> Markup {
    const W: f64 = 640.0;
    const H: f64 = 240.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 12.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 34.0;
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let n = runs.len();
    let x = |i: usize| if n > 1 { LEFT + plot_w * i as f64 / (n - 1) as f64 } else { LEFT + plot_w / 2.0 };
    let y = |v: f64| TOP + plot_h * (1.0 - v.clamp(0.0, 1.0));
    // The overall score (no criterion), then each criterion.
    let series: Vec<(&str, Option<Criterion>)> = std::iter::once((l.t("Chung", "Overall"), None))
        .chain(Criterion::ALL.into_iter().map(|c| (criterion_name(l, c), Some(c))))
        .collect();
    let get = |s: &Scores, c: Option<Criterion>| match c {
        Some(c) => s.get(c),
        None => s.overall,
    };
    let label_every = (n / 10).max(1);
    let title = format!("{} — {}", l.t("Điểm chất lượng theo phiên bản", "Quality scores by version"), table);
    html! {
        figure.chart.history {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title)
                style="max-width:100%;height:auto;background:#fff" id={ "history-" (table) } {
                title { (title) }
                @for frac in [0.0, 0.5, 1.0] {
                    line x1=(LEFT) x2=(W - RIGHT) y1=(y(frac)) y2=(y(frac)) stroke="#dde1e6" {}
                    text x=(LEFT - 6.0) y=(y(frac) + 4.0) text-anchor="end" font-size="11" { (format!("{:.0}%", frac * 100.0)) }
                }
                @for (k, (name, criterion)) in series.iter().enumerate() {
                    @let points: Vec<(usize, f64)> = runs.iter().enumerate().filter_map(|(i, r)| get(&r.scores, *criterion).map(|v| (i, v))).collect();
                    @let colour = COLOURS[k];
                    @let width = if k == 0 { "3" } else { "1.5" };
                    @if points.len() > 1 {
                        polyline.series data-series=(name) fill="none" stroke=(colour) stroke-width=(width)
                            points=(points.iter().map(|(i, v)| format!("{:.1},{:.1}", x(*i), y(*v))).collect::<Vec<_>>().join(" ")) {}
                    }
                    @for (i, v) in &points {
                        circle cx=(format!("{:.1}", x(*i))) cy=(format!("{:.1}", y(*v))) r=(if k == 0 { "3.5" } else { "2.5" }) fill=(colour) {
                            title { (name) " — " (l.t("phiên bản", "version")) " " (runs[*i].version) ": " (percent(Some(*v))) }
                        }
                    }
                }
                @for (i, run) in runs.iter().enumerate() {
                    @if i % label_every == 0 || i + 1 == n {
                        text x=(format!("{:.1}", x(i))) y=(TOP + plot_h + 14.0) text-anchor="middle" font-size="10" { "v" (run.version) }
                    }
                }
                text x=(LEFT + plot_w / 2.0) y=(H - 4.0) text-anchor="middle" font-size="11" { (l.t("Phiên bản của bảng", "Table version")) }
            }
            figcaption {
                ul.legend { @for (k, (name, _)) in series.iter().enumerate() {
                    li { span style={ "background:" (COLOURS[k]) } {} (name) }
                } }
            }
        }
        details {
            summary { (l.t("Số liệu", "The numbers")) }
            div.scroll {
                table.history-data {
                    thead { tr {
                        th scope="col" { (l.t("Phiên bản", "Version")) } th scope="col" { (l.t("Thời điểm (UTC)", "When (UTC)")) }
                        (score_headings(l))
                    } }
                    tbody { @for run in runs.iter().rev() { tr {
                        th scope="row" { (run.version) } td { (run.started_at.format("%Y-%m-%d %H:%M")) }
                        (score_cells(&run.scores))
                    } } }
                }
            }
        }
    }
}

/// The kind of value a column's `standard` check names in the stored rules, if any.
fn standard_kind(rules: Option<&str>, column: &str) -> Option<String> {
    let set = RuleSet::parse(rules?).ok()?;
    set.checks.into_iter().find_map(|c| match c.rule {
        Rule::Standard { column: col, kind } if col == column => {
            kho_standard::Kind::parse(&kind).ok().map(|k| k.as_str().to_string())
        }
        _ => None,
    })
}

/// The cleaning form: for each text column the kind of value to standardise it as.
fn cleaning_form(l: Lang, caller: &Caller, slug: &str, t: &TableView) -> Markup {
    let table = &t.quality.table;
    let stored = t.quality.rules.as_ref().map(|s| s.rules.as_str());
    let text_columns: Vec<&LoadedColumn> = t.columns.iter().filter(|c| c.kind == "text").collect();
    html! {
        h3 id={ "clean-h-" (table) } { (l.t("Làm sạch dữ liệu", "Cleaning")) }
        @if text_columns.is_empty() {
            p.muted { (l.t("Bảng không có cột văn bản để chuẩn hóa.", "The table has no text column to standardise.")) }
        } @else {
            form.clean method="post" action={ (page_path(slug)) "/clean" } id={ "clean-" (table) } {
                (csrf_field(caller))
                input type="hidden" name="table" value=(table);
                @if let Some(v) = t.newest { input type="hidden" name="version" value=(v); }
                p.muted { (l.t(
                    "Mỗi giá trị được đưa về dạng chuẩn trong một phiên bản mới của bảng; giá trị không sửa được giữ nguyên. Sau đó các kiểm tra chạy lại.",
                    "Each value is written in its standard form into a new version of the table; values that cannot be fixed are kept. The checks then run again.")) }
                @for c in text_columns {
                    @let chosen = standard_kind(stored, &c.name);
                    label for={ "clean-" (table) "-" (c.name) } { code { (c.name) } @if c.header != c.name { " — " (c.header) } }
                    select id={ "clean-" (table) "-" (c.name) } name={ "kind:" (c.name) } {
                        option value="" { (l.t("Không làm sạch", "Leave as is")) }
                        @for k in kho_standard::Kind::ALL {
                            option value=(k.as_str()) selected[chosen.as_deref() == Some(k.as_str())] { (kind_label(l, k)) }
                        }
                    }
                }
                button type="submit" { (l.t("Làm sạch thành phiên bản mới", "Clean into a new version")) }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct TableForm {
    csrf_token: String,
    table: String,
}

#[derive(Deserialize)]
pub struct RulesForm {
    csrf_token: String,
    table: String,
    #[serde(default)]
    rules: String,
}

/// Runs a table's checks and returns to the page.
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Form(f): Form<TableForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.run_quality(&caller.subject, &caller.ctx(), &key, &f.table, None, None).await
    };
    let outcome = result.await;
    let to = format!("{}?ran={}#table-{}", page_path(&key), f.table, f.table);
    let notice = Notice { table: f.table, ..Default::default() };
    answer(&state, &caller, &key, outcome, notice, |_| Redirect::to(&to).into_response()).await
}

/// What a form gets back: `done` with the service's answer; input the service refused
/// comes back on the page with its message after `notice.error` (and what was typed);
/// any other error is the error page.
async fn answer<T>(
    state: &AppState,
    caller: &Caller,
    key: &str,
    outcome: Result<T, Error>,
    notice: Notice,
    done: impl FnOnce(T) -> Response,
) -> Response {
    match outcome {
        Ok(answer) => done(answer),
        Err(e) if matches!(e.code, ErrorCode::InvalidField | ErrorCode::Conflict) => {
            let message = match &notice.error {
                Some(prefix) => format!("{prefix} {}", e.message),
                None => e.message,
            };
            let notice = Notice { error: Some(message), ..notice };
            render(state, caller, key, notice, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(caller, &page_path(key), &e),
    }
}

/// Saves a table's rules; a refused document comes back in the editor with the error.
pub async fn save_rules(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Form(f): Form<RulesForm>,
) -> Response {
    let text = f.rules.replace("\r\n", "\n");
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.set_quality_rules(&caller.subject, &caller.ctx(), &key, &f.table, &text).await
    };
    let outcome = result.await;
    let to = format!("{}?saved={}#table-{}", page_path(&key), f.table, f.table);
    let prefix = caller.lang.t("Chưa lưu được quy tắc:", "The rules were not saved:").to_string();
    let notice = Notice { table: f.table, error: Some(prefix), rules: Some(text), ..Default::default() };
    answer(&state, &caller, &key, outcome, notice, |_| Redirect::to(&to).into_response()).await
}

#[derive(Deserialize, Default)]
pub struct ReportParams {
    agency: Option<String>,
    print: Option<String>,
}

/// `/admin/quality/report[?agency=CODE][&print=1]`: the audit report per agency in the
/// layout, or as the standalone printable document.
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
    Query(p): Query<ReportParams>,
) -> Response {
    if let Some(r) = require_login(&caller, &uri) {
        return r;
    }
    let l = caller.lang;
    let agency = p.agency.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let result = async {
        let report = state.kho.agency_quality(&caller.subject, agency).await?;
        let agencies = state.kho.list_agencies().await?;
        Ok::<_, Error>((report, agencies))
    };
    let (report, agencies) = match result.await {
        Ok(v) => v,
        Err(e) => return error_page(&caller, uri.path(), &e),
    };
    if p.print.as_deref().is_some_and(|v| !v.is_empty() && v != "0") {
        return Html(super::quality_report_document(&report, kho_core::time::now())).into_response();
    }
    let print = match agency {
        Some(a) => format!("/admin/quality/report?agency={}&print=1", urlencode(a)),
        None => "/admin/quality/report?print=1".to_string(),
    };
    let content = html! {
        form.card.noprint method="get" action="/admin/quality/report" role="search" {
            label for="agency" { (l.t("Cơ quan", "Agency")) }
            select #agency name="agency" {
                option value="" { (l.t("Tất cả", "All")) }
                @for a in &agencies {
                    @let code = a.code.to_string();
                    option value=(code) selected[agency == Some(code.as_str())] { (a.name) " (" (code) ")" }
                }
            }
            button type="submit" { (l.t("Xem", "Show")) }
        }
        p.noprint {
            a #print-link href=(print) { (l.t("In / Lưu PDF", "Print / save as PDF")) }
            " " span.muted { (l.t(
                "(mở bản in rồi dùng lệnh In của trình duyệt, chọn “Lưu dưới dạng PDF”)",
                "(open the printable page, then use the browser's Print and “Save as PDF”)")) }
        }
        p.muted { (l.t("Lập lúc", "Made at")) " " (kho_core::time::now().format("%Y-%m-%d %H:%M")) " UTC — " (report.len()) " " (l.t("cơ quan", "agencies")) }
        div #report { (report_body(l, &report)) }
        section.card { (definitions(l)) }
    };
    quality_page(
        &caller,
        &super::here(&uri),
        l.t("Báo cáo chất lượng dữ liệu", "Data quality report"),
        StatusCode::OK,
        content,
    )
}

/// The profile button, and the newest profile: per column its type, missing and
/// distinct values, range, lengths, frequent values and patterns; the suggested checks
/// with buttons that save them or put them in the editor; the suggested dictionary
/// bindings.
fn profile_part(l: Lang, caller: &Caller, slug: &str, table: &str, report: Option<&TableProfileReport>) -> Markup {
    let base = page_path(slug);
    let pairs = |values: &[(String, u64)]| -> Markup {
        html! { @for (i, (v, n)) in values.iter().take(5).enumerate() { @if i > 0 { br; } code { (v) } " × " (n) } }
    };
    html! {
        h3 id={ "profile-h-" (table) } { (l.t("Hồ sơ dữ liệu", "Data profile")) }
        form.noprint.profile method="post" action={ (base) "/profile" } {
            (csrf_field(caller))
            input type="hidden" name="table" value=(table);
            button type="submit" { (l.t("Lập hồ sơ dữ liệu", "Profile the data")) }
        }
        @if let Some(report) = report {
            @let p = &report.profile;
            p.muted { (l.t("Phiên bản", "Version")) " " (p.version) " · " (p.rows) " " (l.t("dòng", "rows")) }
            div.scroll {
                table.profile id={ "profile-" (table) } {
                    thead { tr {
                        th scope="col" { (l.t("Cột", "Column")) } th scope="col" { (l.t("Kiểu", "Type")) }
                        th scope="col" { (l.t("Trống", "Missing")) } th scope="col" { (l.t("Khác nhau", "Distinct")) }
                        th scope="col" { (l.t("Nhỏ nhất", "Min")) } th scope="col" { (l.t("Lớn nhất", "Max")) }
                        th scope="col" { (l.t("Độ dài (ngắn–TB–dài)", "Length (min–mean–max)")) }
                        th scope="col" { (l.t("Giá trị hay gặp", "Frequent values")) }
                        th scope="col" { (l.t("Dạng", "Patterns")) }
                        th scope="col" { (l.t("Mã cũ", "Legacy encoding")) }
                    } }
                    tbody { @for c in &p.columns { tr data-column=(c.name) {
                        th scope="row" { code { (c.name) } }
                        td { (c.kind.as_str()) }
                        td.nulls { (c.nulls) }
                        td.distinct { (c.distinct) }
                        td { (c.min.clone().unwrap_or_default()) }
                        td { (c.max.clone().unwrap_or_default()) }
                        td { @if let (Some(lo), Some(hi)) = (c.min_length, c.max_length) {
                            (lo) "–" (c.avg_length.map(|a| format!("{a:.1}")).unwrap_or_default()) "–" (hi)
                        } }
                        td { (pairs(&c.top_values)) }
                        td { (pairs(&c.patterns)) }
                        td.legacy { @if let Some(e) = &c.legacy_encoding { (e) " (" (c.legacy_values) "/" (c.sampled) ")" } }
                    } } }
                }
            }
            h4 { (l.t("Kiểm tra gợi ý", "Suggested checks")) }
            @if report.suggested_rules.trim().is_empty() || report.suggested_rules.trim() == "checks: []" {
                p.muted { (l.t("Không có kiểm tra nào được gợi ý.", "No check is suggested.")) }
            } @else {
                pre.yaml id={ "suggested-" (table) } { (report.suggested_rules) }
                form.inline.noprint.use-suggested method="post" action={ (base) "/rules" } {
                    (csrf_field(caller))
                    input type="hidden" name="table" value=(table);
                    input type="hidden" name="rules" value=(report.suggested_rules);
                    button type="submit" { (l.t("Lưu làm quy tắc kiểm tra", "Save as the rules")) }
                }
                " "
                a.noprint.edit-suggested href={ (base) "?suggested=" (table) "#rules-h-" (table) } { (l.t("Đưa vào trình soạn để sửa", "Put them in the editor")) }
            }
            h4 { (l.t("Gợi ý gắn với từ điển dữ liệu", "Suggested dictionary bindings")) }
            @if report.suggested_bindings.is_empty() {
                p.muted { (l.t("Không có gợi ý.", "None.")) }
            } @else {
                ul.bindings { @for b in &report.suggested_bindings {
                    li { code { (b.column) } " → " a href={ "/dictionary/" (b.element) } { (b.element_name) } " (" (b.element) ")" }
                } }
                p { a href={ "/admin/resources/" (slug) "#conformance" } { (l.t("Gắn cột trên trang tài nguyên", "Bind columns on the resource page")) } }
            }
        }
    }
}

/// Profiles a table's newest version and returns to the page, where the profile shows.
pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Form(f): Form<TableForm>,
) -> Response {
    let result = async {
        caller.check_csrf(&f.csrf_token)?;
        state.kho.profile_table(&caller.subject, &caller.ctx(), &key, &f.table, None).await
    };
    let outcome = result.await;
    let to = format!("{}?profiled={}#profile-h-{}", page_path(&key), f.table, f.table);
    let notice = Notice { table: f.table, ..Default::default() };
    answer(&state, &caller, &key, outcome, notice, |_| Redirect::to(&to).into_response()).await
}

/// Cleans a table into a new version: the form names, for each column, the kind of
/// value (`kind:<column>` = `name`, `phone`, …; empty leaves the column as it is).
/// The answer is the change report with the scores before and after.
pub async fn clean(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let table = field("table").to_string();
    let result = async {
        caller.check_csrf(field("csrf_token"))?;
        let mut transforms = Vec::new();
        for (name, kind) in &fields {
            let Some(column) = name.strip_prefix("kind:") else { continue };
            if kind.trim().is_empty() {
                continue;
            }
            let kind = kho_standard::Kind::parse(kind).map_err(|m| Error::invalid("transforms", m))?;
            transforms.push(kho_quality::clean::Transform::new(column, kind));
        }
        let version = match field("version") {
            "" => None,
            v => Some(v.parse::<i64>().map_err(|_| Error::invalid("version", format!("{v:?} is not a version")))?),
        };
        state.kho.clean_table(&caller.subject, &caller.ctx(), &key, &table, &transforms, version).await
    };
    let outcome = result.await;
    let notice = Notice { table: table.clone(), ..Default::default() };
    answer(&state, &caller, &key, outcome, notice, |o| cleaning_result(&caller, &key, &table, &o)).await
}

/// The cleaning step's result: the change report per column and the scores of the
/// version cleaned and of the new one.
fn cleaning_result(caller: &Caller, key: &str, table: &str, o: &CleaningOutcome) -> Response {
    let l = caller.lang;
    let c = &o.changes;
    let before = o.before.unwrap_or_default();
    let after = &o.run.scores;
    let change = |b: Option<f64>, a: Option<f64>| match (b, a) {
        (Some(b), Some(a)) => format!("{:+.1}", (a - b) * 100.0),
        _ => String::new(),
    };
    let rows: Vec<(&'static str, &'static str, Option<f64>, Option<f64>)> = Criterion::ALL
        .into_iter()
        .map(|k| (k.as_str(), criterion_name(l, k), before.get(k), after.get(k)))
        .chain([("overall", l.t("Chung", "Overall"), before.overall, after.overall)])
        .collect();
    let content = html! {
        p.ok role="status" #cleaned {
            (l.t("Đã làm sạch bảng", "Cleaned table")) " " code { (table) } ": "
            (l.t("phiên bản", "version")) " " span #from-version { (o.from_version) } " → "
            strong #to-version { (o.version) } " — " (c.rows) " " (l.t("dòng", "rows")) ", "
            span #rows-changed { (c.rows_changed) } " " (l.t("dòng thay đổi", "rows changed")) "."
        }
        h2 { (l.t("Thay đổi theo cột", "Changes by column")) }
        div.scroll {
            table #changes {
                thead { tr {
                    th scope="col" { (l.t("Cột", "Column")) } th scope="col" { (l.t("Loại giá trị", "Kind")) }
                    th scope="col" { (l.t("Giá trị", "Values")) } th scope="col" { (l.t("Giữ nguyên", "Unchanged")) }
                    th scope="col" { (l.t("Đã sửa", "Fixed")) } th scope="col" { (l.t("Không sửa được", "Invalid")) }
                    th scope="col" { (l.t("Ví dụ (trước → sau)", "Examples (before → after)")) }
                } }
                tbody { @for col in &c.columns { tr data-column=(col.column) {
                    th scope="row" { code { (col.column) } }
                    td { (kho_standard::Kind::parse(&col.kind).map(|k| kind_label(l, k)).unwrap_or(col.kind.as_str())) }
                    td.values { (col.values) } td.unchanged { (col.unchanged) }
                    td.fixed { (col.fixed) } td.invalid { (col.invalid) }
                    td {
                        @if !col.examples.is_empty() {
                            ul.examples { @for (b, a) in &col.examples { li { code { (b) } " → " code { (a) } } } }
                        }
                        @if !col.invalid_examples.is_empty() {
                            details {
                                summary { (l.t("Giá trị không sửa được (giữ nguyên)", "Values that cannot be fixed (kept)")) }
                                ul { @for (v, why) in &col.invalid_examples { li { code { (v) } " — " (why) } } }
                            }
                        }
                    }
                } } }
            }
        }
        h2 { (l.t("Điểm trước và sau", "Scores before and after")) }
        @if o.before.is_none() {
            p.muted { (l.t("Phiên bản trước chưa chấm điểm được.", "The version cleaned could not be scored.")) }
        }
        table #before-after {
            thead { tr {
                th scope="col" { (l.t("Tiêu chí", "Criterion")) }
                th scope="col" { (l.t("Phiên bản", "Version")) " " (o.from_version) }
                th scope="col" { (l.t("Phiên bản", "Version")) " " (o.version) }
                th scope="col" { (l.t("Thay đổi (điểm %)", "Change (points)")) }
            } }
            tbody { @for (id, name, b, a) in &rows { tr data-criterion=(id) {
                th scope="row" { (name) }
                td.before class=(grade(*b)) { (percent(*b)) }
                td.after class=(grade(*a)) { (percent(*a)) }
                td.delta { (change(*b, *a)) }
            } } }
        }
        @let failing = o.run.failures();
        @if !failing.is_empty() {
            h2 { (l.t("Kiểm tra chưa đạt sau khi làm sạch", "Checks still failing")) }
            ul #still-failing { @for f in failing { li { code { (f.check) } " — " (percent(Some(f.pass_rate))) } } }
        }
        p {
            a #back href={ (page_path(key)) "#table-" (table) } { "← " (l.t("Về trang chất lượng", "Back to the quality page")) }
            " · " a href={ "/admin/resources/" (key) "/tables/" (table) "/versions/" (o.version) "/diff" } { (l.t("So sánh phiên bản", "Compare the versions")) }
        }
    };
    let title = format!("{} — {table}", l.t("Kết quả làm sạch", "Cleaning result"));
    quality_page(caller, &page_path(key), &title, StatusCode::OK, content)
}

/// What a check saw, as `kho-quality` writes it (in English), in the page's language.
fn observed_text(l: Lang, observed: &str) -> String {
    if l == Lang::En {
        return observed.to_string();
    }
    const WORDS: [(&str, &str); 7] = [
        (" fixable, ", " sửa được, "),
        (" invalid", " không hợp lệ"),
        (" days old)", " ngày trước)"),
        ("no rows", "không có dòng nào"),
        ("no date", "không có ngày nào"),
        (": missing", ": thiếu cột"),
        (" not ", " thay vì "),
    ];
    WORDS.iter().fold(observed.to_string(), |text, (en, vi)| text.replace(en, vi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_check_saw_reads_in_vietnamese() {
        assert_eq!(observed_text(Lang::Vi, "3 fixable, 1 invalid"), "3 sửa được, 1 không hợp lệ");
        assert_eq!(observed_text(Lang::Vi, "2026-11-30 13:48 (2 days old)"), "2026-11-30 13:48 (2 ngày trước)");
        assert_eq!(
            observed_text(Lang::Vi, "ngay: missing; so: text not integer"),
            "ngay: thiếu cột; so: text thay vì integer"
        );
        assert_eq!(observed_text(Lang::En, "3 fixable, 1 invalid"), "3 fixable, 1 invalid");
    }
}
