//! Viết lại — a table version rewritten into a new version, never in place: the
//! version's rows are read in file order a batch at a time, each batch goes through a
//! transform on a blocking thread, and Delta's writer commits what comes out as one new
//! version (a replace), with the table's column types, headers and key. A transform
//! that fails, or a write that does, commits nothing: the newest version stays as it
//! was. The cleaning step of data quality uses it with the standardisers
//! ([`map_text`]).

use crate::ingest::{commit_properties, write_rows, IngestReport, LoadMode, LoadedColumn};
use crate::versions::{kind_of, RowChanges, VersionFacts};
use crate::{Lake, LakeError};
use deltalake::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::{SendableRecordBatchStream, TaskContext};
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Who rewrites, and what to record as the new version's source.
#[derive(Debug, Clone, Default)]
pub struct RewriteOptions {
    /// Recorded as the version's `loaded_by`.
    pub rewritten_by: String,
    /// Recorded as the version's source, e.g. `cleaning of version 3: ho_ten=name`.
    pub source_name: String,
}

/// What a partition shares with the rewrite: rows seen, rows changed and the
/// transform's own error (the writer only learns that the stream stopped).
#[derive(Debug, Default)]
struct Tally {
    rows: AtomicU64,
    changed: AtomicU64,
    error: Mutex<Option<LakeError>>,
}

impl Tally {
    fn fail(&self, e: LakeError) -> DataFusionError {
        let message = e.to_string();
        *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        DataFusionError::Execution(message)
    }
}

/// The version's batches, transformed, as the writer's one input partition.
struct Transformed<F> {
    schema: SchemaRef,
    state: Mutex<Option<(SendableRecordBatchStream, F)>>,
    tally: Arc<Tally>,
}

impl<F> std::fmt::Debug for Transformed<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transformed").field("schema", &self.schema).finish_non_exhaustive()
    }
}

/// Rows of `after` that differ from the same row of `before` in any column.
fn changed_rows(before: &RecordBatch, after: &RecordBatch) -> Result<u64, LakeError> {
    use deltalake::arrow::compute::kernels::{boolean::or, cmp::distinct};
    let mut any: Option<deltalake::arrow::array::BooleanArray> = None;
    for (a, b) in before.columns().iter().zip(after.columns()) {
        if Arc::ptr_eq(a, b) {
            continue;
        }
        let differs = distinct(a, b).map_err(|e| LakeError::Invalid(format!("comparing the rewritten rows: {e}")))?;
        any = Some(match any {
            None => differs,
            Some(so_far) => or(&so_far, &differs).map_err(|e| LakeError::Invalid(e.to_string()))?,
        });
    }
    Ok(any.map_or(0, |a| a.true_count() as u64))
}

