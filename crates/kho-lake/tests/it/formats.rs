//! Every format a steward uploads: spreadsheets exported by offices (merged titles,
//! two-row headers, text and real dates), JSON arrays, NDJSON, GeoJSON and Parquet;
//! header detection, declared schemas, errors that name row and column in each
//! format, and loads that set bad rows aside in a rejects file.

use crate::{column, fixture, Fixture};
use deltalake::arrow::array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, StringArray};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::record_batch::RecordBatch;
use kho_lake::{IngestOptions, IngestReport, Lake, LakeError};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn options(path: &Path) -> IngestOptions {
    IngestOptions {
        loaded_by: "user:tester".into(),
        source_name: path.file_name().unwrap().to_string_lossy().into(),
        ..Default::default()
    }
}

impl Fixture {
    async fn load_with(&self, path: &Path, options: IngestOptions) -> Result<IngestReport, LakeError> {
        self.lake.ingest("r1", "main", path, options, |_| {}).await
    }

    async fn load_file(&self, path: &Path) -> Result<IngestReport, LakeError> {
        self.load_with(path, options(path)).await
    }
}

fn kinds(report: &IngestReport) -> Vec<(&str, &str)> {
    report.columns.iter().map(|c| (c.name.as_str(), c.kind.as_str())).collect()
}

/// A report as a provincial office exports it: a merged title, a unit line, a blank
/// row, then the table with Vietnamese numbers, text dates and real date cells; and
/// a second sheet of notes.
fn office_workbook(path: &Path, bad_row: Option<u32>) {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let ws = wb.add_worksheet();
    ws.set_name("Dân số").unwrap();
    ws.merge_range(0, 0, 0, 5, "BÁO CÁO DÂN SỐ NĂM 2025", &title).unwrap();
    ws.write_string(1, 0, "Đơn vị: người").unwrap();
    let headers = ["STT", "Tên đơn vị", "Dân số", "Diện tích (km2)", "Ngày cập nhật", "Ngày báo cáo"];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(3, c as u16, *h).unwrap();
    }
    for i in 0..12u32 {
        let r = 4 + i;
        ws.write_number(r, 0, i + 1).unwrap();
        ws.write_string(r, 1, format!("Phường {}", i + 1)).unwrap();
        ws.write_string(r, 2, format!("{}.{:03}", 12 + i, 345)).unwrap();
        ws.write_number(r, 3, 1.25 + i as f64).unwrap();
        let updated = if Some(r + 1) == bad_row { "31/02/2025".to_string() } else { format!("{:02}/07/2025", i + 1) };
        ws.write_string(r, 4, updated).unwrap();
        ws.write_datetime_with_format(r, 5, ExcelDateTime::from_ymd(2025, 8, i as u8 + 1).unwrap(), &date).unwrap();
    }
    let notes = wb.add_worksheet();
    notes.set_name("Ghi chú").unwrap();
    notes.write_string(0, 0, "Nguồn").unwrap();
    notes.write_string(0, 1, "Ghi chú").unwrap();
    notes.write_string(1, 0, "Cục Thống kê").unwrap();
    notes.write_string(1, 1, "Số liệu sơ bộ").unwrap();
    wb.save(path).unwrap();
}

#[tokio::test]
async fn an_office_xlsx_with_a_merged_title_loads_with_typed_columns() {
    let f = fixture();
    let path = f.dir.path().join("bao-cao-dan-so.xlsx");
    office_workbook(&path, None);
    assert_eq!(Lake::sheets(&path, "bao-cao-dan-so.xlsx").unwrap(), ["Dân số", "Ghi chú"]);

    let report = f.load_file(&path).await.unwrap();
    assert_eq!(report.format, "xlsx");
    assert_eq!(report.sheet.as_deref(), Some("Dân số"));
    assert_eq!(report.header_row, Some(4), "the title, unit and blank rows are skipped");
    assert_eq!(report.rows, 12);
    assert_eq!(
        kinds(&report),
        [
            ("stt", "integer"),
            ("ten_don_vi", "text"),
            ("dan_so", "integer"),
            ("dien_tich_km2", "decimal"),
            ("ngay_cap_nhat", "date"),
            ("ngay_bao_cao", "date")
        ]
    );
    assert_eq!(report.columns[3].header, "Diện tích (km2)");
    let rows = f.rows(None).await;
    assert_eq!(column(&rows, "stt")[..2], ["1", "2"]);
    assert_eq!(column(&rows, "dan_so")[..2], ["12345", "13345"]);
    assert_eq!(column(&rows, "dien_tich_km2")[..2], ["1.25", "2.25"]);
    assert_eq!(column(&rows, "ngay_cap_nhat")[..2], ["2025-07-01", "2025-07-02"]);
    assert_eq!(column(&rows, "ngay_bao_cao")[..2], ["2025-08-01", "2025-08-02"]);
}

