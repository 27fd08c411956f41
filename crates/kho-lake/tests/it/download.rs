//! Downloads read back with readers that share no code with the writers: CSV as
//! text, JSON and NDJSON with serde_json, Parquet with the Parquet crate's reader,
//! XLSX with calamine and GeoJSON with serde_json — for the newest and older versions.

use crate::{column, count, fixture, Fixture, HOUSEHOLDS};
use deltalake::arrow::array::{Int64Array, RecordBatch, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use futures::StreamExt;
use kho_lake::export::GEOMETRY_KEY;
use kho_lake::{DownloadFormat, LoadMode};
use serde_json::{json, Value};
use std::sync::Arc;

/// The whole download of `table` as bytes, with the version it reports and how many chunks it came in.
async fn fetch_table(
    f: &Fixture,
    table: &str,
    version: Option<i64>,
    format: DownloadFormat,
    bom: bool,
) -> (i64, Vec<u8>, usize) {
    let download = f.lake.download("r1", table, version, format, bom).await.unwrap();
    assert_eq!(download.format, format);
    let mut bytes = Vec::new();
    let mut chunks = 0;
    let mut stream = download.chunks;
    while let Some(chunk) = stream.next().await {
        bytes.extend(chunk.unwrap());
        chunks += 1;
    }
    (download.version, bytes, chunks)
}

async fn fetch(f: &Fixture, version: Option<i64>, format: DownloadFormat) -> Vec<u8> {
    fetch_table(f, "main", version, format, false).await.1
}

async fn households() -> Fixture {
    let f = fixture();
    f.load(&f.file("ho-ngheo.csv", HOUSEHOLDS.as_bytes()), LoadMode::Replace).await.unwrap();
    f
}

fn first_household() -> Value {
    json!({
        "ma_ho": 1, "ho_va_ten_chu_ho": "Nguyễn Văn An", "ngay_sinh": "1980-02-01",
        "thu_nhap_vnd": 1250000.5, "ma_xa": "07210", "ho_ngheo": true
    })
}

fn parquet(f: &Fixture, bytes: &[u8]) -> (Vec<RecordBatch>, usize) {
    let path = f.file("download.parquet", bytes);
    let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap();
    let row_groups = builder.metadata().num_row_groups();
    let batches = builder.build().unwrap().map(|b| b.unwrap()).collect();
    (batches, row_groups)
}

fn xlsx(bytes: Vec<u8>) -> calamine::Xlsx<std::io::Cursor<Vec<u8>>> {
    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap()
}

#[tokio::test]
async fn csv_has_the_header_once_dates_and_an_optional_bom() {
    let f = fixture();
    f.load(&f.file("v1.csv", "ma;ten;ngay\n1;An;01/02/2025\n2;Bình;\n".as_bytes()), LoadMode::Replace).await.unwrap();
    f.load(&f.file("v2.csv", b"ma,ten\n9,Z\n"), LoadMode::Replace).await.unwrap();
    let (version, bytes, _) = fetch_table(&f, "main", Some(1), DownloadFormat::Csv, true).await;
    assert_eq!(version, 1);
    assert_eq!(String::from_utf8(bytes).unwrap(), "\u{feff}ma,ten,ngay\n1,An,2025-02-01\n2,Bình,\n");
    let (version, bytes, _) = fetch_table(&f, "main", None, DownloadFormat::Csv, false).await;
    assert_eq!((version, String::from_utf8(bytes).unwrap()), (2, "ma,ten\n9,Z\n".to_string()));
}

#[tokio::test]
async fn json_is_one_array_and_ndjson_one_object_a_line() {
    let f = households().await;
    let rows: Vec<Value> = serde_json::from_slice(&fetch(&f, None, DownloadFormat::Json).await).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], first_household());
    assert_eq!(rows[2]["ngay_sinh"], Value::Null, "nulls are written out");
    assert_eq!(rows[2]["ho_va_ten_chu_ho"], "Lê Văn Đức");

    let text = String::from_utf8(fetch(&f, None, DownloadFormat::Ndjson).await).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines, rows);
    assert!(text.ends_with('\n'));
}

