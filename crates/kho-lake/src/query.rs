//! Truy vấn SQL — read-only SQL over the warehouse through DataFusion.
//!
//! A query is checked before anything runs: one statement, a `SELECT` (or `WITH …
//! SELECT`, or `VALUES`) and nothing else — statements that write, change settings or
//! touch files (`INSERT`, `CREATE`, `COPY`, `SET`, …) are refused, and every table
//! it names must be `<resource>.<table>`, a table of a data resource the caller may
//! read. The query then runs in a session that knows only those tables, with no
//! URL tables and no spill files, under three limits: a time limit that stops the
//! plan, a memory pool that fails the query instead of growing, and a row cap that
//! stops reading once enough rows are returned.

use crate::{Lake, LakeError};
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use deltalake::datafusion::common::TableReference;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
use deltalake::datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};
use deltalake::datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use deltalake::datafusion::sql::sqlparser::ast::{SetExpr, Statement};
use deltalake::datafusion::sql::sqlparser::dialect::GenericDialect;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// What one query may use. Every limit is a setting (`query_timeout_secs`,
/// `query_memory_mb`, `query_max_rows`).
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// The query is stopped after this long.
    pub timeout: Duration,
    /// Sorts, joins and aggregations may hold this many bytes at most; past it the
    /// query fails (nothing spills to disk).
    pub memory_bytes: usize,
    /// At most this many rows are returned; the result says when more were left out.
    pub max_rows: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30), memory_bytes: 512 << 20, max_rows: 10_000 }
    }
}

/// A table as a query names it: `<schema>.<table>`, the schema being a data
/// resource's slug written as an SQL name (`-` as `_`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TableName {
    pub schema: String,
    pub table: String,
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.schema.is_empty() {
            write!(f, "{:?}", self.table)
        } else {
            write!(f, "{}.{}", self.schema, self.table)
        }
    }
}

impl TableName {
    /// How SQL names a resource's table (`dan-so-2025`, `main` → `dan_so_2025.main`).
    pub fn of(resource_slug: &str, table: &str) -> Self {
        Self { schema: resource_slug.replace('-', "_"), table: table.to_string() }
    }
}

/// A query that passed the checks, with the tables it names.
pub struct CheckedQuery {
    statement: DfStatement,
    /// Each table named, once, in name order.
    pub tables: Vec<TableName>,
}

/// Where a named table lives.
#[derive(Debug, Clone)]
pub struct QueryTable {
    pub name: TableName,
    pub resource_id: String,
    pub table: String,
    /// Kho's version of the table to read (the newest when `None`).
    pub version: Option<i64>,
}

/// What a query returned.
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub rows: usize,
    /// More rows matched than the row cap let through.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl QueryResult {
    /// The columns as (name, Kho's kind: text, integer, decimal, date, …).
    pub fn columns(&self) -> Vec<(String, &'static str)> {
        self.schema.fields().iter().map(|f| (f.name().clone(), crate::versions::kind_of(f.data_type()))).collect()
    }

    /// The rows as CSV with a header line (dates `yyyy-mm-dd`).
    pub fn to_csv(&self) -> Result<Vec<u8>, LakeError> {
        let mut writer = deltalake::arrow::csv::WriterBuilder::new().with_header(true).build(Vec::new());
        if self.batches.is_empty() {
            writer.write(&RecordBatch::new_empty(self.schema.clone())).map_err(arrow_error)?;
        }
        for batch in &self.batches {
            writer.write(batch).map_err(arrow_error)?;
        }
        Ok(writer.into_inner())
    }

    /// The rows as a text table for a terminal.
    pub fn to_table(&self) -> Result<String, LakeError> {
        use deltalake::arrow::util::pretty::pretty_format_batches;
        if self.batches.is_empty() {
            let names: Vec<&str> = self.schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Ok(format!("{}\n(no rows)", names.join(" | ")));
        }
        Ok(pretty_format_batches(&self.batches).map_err(arrow_error)?.to_string())
    }
}

fn arrow_error(e: deltalake::arrow::error::ArrowError) -> LakeError {
    LakeError::Invalid(format!("the result could not be written: {e}"))
}

fn refused(message: impl Into<String>) -> LakeError {
    LakeError::Refused(message.into())
}

/// What a statement is, for the message that refuses it (`INSERT`, `COPY`, …).
fn statement_kind(sql: &str) -> String {
    sql.split_whitespace().next().unwrap_or("").to_uppercase()
}

/// Parses `sql` and checks that it only reads: one `SELECT`/`WITH`/`VALUES`
/// statement whose tables are all named `<resource>.<table>`.
pub fn check(sql: &str) -> Result<CheckedQuery, LakeError> {
    check_names(sql, false)
}

