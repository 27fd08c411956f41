//! Đọc dòng — the tabular API's reads: rows of a table version filtered by
//! comparisons on columns and by words (diacritics ignored), sorted, projected and
//! paged, with a total that stays cheap on large tables: exact from the file
//! statistics when nothing is filtered, exact by counting on tables up to
//! [`EXACT_COUNT_ROWS`] rows or when asked, otherwise estimated from a sample and
//! marked so.

use crate::{Lake, LakeError};
use deltalake::arrow::datatypes::DataType;
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility};
use deltalake::datafusion::prelude::{ident, lit, DataFrame, Expr};
use std::sync::Arc;

/// Tables up to this many rows are always counted exactly.
pub const EXACT_COUNT_ROWS: u64 = 1_000_000;
/// Rows read to estimate how many rows match on a larger table.
const SAMPLE_ROWS: usize = 200_000;

/// How a filter compares a column with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// One condition on a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub column: String,
    pub op: Comparison,
    /// Read as the column's type (dates as `yyyy-mm-dd` or `dd/mm/yyyy`).
    pub value: String,
}

impl Filter {
    /// A filter from a query parameter: `column=value` (equal), or
    /// `column.gt|gte|lt|lte|ne=value`.
    pub fn from_param(key: &str, value: &str) -> Result<Self, LakeError> {
        let (column, op) = match key.rsplit_once('.') {
            None => (key, Comparison::Eq),
            Some((column, suffix)) => {
                let op = match suffix {
                    "eq" => Comparison::Eq,
                    "ne" => Comparison::Ne,
                    "gt" => Comparison::Gt,
                    "gte" => Comparison::Gte,
                    "lt" => Comparison::Lt,
                    "lte" => Comparison::Lte,
                    other => {
                        return Err(LakeError::Invalid(format!(
                        "{key}: {other:?} is not a comparison; use eq, ne, gt, gte, lt or lte (e.g. {column}.gte=10)"
                    )))
                    }
                };
                (column, op)
            }
        };
        Ok(Self { column: column.to_string(), op, value: value.to_string() })
    }
}

/// Which rows to read.
#[derive(Debug, Clone, Default)]
pub struct RowQuery {
    pub version: Option<i64>,
    /// All must hold.
    pub filters: Vec<Filter>,
    /// Words that must each appear in some text column, case and diacritics ignored.
    pub q: Option<String>,
    /// Columns to return (all when empty).
    pub fields: Vec<String>,
    /// Column to sort by, and whether descending.
    pub sort: Option<(String, bool)>,
    pub limit: usize,
    pub offset: usize,
    /// Count exactly even on a large table.
    pub exact_total: bool,
    /// A row condition in SQL (`trang_thai = 'hoat_dong'`) that must hold too: a
    /// service's view of its table.
    pub predicate: Option<String>,
}

/// A page of rows and how many rows match in all.
pub struct RowPage {
    pub batches: Vec<RecordBatch>,
    pub total: usize,
    /// The total was estimated from a sample (large table, filters, no exact count asked).
    pub total_is_estimate: bool,
    /// Kho's version number the rows come from.
    pub version: i64,
}

fn literal(column: &str, ty: &DataType, value: &str) -> Result<Expr, LakeError> {
    use deltalake::datafusion::scalar::ScalarValue;
    let bad = |expected: &str| LakeError::Invalid(format!("{column}: {value:?} is not {expected}"));
    Ok(match ty {
        DataType::Int64 => lit(value.trim().parse::<i64>().map_err(|_| bad("a whole number"))?),
        DataType::Float64 => lit(value.trim().parse::<f64>().map_err(|_| bad("a number such as 1234.5"))?),
        DataType::Boolean => lit(value.trim().parse::<bool>().map_err(|_| bad("true or false"))?),
        DataType::Date32 => {
            let d = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
                .or_else(|_| chrono::NaiveDate::parse_from_str(value.trim(), "%d/%m/%Y"))
                .map_err(|_| bad("a date such as 2025-07-01 or 01/07/2025"))?;
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
            lit(ScalarValue::Date32(Some((d - epoch).num_days() as i32)))
        }
        _ => lit(value.to_string()),
    })
}

/// `kho_fold(text)`: lowercase without Vietnamese diacritics (`Hà Nội` → `ha noi`).
fn fold_udf() -> ScalarUDF {
    use deltalake::arrow::array::{Array, StringArray};
    use deltalake::arrow::compute::cast;
    let fold = |args: &[ColumnarValue]| -> Result<ColumnarValue, DataFusionError> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let text = cast(&arrays[0], &DataType::Utf8)?;
        let text = text.as_any().downcast_ref::<StringArray>().expect("cast to Utf8");
        let folded: StringArray = text.iter().map(|v| v.map(kho_vn::fold)).collect();
        Ok(ColumnarValue::Array(Arc::new(folded)))
    };
    deltalake::datafusion::logical_expr::create_udf(
        "kho_fold",
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(fold),
    )
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

fn df_error(e: DataFusionError) -> LakeError {
    LakeError::Delta(e.into())
}