#[tokio::test]
async fn a_chosen_sheet_loads_and_a_wrong_name_lists_the_sheets() {
    let f = fixture();
    let path = f.dir.path().join("bao-cao.xlsx");
    office_workbook(&path, None);
    let report = f.load_with(&path, IngestOptions { sheet: Some("ghi chú".into()), ..options(&path) }).await.unwrap();
    assert_eq!(report.sheet.as_deref(), Some("Ghi chú"));
    assert_eq!(kinds(&report), [("nguon", "text"), ("ghi_chu", "text")]);
    assert_eq!(column(&f.rows(None).await, "nguon"), ["Cục Thống kê"]);

    let err = f.load_with(&path, IngestOptions { sheet: Some("Sheet9".into()), ..options(&path) }).await.unwrap_err();
    assert_eq!(err.to_string(), "sheet: bao-cao.xlsx has no sheet \"Sheet9\"; its sheets are \"Dân số\", \"Ghi chú\"");
}

#[tokio::test]
async fn a_two_row_merged_header_joins_parent_and_child() {
    let f = fixture();
    let path = f.dir.path().join("hai-dong.xlsx");
    let mut wb = Workbook::new();
    let plain = Format::new();
    let ws = wb.add_worksheet();
    ws.merge_range(0, 0, 1, 0, "STT", &plain).unwrap();
    ws.merge_range(0, 1, 1, 1, "Đơn vị", &plain).unwrap();
    ws.merge_range(0, 2, 0, 3, "Dân số", &plain).unwrap();
    ws.write_string(1, 2, "Nam").unwrap();
    ws.write_string(1, 3, "Nữ").unwrap();
    ws.write_number(2, 0, 1).unwrap();
    ws.write_string(2, 1, "Xã An Bình").unwrap();
    ws.write_number(2, 2, 1200).unwrap();
    ws.write_number(2, 3, 1300).unwrap();
    wb.save(&path).unwrap();
    let report = f.load_file(&path).await.unwrap();
    assert_eq!(report.header_row, Some(1));
    assert_eq!(
        kinds(&report),
        [("stt", "integer"), ("don_vi", "text"), ("dan_so_nam", "integer"), ("dan_so_nu", "integer")]
    );
    assert_eq!(report.columns[3].header, "Dân số Nữ");
    assert_eq!(column(&f.rows(None).await, "dan_so_nu"), ["1300"]);
}

#[tokio::test]
async fn csv_titles_and_files_without_header() {
    let f = fixture();
    let text = "BÁO CÁO HỘ NGHÈO;;\nĐơn vị: hộ;;\n;;\nMã;Tên chủ hộ;Thu nhập\n1;An;1.250.000\n2;Bình;980.000\n";
    let report = f.load_file(&f.file("ho-ngheo.csv", text.as_bytes())).await.unwrap();
    assert_eq!(report.header_row, Some(4));
    assert_eq!(kinds(&report), [("ma", "integer"), ("ten_chu_ho", "text"), ("thu_nhap", "integer")]);
    assert_eq!(report.rows, 2);

    // A declared type that a value does not fit names the line of the file.
    let path = f.file("ho-ngheo-2.csv", text.replace("980.000", "chín trăm").as_bytes());
    let schema = vec![("Thu nhập".to_string(), "integer".to_string())];
    let err = f.load_with(&path, IngestOptions { schema, ..options(&path) }).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ho-ngheo-2.csv, row 6, column \"Thu nhập\": \"chín trăm\" is not a whole number such as 1.234.567; \
         fix the value or declare the column as text"
    );

    let report = f
        .load_file(&f.file("khong-tieu-de.csv", "1,Nguyễn Văn An,01/02/1980\n2,Trần Thị Bình,15/11/1975\n".as_bytes()))
        .await
        .unwrap();
    assert_eq!(report.header_row, None);
    assert_eq!(kinds(&report), [("column_1", "integer"), ("column_2", "text"), ("column_3", "date")]);
    assert_eq!(report.rows, 2);
}