/// Like [`check`], but a table may also be one bare (usually quoted) name, as CKAN's
/// `datastore_search_sql` names tables by resource id (`SELECT * FROM "abc-main"`);
/// such names come back with an empty `schema`.
pub fn check_allowing_bare_names(sql: &str) -> Result<CheckedQuery, LakeError> {
    check_names(sql, true)
}

fn check_names(sql: &str, bare_names: bool) -> Result<CheckedQuery, LakeError> {
    if sql.trim().is_empty() {
        return Err(LakeError::Invalid("sql: the query is empty; write a SELECT statement".into()));
    }
    let mut statements = DFParserBuilder::new(sql)
        .with_dialect(&GenericDialect {})
        .build()
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| LakeError::Invalid(format!("sql: {}", syntax_message(&e))))?;
    if statements.len() != 1 {
        return Err(refused(format!(
            "the text holds {} statements; send one SELECT statement at a time",
            statements.len()
        )));
    }
    let statement = statements.pop_front().expect("one statement");
    let read_only = match &statement {
        DfStatement::Statement(s) => match s.as_ref() {
            Statement::Query(q) => !matches!(
                q.body.as_ref(),
                SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_)
            ),
            _ => false,
        },
        _ => false,
    };
    if !read_only {
        let kind = match &statement {
            DfStatement::CopyTo(_) => "COPY".to_string(),
            DfStatement::CreateExternalTable(_) => "CREATE EXTERNAL TABLE".to_string(),
            DfStatement::Explain(_) => "EXPLAIN".to_string(),
            _ => statement_kind(sql),
        };
        return Err(refused(format!(
            "{kind} is refused: SQL here only reads (SELECT, WITH … SELECT, VALUES); \
             load files with `kho ingest` or the upload form"
        )));
    }
    let state = SessionContext::new().state();
    let references = state.resolve_table_references(&statement).map_err(|e| LakeError::Invalid(format!("sql: {e}")))?;
    let mut tables = Vec::new();
    for reference in references {
        let name = match &reference {
            TableReference::Partial { schema, table } => {
                TableName { schema: schema.to_string(), table: table.to_string() }
            }
            TableReference::Bare { table } if bare_names => {
                TableName { schema: String::new(), table: table.to_string() }
            }
            other => {
                return Err(LakeError::Invalid(format!(
                    "sql: {other} is not a warehouse table; name tables <resource>.<table> (the resource's slug \
                     with _ for -, e.g. dan_so_2025.main), or give the file to `kho ingest` to make it one"
                )))
            }
        };
        if !tables.contains(&name) {
            tables.push(name);
        }
    }
    tables.sort();
    Ok(CheckedQuery { statement, tables })
}

/// The parser's message without DataFusion's prefixes; it names line and column.
fn syntax_message(e: &DataFusionError) -> String {
    let text = e.to_string();
    let text = text.strip_prefix("SQL error: ").unwrap_or(&text);
    let text = text.strip_prefix("ParserError(\"").and_then(|t| t.strip_suffix("\")")).unwrap_or(text);
    format!("the query could not be read: {text}")
}

/// Queries run on their own threads, so that a heavy query cannot hold up the
/// server's requests, and a stopped one is dropped at its next batch.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kho-query")
            .enable_all()
            .build()
            .expect("the query threads start")
    })
}

fn limit_error(e: DataFusionError, limits: &QueryLimits) -> LakeError {
    match e.find_root() {
        DataFusionError::ResourcesExhausted(_) => LakeError::Limit(format!(
            "the query needs more than {} MB of memory (query_memory_mb); filter or aggregate the rows \
             before sorting or joining them",
            limits.memory_bytes >> 20
        )),
        _ => LakeError::Invalid(format!("sql: {}", e.find_root())),
    }
}

