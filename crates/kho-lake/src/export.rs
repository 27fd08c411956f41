//! Tải về — downloads: any version of a table as CSV, JSON, NDJSON, XLSX, Parquet or
//! (for spatial tables) GeoJSON. Rows come from a DataFusion stream and are encoded
//! batch by batch, so memory stays bounded by a few batches (a Parquet row group)
//! whatever the table's size. XLSX is the exception in shape, not in memory: the
//! workbook is written in constant-memory mode on a blocking thread into a temporary
//! file, which is then streamed.
//!
//! Dates are written `yyyy-mm-dd` in the text formats and as real Excel dates shown
//! `dd/mm/yyyy` in XLSX. A table is spatial when one of its columns carries the field
//! metadata [`GEOMETRY_KEY`] = `wkt`: that column holds geometries as WKT text, which
//! GeoJSON turns into geometry objects.

use crate::{Lake, LakeError};
use deltalake::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Date32Type, Float64Type, Schema, SchemaRef};
use deltalake::arrow::json::writer::{JsonArray, JsonFormat, LineDelimited};
use deltalake::datafusion::execution::SendableRecordBatchStream;
use deltalake::parquet::arrow::ArrowWriter;
use futures::stream::{BoxStream, StreamExt};
use std::io::{Read, Seek};

/// The field metadata key that marks a geometry column; its value names the encoding
/// (`wkt` is the one Kho writes).
pub const GEOMETRY_KEY: &str = "kho.geometry";

/// Data rows an Excel sheet holds (1,048,576 rows less the header).
pub const XLSX_MAX_ROWS: usize = 1_048_575;

/// Columns an Excel sheet holds.
const XLSX_MAX_COLUMNS: usize = 16_384;

/// Rows per Parquet row group: the most a Parquet download holds in memory.
const PARQUET_ROW_GROUP_ROWS: usize = 64 * 1024;
const PARQUET_ROW_GROUP_BYTES: usize = 32 << 20;

/// Bytes per chunk when a finished file (XLSX) is streamed.
const FILE_CHUNK_BYTES: usize = 64 * 1024;

/// A download's bytes, chunk by chunk.
pub type Chunks = BoxStream<'static, Result<Vec<u8>, LakeError>>;

/// Định dạng tải về — the file formats a table version downloads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownloadFormat {
    Csv,
    Json,
    Ndjson,
    Xlsx,
    Parquet,
    /// Only for spatial tables.
    Geojson,
}

impl DownloadFormat {
    pub const ALL: [Self; 6] = [Self::Csv, Self::Json, Self::Ndjson, Self::Xlsx, Self::Parquet, Self::Geojson];

    /// Reads a format name (`csv`, `json`, `ndjson`, `xlsx`, `parquet`, `geojson`).
    pub fn parse(s: &str) -> Result<Self, LakeError> {
        let name = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| LakeError::Invalid(format!("format: {s:?} is not a download format; use {}", Self::names())))
    }

    /// The allowed names, for messages: `csv, json, … or geojson`.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
        format!("{} or {}", names[..names.len() - 1].join(", "), names[names.len() - 1])
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Xlsx => "xlsx",
            Self::Parquet => "parquet",
            Self::Geojson => "geojson",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        self.name()
    }

    /// The media type sent as `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
            Self::Ndjson => "application/x-ndjson",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Parquet => "application/vnd.apache.parquet",
            Self::Geojson => "application/geo+json",
        }
    }
}

impl std::fmt::Display for DownloadFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A table version on its way out as a file, streamed.
pub struct Download {
    /// Kho's version number that is being sent.
    pub version: i64,
    pub format: DownloadFormat,
    pub chunks: Chunks,
}

/// The geometry column of a schema: the first whose metadata says `kho.geometry = wkt`.
pub fn geometry_column(schema: &Schema) -> Option<usize> {
    schema.fields().iter().position(|f| f.metadata().get(GEOMETRY_KEY).is_some_and(|v| v == "wkt"))
}