#[tokio::test]
async fn bad_cells_in_a_sheet_name_the_sheet_row_and_column() {
    let f = fixture();
    let path = f.dir.path().join("bao-cao.xlsx");
    office_workbook(&path, Some(11));
    let err = f.load_file(&path).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "bao-cao.xlsx, row 11, column \"Ngày cập nhật\": \"31/02/2025\" is not a date written dd/mm/yyyy; \
         fix the value or declare the column as text"
    );
}

const RECORDS: &str = r#"[
  {"ma": 1, "ten": "Nguyễn Văn An", "ty_le": 1.234, "ngay": "01/07/2025", "ho_ngheo": true, "chi_tiet": {"xa": "07210"}},
  {"ma": 2, "ten": "Trần Thị Bình", "ty_le": 0.5, "ngay": "02/07/2025", "ho_ngheo": false, "chi_tiet": null, "ghi_chu": "mới"}
]"#;

#[tokio::test]
async fn a_json_array_and_ndjson_load_with_typed_columns() {
    let expected = [
        ("ma", "integer"),
        ("ten", "text"),
        ("ty_le", "decimal"),
        ("ngay", "date"),
        ("ho_ngheo", "boolean"),
        ("chi_tiet", "text"),
        ("ghi_chu", "text"),
    ];
    // The records of RECORDS, one a line (keys in the same order), with a blank line.
    let ndjson: String = RECORDS.trim().trim_start_matches('[').trim_end_matches(']').replace("},\n", "}\n\n");
    for (name, bytes, format) in [
        ("ho.json", RECORDS.as_bytes().to_vec(), "json"),
        ("ho.ndjson", ndjson.into_bytes(), "ndjson"),
        ("ho-bom.json", [b"\xEF\xBB\xBF".as_slice(), RECORDS.as_bytes()].concat(), "json"),
    ] {
        let f = fixture();
        let report = f.load_file(&f.file(name, &bytes)).await.unwrap();
        assert_eq!(report.format, format, "{name}");
        assert_eq!(kinds(&report), expected, "{name}");
        assert_eq!(report.header_row, None);
        let rows = f.rows(None).await;
        // A JSON number 1.234 is one and a bit, never one thousand two hundred.
        assert_eq!(column(&rows, "ty_le"), ["1.234", "0.5"], "{name}");
        assert_eq!(column(&rows, "ngay"), ["2025-07-01", "2025-07-02"], "{name}");
        assert_eq!(column(&rows, "chi_tiet"), ["{\"xa\":\"07210\"}", "∅"], "{name}");
        assert_eq!(column(&rows, "ghi_chu"), ["∅", "mới"], "{name}");
    }
}

#[tokio::test]
async fn bad_json_values_name_the_record_and_the_key() {
    let f = fixture();
    let mut records: Vec<String> = (1..=12).map(|i| format!("{{\"ma\": {i}, \"so_luong\": \"{i}.000\"}}")).collect();
    records[9] = "{\"ma\": 10, \"so_luong\": \"nhiều\"}".into();
    let err = f.load_file(&f.file("a.json", format!("[{}]", records.join(",\n")).as_bytes())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.json, row 10, column \"so_luong\": \"nhiều\" is not a whole number such as 1.234.567; \
         fix the value or declare the column as text"
    );
    // In NDJSON the row is the line.
    let err = f.load_file(&f.file("a.ndjson", format!("\n{}\n", records.join("\n")).as_bytes())).await.unwrap_err();
    assert!(err.to_string().starts_with("a.ndjson, row 11, column \"so_luong\": \"nhiều\""), "{err}");
}