impl Lake {
    /// Runs a checked query over `tables` (which must cover every table it names).
    pub async fn query(
        &self,
        query: CheckedQuery,
        tables: &[QueryTable],
        limits: QueryLimits,
    ) -> Result<QueryResult, LakeError> {
        let started = Instant::now();
        let runtime_env = RuntimeEnvBuilder::new()
            .with_memory_limit(limits.memory_bytes, 1.0)
            .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled))
            .build_arc()
            .map_err(|e| LakeError::Delta(e.into()))?;
        let config = SessionConfig::new().with_information_schema(false).with_target_partitions(2);
        let ctx = SessionContext::new_with_config_rt(config, runtime_env);
        let mut schemas: BTreeMap<&str, Arc<MemorySchemaProvider>> = BTreeMap::new();
        for name in &query.tables {
            let found = tables
                .iter()
                .find(|t| &t.name == name)
                .ok_or_else(|| LakeError::Invalid(format!("sql: there is no table {name} you may read")))?;
            let snapshot = self.snapshot(&found.resource_id, &found.table, found.version).await?;
            // Registers the table's object store with the session.
            snapshot.update_datafusion_session(&ctx.state())?;
            let provider = snapshot.table_provider().await.map_err(|e| LakeError::Delta(e.into()))?;
            if found.name.schema.is_empty() {
                ctx.register_table(TableReference::bare(found.name.table.clone()), provider)
                    .map_err(|e| LakeError::Delta(e.into()))?;
                continue;
            }
            let schema = schemas.entry(&found.name.schema).or_insert_with(|| Arc::new(MemorySchemaProvider::new()));
            schema.register_table(found.name.table.clone(), provider).map_err(|e| LakeError::Delta(e.into()))?;
        }
        let catalog = ctx.catalog("datafusion").expect("the default catalog");
        for (name, schema) in schemas {
            catalog.register_schema(name, schema).map_err(|e| LakeError::Delta(e.into()))?;
        }
        let guard = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
        let max_rows = limits.max_rows;
        let run = async move {
            let plan = ctx.state().statement_to_plan(query.statement).await?;
            guard.verify_plan(&plan)?;
            let df = ctx.execute_logical_plan(plan).await?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let mut stream = df.execute_stream().await?;
            let (mut batches, mut rows, mut truncated) = (Vec::new(), 0usize, false);
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                let room = max_rows - rows;
                if batch.num_rows() > room {
                    batches.push(batch.slice(0, room));
                    rows += room;
                    truncated = true;
                    break;
                }
                rows += batch.num_rows();
                batches.push(batch);
                if rows == max_rows {
                    // Whether more would have come: one more batch tells.
                    truncated = matches!(stream.next().await, Some(Ok(b)) if b.num_rows() > 0);
                    break;
                }
            }
            Ok::<_, DataFusionError>((schema, batches, rows, truncated))
        };
        let mut task = runtime().spawn(run);
        let outcome = match tokio::time::timeout(limits.timeout, &mut task).await {
            Ok(joined) => joined.map_err(|e| LakeError::Invalid(format!("the query stopped: {e}")))?,
            Err(_) => {
                task.abort();
                return Err(LakeError::Limit(format!(
                    "the query ran longer than {} s (query_timeout_secs) and was stopped; filter the rows \
                     or aggregate them before joining",
                    limits.timeout.as_secs_f64()
                )));
            }
        };
        let (schema, batches, rows, truncated) = outcome.map_err(|e| limit_error(e, &limits))?;
        Ok(QueryResult { schema, batches, rows, truncated, elapsed: started.elapsed() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(sql: &str) -> String {
        match check(sql) {
            Err(LakeError::Refused(m)) => m,
            Err(other) => panic!("{sql}: expected a refusal, got {other}"),
            Ok(_) => panic!("{sql}: expected a refusal, the query passed"),
        }
    }

    #[test]
    fn only_reading_statements_pass() {
        let q = check("WITH t AS (SELECT * FROM dan_so.main) SELECT count(*) FROM t JOIN xa.main ON true").unwrap();
        assert_eq!(q.tables, [TableName::of("dan-so", "main"), TableName::of("xa", "main")]);
        assert!(check("VALUES (1), (2)").unwrap().tables.is_empty());
        assert!(refusal("INSERT INTO dan_so.main VALUES (1)").starts_with("INSERT is refused"));
        assert!(refusal("delete from dan_so.main").starts_with("DELETE is refused"));
        assert!(refusal("CREATE TABLE x AS SELECT 1").starts_with("CREATE is refused"));
        assert!(refusal("DROP TABLE dan_so.main").starts_with("DROP is refused"));
        assert!(refusal("COPY (SELECT 1) TO '/tmp/x.csv'").starts_with("COPY is refused"));
        assert!(refusal("CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'")
            .starts_with("CREATE EXTERNAL TABLE is refused"));
        assert!(refusal("SET datafusion.execution.batch_size = 1").starts_with("SET is refused"));
        assert!(refusal("SELECT 1; DROP TABLE x").contains("2 statements"));
    }

    #[test]
    fn files_and_unknown_names_are_not_tables() {
        for sql in ["SELECT * FROM '/etc/passwd'", "SELECT * FROM main", "SELECT * FROM a.b.c"] {
            match check(sql) {
                Err(LakeError::Invalid(m)) => assert!(m.contains("is not a warehouse table"), "{sql}: {m}"),
                _ => panic!("{sql} should not pass"),
            }
        }
    }

    #[test]
    fn syntax_errors_name_the_place() {
        match check("SELECT * FORM x.y") {
            Err(LakeError::Invalid(m)) => assert!(m.contains("Line: 1, Column"), "{m}"),
            _ => panic!("a syntax error"),
        }
    }
}