impl Lake {
    /// The newest version's columns, each with its type as JSON Schema names it
    /// (`string`, `integer`, `number`, `boolean`; dates are `string` with a format).
    pub async fn columns(
        &self,
        resource_id: &str,
        table: &str,
    ) -> Result<Vec<(String, &'static str, Option<&'static str>)>, LakeError> {
        let t = self.snapshot(resource_id, table, None).await?;
        let schema = crate::versions::arrow_schema(&t).await?;
        Ok(schema
            .fields()
            .iter()
            .map(|f| {
                let (ty, format) = match f.data_type() {
                    DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => ("integer", None),
                    DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => ("number", None),
                    DataType::Boolean => ("boolean", None),
                    DataType::Date32 | DataType::Date64 => ("string", Some("date")),
                    DataType::Timestamp(..) => ("string", Some("date-time")),
                    _ => ("string", None),
                };
                (f.name().clone(), ty, format)
            })
            .collect())
    }

    /// Rows of a table version matching `query`, with how many match in all.
    pub async fn rows(&self, resource_id: &str, table: &str, query: &RowQuery) -> Result<RowPage, LakeError> {
        let t = self.snapshot(resource_id, table, query.version).await?;
        let version = t.version().map(|v| v as i64 + 1).unwrap_or(1);
        let table_rows = crate::versions::row_count(&t);
        let ctx = crate::read_session();
        t.update_datafusion_session(&ctx.state())?;
        let provider = t.table_provider().await.map_err(df_error)?;
        let all = ctx.read_table(provider).map_err(df_error)?;
        let schema = all.schema().as_arrow().clone();
        let field = |name: &str| {
            schema.field_with_name(name).map_err(|_| {
                let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                LakeError::Invalid(format!(
                    "{name}: the table has no such column; its columns are {}",
                    names.join(", ")
                ))
            })
        };
        let mut conditions = Vec::new();
        for f in &query.filters {
            let value = literal(&f.column, field(&f.column)?.data_type(), &f.value)?;
            let c = ident(&f.column);
            conditions.push(match f.op {
                Comparison::Eq => c.eq(value),
                Comparison::Ne => c.not_eq(value),
                Comparison::Gt => c.gt(value),
                Comparison::Gte => c.gt_eq(value),
                Comparison::Lt => c.lt(value),
                Comparison::Lte => c.lt_eq(value),
            });
        }
        if let Some(sql) = query.predicate.as_deref().filter(|p| !p.trim().is_empty()) {
            let condition = all
                .parse_sql_expr(sql)
                .map_err(|e| LakeError::Invalid(format!("the row filter {sql:?} cannot be read: {e}")))?;
            conditions.push(condition);
        }
        let words: Vec<String> = query
            .q
            .as_deref()
            .map(|q| kho_vn::fold(q).split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        if !words.is_empty() {
            let fold = fold_udf();
            let texts: Vec<String> =
                schema.fields().iter().filter(|f| is_text(f.data_type())).map(|f| f.name().clone()).collect();
            for word in &words {
                let pattern = format!("%{}%", word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
                let any = texts.iter().map(|c| fold.call(vec![ident(c)]).like(lit(pattern.clone()))).reduce(Expr::or);
                conditions.push(any.unwrap_or(lit(false)));
            }
        }
        let filtered = |df: DataFrame| -> Result<DataFrame, LakeError> {
            conditions.iter().cloned().try_fold(df, |df, c| df.filter(c).map_err(df_error))
        };
        let mut df = filtered(all.clone())?;
        if let Some((column, descending)) = &query.sort {
            field(column)?;
            df = df.sort(vec![ident(column).sort(!descending, false)]).map_err(df_error)?;
        }
        if !query.fields.is_empty() {
            for name in &query.fields {
                field(name)?;
            }
            let names: Vec<&str> = query.fields.iter().map(String::as_str).collect();
            df = df.select_columns(&names).map_err(df_error)?;
        }
        // Unsorted, rows come in file order, so that pages by offset neither repeat nor
        // skip rows.
        let batches = if query.sort.is_some() {
            match df.limit(query.offset, Some(query.limit)) {
                Ok(df) => df.collect().await,
                Err(e) => Err(e),
            }
        } else {
            crate::first_rows_in_file_order(df, query.offset, query.limit).await
        };
        let batches = batches.map_err(df_error)?;
        let returned: usize = batches.iter().map(|b| b.num_rows()).sum();

        let (total, total_is_estimate) = if conditions.is_empty() {
            (table_rows as usize, false)
        } else if query.exact_total || table_rows <= EXACT_COUNT_ROWS {
            (filtered(all)?.count().await.map_err(df_error)?, false)
        } else if returned < query.limit && (returned > 0 || query.offset == 0) {
            // The page ended before the limit: every match has been seen.
            (query.offset + returned, false)
        } else {
            let sample = all.limit(0, Some(SAMPLE_ROWS)).map_err(df_error)?;
            let matched = filtered(sample)?.count().await.map_err(df_error)?;
            let estimate = (matched as f64 / SAMPLE_ROWS as f64 * table_rows as f64).round() as usize;
            (estimate.max(query.offset + returned), true)
        };
        Ok(RowPage { batches, total, total_is_estimate, version })
    }
}