/// Refuses XLSX for tables larger than a sheet.
pub fn check_xlsx_rows(table: &str, rows: usize) -> Result<(), LakeError> {
    if rows > XLSX_MAX_ROWS {
        return Err(LakeError::Invalid(format!(
            "format: table {table} has {rows} rows, more than an Excel sheet holds ({XLSX_MAX_ROWS}); \
             download it as csv or parquet instead"
        )));
    }
    Ok(())
}

fn df_error(e: deltalake::datafusion::error::DataFusionError) -> LakeError {
    LakeError::Delta(e.into())
}

fn write_error(format: DownloadFormat, e: impl std::fmt::Display) -> LakeError {
    LakeError::Invalid(format!("cannot write {format}: {e}"))
}

impl Lake {
    /// A table version (the newest when `None`) as a file of `format`, streamed; `bom`
    /// starts a CSV with a UTF-8 byte-order mark, so that Excel reads Vietnamese right.
    pub async fn download(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
        format: DownloadFormat,
        bom: bool,
    ) -> Result<Download, LakeError> {
        let t = self.snapshot(resource_id, table, version).await?;
        let number = t.version().map(|v| v as i64 + 1).unwrap_or(1);
        let ctx = crate::read_session();
        t.update_datafusion_session(&ctx.state())?;
        let provider = t.table_provider().await.map_err(df_error)?;
        let df = ctx.read_table(provider).map_err(df_error)?;
        let schema: SchemaRef = std::sync::Arc::new(df.schema().as_arrow().clone());
        let geometry = geometry_column(&schema);
        match format {
            DownloadFormat::Geojson if geometry.is_none() => {
                return Err(LakeError::Invalid(format!(
                    "format: table {table} has no geometry column, so it has no GeoJSON; \
                     download it as csv, json, ndjson, xlsx or parquet"
                )))
            }
            DownloadFormat::Xlsx => {
                if schema.fields().len() > XLSX_MAX_COLUMNS {
                    return Err(LakeError::Invalid(format!(
                        "format: table {table} has more columns than an Excel sheet holds ({XLSX_MAX_COLUMNS}); \
                         download it as csv or parquet instead"
                    )));
                }
                check_xlsx_rows(table, df.clone().count().await.map_err(df_error)?)?;
            }
            _ => {}
        }
        let batches = crate::stream_in_file_order(df).await.map_err(df_error)?;
        // The plan's own output schema, which its batches match exactly.
        let schema = batches.schema();
        let chunks = match format {
            DownloadFormat::Csv => encode(batches, Csv { bom, schema }),
            DownloadFormat::Json => encode(batches, Json::<JsonArray>::new(format)),
            DownloadFormat::Ndjson => encode(batches, Json::<LineDelimited>::new(format)),
            DownloadFormat::Parquet => encode(batches, Parquet::new(schema)?),
            DownloadFormat::Geojson => {
                let geometry = geometry.expect("checked above");
                encode(batches, GeoJson { geometry, first: true, row: 0 })
            }
            DownloadFormat::Xlsx => xlsx(batches, table.to_string()),
        };
        Ok(Download { version: number, format, chunks })
    }

    /// The formats a table version downloads as: GeoJSON only when it is spatial.
    pub async fn download_formats(
        &self,
        resource_id: &str,
        table: &str,
        version: Option<i64>,
    ) -> Result<Vec<DownloadFormat>, LakeError> {
        let t = self.snapshot(resource_id, table, version).await?;
        let provider = t.table_provider().await.map_err(df_error)?;
        let spatial = geometry_column(&provider.schema()).is_some();
        Ok(DownloadFormat::ALL.into_iter().filter(|f| spatial || *f != DownloadFormat::Geojson).collect())
    }
}

/// Turns record batches into bytes: what comes first, each batch, what comes last.
trait Encode: Send + 'static {
    fn start(&mut self) -> Result<Vec<u8>, LakeError> {
        Ok(Vec::new())
    }
    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, LakeError>;
    fn end(&mut self) -> Result<Vec<u8>, LakeError> {
        Ok(Vec::new())
    }
}

