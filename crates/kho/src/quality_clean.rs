//! `kho quality profile|clean`: a table version's profile with suggested checks, and the
//! cleaning step that standardises columns into a new version — on the data dir, as the
//! local operator.

use crate::cli::core;
use crate::quality::{percent, write_scores};
use clap::Args;
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_quality::clean::Transform;
use kho_quality::profile::ColumnProfile;
use kho_quality::{Criterion, Scores};
use kho_server::services::Kho;
use std::io::Write;
use std::process::ExitCode;

#[derive(Args)]
pub struct ProfileArgs {
    /// Resource slug or id.
    resource: String,
    #[arg(long, default_value = "main")]
    table: String,
    /// The version to profile; the newest when absent.
    #[arg(long)]
    version: Option<i64>,
    /// Print the profile as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CleanArgs {
    /// Resource slug or id.
    resource: String,
    #[arg(long, default_value = "main")]
    table: String,
    /// A column and the kind of value it holds, `column=kind` (repeat for several):
    /// text, name, phone, citizen-id, tax-code, date, amount or address.
    #[arg(long = "transform", value_name = "COLUMN=KIND", required = true, value_parser = parse_transform)]
    transforms: Vec<Transform>,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_transform(s: &str) -> Result<Transform, String> {
    Transform::parse(s)
}

/// A value cut to `n` characters for a table cell.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// One line of the per-column table.
fn line([name, kind, nulls, share, distinct, lengths, range]: [&str; 7]) -> String {
    format!("  {name:<24} {kind:<9} {nulls:>8} {share:>7} {distinct:>9}  {lengths:<22} {range}")
}

fn write_column(out: &mut impl Write, c: &ColumnProfile, rows: u64) -> std::io::Result<()> {
    let nulls = if rows == 0 { None } else { Some(c.nulls as f64 / rows as f64) };
    let lengths = match (c.min_length, c.avg_length, c.max_length) {
        (Some(lo), Some(avg), Some(hi)) => format!("{lo}–{hi} (avg {avg:.1})"),
        _ => "–".to_string(),
    };
    let range = match (&c.min, &c.max) {
        (Some(lo), Some(hi)) => format!("{} … {}", cut(lo, 20), cut(hi, 20)),
        _ => "–".to_string(),
    };
    let (name, nulls_count, distinct) = (cut(&c.name, 24), c.nulls.to_string(), c.distinct.to_string());
    writeln!(out, "{}", line([&name, c.kind.as_str(), &nulls_count, &percent(nulls), &distinct, &lengths, &range]))?;
    if !c.top_values.is_empty() {
        let top: Vec<String> = c.top_values.iter().take(5).map(|(v, n)| format!("{} ×{n}", cut(v, 24))).collect();
        writeln!(out, "      top: {}", top.join(", "))?;
    }
    if !c.patterns.is_empty() {
        let patterns: Vec<String> = c.patterns.iter().take(4).map(|(p, n)| format!("{p} ×{n}")).collect();
        writeln!(out, "      patterns: {}", patterns.join(", "))?;
    }
    if let Some(e) = &c.legacy_encoding {
        writeln!(out, "      legacy {e} text in {} of {} sampled values", c.legacy_values, c.sampled)?;
    }
    Ok(())
}

/// `kho quality profile`: the per-column table and the suggested rules.
pub async fn profile(kho: &Kho, args: ProfileArgs) -> anyhow::Result<ExitCode> {
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let report = kho.profile_table(&operator, &ctx, &args.resource, &args.table, args.version).await.map_err(core)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let p = &report.profile;
    writeln!(out, "table {} version {}: {} rows, {} columns", p.table, p.version, p.rows, p.columns.len())?;
    writeln!(out, "{}", line(["column", "type", "nulls", "", "distinct", "length", "min … max"]))?;
    for c in &p.columns {
        write_column(&mut out, c, p.rows)?;
    }
    if !report.suggested_bindings.is_empty() {
        writeln!(out, "suggested dictionary bindings:")?;
        for b in &report.suggested_bindings {
            writeln!(out, "  {} → {} ({})", b.column, b.element, b.element_name)?;
        }
    }
    writeln!(out, "# suggested rules (save with: kho quality rules set {} --table {} FILE)", args.resource, p.table)?;
    writeln!(out, "{}", report.suggested_rules.trim_end())?;
    Ok(ExitCode::SUCCESS)
}

/// `kho quality clean`: the change report and the scores before → after.
pub async fn clean(kho: &Kho, args: CleanArgs) -> anyhow::Result<ExitCode> {
    let (operator, ctx) = (Subject::operator(), AuditContext::operator());
    let outcome =
        kho.clean_table(&operator, &ctx, &args.resource, &args.table, &args.transforms, None).await.map_err(core)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &outcome)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let c = &outcome.changes;
    writeln!(
        out,
        "table {} version {} → version {}: {} rows, {} changed",
        args.table, c.from_version, c.to_version, c.rows, c.rows_changed
    )?;
    let changes_line = |[column, kind, values, unchanged, fixed, invalid]: [&str; 6]| {
        format!("  {column:<24} {kind:<11} {values:>9} {unchanged:>9} {fixed:>9} {invalid:>9}")
    };
    writeln!(out, "{}", changes_line(["column", "kind", "values", "unchanged", "fixed", "invalid"]))?;
    for col in &c.columns {
        let counts = [col.values, col.unchanged, col.fixed, col.invalid].map(|n| n.to_string());
        let [values, unchanged, fixed, invalid] = counts.each_ref().map(String::as_str);
        writeln!(out, "{}", changes_line([&cut(&col.column, 24), &col.kind, values, unchanged, fixed, invalid]))?;
        for (before, after) in col.examples.iter().take(3) {
            writeln!(out, "      {before} → {after}")?;
        }
        for (value, why) in col.invalid_examples.iter().take(3) {
            writeln!(out, "      kept {value} ({why})")?;
        }
    }
    writeln!(out, "scores before → after:")?;
    write_comparison(&mut out, outcome.before.as_ref(), &outcome.run.scores)?;
    if outcome.before.is_none() {
        writeln!(out, "(the version before could not be scored; after:)")?;
        write_scores(&mut out, &outcome.run.scores)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write_comparison(out: &mut impl Write, before: Option<&Scores>, after: &Scores) -> std::io::Result<()> {
    let get = |s: Option<&Scores>, c: Option<Criterion>| s.and_then(|s| c.map_or(s.overall, |c| s.get(c)));
    let rows =
        Criterion::ALL.iter().map(|c| (c.as_str(), c.vietnamese(), Some(*c))).chain([("overall", "chung", None)]);
    for (name, vietnamese, c) in rows {
        writeln!(
            out,
            "  {name:<12} {vietnamese:<11} {:>7} → {:>7}",
            percent(get(before, c)),
            percent(get(Some(after), c))
        )?;
    }
    Ok(())
}