#[tokio::test]
async fn an_empty_table_downloads_as_a_header_or_an_empty_array() {
    let f = fixture();
    f.load(&f.file("empty.csv", b"ma,ten\n"), LoadMode::Replace).await.unwrap();
    assert_eq!(fetch(&f, None, DownloadFormat::Csv).await, b"ma,ten\n");
    assert_eq!(fetch(&f, None, DownloadFormat::Json).await, b"[]");
    assert_eq!(fetch(&f, None, DownloadFormat::Ndjson).await, b"");
    let (batches, _) = parquet(&f, &fetch(&f, None, DownloadFormat::Parquet).await);
    assert_eq!(count(&batches), 0);
}

#[tokio::test]
async fn parquet_reads_back_with_the_same_rows_and_types() {
    let f = households().await;
    let (batches, _) = parquet(&f, &fetch(&f, None, DownloadFormat::Parquet).await);
    let through_kho = f.rows(None).await;
    let types = |b: &[RecordBatch]| -> Vec<(String, DataType)> {
        b[0].schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect()
    };
    assert_eq!(types(&batches), types(&through_kho));
    assert_eq!(types(&batches)[2], ("ngay_sinh".to_string(), DataType::Date32));
    for name in ["ma_ho", "ho_va_ten_chu_ho", "ngay_sinh", "thu_nhap_vnd", "ma_xa", "ho_ngheo"] {
        assert_eq!(column(&batches, name), column(&through_kho, name), "{name}");
    }
}

#[tokio::test]
async fn a_large_parquet_download_streams_row_group_by_row_group() {
    let f = fixture();
    let mut big = String::from("ma,ten\n");
    for i in 0..150_000 {
        big.push_str(&format!("{i},Hộ số {i}\n"));
    }
    f.load(&f.file("big.csv", big.as_bytes()), LoadMode::Replace).await.unwrap();
    let (_, bytes, chunks) = fetch_table(&f, "main", None, DownloadFormat::Parquet, false).await;
    let (batches, row_groups) = parquet(&f, &bytes);
    assert_eq!(count(&batches), 150_000);
    assert!(row_groups >= 3, "{row_groups} row groups");
    assert!(chunks >= row_groups, "each row group leaves as it is written ({chunks} chunks)");
    assert_eq!(column(&batches, "ten")[149_999], "Hộ số 149999");
}

#[tokio::test]
async fn xlsx_has_a_bold_header_numbers_and_real_dates() {
    use calamine::{Data, DataType as _, Reader};
    let f = households().await;
    let mut book = xlsx(fetch(&f, None, DownloadFormat::Xlsx).await);
    let sheet = book.worksheet_range("main").unwrap();
    assert_eq!(sheet.get_size(), (4, 6));
    let header: Vec<String> = (0..6).map(|c| sheet.get((0, c)).unwrap().to_string()).collect();
    assert_eq!(header, ["ma_ho", "ho_va_ten_chu_ho", "ngay_sinh", "thu_nhap_vnd", "ma_xa", "ho_ngheo"]);
    assert_eq!(sheet.get((1, 0)), Some(&Data::Float(1.0)));
    assert_eq!(sheet.get((1, 1)), Some(&Data::String("Nguyễn Văn An".into())));
    let born = sheet.get((1, 2)).unwrap();
    assert!(born.is_datetime(), "{born:?}");
    assert_eq!(born.as_date(), chrono::NaiveDate::from_ymd_opt(1980, 2, 1));
    assert_eq!(sheet.get((1, 3)), Some(&Data::Float(1_250_000.5)));
    assert_eq!(sheet.get((1, 4)), Some(&Data::String("07210".into())), "codes keep their leading zero");
    assert_eq!(sheet.get((1, 5)), Some(&Data::Bool(true)));
    assert_eq!(sheet.get((3, 2)), Some(&Data::Empty), "a missing date stays empty");

    let styles = book.worksheet_style("main").unwrap();
    let bold = |pos| styles.get(pos).and_then(|s| s.font.as_ref()).is_some_and(|f| f.is_bold());
    assert!(bold((0, 0)) && bold((0, 5)), "the header is bold");
    assert!(!bold((1, 0)));
    let date_format = styles.get((1, 2)).and_then(|s| s.number_format.as_ref()).map(|n| n.format_code.clone());
    assert_eq!(date_format.as_deref(), Some("dd/mm/yyyy"));
}