impl<F> PartitionStream for Transformed<F>
where
    F: FnMut(RecordBatch) -> Result<RecordBatch, LakeError> + Send + 'static,
{
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner()).take();
        let (schema, tally) = (self.schema.clone(), self.tally.clone());
        let stream = futures::stream::unfold(state, move |state| {
            let (schema, tally) = (schema.clone(), tally.clone());
            async move {
                use futures::StreamExt;
                let (mut input, mut transform) = state?;
                let batch = match input.next().await? {
                    Ok(batch) => batch,
                    Err(e) => return Some((Err(e), None)),
                };
                // The transform is CPU work (standardisers): off the async threads.
                let done = tokio::task::spawn_blocking(move || {
                    let out = transform(batch.clone());
                    (transform, batch, out)
                })
                .await;
                let (transform, before, out) = match done {
                    Ok(done) => done,
                    Err(_) => return Some((Err(tally.fail(LakeError::Interrupted)), None)),
                };
                let after = match out {
                    Ok(after) => after,
                    Err(e) => return Some((Err(tally.fail(e)), None)),
                };
                if after.schema().fields() != schema.fields() || after.num_rows() != before.num_rows() {
                    let e = LakeError::Invalid(
                        "the rewrite changed the table's columns or rows; it may only change values".into(),
                    );
                    return Some((Err(tally.fail(e)), None));
                }
                match changed_rows(&before, &after) {
                    Ok(n) => tally.changed.fetch_add(n, Ordering::Relaxed),
                    Err(e) => return Some((Err(tally.fail(e)), None)),
                };
                tally.rows.fetch_add(after.num_rows() as u64, Ordering::Relaxed);
                Some((Ok(after), Some((input, transform))))
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

impl Lake {
    /// Writes a table version (the newest when `None`), each batch passed through
    /// `transform`, as a new version; returns the new version's report. The transform
    /// may change values but not columns or the number of rows. Nothing is committed
    /// when the transform or the write fails.
    pub async fn rewrite<F>(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
        transform: F,
        options: RewriteOptions,
    ) -> Result<IngestReport, LakeError>
    where
        F: FnMut(RecordBatch) -> Result<RecordBatch, LakeError> + Send + 'static,
    {
        let started = Instant::now();
        let source = self.snapshot(resource_id, table, version).await?;
        let from_version = source.version().map_or(1, |v| v as i64 + 1);
        let recorded = self.history(resource_id, table).await?.into_iter().find(|v| v.version == from_version);
        let key = recorded.as_ref().map(|v| v.key.clone()).unwrap_or_default();

        let ctx = crate::read_session();
        source.update_datafusion_session(&ctx.state())?;
        let provider = source.table_provider().await.map_err(|e| LakeError::Delta(e.into()))?;
        let df = ctx.read_table(provider).map_err(|e| LakeError::Delta(e.into()))?;
        let input = crate::stream_in_file_order(df).await.map_err(|e| LakeError::Delta(e.into()))?;
        let schema = input.schema();
        let columns: Vec<LoadedColumn> = match recorded.and_then(|v| v.columns) {
            Some(columns) => columns,
            None => schema
                .fields()
                .iter()
                .map(|f| LoadedColumn {
                    name: f.name().clone(),
                    header: f.name().clone(),
                    kind: kind_of(f.data_type()).into(),
                })
                .collect(),
        };

        let tally = Arc::new(Tally::default());
        let partition = Arc::new(Transformed {
            schema: schema.clone(),
            state: Mutex::new(Some((input, transform))),
            tally: tally.clone(),
        });
        let provider =
            StreamingTable::try_new(schema.clone(), vec![partition]).map_err(deltalake::DeltaTableError::from)?;
        let rewrite_of = vec![("kho.rewrite_of".to_string(), serde_json::json!(from_version))];
        let commit =
            commit_properties(&options.source_name, &options.rewritten_by, LoadMode::Replace, &key, rewrite_of);
        let target = self.open(resource_id, table).await?;
        let written = match write_rows(target, provider, true, commit).await {
            Ok(t) => t,
            Err(e) => {
                let own = tally.error.lock().unwrap_or_else(|p| p.into_inner()).take();
                return Err(own.unwrap_or(LakeError::Delta(e)));
            }
        };
        let version = written.version().map_or(1, |v| v as i64 + 1);
        let rows = tally.rows.load(Ordering::Relaxed);
        let changes = RowChanges { added: 0, removed: 0, changed: tally.changed.load(Ordering::Relaxed) };
        let facts = VersionFacts {
            sha256: String::new(),
            rows: crate::versions::row_count(&written),
            columns: columns.clone(),
            key,
            changes: Some(changes),
        };
        // The version is committed; its facts are a record beside it.
        if let Err(e) = crate::versions::write_facts(&written, version, &facts).await {
            tracing::warn!(error = %e, version, "the version's facts could not be written");
        }
        Ok(IngestReport {
            version,
            rows,
            columns,
            changes: Some(changes),
            bytes: 0,
            sha256: String::new(),
            encoding: String::new(),
            delimiter: String::new(),
            seconds: started.elapsed().as_secs_f64(),
            format: "delta".into(),
            sheet: None,
            header_row: None,
            rejected_rows: 0,
            rejects_file: None,
        })
    }
}

/// `batch` with the text values of `columns` passed through `f(i, value)`, `i` being
/// the column's place in `columns`: `Some(new)` replaces the value, `None` keeps it;
/// empty cells stay empty. A column that is missing or does not hold text is an error
/// naming it.
pub fn map_text(
    batch: &RecordBatch,
    columns: &[String],
    mut f: impl FnMut(usize, &str) -> Option<String>,
) -> Result<RecordBatch, LakeError> {
    let schema = batch.schema();
    let mut arrays: Vec<ArrayRef> = batch.columns().to_vec();
    for (i, name) in columns.iter().enumerate() {
        let (at, field) = schema.column_with_name(name).ok_or_else(|| {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            LakeError::Invalid(format!(
                "column: the table has no column {name:?}; its columns are {}",
                names.join(", ")
            ))
        })?;
        let original = field.data_type().clone();
        if !matches!(original, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) {
            return Err(LakeError::Invalid(format!(
                "column {name} holds {}, not text; only text columns are rewritten",
                kind_of(&original)
            )));
        }
        let text = deltalake::arrow::compute::cast(&arrays[at], &DataType::Utf8)
            .map_err(|e| LakeError::Invalid(format!("column {name}: {e}")))?;
        let text = text.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(text.len(), text.value_data().len());
        for row in 0..text.len() {
            if text.is_null(row) {
                out.append_null();
            } else {
                let value = text.value(row);
                match f(i, value) {
                    Some(new) => out.append_value(new),
                    None => out.append_value(value),
                }
            }
        }
        let rewritten: ArrayRef = Arc::new(out.finish());
        arrays[at] = deltalake::arrow::compute::cast(&rewritten, &original)
            .map_err(|e| LakeError::Invalid(format!("column {name}: {e}")))?;
    }
    RecordBatch::try_new(schema, arrays).map_err(|e| LakeError::Invalid(e.to_string()))
}
