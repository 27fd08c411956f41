//! Chất lượng dữ liệu — quality services: each table's rules, runs of its checks on a
//! version (after every load and cleaning, and on demand) with results and the six
//! scores, roll-ups per resource and per agency, and the publish gate a failing
//! `error` check closes when the rules ask for it.
//!
//! A run plans the rules into SQL ([`kho_quality::Plan`]), runs it on the table
//! version through the warehouse's query engine, answers the checks SQL does not
//! (schema, the last load's age, standard forms) here, samples the failing rows and
//! scores the version ([`kho_quality::Scores`]).

mod clean;
mod profile;

pub use clean::CleaningOutcome;
pub use profile::TableProfileReport;

use super::portal::is_open_data;
use super::Kho;
use kho_catalog::{DataResource, Frequency};
use kho_core::audit::AuditContext;
use kho_core::identity::Subject;
use kho_core::policy::Action;
use kho_core::{Error, Result};
use kho_exchange::ServiceTarget;
use kho_lake::{Lake, QueryLimits, QueryTable, TableName};
use kho_quality::clean::{ColumnChanges, Transform};
use kho_quality::result::{QualityRun, Trigger};
use kho_quality::{
    CheckResult, CodeLists, Dialect, Evidence, Observed, Plan, Rule, RuleSet, Scores, Sharing, TableShape,
};
use kho_store::{MessageQuery, StoredRules};
use serde::Serialize;
use std::time::Instant;

/// Failing rows kept per check.
const SAMPLES: usize = 5;

/// A table of a resource with its rules and newest run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TableQuality {
    pub table: String,
    pub rules: Option<StoredRules>,
    pub latest: Option<QualityRun>,
}

/// A resource's quality: each table's, and the scores averaged over its tables.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceQuality {
    pub resource_id: String,
    pub slug: String,
    pub title: String,
    pub tables: Vec<TableQuality>,
    pub scores: Scores,
}

/// An agency's quality: its resources' scores and their mean.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgencyQuality {
    pub agency_code: String,
    pub agency_name: String,
    pub resources: Vec<ResourceScores>,
    pub scores: Scores,
    /// Checks failing in the newest runs, over all its tables.
    pub failing_checks: usize,
}

/// One resource's line in an agency's report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResourceScores {
    pub slug: String,
    pub title: String,
    pub scores: Scores,
    /// The overall score of its first table's last 30 runs, oldest first (the trend).
    pub trend: Vec<f64>,
    pub failing_checks: Vec<String>,
}

/// How long a declared update frequency lets a table go without a load, in seconds.
fn period_seconds(f: Frequency) -> Option<i64> {
    const DAY: i64 = 86_400;
    match f {
        Frequency::Continuous | Frequency::Daily => Some(DAY),
        Frequency::Weekly => Some(7 * DAY),
        Frequency::Monthly => Some(31 * DAY),
        Frequency::Quarterly => Some(92 * DAY),
        Frequency::Annual => Some(366 * DAY),
        Frequency::Irregular | Frequency::Never => None,
    }
}

/// The shape of a table version as the checks see it.
fn shape_of(table: &str, columns: &[(String, String)]) -> TableShape {
    TableShape::new(
        table,
        columns
            .iter()
            .map(|(name, ty)| kho_quality::Column::new(name, kho_quality::ColumnKind::from_arrow_name(ty)))
            .collect(),
    )
}

/// A run of a table version started at `started_at`, with nothing measured yet.
fn new_run(
    ctx: &AuditContext,
    r: &DataResource,
    table: &str,
    version: i64,
    trigger: Trigger,
    started_at: chrono::DateTime<chrono::Utc>,
) -> QualityRun {
    QualityRun {
        id: 0,
        resource_id: r.id.clone(),
        table: table.to_string(),
        version,
        trigger,
        run_by: ctx.actor.clone(),
        started_at,
        elapsed_ms: 0,
        rows: 0,
        results: Vec::new(),
        scores: Scores::default(),
    }
}

/// A table version as the checks' SQL names it: by its bare name.
fn checked_table(resource_id: &str, table: &str, version: i64) -> QueryTable {
    QueryTable {
        name: TableName { schema: String::new(), table: table.to_string() },
        resource_id: resource_id.to_string(),
        table: table.to_string(),
        version: Some(version),
    }
}

