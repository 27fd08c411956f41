//! `kho quality …` and `kho audit quality`: a table's quality rules, runs of its checks
//! and the report per agency, on the data dir as the local operator.

use crate::cli::core;
use anyhow::Context;
use clap::{Args, Subcommand};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_quality::result::QualityRun;
use kho_quality::{Criterion, Scores};
use kho_server::services::Kho;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum QualityCommand {
    /// Run the quality checks of a resource's tables on their newest version (or
    /// --version) and print the results and the six scores. Exits with status 1 when an
    /// `error` check fails. With --rules, tries those rules without recording the run.
    Check(CheckArgs),
    /// Show or set a table's quality rules (YAML or JSON; see the README).
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Profile a table: per column type, nulls, distinct values, lengths, top values and
    /// patterns, with suggested checks and dictionary bindings.
    Profile(crate::quality_clean::ProfileArgs),
    /// Clean a table with the standardisers into a new version and report what changed.
    Clean(crate::quality_clean::CleanArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// Resource slug or id.
    resource: String,
    /// One table; every table of the resource when absent.
    #[arg(long)]
    table: Option<String>,
    #[arg(long, requires = "table")]
    version: Option<i64>,
    /// Rules to try instead of the stored ones (the run is not recorded).
    #[arg(long, value_name = "FILE", requires = "table")]
    rules: Option<PathBuf>,
    /// Print the runs as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Print the stored rules of a resource's tables.
    Show {
        /// Resource slug or id.
        resource: String,
    },
    /// Check a rules file against the table's newest version and store it.
    Set {
        /// Resource slug or id.
        resource: String,
        #[arg(long, default_value = "main")]
        table: String,
        /// The rules document (YAML or JSON); `-` reads standard input.
        file: PathBuf,
    },
}

fn read_text(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        return std::io::read_to_string(std::io::stdin()).context("cannot read the rules from standard input");
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A share as a percent, `–` when there is none.
pub(crate) fn percent(share: Option<f64>) -> String {
    share.map_or("–".to_string(), |s| format!("{:.1}%", s * 100.0))
}

/// The six scores and the overall one, on one line each.
pub(crate) fn write_scores(out: &mut impl Write, scores: &Scores) -> std::io::Result<()> {
    for c in Criterion::ALL {
        writeln!(out, "  {:<12} {:<11} {:>7}", c.as_str(), c.vietnamese(), percent(scores.get(c)))?;
    }
    writeln!(out, "  {:<12} {:<11} {:>7}", "overall", "chung", percent(scores.overall))
}

fn write_run(out: &mut impl Write, run: &QualityRun) -> std::io::Result<()> {
    writeln!(
        out,
        "table {} version {}: {} rows, {} checks, {} failed ({} ms)",
        run.table,
        run.version,
        run.rows,
        run.results.len(),
        run.failures().len(),
        run.elapsed_ms
    )?;
    for r in &run.results {
        let verdict = if r.error.is_some() {
            "NOT RUN"
        } else if r.passed {
            "pass"
        } else {
            "FAIL"
        };
        write!(
            out,
            "  {verdict:<7} {:<7} {:<40} {:>8} failed of {:>8}  {:>6} (threshold {:.0}%)",
            r.severity.as_str(),
            r.check,
            r.failed,
            r.checked,
            percent(Some(r.pass_rate)),
            r.threshold * 100.0
        )?;
        if let Some(o) = &r.observed {
            write!(out, "  [{o}]")?;
        }
        if let Some(e) = &r.error {
            write!(out, "  error: {e}")?;
        }
        writeln!(out)?;
        for sample in r.samples.iter().take(3) {
            writeln!(out, "           e.g. {sample}")?;
        }
    }
    writeln!(out, "scores:")?;
    write_scores(out, &run.scores)
}

pub async fn run(kho: &Kho, command: QualityCommand) -> anyhow::Result<ExitCode> {
    let operator = Subject::operator();
    let ctx = AuditContext::operator();
    let mut out = std::io::stdout().lock();
    match command {
        QualityCommand::Check(args) => {
            let rules = args.rules.as_ref().map(read_text).transpose()?;
            let tables = match &args.table {
                Some(t) => vec![t.clone()],
                None => kho.tables(&operator, &ctx, &args.resource).await.map_err(core)?,
            };
            if tables.is_empty() {
                anyhow::bail!("resource {} has no table yet; load a file first", args.resource);
            }
            let mut runs = Vec::new();
            for table in &tables {
                let run = kho
                    .run_quality(&operator, &ctx, &args.resource, table, args.version, rules.as_deref())
                    .await
                    .map_err(core)?;
                runs.push(run);
            }
            if args.json {
                serde_json::to_writer_pretty(&mut out, &runs)?;
                writeln!(out)?;
            } else {
                for run in &runs {
                    write_run(&mut out, run)?;
                }
            }
            let ok = runs.iter().all(QualityRun::errors_pass);
            return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
        }
        QualityCommand::Rules(RulesCommand::Show { resource }) => {
            let stored = kho.quality_rules(&operator, &ctx, &resource).await.map_err(core)?;
            if stored.is_empty() {
                writeln!(out, "# resource {resource} has no quality rules yet")?;
            }
            for s in stored {
                writeln!(out, "# table {} (set by {} at {})", s.table, s.updated_by, s.updated_at.format("%F %T"))?;
                writeln!(out, "{}", s.rules.trim_end())?;
            }
        }
        QualityCommand::Rules(RulesCommand::Set { resource, table, file }) => {
            let text = read_text(&file)?;
            let rules = kho.set_quality_rules(&operator, &ctx, &resource, &table, &text).await.map_err(core)?;
            writeln!(out, "stored {} checks for table {table} of {resource}", rules.checks.len())?;
        }
        QualityCommand::Profile(args) => return crate::quality_clean::profile(kho, args).await,
        QualityCommand::Clean(args) => return crate::quality_clean::clean(kho, args).await,
    }
    Ok(ExitCode::SUCCESS)
}

/// `kho audit quality`: the report per agency, as text or JSON, or as an HTML page to
/// print (as PDF) with --html.
pub async fn audit(kho: &Kho, agency: Option<&str>, json: bool, html: Option<&PathBuf>) -> anyhow::Result<ExitCode> {
    let report = kho.agency_quality(&Subject::operator(), agency).await.map_err(core)?;
    let mut out = std::io::stdout().lock();
    if let Some(path) = html {
        let page = kho_server::ui::quality_report_document(&report, kho_core::time::now());
        std::fs::write(path, page).with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(out, "wrote the quality report of {} agencies to {}", report.len(), path.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if report.is_empty() {
        writeln!(out, "no table has been checked yet")?;
    }
    for a in &report {
        writeln!(out, "agency {} — {} ({} failing checks)", a.agency_code, a.agency_name, a.failing_checks)?;
        write_scores(&mut out, &a.scores)?;
        for r in &a.resources {
            let trend: Vec<String> = r.trend.iter().map(|t| format!("{:.0}", t * 100.0)).collect();
            writeln!(
                out,
                "  resource {} — {}: overall {} trend [{}]",
                r.slug,
                r.title,
                percent(r.scores.overall),
                trend.join(" → ")
            )?;
            for f in &r.failing_checks {
                writeln!(out, "    failing: {f}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