enum Stage {
    Start,
    Rows,
    Done,
}

/// Drives an encoder over the stream; the first error ends it.
fn encode(batches: SendableRecordBatchStream, encoder: impl Encode) -> Chunks {
    futures::stream::unfold((Stage::Start, batches, encoder), |(stage, mut batches, mut encoder)| async move {
        let (chunk, next) = match stage {
            Stage::Start => (encoder.start(), Stage::Rows),
            Stage::Rows => match batches.next().await {
                Some(Ok(batch)) => (encoder.batch(&batch), Stage::Rows),
                Some(Err(e)) => (Err(df_error(e)), Stage::Done),
                None => (encoder.end(), Stage::Done),
            },
            Stage::Done => return None,
        };
        let next = if chunk.is_err() { Stage::Done } else { next };
        Some((chunk, (next, batches, encoder)))
    })
    .filter(|chunk| futures::future::ready(!matches!(chunk, Ok(c) if c.is_empty())))
    .boxed()
}

/// CSV: the header once (also for an empty table), dates `yyyy-mm-dd`.
struct Csv {
    bom: bool,
    schema: SchemaRef,
}

impl Csv {
    fn write(out: &mut Vec<u8>, batch: &RecordBatch, header: bool) -> Result<(), LakeError> {
        let mut writer = deltalake::arrow::csv::WriterBuilder::new().with_header(header).build(out);
        writer.write(batch).map_err(|e| write_error(DownloadFormat::Csv, e))
    }
}

impl Encode for Csv {
    fn start(&mut self) -> Result<Vec<u8>, LakeError> {
        let mut out = if self.bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        Self::write(&mut out, &RecordBatch::new_empty(self.schema.clone()), true)?;
        Ok(out)
    }

    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, LakeError> {
        let mut out = Vec::new();
        Self::write(&mut out, batch, false)?;
        Ok(out)
    }
}

/// JSON (one array) or NDJSON (one object a line), nulls written out.
struct Json<F: JsonFormat> {
    writer: deltalake::arrow::json::Writer<Vec<u8>, F>,
    format: DownloadFormat,
}

impl<F: JsonFormat> Json<F> {
    fn new(format: DownloadFormat) -> Self {
        let writer = deltalake::arrow::json::WriterBuilder::new().with_explicit_nulls(true).build(Vec::new());
        Self { writer, format }
    }
}

impl<F: JsonFormat + Send + 'static> Encode for Json<F> {
    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, LakeError> {
        self.writer.write(batch).map_err(|e| write_error(self.format, e))?;
        Ok(std::mem::take(self.writer.get_mut()))
    }

    fn end(&mut self) -> Result<Vec<u8>, LakeError> {
        self.writer.finish().map_err(|e| write_error(self.format, e))?;
        Ok(std::mem::take(self.writer.get_mut()))
    }
}

/// Parquet: the writer keeps one row group in memory; each finished row group is
/// handed on as soon as it is written.
struct Parquet(ArrowWriter<Vec<u8>>);

impl Parquet {
    fn new(schema: SchemaRef) -> Result<Self, LakeError> {
        use deltalake::parquet::basic::Compression;
        use deltalake::parquet::file::properties::WriterProperties;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP_ROWS))
            .set_max_row_group_bytes(Some(PARQUET_ROW_GROUP_BYTES))
            .build();
        let writer = ArrowWriter::try_new(Vec::new(), schema, Some(properties))
            .map_err(|e| write_error(DownloadFormat::Parquet, e))?;
        Ok(Self(writer))
    }

    /// The bytes written so far and not yet handed on. Taking them out of the buffer
    /// is safe: the writer counts offsets itself.
    fn written(&mut self) -> Result<Vec<u8>, LakeError> {
        self.0.sync().map_err(|e| write_error(DownloadFormat::Parquet, e))?;
        Ok(std::mem::take(self.0.inner_mut()))
    }
}