#[tokio::test]
async fn a_json_key_first_seen_after_the_sample_is_reported() {
    let f = fixture();
    let mut lines: Vec<String> = (1..=1001).map(|i| format!("{{\"ma\": {i}, \"ten\": \"Hộ {i}\"}}")).collect();
    lines.push("{\"ma\": 1002, \"ten\": \"Hộ 1002\", \"ghi_chu\": \"chuyển đi\"}".into());
    let err = f.load_file(&f.file("ho.json", format!("[{}]", lines.join(",")).as_bytes())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ho.json, row 1002, column \"ghi_chu\": \"chuyển đi\" is not under a key of the first records (ma, ten); \
         put a record with this key among the first 1000, or remove the key"
    );
    assert!(f.lake.history("r1", "main").await.is_err(), "nothing was committed");
}

const COMMUNES: &str = r#"{
  "type": "FeatureCollection",
  "name": "ranh_gioi_xa",
  "bbox": [105.0, 20.9, 106.0, 21.5],
  "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.05, 21.18]},
     "properties": {"ten": "Phường Kinh Bắc", "dan_so": 25000}},
    {"type": "Feature", "id": 2,
     "geometry": {"type": "Polygon", "coordinates": [[[106.0, 21.1], [106.1, 21.1], [106.1, 21.2], [106.0, 21.1]]]},
     "properties": {"ten": "Xã Tam Sơn", "dan_so": 18000.5, "dien_tich": "12,5"}},
    {"type": "Feature", "geometry": null, "properties": {"ten": "Chưa có ranh giới", "dan_so": null}}
  ]
}"#;

#[tokio::test]
async fn geojson_features_load_with_wkt_geometry_and_property_columns() {
    let f = fixture();
    // No .geojson extension: the content tells.
    let report = f.load_file(&f.file("ranh-gioi.json", COMMUNES.as_bytes())).await.unwrap();
    assert_eq!(report.format, "geojson");
    assert_eq!(
        kinds(&report),
        [("geometry", "text"), ("ten", "text"), ("dan_so", "decimal"), ("dien_tich", "decimal")]
    );
    let rows = f.rows(None).await;
    assert_eq!(
        column(&rows, "geometry"),
        ["POINT(106.05 21.18)", "POLYGON((106.0 21.1,106.1 21.1,106.1 21.2,106.0 21.1))", "∅"]
    );
    assert_eq!(column(&rows, "dan_so"), ["25000", "18000.5", "∅"]);
    assert_eq!(column(&rows, "dien_tich"), ["∅", "12.5", "∅"]);
    // The geometry column is marked as WKT in the table's schema.
    let table = f.lake.snapshot("r1", "main", None).await.unwrap();
    let schema = table.snapshot().unwrap().schema();
    let metadata = schema.field("geometry").unwrap().metadata();
    assert_eq!(
        metadata.get("kho.geometry"),
        Some(&deltalake::kernel::MetadataValue::String("wkt".into())),
        "{metadata:?}"
    );
}

#[tokio::test]
async fn a_bad_geometry_is_named() {
    let f = fixture();
    let text = COMMUNES.replace("\"Point\", \"coordinates\": [106.05, 21.18]", "\"Point\", \"coordinates\": [106.05]");
    let err = f.load_file(&f.file("ranh-gioi.geojson", text.as_bytes())).await.unwrap_err();
    assert!(
        err.to_string().starts_with("ranh-gioi.geojson, row 1, column \"geometry\": \"{\\\"coordinates\\\":[106.05],\\\"type\\\":\\\"Point\\\"}\" is not a GeoJSON geometry"),
        "{err}"
    );
}