/// A spatial table as the ingest side writes it: WKT text in a column marked
/// `kho.geometry = wkt`.
async fn places(f: &Fixture) {
    let url = f.lake.table_url("r1", "places").unwrap();
    std::fs::create_dir_all(url.to_file_path().unwrap()).unwrap();
    let geometry = Field::new("geometry", DataType::Utf8, true)
        .with_metadata([(GEOMETRY_KEY.to_string(), "wkt".to_string())].into_iter().collect());
    let schema = Arc::new(Schema::new(vec![
        Field::new("ma", DataType::Int64, true),
        Field::new("ten", DataType::Utf8, true),
        geometry,
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec!["UBND phường Đa Mai", "Hồ Văn Miếu", "Chưa đo"])),
            Arc::new(StringArray::from(vec![
                Some("POINT (106.1946 21.2781)"),
                Some("POLYGON ((105.8 21.0, 105.9 21.0, 105.9 21.1, 105.8 21.0))"),
                None,
            ])),
        ],
    )
    .unwrap();
    let table = deltalake::DeltaTable::try_from_url(url).await.unwrap();
    table.write(vec![batch]).await.unwrap();
}

#[tokio::test]
async fn geojson_turns_wkt_into_geometries_and_the_rest_into_properties() {
    let f = fixture();
    places(&f).await;
    let (version, bytes, _) = fetch_table(&f, "places", None, DownloadFormat::Geojson, false).await;
    assert_eq!(version, 1);
    let collection: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    assert_eq!(
        features[0],
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.1946, 21.2781]},
               "properties": {"ma": 1, "ten": "UBND phường Đa Mai"}})
    );
    assert_eq!(
        features[1]["geometry"],
        json!({"type": "Polygon", "coordinates": [[[105.8, 21.0], [105.9, 21.0], [105.9, 21.1], [105.8, 21.0]]]})
    );
    assert_eq!(features[2]["geometry"], Value::Null, "a row without a shape has a null geometry");
    assert_eq!(features[2]["properties"]["ten"], "Chưa đo");

    let formats = f.lake.download_formats("r1", "places", None).await.unwrap();
    assert_eq!(formats, DownloadFormat::ALL);
    // The other formats keep the geometry as WKT text.
    let rows: Vec<Value> =
        serde_json::from_slice(&fetch_table(&f, "places", None, DownloadFormat::Json, false).await.1).unwrap();
    assert_eq!(rows[0]["geometry"], "POINT (106.1946 21.2781)");
}

#[tokio::test]
async fn geojson_of_a_table_without_geometry_is_refused() {
    let f = households().await;
    let err = f.lake.download("r1", "main", None, DownloadFormat::Geojson, false).await.err().unwrap();
    assert_eq!(
        err.to_string(),
        "format: table main has no geometry column, so it has no GeoJSON; download it as csv, json, ndjson, xlsx or parquet"
    );
    let formats = f.lake.download_formats("r1", "main", None).await.unwrap();
    assert!(!formats.contains(&DownloadFormat::Geojson));
    assert_eq!(formats.len(), 5);
}

#[tokio::test]
async fn old_versions_download_as_they_were() {
    use calamine::Reader;
    let f = households().await;
    f.load(&f.file("v2.csv", "Mã hộ;Họ và tên chủ hộ\n9;Phạm Thị Hoa\n".as_bytes()), LoadMode::Replace).await.unwrap();
    for (version, rows, name) in [(Some(1), 3, "Nguyễn Văn An"), (None, 1, "Phạm Thị Hoa")] {
        let (number, bytes, _) = fetch_table(&f, "main", version, DownloadFormat::Json, false).await;
        assert_eq!(number, version.unwrap_or(2));
        let json: Vec<Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!((json.len(), json[0]["ho_va_ten_chu_ho"].as_str()), (rows, Some(name)), "json v{number}");
        if number == 1 {
            assert_eq!(json[0], first_household());
        }

        let text = String::from_utf8(fetch(&f, version, DownloadFormat::Csv).await).unwrap();
        assert_eq!(text.lines().count(), rows + 1, "csv v{number}");
        let ndjson = String::from_utf8(fetch(&f, version, DownloadFormat::Ndjson).await).unwrap();
        assert_eq!(ndjson.lines().count(), rows, "ndjson v{number}");

        let (batches, _) = parquet(&f, &fetch(&f, version, DownloadFormat::Parquet).await);
        assert_eq!(column(&batches, "ho_va_ten_chu_ho")[0], name, "parquet v{number}");
        assert_eq!(count(&batches), rows);

        let sheet = xlsx(fetch(&f, version, DownloadFormat::Xlsx).await).worksheet_range("main").unwrap();
        assert_eq!(sheet.height(), rows + 1, "xlsx v{number}");
        assert_eq!(sheet.get((1, 1)).unwrap().to_string(), name);
    }
}