impl Encode for Parquet {
    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, LakeError> {
        self.0.write(batch).map_err(|e| write_error(DownloadFormat::Parquet, e))?;
        self.written()
    }

    fn end(&mut self) -> Result<Vec<u8>, LakeError> {
        self.0.finish().map_err(|e| write_error(DownloadFormat::Parquet, e))?;
        self.written()
    }
}

/// GeoJSON: one FeatureCollection; each row is a Feature whose geometry comes from
/// the WKT column and whose properties are the other columns.
struct GeoJson {
    geometry: usize,
    first: bool,
    /// Rows written so far, to name a bad geometry's row.
    row: usize,
}

impl Encode for GeoJson {
    fn start(&mut self) -> Result<Vec<u8>, LakeError> {
        Ok(br#"{"type":"FeatureCollection","features":["#.to_vec())
    }

    fn batch(&mut self, batch: &RecordBatch) -> Result<Vec<u8>, LakeError> {
        let fail = |e: &dyn std::fmt::Display| write_error(DownloadFormat::Geojson, e);
        let name = batch.schema().field(self.geometry).name().clone();
        let shapes = cast(batch.column(self.geometry), &DataType::Utf8).map_err(|e| fail(&e))?;
        let shapes = shapes.as_string::<i32>();
        let others: Vec<usize> = (0..batch.num_columns()).filter(|i| *i != self.geometry).collect();
        // The other columns as one JSON object a line (none when there are no others).
        let mut lines = Vec::new();
        if !others.is_empty() {
            let mut writer = deltalake::arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, LineDelimited>(&mut lines);
            writer.write(&batch.project(&others).map_err(|e| fail(&e))?).map_err(|e| fail(&e))?;
        }
        let mut properties = lines.split(|b| *b == b'\n');
        let mut out = Vec::with_capacity(lines.len() + batch.num_rows() * 64);
        for i in 0..batch.num_rows() {
            let properties = properties.next().filter(|p| !p.is_empty()).unwrap_or(b"{}");
            self.row += 1;
            let shape = if shapes.is_null(i) { None } else { Some(shapes.value(i)) };
            let geometry = wkt_to_geojson(shape.unwrap_or("")).map_err(|e| {
                LakeError::Invalid(format!(
                    "{name}, row {}: {:?} is not a WKT geometry ({e}); fix the value and load the table again",
                    self.row,
                    shape.unwrap_or("")
                ))
            })?;
            out.extend_from_slice(if self.first { b"\n" } else { b",\n" });
            self.first = false;
            out.extend_from_slice(br#"{"type":"Feature","geometry":"#);
            serde_json::to_writer(&mut out, &geometry).map_err(|e| fail(&e))?;
            out.extend_from_slice(br#","properties":"#);
            out.extend_from_slice(properties);
            out.push(b'}');
        }
        Ok(out)
    }

    fn end(&mut self) -> Result<Vec<u8>, LakeError> {
        Ok(b"\n]}\n".to_vec())
    }
}

/// A WKT geometry (2-D; an EWKT `SRID=…;` prefix is ignored) as a GeoJSON geometry;
/// an empty value or `POINT EMPTY` is a null geometry.
pub fn wkt_to_geojson(text: &str) -> Result<Option<geojson::Geometry>, String> {
    use wkt::TryFromWkt;
    let text = text.trim();
    let text = match text.split_once(';') {
        Some((srid, rest)) if srid.trim().to_ascii_uppercase().starts_with("SRID=") => rest.trim(),
        _ => text,
    };
    if text.is_empty() || text.split_whitespace().map(str::to_ascii_uppercase).eq(["POINT", "EMPTY"]) {
        return Ok(None);
    }
    let shape = geo_types::Geometry::<f64>::try_from_wkt_str(text).map_err(|e| e.to_string())?;
    Ok(Some(geojson::Geometry::new(geojson::GeometryValue::from(&shape))))
}

/// XLSX: the workbook is written on a blocking thread (rows arrive through a small
/// channel), saved to a temporary file and streamed from it. Nothing starts until
/// the first chunk is asked for.
fn xlsx(batches: SendableRecordBatchStream, table: String) -> Chunks {
    use tokio::sync::mpsc;
    let start = async move {
        let schema = batches.schema();
        let (batch_tx, batch_rx) = mpsc::channel::<Result<RecordBatch, LakeError>>(2);
        let (chunk_tx, chunk_rx) = mpsc::channel::<Result<Vec<u8>, LakeError>>(2);
        tokio::spawn(async move {
            let mut batches = batches;
            while let Some(batch) = batches.next().await {
                let failed = batch.is_err();
                if batch_tx.send(batch.map_err(df_error)).await.is_err() || failed {
                    break;
                }
            }
        });
        tokio::task::spawn_blocking(move || {
            let mut file = match write_workbook(&table, &schema, batch_rx) {
                Ok(file) => file,
                Err(e) => {
                    let _ = chunk_tx.blocking_send(Err(e));
                    return;
                }
            };
            loop {
                let mut chunk = vec![0; FILE_CHUNK_BYTES];
                let chunk = match file.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        chunk.truncate(n);
                        Ok(chunk)
                    }
                    Err(e) => Err(write_error(DownloadFormat::Xlsx, e)),
                };
                let failed = chunk.is_err();
                if chunk_tx.blocking_send(chunk).is_err() || failed {
                    return;
                }
            }
        });
        futures::stream::unfold(chunk_rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) })
    };
    futures::stream::once(start).flatten().boxed()
}