fn parquet_file(path: &Path) {
    use deltalake::arrow::array::TimestampSecondArray;
    use deltalake::arrow::datatypes::TimeUnit;
    let schema = Arc::new(Schema::new(vec![
        Field::new("ma", DataType::Int32, false),
        Field::new("ten", DataType::Utf8, true),
        Field::new("ty_le", DataType::Float64, true),
        Field::new("ngay", DataType::Date32, true),
        Field::new("ho_ngheo", DataType::Boolean, true),
        Field::new("ma_xa", DataType::Utf8, true),
        Field::new("luc", DataType::Timestamp(TimeUnit::Second, None), true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(vec![1, 2, 3])),
        Arc::new(StringArray::from(vec![Some("An"), None, Some("Cường")])),
        Arc::new(Float64Array::from(vec![1.234, 0.5, 2.0])),
        Arc::new(Date32Array::from(vec![20270, 20271, 20272])),
        Arc::new(BooleanArray::from(vec![true, false, true])),
        Arc::new(StringArray::from(vec!["07210", "1", "x"])),
        Arc::new(TimestampSecondArray::from(vec![0, 60, 3600])),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = deltalake::parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[tokio::test]
async fn parquet_loads_with_the_types_of_its_schema() {
    let f = fixture();
    let path: PathBuf = f.dir.path().join("ho.parquet");
    parquet_file(&path);
    let report = f.load_file(&path).await.unwrap();
    assert_eq!(report.format, "parquet");
    assert_eq!(
        kinds(&report),
        [
            ("ma", "integer"),
            ("ten", "text"),
            ("ty_le", "decimal"),
            ("ngay", "date"),
            ("ho_ngheo", "boolean"),
            ("ma_xa", "text"),
            ("luc", "text")
        ]
    );
    assert_eq!(report.sha256.len(), 64);
    let rows = f.rows(None).await;
    assert_eq!(column(&rows, "ten"), ["An", "∅", "Cường"]);
    assert_eq!(column(&rows, "ty_le"), ["1.234", "0.5", "2"]);
    assert_eq!(column(&rows, "ngay"), ["2025-07-01", "2025-07-02", "2025-07-03"]);
    assert_eq!(column(&rows, "luc"), ["1970-01-01T00:00:00", "1970-01-01T00:01:00", "1970-01-01T01:00:00"]);

    // A declared type a value does not fit names the record.
    let schema = vec![("ma_xa".to_string(), "integer".to_string())];
    let err = f.load_with(&path, IngestOptions { schema, ..options(&path) }).await.unwrap_err();
    assert!(err.to_string().starts_with("ho.parquet, row 3, column \"ma_xa\": \"x\" is not a whole number"), "{err}");
}

#[tokio::test]
async fn a_declared_schema_overrides_inference() {
    let f = fixture();
    let path = f.file("xa.csv", "Mã xã,Ngày,Tỷ lệ\n07210,01/07/2025,1.234\n07228,02/07/2025,2.500\n".as_bytes());
    let report = f.load_file(&path).await.unwrap();
    assert_eq!(kinds(&report), [("ma_xa", "text"), ("ngay", "date"), ("ty_le", "integer")]);

    let schema = [("Mã xã", "integer"), ("ngay", "text"), ("ty_le", "decimal")];
    let schema = schema.iter().map(|(c, k)| (c.to_string(), k.to_string())).collect();
    let report = f.load_with(&path, IngestOptions { schema, ..options(&path) }).await.unwrap();
    assert_eq!(kinds(&report), [("ma_xa", "integer"), ("ngay", "text"), ("ty_le", "decimal")]);
    let rows = f.rows(None).await;
    assert_eq!(column(&rows, "ma_xa"), ["7210", "7228"]);
    assert_eq!(column(&rows, "ngay"), ["01/07/2025", "02/07/2025"]);
    assert_eq!(column(&rows, "ty_le"), ["1234", "2500"], "the Vietnamese reading still wins for 1.234");

    let schema = vec![("Mã tỉnh".to_string(), "integer".to_string())];
    let err = f.load_with(&path, IngestOptions { schema, ..options(&path) }).await.unwrap_err();
    assert_eq!(err.to_string(), "schema: the file has no column \"Mã tỉnh\"; its columns are ma_xa, ngay, ty_le");
    let schema = vec![("ngay".to_string(), "datetime".to_string())];
    let err = f.load_with(&path, IngestOptions { schema, ..options(&path) }).await.unwrap_err();
    assert!(err.to_string().contains("use one of integer, decimal, date, boolean, text"), "{err}");
}

#[tokio::test]
async fn reject_mode_loads_the_good_rows_and_writes_the_bad_ones() {
    let f = fixture();
    let mut text = String::from("Mã;Ngày;Số tiền\n");
    for i in 1..=12 {
        text.push_str(&format!("{i};{:02}/07/2025;{i}.000\n", i));
    }
    text.push_str("13;31/02/2025;5.000\n14;14/07/2025;năm nghìn\n15;15/07/2025;6.000\n");
    let path = f.file("thu.csv", text.as_bytes());

    // By default the first bad row fails the whole load.
    let err = f.load_file(&path).await.unwrap_err();
    assert!(err.to_string().starts_with("thu.csv, row 14, column \"Ngày\": \"31/02/2025\""), "{err}");
    assert!(f.lake.history("r1", "main").await.is_err());

    let rejects = f.dir.path().join("rejects/thu.csv");
    let report = f.load_with(&path, IngestOptions { rejects: Some(rejects.clone()), ..options(&path) }).await.unwrap();
    assert_eq!((report.rows, report.rejected_rows), (13, 2));
    assert_eq!(report.rejects_file.as_deref(), Some(rejects.to_str().unwrap()));
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        "row,column,value,expected,Mã,Ngày,Số tiền\n\
         14,Ngày,31/02/2025,a date written dd/mm/yyyy,13,31/02/2025,5.000\n\
         15,Số tiền,năm nghìn,a whole number such as 1.234.567,14,14/07/2025,năm nghìn\n"
    );
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 1);
    assert_eq!(column(&f.rows(None).await, "ma").len(), 13);

    // A file where every row is bad loads nothing and keeps the reasons.
    let path = f.file("xau.csv", "Mã;Ngày\n1;x\n".as_bytes());
    let schema = vec![("Ngày".to_string(), "date".to_string())];
    let rejects = f.dir.path().join("rejects/xau.csv");
    let options = IngestOptions { rejects: Some(rejects.clone()), schema, ..options(&path) };
    let err = f.load_with(&path, options).await.unwrap_err();
    assert!(err.to_string().starts_with("xau.csv: all 1 rows were rejected, so nothing was loaded"), "{err}");
    assert!(rejects.exists());
    assert_eq!(f.lake.history("r1", "main").await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_value_right_of_the_table_after_the_sample_is_reported() {
    let f = fixture();
    let mut text = String::from("ma,ten\n");
    for i in 1..=1100 {
        text.push_str(&format!("{i},Hộ {i}\n"));
    }
    text.push_str("1101,Hộ 1101,thừa\n");
    let err = f.load_file(&f.file("ho.csv", text.as_bytes())).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "ho.csv, row 1102, column \"column_3\": \"thừa\" is not in one of the table's 2 columns; \
         remove the value, or give its column a header among the first rows"
    );
}

#[tokio::test]
async fn a_format_can_be_named_and_an_unknown_file_is_explained() {
    let f = fixture();
    let path = f.file("upload", RECORDS.as_bytes());
    let report = f
        .load_with(&path, IngestOptions { format: Some(kho_lake::source::Format::Json), ..options(&path) })
        .await
        .unwrap();
    assert_eq!(report.rows, 2);
    let err = f.load_file(&f.file("x.json", b"{\n  \"data\": [1, 2]\n}\n")).await.unwrap_err();
    assert!(err.to_string().starts_with("x.json, row 1, column \"(line)\": \"{\" is not a JSON object"), "{err}");
}

/// A cell of the XLS fixture.
enum XlsCell<'a> {
    Text(&'a str),
    Number(f64),
    /// An Excel date serial, in a cell formatted as a date.
    Date(f64),
}

fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend(typ.to_le_bytes());
    out.extend((data.len() as u16).to_le_bytes());
    out.extend(data);
}

/// A minimal BIFF8 workbook (the XLS format of Excel 97–2003) with one sheet, written
/// record by record into a compound file: a BOF, two cell formats (general and a
/// built-in date), the sheet's entry, then the sheet's cells and merged regions.
fn xls_workbook(path: &Path, sheet: &str, cells: &[(u16, u16, XlsCell)], merges: &[(u16, u16, u16, u16)]) {
    let bof = |dt: u16| [0x0600u16.to_le_bytes(), dt.to_le_bytes(), [0, 0], [0xCD, 0x07]].concat();
    let utf16 = |s: &str| s.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
    let xf = |format: u16| [[0u8, 0].as_slice(), &format.to_le_bytes(), &[0u8; 16]].concat();

    let mut globals = Vec::new();
    record(&mut globals, 0x0809, &[bof(0x0005), vec![0; 8]].concat());
    record(&mut globals, 0x00E0, &xf(0));
    record(&mut globals, 0x00E0, &xf(14));
    let name = utf16(sheet);
    let bound_sheet_len = 4 + 8 + name.len() + 4;
    let sheet_at = (globals.len() + bound_sheet_len) as u32;
    let entry = [sheet_at.to_le_bytes().as_slice(), &[0, 0, sheet.encode_utf16().count() as u8, 1], &name].concat();
    record(&mut globals, 0x0085, &entry);
    record(&mut globals, 0x000A, &[]);
    assert_eq!(globals.len() as u32, sheet_at);

    let mut stream = globals;
    record(&mut stream, 0x0809, &[bof(0x0010), vec![0; 8]].concat());
    for (row, col, cell) in cells {
        let at = [row.to_le_bytes(), col.to_le_bytes()].concat();
        match cell {
            XlsCell::Text(s) => {
                let text = [(s.encode_utf16().count() as u16).to_le_bytes().as_slice(), &[1], &utf16(s)].concat();
                record(&mut stream, 0x0204, &[at.as_slice(), &[0, 0], &text].concat());
            }
            XlsCell::Number(v) => record(&mut stream, 0x0203, &[at.as_slice(), &[0, 0], &v.to_le_bytes()].concat()),
            XlsCell::Date(v) => record(&mut stream, 0x0203, &[at.as_slice(), &[1, 0], &v.to_le_bytes()].concat()),
        }
    }
    let mut merged = (merges.len() as u16).to_le_bytes().to_vec();
    for (first_row, last_row, first_col, last_col) in merges {
        merged.extend([first_row, last_row, first_col, last_col].iter().flat_map(|v| v.to_le_bytes()));
    }
    record(&mut stream, 0x00E5, &merged);
    record(&mut stream, 0x000A, &[]);

    let file = std::fs::File::create(path).unwrap();
    let mut compound = cfb::CompoundFile::create_with_version(cfb::Version::V3, file).unwrap();
    let mut workbook = compound.create_stream("/Workbook").unwrap();
    std::io::Write::write_all(&mut workbook, &stream).unwrap();
    drop(workbook);
    compound.flush().unwrap();
}

#[tokio::test]
async fn an_xls_workbook_loads_with_its_title_skipped_and_dates_kept() {
    use XlsCell::*;
    let f = fixture();
    let path = f.dir.path().join("ho-ngheo.xls");
    let cells = [
        (0, 0, Text("DANH SÁCH HỘ NGHÈO NĂM 2025")),
        (2, 0, Text("Mã hộ")),
        (2, 1, Text("Họ và tên")),
        (2, 2, Text("Ngày sinh")),
        (2, 3, Text("Thu nhập")),
        (3, 0, Number(1.0)),
        (3, 1, Text("Nguyễn Văn An")),
        (3, 2, Date(45839.0)),
        (3, 3, Text("1.250.000")),
        (4, 0, Number(2.0)),
        (4, 1, Text("Trần Thị Bình")),
        (4, 2, Date(45840.0)),
        (4, 3, Number(980000.5)),
    ];
    xls_workbook(&path, "Hộ nghèo", &cells, &[(0, 0, 0, 3)]);
    assert_eq!(Lake::sheets(&path, "ho-ngheo.xls").unwrap(), ["Hộ nghèo"]);
    let report = f.load_file(&path).await.unwrap();
    assert_eq!(
        (report.format.as_str(), report.sheet.as_deref(), report.header_row),
        ("xls", Some("Hộ nghèo"), Some(3))
    );
    assert_eq!(
        kinds(&report),
        [("ma_ho", "integer"), ("ho_va_ten", "text"), ("ngay_sinh", "date"), ("thu_nhap", "decimal")]
    );
    let rows = f.rows(None).await;
    assert_eq!(column(&rows, "ho_va_ten"), ["Nguyễn Văn An", "Trần Thị Bình"]);
    assert_eq!(column(&rows, "ngay_sinh"), ["2025-07-01", "2025-07-02"]);
    assert_eq!(column(&rows, "thu_nhap"), ["1250000", "980000.5"]);
}
