//! `kho refdata codelist` — code lists (danh mục dùng chung) on the command line, as
//! the local operator, on the same store as the server: list and show lists, import a
//! CSV/XLSX file as a draft version (with its validation report and diff), publish a
//! draft, export a version, and look a code up as of a date.

use crate::cli::core;
use anyhow::{bail, Context};
use clap::{Subcommand, ValueEnum};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_refdata::codelist::{self, ExportFormat};
use kho_server::services::codelists::VersionPick;
use kho_server::services::Kho;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CodelistCommand {
    /// Every code list: slug, name, versions.
    List,
    /// One list and its versions (status, dates, items, errors).
    Show { slug: String },
    /// Import a CSV or XLSX file as the list's next version, a draft. Prints the
    /// validation report (errors name row and column) and what changes against the
    /// version in force (added, removed, renamed). Exits 1 when the report has errors.
    Import {
        file: PathBuf,
        /// The code list's slug, e.g. dan-toc.
        #[arg(long, value_name = "SLUG")]
        list: String,
        /// The XLSX sheet to read (the first by default).
        #[arg(long, value_name = "NAME")]
        sheet: Option<String>,
    },
    /// Publish a draft version, in force from --from (the version in force then ends
    /// the day before).
    Publish {
        slug: String,
        version: i64,
        /// First day in force, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Last day in force, YYYY-MM-DD, when known.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
    },
    /// Write a version to standard output (or --output): the version in force today,
    /// or --version N, or the one in force --as-of a date.
    Export {
        slug: String,
        #[arg(long, conflicts_with = "as_of")]
        version: Option<i64>,
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Write here instead of standard output (needed for xlsx on a terminal).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Look a code up as of a date (today by default); prints the item as JSON.
    /// Exits 1 when there is none.
    Lookup {
        slug: String,
        code: String,
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Xlsx,
}

fn date(field: &str, s: Option<&str>) -> anyhow::Result<Option<chrono::NaiveDate>> {
    s.map(|s| codelist::parse_date(field, s).map_err(core)).transpose()
}

pub async fn run(kho: &Kho, command: CodelistCommand) -> anyhow::Result<ExitCode> {
    let operator = Subject::operator();
    let ctx = AuditContext::operator();
    // A store used only by the CLI so far gets the administrative units too.
    kho.seed_code_lists().await.map_err(core)?;
    let mut out = std::io::stdout().lock();
    match command {
        CodelistCommand::List => {
            for list in kho.code_lists().await.map_err(core)? {
                let (_, versions) = kho.code_list(&operator, &list.slug).await.map_err(core)?;
                writeln!(out, "{}\t{}\t{} versions", list.slug, list.name_vi, versions.len())?;
            }
        }
        CodelistCommand::Show { slug } => {
            let (list, versions) = kho.code_list(&operator, &slug).await.map_err(core)?;
            writeln!(out, "{} — {}", list.slug, list.name_vi)?;
            if !list.description.is_empty() {
                writeln!(out, "{}", list.description)?;
            }
            for v in versions {
                let show = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "…".to_string(), |d| d.to_string());
                writeln!(
                    out,
                    "  version {}\t{}\t{} – {}\t{} items\t{} errors",
                    v.version,
                    v.status.as_str(),
                    show(v.effective_from),
                    show(v.effective_until),
                    v.item_count,
                    v.report.error_count
                )?;
            }
        }
        CodelistCommand::Import { file, list, sheet } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let outcome = kho.import_code_list(&operator, &ctx, &list, &name, bytes, sheet).await.map_err(core)?;
            let d = &outcome.diff;
            writeln!(
                out,
                "imported {} as version {} of {list} (draft): {} items",
                file.display(),
                outcome.version.version,
                outcome.version.item_count
            )?;
            match d.against_version {
                Some(v) => writeln!(
                    out,
                    "against version {v}: {} added, {} removed, {} renamed, {} unchanged",
                    d.added.len(),
                    d.removed.len(),
                    d.renamed.len(),
                    d.unchanged
                )?,
                None => writeln!(out, "no published version yet: {} items added", d.added.len())?,
            }
            if !outcome.report.is_ok() {
                for e in &outcome.report.errors {
                    eprintln!("{name}: {e}");
                }
                eprintln!(
                    "{} errors: fix the file and import it again; this draft cannot be published",
                    outcome.report.error_count
                );
                return Ok(ExitCode::FAILURE);
            }
            writeln!(
                out,
                "publish it with: kho refdata codelist publish {list} {} --from YYYY-MM-DD",
                outcome.version.version
            )?;
        }
        CodelistCommand::Publish { slug, version, from, until } => {
            let from = codelist::parse_date("--from", &from).map_err(core)?;
            let until = date("--until", until.as_deref())?;
            let v = kho.publish_code_list(&operator, &ctx, &slug, version, from, until).await.map_err(core)?;
            writeln!(out, "published version {} of {slug}, in force from {from}", v.version)?;
        }
        CodelistCommand::Export { slug, version, as_of, format, output } => {
            let pick = match (version, date("--as-of", as_of.as_deref())?) {
                (Some(n), _) => VersionPick::Number(n),
                (None, Some(d)) => VersionPick::AsOf(d),
                (None, None) => VersionPick::AsOf(kho_server::services::codelists::today()),
            };
            let format = match format {
                Format::Csv => ExportFormat::Csv,
                Format::Json => ExportFormat::Json,
                Format::Xlsx => ExportFormat::Xlsx,
            };
            let (_, _, bytes) = kho.export_code_list(&operator, &slug, pick, format).await.map_err(core)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?
                }
                None => out.write_all(&bytes)?,
            }
        }
        CodelistCommand::Lookup { slug, code, as_of } => {
            let as_of = date("--as-of", as_of.as_deref())?;
            match kho.lookup_code(&slug, &code, as_of).await {
                Ok(found) => writeln!(out, "{}", serde_json::to_string_pretty(&found)?)?,
                Err(e) if e.code == kho_core::ErrorCode::NotFound => {
                    eprintln!("not found: {}", e.message);
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => bail!("{}", e.message),
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