/// One column's values as the cell kind Excel should show.
enum SheetColumn {
    Number(ArrayRef),
    Date(ArrayRef),
    Boolean(ArrayRef),
    Text(ArrayRef),
}

impl SheetColumn {
    fn of(column: &ArrayRef) -> Result<Self, LakeError> {
        let to = |t: &DataType| cast(column, t).map_err(|e| write_error(DownloadFormat::Xlsx, e));
        Ok(match column.data_type() {
            t if t.is_numeric() => Self::Number(to(&DataType::Float64)?),
            DataType::Date32 | DataType::Date64 => Self::Date(to(&DataType::Date32)?),
            DataType::Boolean => Self::Boolean(column.clone()),
            _ => Self::Text(to(&DataType::Utf8)?),
        })
    }
}

fn write_workbook(
    table: &str,
    schema: &Schema,
    mut batches: tokio::sync::mpsc::Receiver<Result<RecordBatch, LakeError>>,
) -> Result<std::fs::File, LakeError> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let fail = |e: &dyn std::fmt::Display| write_error(DownloadFormat::Xlsx, e);
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(|e| fail(&e))?;
    let sheet_name: String = table.chars().take(31).collect();
    sheet.set_name(sheet_name).map_err(|e| fail(&e))?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for (c, field) in schema.fields().iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, field.name(), &bold).map_err(|e| fail(&e))?;
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| fail(&e))?;
    let mut row: u32 = 0;
    while let Some(batch) = batches.blocking_recv() {
        let batch = batch?;
        check_xlsx_rows(table, row as usize + batch.num_rows())?;
        let columns = batch.columns().iter().map(SheetColumn::of).collect::<Result<Vec<_>, _>>()?;
        for i in 0..batch.num_rows() {
            row += 1;
            for (c, column) in columns.iter().enumerate() {
                let c = c as u16;
                let written = match column {
                    SheetColumn::Number(a) if a.is_valid(i) => {
                        let v = a.as_primitive::<Float64Type>().value(i);
                        if v.is_finite() {
                            sheet.write_number(row, c, v).map(|_| ())
                        } else {
                            Ok(())
                        }
                    }
                    SheetColumn::Date(a) if a.is_valid(i) => {
                        let day = a.as_primitive::<Date32Type>().value_as_date(i);
                        let excel = day.and_then(|d| {
                            use chrono::Datelike;
                            let year = u16::try_from(d.year()).ok()?;
                            ExcelDateTime::from_ymd(year, d.month() as u8, d.day() as u8).ok()
                        });
                        match (excel, day) {
                            (Some(x), _) => sheet.write_datetime_with_format(row, c, x, &date).map(|_| ()),
                            // Before 1900 or past 9999: Excel has no such date; keep the text.
                            (None, Some(d)) => sheet.write_string(row, c, d.to_string()).map(|_| ()),
                            (None, None) => Ok(()),
                        }
                    }
                    SheetColumn::Boolean(a) if a.is_valid(i) => {
                        sheet.write_boolean(row, c, a.as_boolean().value(i)).map(|_| ())
                    }
                    SheetColumn::Text(a) if a.is_valid(i) => {
                        sheet.write_string(row, c, a.as_string::<i32>().value(i)).map(|_| ())
                    }
                    _ => Ok(()),
                };
                written.map_err(|e| {
                    let name = schema.field(c as usize).name();
                    LakeError::Invalid(format!("cannot write XLSX: row {row}, column {name}: {e}"))
                })?;
            }
        }
    }
    let mut file = tempfile::tempfile().map_err(|e| fail(&e))?;
    workbook.save_to_writer(&mut file).map_err(|e| fail(&e))?;
    file.rewind().map_err(|e| fail(&e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_name_their_files() {
        assert_eq!(DownloadFormat::parse("GeoJSON").unwrap(), DownloadFormat::Geojson);
        assert_eq!(DownloadFormat::parse("xlsx").unwrap().content_type().len(), 65);
        let err = DownloadFormat::parse("xls").unwrap_err().to_string();
        assert_eq!(err, "format: \"xls\" is not a download format; use csv, json, ndjson, xlsx, parquet or geojson");
        for f in DownloadFormat::ALL {
            assert_eq!(DownloadFormat::parse(f.name()).unwrap(), f);
        }
    }

    #[test]
    fn a_sheet_holds_a_million_rows_and_no_more() {
        assert!(check_xlsx_rows("main", XLSX_MAX_ROWS).is_ok());
        let err = check_xlsx_rows("main", XLSX_MAX_ROWS + 1).unwrap_err().to_string();
        assert!(err.contains("more than an Excel sheet holds (1048575); download it as csv or parquet"), "{err}");
    }

    fn json(text: &str) -> serde_json::Value {
        serde_json::to_value(wkt_to_geojson(text).unwrap()).unwrap()
    }

    #[test]
    fn wkt_becomes_geojson_geometry() {
        use serde_json::json;
        assert_eq!(json("POINT (105.85 21.03)"), json!({"type": "Point", "coordinates": [105.85, 21.03]}));
        assert_eq!(json("SRID=4326;POINT(1 2)"), json!({"type": "Point", "coordinates": [1.0, 2.0]}));
        assert_eq!(
            json("LINESTRING (0 0, 1 1)"),
            json!({"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]})
        );
        assert_eq!(
            json("POLYGON ((0 0, 1 0, 1 1, 0 0))"),
            json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]})
        );
        assert_eq!(
            json("MULTIPOINT ((0 0), (1 1))"),
            json!({"type": "MultiPoint", "coordinates": [[0.0, 0.0], [1.0, 1.0]]})
        );
        assert_eq!(
            json("MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))"),
            json!({"type": "MultiLineString", "coordinates": [[[0.0, 0.0], [1.0, 1.0]], [[2.0, 2.0], [3.0, 3.0]]]})
        );
        assert_eq!(
            json("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))"),
            json!({"type": "MultiPolygon", "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]]})
        );
        assert_eq!(
            json("GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))"),
            json!({"type": "GeometryCollection", "geometries": [
                {"type": "Point", "coordinates": [1.0, 2.0]},
                {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]}
            ]})
        );
        assert_eq!(json(""), serde_json::Value::Null);
        assert_eq!(json("point empty"), serde_json::Value::Null);
        assert!(wkt_to_geojson("POINT (1)").is_err());
        assert!(wkt_to_geojson("Hà Nội").is_err());
    }
}