/// A table of several files (one a load) is read in one order by every reader that
/// has no sort, while several streams read it side by side: pages by offset neither
/// repeat nor skip a row, and they agree with the preview and the download. The first file is large enough (over 10 MB, three row groups) for a read
/// to split it between parallel streams.
#[tokio::test]
async fn rows_come_in_one_order_across_files_and_streams() {
    let f = fixture();
    let loads = [300_000u32, 1_000, 1_000];
    let mut loaded = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut first = 0;
    for (i, &rows) in loads.iter().enumerate() {
        let mut csv = String::from("so,nhom,ma\n");
        for n in first..first + rows {
            loaded.push(n.to_string());
            // Values that do not compress, so that the file is large.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            csv.push_str(&format!("{n},{},{seed:016x}{:016x}\n", n % 3, seed.rotate_left(29)));
        }
        first += rows;
        let mode = if i == 0 { LoadMode::Replace } else { LoadMode::Append };
        f.load(&f.file(&format!("lan-{i}.csv"), csv.as_bytes()), mode).await.unwrap();
    }
    let sizes: Vec<u64> = std::fs::read_dir(f.dir.path().join("objects/lake/r1/main"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".parquet"))
        .map(|e| e.metadata().unwrap().len())
        .collect();
    assert_eq!(sizes.len(), 3, "one file a load");
    assert!(sizes.iter().any(|&s| s > 10_000_000), "a file over 10 MB: {sizes:?}");

    let page = 40_000;
    let mut paged = Vec::new();
    for offset in (0..loaded.len()).step_by(page) {
        let query = kho_lake::RowQuery { limit: page, offset, ..Default::default() };
        paged.extend(column(&f.lake.rows("r1", "main", &query).await.unwrap().batches, "so"));
    }
    let mut every = paged.clone();
    every.sort_by_key(|n| n.parse::<u32>().unwrap());
    every.dedup();
    assert!(every == loaded, "each row once: {} distinct rows in pages of {} rows", every.len(), loaded.len());
    // The order is the same in every page: the rows of a file in order, though a large
    // file may be read in parts and another file's rows come between them.
    let starts: Vec<u32> = loads.iter().scan(0, |next, rows| Some(std::mem::replace(next, *next + rows))).collect();
    for (load, (&start, &rows)) in starts.iter().zip(&loads).enumerate() {
        let of_load: Vec<u32> =
            paged.iter().map(|n| n.parse().unwrap()).filter(|n| (start..start + rows).contains(n)).collect();
        assert!(of_load.windows(2).all(|w| w[0] < w[1]), "load {load}'s rows come in order");
    }

    // Filtered pages too: every third row.
    let mut filtered = Vec::new();
    for offset in (0..loaded.len()).step_by(page / 3) {
        let query = kho_lake::RowQuery {
            filters: vec![kho_lake::Filter::from_param("nhom", "1").unwrap()],
            limit: page / 3,
            offset,
            ..Default::default()
        };
        filtered.extend(column(&f.lake.rows("r1", "main", &query).await.unwrap().batches, "so"));
    }
    let expected: Vec<String> = paged.iter().filter(|n| n.parse::<u32>().unwrap() % 3 == 1).cloned().collect();
    assert!(filtered == expected, "filtered pages in the same order");

    assert!(column(&f.rows(None).await, "so") == paged, "the preview in the same order");
    let (_, csv, _) = fetch_table(&f, "main", None, DownloadFormat::Csv, false).await;
    let downloaded: Vec<String> =
        String::from_utf8(csv).unwrap().lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect();
    assert!(downloaded == paged, "the download in the same order");
}