fn rule_error(table: &str, e: kho_quality::RuleError) -> Error {
    Error::invalid("rules", format!("quality rules of table {table}: {e}"))
}

type Row = serde_json::Map<String, serde_json::Value>;

/// The rows a query returns, as JSON objects.
async fn rows_of(lake: &Lake, sql: &str, tables: &[QueryTable], limits: QueryLimits) -> Result<Vec<Row>> {
    let checked = kho_lake::query::check_allowing_bare_names(sql)?;
    let result = lake.query(checked, tables, limits).await?;
    kho_lake::to_json_rows(&result.batches).map_err(|e| Error::internal(e.to_string()))
}

/// Runs a plan's SQL — the one aggregate pass, then each other query — on `tables`
/// (the checked table under its bare name among them). A check whose own query fails
/// is answered as not run, with the engine's message; the aggregate failing fails the
/// run.
pub async fn observe(lake: &Lake, plan: &Plan, tables: &[QueryTable], limits: QueryLimits) -> Result<Observed> {
    let mut observed = Observed::at(kho_core::time::now());
    observed.aggregate =
        rows_of(lake, plan.aggregate_sql(), tables, limits).await?.into_iter().next().unwrap_or_default();
    for (i, sql) in plan.queries() {
        match rows_of(lake, sql, tables, limits).await {
            Ok(rows) => {
                observed.queries.insert(i, rows.into_iter().next().unwrap_or_default());
            }
            Err(e) => {
                observed.local.insert(i, CheckResult::of(&plan.checks()[i]).not_run(&e.message));
            }
        }
    }
    Ok(observed)
}

impl Kho {
    /// The rules of each table of a resource, for those who may read it.
    pub async fn quality_rules(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<Vec<StoredRules>> {
        let r = self.resource(subject, ctx, key).await?;
        Ok(self.store.quality_rules(&r.id).await?)
    }

    /// Keeps a table's rules after checking them against its newest version.
    pub async fn set_quality_rules(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        text: &str,
    ) -> Result<RuleSet> {
        let r = self.resource(subject, ctx, key).await?;
        let target = format!("table:{}/{table}", r.id);
        self.check_resource(subject, ctx, Action::Update, &r.draft, "quality.rules.set", &target).await?;
        let rules = RuleSet::parse(text).map_err(|e| rule_error(table, e))?;
        let (_, columns) = self.lake.arrow_columns(&r.id, table, None).await?;
        rules.check_against(&shape_of(table, &columns)).map_err(|e| rule_error(table, e))?;
        self.store.set_quality_rules(ctx, &r.id, table, text).await?;
        Ok(rules)
    }

    /// A table's stored rules (none when it has none).
    async fn stored_rules(&self, resource_id: &str, table: &str) -> Result<RuleSet> {
        let stored = self.store.quality_rules(resource_id).await?;
        match stored.into_iter().find(|s| s.table == table) {
            Some(s) => RuleSet::parse(&s.rules).map_err(|e| rule_error(table, e)),
            None => Ok(RuleSet::default()),
        }
    }

    /// Runs a table's checks on a version (the newest when `None`), as someone asked.
    /// With `rules`, those are tried instead of the stored ones and the run is not
    /// kept; otherwise it is recorded.
    pub async fn run_quality(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        version: Option<i64>,
        rules: Option<&str>,
    ) -> Result<QualityRun> {
        let r = self.readable(subject, ctx, key).await?;
        match rules {
            Some(text) => {
                let rules = RuleSet::parse(text).map_err(|e| rule_error(table, e))?;
                self.evaluate(subject, ctx, &r, table, version, &rules, Trigger::Manual).await
            }
            None => {
                let rules = self.stored_rules(&r.id, table).await?;
                let mut run = self.evaluate(subject, ctx, &r, table, version, &rules, Trigger::Manual).await?;
                run.id = self.store.save_quality_run(ctx, &run).await?;
                Ok(run)
            }
        }
    }

    /// Runs and records a table's checks on a version just made by a load or the
    /// cleaning step.
    pub(crate) async fn check_new_version(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        r: &DataResource,
        table: &str,
        version: i64,
        trigger: Trigger,
    ) -> Result<QualityRun> {
        let rules = self.stored_rules(&r.id, table).await?;
        let mut run = match self.evaluate(subject, ctx, r, table, Some(version), &rules, trigger).await {
            Ok(run) => run,
            // Rules that no longer fit the new version (a column renamed, say): the run
            // is recorded with each check not run and why, so the steward sees it.
            Err(e) if e.code == kho_core::ErrorCode::InvalidField => QualityRun {
                results: rules.checks.iter().map(|c| CheckResult::of(c).not_run(&e.message)).collect(),
                ..new_run(ctx, r, table, version, trigger, kho_core::time::now())
            },
            Err(e) => return Err(e),
        };
        run.id = self.store.save_quality_run(ctx, &run).await?;
        Ok(run)
    }

    /// A table's recorded runs, newest first.
    pub async fn quality_runs(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        key: &str,
        table: &str,
        limit: i64,
    ) -> Result<Vec<QualityRun>> {
        // Runs carry failing rows: reading them is reading the data (audited when not open).
        let r = self.readable(subject, ctx, key).await?;
        Ok(self.store.quality_runs(&r.id, table, limit.clamp(1, 500)).await?)
    }

    /// Each table's rules and newest run, and the resource's scores.
    pub async fn resource_quality(&self, subject: &Subject, ctx: &AuditContext, key: &str) -> Result<ResourceQuality> {
        // Runs carry failing rows: reading them is reading the data (audited when not open).
        let r = self.readable(subject, ctx, key).await?;
        self.quality_of(&r).await
    }

    pub(crate) async fn quality_of(&self, r: &DataResource) -> Result<ResourceQuality> {
        let rules = self.store.quality_rules(&r.id).await?;
        let mut tables = Vec::new();
        for table in self.lake.tables(&r.id).await? {
            let latest = self.store.quality_runs(&r.id, &table, 1).await?.into_iter().next();
            let rules = rules.iter().find(|s| s.table == table).cloned();
            tables.push(TableQuality { table, rules, latest });
        }
        let scores = Scores::mean_of(tables.iter().filter_map(|t| t.latest.as_ref().map(|run| &run.scores)));
        Ok(ResourceQuality {
            resource_id: r.id.clone(),
            slug: r.slug.clone(),
            title: r.draft.title.clone(),
            tables,
            scores,
        })
    }

    /// Why publishing `r` is refused: tables whose rules block publishing and whose
    /// newest version fails an `error` check (empty when nothing blocks).
    pub(crate) async fn publish_blockers(&self, r: &DataResource) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for stored in self.store.quality_rules(&r.id).await? {
            let Ok(rules) = RuleSet::parse(&stored.rules) else { continue };
            if !rules.block_publish {
                continue;
            }
            let newest = self.lake.arrow_columns(&r.id, &stored.table, None).await.ok().map(|(v, _)| v);
            let latest = self.store.quality_runs(&r.id, &stored.table, 1).await?.into_iter().next();
            match latest {
                Some(run) if Some(run.version) == newest => {
                    let failing: Vec<String> =
                        run.failures().iter().filter(|f| rules.blocks(f.severity)).map(|f| f.check.clone()).collect();
                    if !failing.is_empty() {
                        out.push(format!(
                            "table {} version {} fails {}",
                            stored.table,
                            run.version,
                            failing.join(", ")
                        ));
                    }
                }
                _ if newest.is_some() => {
                    out.push(format!("table {}: its newest version has not been checked", stored.table))
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The quality report per agency (all, or the one whose code is `agency`): each
    /// resource's scores and trend, for those who may read them.
    pub async fn agency_quality(&self, subject: &Subject, agency: Option<&str>) -> Result<Vec<AgencyQuality>> {
        let runs = self.store.latest_quality_runs().await?;
        let page = self.list_resources(subject, super::ResourceFilter { limit: 10_000, ..Default::default() }).await?;
        let agencies: std::collections::HashMap<String, (String, String)> =
            self.store.list_agencies().await?.into_iter().map(|a| (a.id, (a.code.to_string(), a.name))).collect();
        let mut by_agency: std::collections::BTreeMap<String, AgencyQuality> = Default::default();
        for r in page.items {
            let (code, name) = agencies.get(&r.draft.publisher_agency_id).cloned().unwrap_or_default();
            if agency.is_some_and(|wanted| wanted != code.as_str()) {
                continue;
            }
            let mine: Vec<&QualityRun> = runs.iter().filter(|run| run.resource_id == r.id).collect();
            let Some(first) = mine.first() else { continue };
            let history = self.store.quality_runs(&r.id, &first.table, 30).await?;
            let trend = history.iter().rev().filter_map(|h| h.scores.overall).collect();
            let failing_checks: Vec<String> = mine
                .iter()
                .flat_map(|run| run.failures().into_iter().map(|f| format!("{}: {}", run.table, f.check)))
                .collect();
            let entry = by_agency.entry(code.clone()).or_insert_with(|| AgencyQuality {
                agency_code: code.clone(),
                agency_name: name.clone(),
                resources: vec![],
                scores: Scores::default(),
                failing_checks: 0,
            });
            entry.failing_checks += failing_checks.len();
            entry.resources.push(ResourceScores {
                slug: r.slug.clone(),
                title: r.draft.title.clone(),
                scores: Scores::mean_of(mine.iter().map(|run| &run.scores)),
                trend,
                failing_checks,
            });
        }
        let mut out: Vec<AgencyQuality> = by_agency.into_values().collect();
        for a in &mut out {
            a.scores = Scores::mean_of(a.resources.iter().map(|r| &r.scores));
        }
        Ok(out)
    }

    /// Runs `rules` on a table version and scores it (nothing is recorded here).
    #[allow(clippy::too_many_arguments)]
    async fn evaluate(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        r: &DataResource,
        table: &str,
        version: Option<i64>,
        rules: &RuleSet,
        trigger: Trigger,
    ) -> Result<QualityRun> {
        let started_at = kho_core::time::now();
        let clock = Instant::now();
        let (version, columns) = self.lake.arrow_columns(&r.id, table, version).await?;
        let shape = shape_of(table, &columns);
        rules.check_against(&shape).map_err(|e| rule_error(table, e))?;
        let code_lists = self.code_lists_for(r, rules).await?;
        let plan = Plan::new(rules, &shape, &code_lists, Dialect::DataFusion).map_err(Error::internal)?;
        let tables = self.tables_for(subject, ctx, r, table, version, rules).await?;
        let mut observed = observe(&self.lake, &plan, &tables, self.settings.quality_limits()).await?;
        let loaded_at = self.version_time(&r.id, table, version).await?;
        for (i, check) in plan.local_checks() {
            let result = match &check.rule {
                Rule::Schema { .. } => kho_quality::result::schema(check, &shape),
                Rule::Freshness { .. } => kho_quality::result::freshness(check, loaded_at, observed.now, None),
                Rule::Standard { column, kind } => {
                    let kind = kho_standard::Kind::parse(kind).map_err(|m| Error::invalid("rules", m))?;
                    let mut found = ColumnChanges::new(&Transform::new(column, kind));
                    self.lake
                        .scan_column(&r.id, table, Some(version), column, |v| {
                            found.apply(kind, v.unwrap_or_default());
                        })
                        .await?;
                    kho_quality::result::standard(check, &found)
                }
                _ => CheckResult::of(check).not_run("not answered here"),
            };
            observed.local.insert(i, result);
        }
        let mut results = plan.results(&observed);
        for (i, result) in results.iter_mut().enumerate() {
            if result.passed || result.failed == 0 || !result.samples.is_empty() {
                continue;
            }
            if let Some(sql) = plan.sample_sql(i, SAMPLES) {
                match self.rows_of(&sql, &tables).await {
                    Ok(rows) => result.samples = rows.into_iter().map(serde_json::Value::Object).collect(),
                    Err(e) => tracing::warn!(error = %e, check = %result.check, "failing rows were not sampled"),
                }
            }
        }
        let rows = Plan::rows(&observed);
        let scores = Scores::compute(&Evidence {
            results: &results,
            rows,
            expected_rows: rules.checks.iter().find_map(|c| match c.rule {
                Rule::RowCount { min, .. } => min,
                _ => None,
            }),
            filled_share: plan.filled_share(&observed, shape.columns.len()),
            conformance: self.conformance_tally(&r.id, table, version).await?,
            age_seconds: loaded_at.map(|t| (observed.now - t).num_seconds()),
            period_seconds: period_seconds(r.draft.update_frequency),
            sharing: self.sharing(r).await?,
        });
        Ok(QualityRun {
            elapsed_ms: clock.elapsed().as_millis() as u64,
            rows,
            results,
            scores,
            ..new_run(ctx, r, table, version, trigger, started_at)
        })
    }

    /// The codes of every code list the rules name, as of the check's date (else the
    /// data's date).
    async fn code_lists_for(&self, r: &DataResource, rules: &RuleSet) -> Result<CodeLists> {
        let mut out = CodeLists::new();
        for (list, as_of) in rules.code_lists() {
            let published = self
                .published_code_list(&list)
                .await
                .map_err(|_| Error::invalid("rules", format!("code_list: there is no published code list {list:?}")))?;
            let on = as_of.unwrap_or_else(|| super::conformance::data_date(r));
            let index = published.on(on).ok_or_else(|| {
                Error::invalid("rules", format!("code_list: {list:?} has no version in force on {on}"))
            })?;
            out.insert((list, as_of), index.items().iter().map(|i| i.code.clone()).collect());
        }
        Ok(out)
    }

    /// The checked table under its bare name, and every other table the rules read
    /// (references, custom SQL), for those who may read them.
    async fn tables_for(
        &self,
        subject: &Subject,
        ctx: &AuditContext,
        r: &DataResource,
        table: &str,
        version: i64,
        rules: &RuleSet,
    ) -> Result<Vec<QueryTable>> {
        let mut others: Vec<TableName> = Vec::new();
        for check in &rules.checks {
            let names = match &check.rule {
                Rule::Reference { table: other, .. } => {
                    let (schema, t) = other.split_once('.').unwrap_or(("", other));
                    vec![TableName { schema: schema.to_string(), table: t.to_string() }]
                }
                Rule::Sql(sql) => kho_lake::query::check_allowing_bare_names(sql)?.tables,
                _ => vec![],
            };
            for name in names {
                if name.schema.is_empty() {
                    if name.table != table {
                        return Err(Error::invalid(
                            "rules",
                            format!(
                                "{}: {} is not a table here; name the checked table {table}, or another as \
                                 <resource>.<table>",
                                check.display_name(),
                                name.table
                            ),
                        ));
                    }
                } else if !others.contains(&name) {
                    others.push(name);
                }
            }
        }
        let (mut tables, restricted) = self.readable_tables(subject, ctx, &others).await?;
        if !restricted.is_empty() {
            let sql = format!("quality checks of {}.{table}", r.slug);
            self.audit_restricted_query(ctx, &sql, &restricted, true).await?;
        }
        tables.push(checked_table(&r.id, table, version));
        Ok(tables)
    }

    /// The rows a query returns, as JSON objects.
    async fn rows_of(&self, sql: &str, tables: &[QueryTable]) -> Result<Vec<Row>> {
        rows_of(&self.lake, sql, tables, self.settings.quality_limits()).await
    }

    /// When a table version was committed.
    async fn version_time(
        &self,
        resource_id: &str,
        table: &str,
        version: i64,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        let history = self.lake.history(resource_id, table).await?;
        Ok(history
            .iter()
            .find(|v| v.version == version)
            .and_then(|v| v.timestamp_ms)
            .and_then(chrono::DateTime::from_timestamp_millis))
    }

    /// (checked, conforming) values of the version's columns bound to the dictionary.
    async fn conformance_tally(&self, resource_id: &str, table: &str, version: i64) -> Result<Option<(u64, u64)>> {
        let reports = self.store.conformance(resource_id, table, version).await?;
        if reports.is_empty() {
            return Ok(None);
        }
        Ok(Some(reports.iter().fold((0, 0), |(c, ok), r| (c + r.checked, ok + r.conforming))))
    }

    /// Whether the resource is offered (open data, or behind a data service) and used
    /// (a page view, or a successful call in the last 90 days).
    async fn sharing(&self, r: &DataResource) -> Result<Sharing> {
        let open = is_open_data(r);
        let services: Vec<_> = self
            .store
            .list_services()
            .await?
            .into_iter()
            .filter(|s| matches!(&s.target, ServiceTarget::Dataset { resource_id, .. } if *resource_id == r.id))
            .collect();
        let mut used = open && self.store.most_viewed(1_000).await?.iter().any(|(id, views)| *id == r.id && *views > 0);
        let since = kho_core::time::now() - chrono::Duration::days(90);
        if !services.is_empty() {
            self.settle_message_log().await?;
        }
        for s in &services {
            if used {
                break;
            }
            let query = MessageQuery {
                service: Some(format!("{}/{}", s.provider, s.code)),
                from: Some(since),
                limit: 20,
                ..Default::default()
            };
            used = self.store.list_messages(&query).await?.iter().any(|m| m.succeeded);
        }
        Ok(Sharing { offered: open || !services.is_empty(), used })
    }
}
