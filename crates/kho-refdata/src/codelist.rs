//! Danh mục dùng chung — code lists: versioned lists of codes (administrative units,
//! ethnic groups, …) that the other capabilities look codes up in.
//!
//! A [`CodeList`] (identified by a slug, owned by an agency) has numbered versions,
//! each `draft` or `published`, effective from a date and optionally until one. Each
//! version holds [`CodeItem`]s; the key of an item is always (list, version, code),
//! because codes are reused across versions (legacy commune `00004` is Phường Trúc
//! Bạch, 2025 commune `00004` is Phường Ba Đình).
//!
//! This module holds the types and the pure logic: validation ([`validate`]), reading
//! items from CSV or XLSX ([`parse_items`]), the difference between two versions
//! ([`Diff`]), exports ([`export`]) and the in-memory index of a published version
//! ([`VersionIndex`]) that the lookups run on. No IO: the store keeps the lists and
//! the server's services decide who may change them.

use chrono::{DateTime, NaiveDate, Utc};
use kho_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Longest slug of a code list.
pub const SLUG_MAX: usize = 64;

/// Danh mục — a code list as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CodeList {
    /// The identifier, a slug such as `admin-units`.
    #[schema(example = "admin-units")]
    pub slug: String,
    #[schema(example = "Đơn vị hành chính cấp xã")]
    pub name_vi: String,
    pub name_en: Option<String>,
    pub description: String,
    /// Cơ quan chủ quản — the owning agency.
    pub agency_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new code list as a caller writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCodeList {
    #[schema(example = "dan-toc")]
    pub slug: String,
    #[schema(example = "Danh mục dân tộc")]
    pub name_vi: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The owning agency; the caller's own when left out.
    #[serde(default)]
    pub agency_id: Option<String>,
}

impl NewCodeList {
    /// Trims the fields and checks them, naming the field at fault.
    pub fn validate(mut self) -> Result<Self> {
        self.slug = self.slug.trim().to_string();
        self.name_vi = self.name_vi.trim().to_string();
        self.name_en = self.name_en.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        self.description = self.description.trim().to_string();
        if !kho_vn::is_slug(&self.slug, SLUG_MAX) {
            return Err(Error::invalid(
                "slug",
                format!(
                    "{:?} is not an identifier: use lowercase letters, digits and dashes, up to {SLUG_MAX} characters (e.g. dan-toc)",
                    self.slug
                ),
            ));
        }
        if self.name_vi.is_empty() || self.name_vi.chars().count() > 200 {
            return Err(Error::invalid("name_vi", "write the list's Vietnamese name (1 to 200 characters)"));
        }
        Ok(self)
    }
}

/// Trạng thái phiên bản — whether a version is a draft or published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Bản nháp — imported, not in use yet; may be deleted.
    Draft,
    /// Đã công bố — in use from `effective_from`; never changes again but for its end date.
    Published,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(Self::Draft),
            "published" => Ok(Self::Published),
            other => Err(Error::invalid("status", format!("{other:?} is not draft or published"))),
        }
    }
}

/// Phiên bản danh mục — one version of a code list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CodeListVersion {
    pub list: String,
    /// 1, 2, 3, … in the order they were imported.
    pub version: i64,
    pub status: VersionStatus,
    /// Hiệu lực từ — first day in force (set when published).
    pub effective_from: Option<NaiveDate>,
    /// Hiệu lực đến — last day in force; `null` while in force.
    pub effective_until: Option<NaiveDate>,
    pub item_count: i64,
    /// The validation report of the import; a version with errors cannot be published.
    pub report: ValidationReport,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl CodeListVersion {
    /// Whether this version is in force on `date`.
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.status == VersionStatus::Published
            && self.effective_from.is_some_and(|from| from <= date)
            && self.effective_until.is_none_or(|until| date <= until)
    }
}

/// The version in force on `date`: of the published versions whose dates cover it,
/// the newest.
pub fn version_on(versions: &[CodeListVersion], date: NaiveDate) -> Option<&CodeListVersion> {
    versions.iter().filter(|v| v.in_force_on(date)).max_by_key(|v| v.version)
}

/// Mục danh mục — one item of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CodeItem {
    #[schema(example = "00004")]
    pub code: String,
    #[schema(example = "Phường Ba Đình")]
    pub name_vi: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Mã cha — the parent's code, in the same version, for hierarchies.
    #[serde(default)]
    pub parent_code: Option<String>,
    /// Other columns of the source, by header.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// One problem found in the items; `row` and `column` say where in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemError {
    /// The row in the file (1-based, the header included), when the items came from one.
    pub row: Option<usize>,
    /// The column's header and letter, e.g. `code (A)`.
    pub column: Option<String>,
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ItemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.row, &self.column) {
            (Some(r), Some(c)) => write!(f, "row {r}, column {c}: {}", self.message),
            (Some(r), None) => write!(f, "row {r}: {}", self.message),
            (None, Some(c)) => write!(f, "column {c}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// Báo cáo kiểm tra — what the import found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ValidationReport {
    /// Items read (rows with a code).
    pub items: usize,
    /// Problems that block publishing; at most [`REPORT_ERRORS_MAX`] are kept.
    pub errors: Vec<ItemError>,
    /// How many problems there were in all.
    pub error_count: usize,
}

/// How many errors a report keeps (the count says how many there were).
pub const REPORT_ERRORS_MAX: usize = 200;

impl ValidationReport {
    pub fn is_ok(&self) -> bool {
        self.error_count == 0
    }
    fn push(&mut self, e: ItemError) {
        self.error_count += 1;
        if self.errors.len() < REPORT_ERRORS_MAX {
            self.errors.push(e);
        }
    }
}

/// Items read from a file, each with the row it came from.
#[derive(Debug, Clone, Default)]
pub struct ParsedItems {
    pub items: Vec<CodeItem>,
    /// The file row (1-based) of each item.
    pub rows: Vec<usize>,
    /// The column letter and header of code, name and parent code, for errors.
    pub columns: Columns,
}

/// Where the known fields were found in the file, e.g. `code (A)`.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub code: Option<String>,
    pub name: Option<String>,
    pub parent: Option<String>,
}

/// Checks items: an empty code or name, a code twice (both rows named), a parent code
/// that is not in the version. Returns the items to keep (the first of duplicates)
/// and the report.
pub fn validate(parsed: ParsedItems) -> (Vec<CodeItem>, ValidationReport) {
    let ParsedItems { items, rows, columns } = parsed;
    let row_of = |i: usize| rows.get(i).copied();
    let mut report = ValidationReport { items: items.len(), ..Default::default() };
    let mut first_row: HashMap<&str, usize> = HashMap::new();
    let mut keep = vec![true; items.len()];
    for (i, item) in items.iter().enumerate() {
        if item.code.is_empty() {
            report.push(ItemError {
                row: row_of(i),
                column: columns.code.clone(),
                code: None,
                message: "the code is empty; every item needs a code".into(),
            });
            keep[i] = false;
            continue;
        }
        if item.name_vi.is_empty() {
            report.push(ItemError {
                row: row_of(i),
                column: columns.name.clone(),
                code: Some(item.code.clone()),
                message: format!("item {:?} has no name; write its Vietnamese name", item.code),
            });
        }
        match first_row.get(item.code.as_str()) {
            Some(&first) => {
                let at = |i: usize| row_of(i).map_or_else(|| format!("item {}", i + 1), |r| format!("row {r}"));
                report.push(ItemError {
                    row: row_of(i),
                    column: columns.code.clone(),
                    code: Some(item.code.clone()),
                    message: format!(
                        "code {:?} appears twice, in {} and {}; a code must be unique within a version",
                        item.code,
                        at(first),
                        at(i)
                    ),
                });
                keep[i] = false;
            }
            None => {
                first_row.insert(&item.code, i);
            }
        }
    }
    for (i, item) in items.iter().enumerate() {
        if let Some(parent) = &item.parent_code {
            if !first_row.contains_key(parent.as_str()) {
                report.push(ItemError {
                    row: row_of(i),
                    column: columns.parent.clone(),
                    code: Some(item.code.clone()),
                    message: format!(
                        "parent code {parent:?} of item {:?} is not in this version; add it or clear the parent code",
                        item.code
                    ),
                });
            } else if parent == &item.code {
                report.push(ItemError {
                    row: row_of(i),
                    column: columns.parent.clone(),
                    code: Some(item.code.clone()),
                    message: format!("item {:?} names itself as its parent", item.code),
                });
            }
        }
    }
    let kept = items.into_iter().zip(keep).filter_map(|(item, k)| k.then_some(item)).collect();
    (kept, report)
}

// ---- reading files ------------------------------------------------------------------

/// Which file format an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    /// XLSX files are ZIP archives (`PK\x03\x04`); anything else is read as CSV.
    pub fn detect(bytes: &[u8]) -> Self {
        if bytes.starts_with(b"PK\x03\x04") {
            Self::Xlsx
        } else {
            Self::Csv
        }
    }
}

/// Reads items from a CSV or XLSX file (detected from its first bytes). `file` names
/// it in errors; `sheet` picks an XLSX sheet by name (else the first).
///
/// The header row is the first non-empty row. Known columns (any case, with or
/// without diacritics): `code`/`Mã`, `name`/`name_vi`/`Tên`, `name_en`/`Tên tiếng
/// Anh`, `parent_code`/`Mã cha`; every other column becomes an attribute.
pub fn parse_items(file: &str, bytes: &[u8], sheet: Option<&str>) -> Result<ParsedItems> {
    let rows = match FileFormat::detect(bytes) {
        FileFormat::Xlsx => xlsx_rows(file, bytes, sheet)?,
        FileFormat::Csv => {
            if sheet.is_some() {
                return Err(Error::invalid("sheet", format!("{file} is a CSV file; it has no sheets")));
            }
            csv_rows(file, bytes)?
        }
    };
    items_from_rows(file, rows)
}

/// The known fields a header can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Code,
    Name,
    NameEn,
    Parent,
}

fn field_of(header: &str) -> Option<Field> {
    let folded = kho_vn::fold(header).replace(['_', '-'], " ");
    match folded.split_whitespace().collect::<Vec<_>>().join(" ").as_str() {
        "code" | "ma" => Some(Field::Code),
        "name" | "name vi" | "ten" | "ten tieng viet" => Some(Field::Name),
        "name en" | "ten tieng anh" => Some(Field::NameEn),
        "parent code" | "parent" | "ma cha" => Some(Field::Parent),
        _ => None,
    }
}

/// The spreadsheet letter of a 0-based column: 0 → A, 26 → AA.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Rows of cells with their 1-based row numbers.
type Rows = Vec<(usize, Vec<String>)>;

fn items_from_rows(file: &str, rows: Rows) -> Result<ParsedItems> {
    let mut rows = rows.into_iter().filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let Some((header_row, header)) = rows.next() else {
        return Err(Error::invalid("file", format!("{file} is empty: write a header row (code, name) and the items")));
    };
    let mut fields: Vec<Option<Field>> = Vec::new();
    let mut attributes: Vec<Option<String>> = Vec::new();
    let mut columns = Columns::default();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        let field = field_of(h);
        if let Some(f) = field {
            if fields.contains(&Some(f)) {
                return Err(Error::invalid(
                    "file",
                    format!(
                        "{file}, row {header_row}, column {}: {h:?} names a column already given; keep one",
                        column_letter(i)
                    ),
                ));
            }
            let label = Some(format!("{h} ({})", column_letter(i)));
            match f {
                Field::Code => columns.code = label,
                Field::Name => columns.name = label,
                Field::Parent => columns.parent = label,
                Field::NameEn => {}
            }
        }
        fields.push(field);
        attributes.push((field.is_none() && !h.is_empty()).then(|| h.to_string()));
    }
    for (f, what) in [(Field::Code, "code (or Mã)"), (Field::Name, "name (or name_vi, Tên)")] {
        if !fields.contains(&Some(f)) {
            return Err(Error::invalid(
                "file",
                format!(
                    "{file}, row {header_row}: no column {what} in the header; the header is the first non-empty row"
                ),
            ));
        }
    }
    let mut parsed = ParsedItems { columns, ..Default::default() };
    for (row, cells) in rows {
        let mut item = CodeItem {
            code: String::new(),
            name_vi: String::new(),
            name_en: None,
            parent_code: None,
            attributes: BTreeMap::new(),
        };
        for (i, cell) in cells.iter().enumerate() {
            let value = cell.trim();
            match fields.get(i).copied().flatten() {
                Some(Field::Code) => item.code = value.to_string(),
                Some(Field::Name) => item.name_vi = value.to_string(),
                Some(Field::NameEn) => item.name_en = Some(value.to_string()).filter(|s| !s.is_empty()),
                Some(Field::Parent) => item.parent_code = Some(value.to_string()).filter(|s| !s.is_empty()),
                None => {
                    if let Some(Some(name)) = attributes.get(i) {
                        if !value.is_empty() {
                            item.attributes.insert(name.clone(), value.to_string());
                        }
                    }
                }
            }
        }
        parsed.items.push(item);
        parsed.rows.push(row);
    }
    Ok(parsed)
}

fn csv_rows(file: &str, bytes: &[u8]) -> Result<Rows> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid("file", format!("{file} is not UTF-8 text (at byte {}); save it as CSV UTF-8", e.valid_up_to()))
    })?;
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter =
        [b',', b';', b'\t'].into_iter().max_by_key(|d| first.bytes().filter(|b| b == d).count()).unwrap_or(b',');
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            Error::invalid("file", format!("{file}, row {line}: not valid CSV ({e})"))
        })?;
        let line = record.position().map_or(rows.len() + 1, |p| p.line() as usize);
        rows.push((line, record.iter().map(str::to_string).collect()));
    }
    Ok(rows)
}

fn xlsx_rows(file: &str, bytes: &[u8], sheet: Option<&str>) -> Result<Rows> {
    use calamine::{Data, Reader};
    let bad =
        |e: &dyn std::fmt::Display| Error::invalid("file", format!("{file} is not a readable XLSX workbook: {e}"));
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(s) => {
            names.iter().find(|n| n.as_str() == s || kho_vn::fold(n) == kho_vn::fold(s)).cloned().ok_or_else(|| {
                Error::invalid("sheet", format!("{file} has no sheet {s:?}; its sheets are {}", names.join(", ")))
            })?
        }
        None => names.first().cloned().ok_or_else(|| Error::invalid("file", format!("{file} has no sheets")))?,
    };
    let range = wb.worksheet_range(&name).map_err(|e| bad(&e))?;
    let (row0, col0) = range.start().map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let text = |d: &Data| match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(v) => v.to_string(),
        Data::Float(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => format!("{}", *v as i64),
        Data::Float(v) => v.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.as_datetime().map(|t| t.date().to_string()).unwrap_or_else(|| d.to_string()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    };
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut row: Vec<String> = vec![String::new(); col0];
            row.extend(cells.iter().map(text));
            (row0 + i + 1, row)
        })
        .collect())
}

// ---- comparing versions -------------------------------------------------------------

/// A renamed item: the same code with another Vietnamese name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Renamed {
    pub code: String,
    pub old_name: String,
    pub new_name: String,
}

/// Xem trước — what a draft changes against the version in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Diff {
    /// The version compared against; `null` when nothing is published yet.
    pub against_version: Option<i64>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub renamed: Vec<Renamed>,
    /// Same code, same name (other fields may differ).
    pub unchanged: usize,
}

impl Diff {
    /// Compares `new` with `old` by code.
    pub fn between(against_version: Option<i64>, old: &[CodeItem], new: &[CodeItem]) -> Self {
        let old_by: HashMap<&str, &CodeItem> = old.iter().map(|i| (i.code.as_str(), i)).collect();
        let new_codes: HashSet<&str> = new.iter().map(|i| i.code.as_str()).collect();
        let mut diff = Diff { against_version, ..Default::default() };
        for item in new {
            match old_by.get(item.code.as_str()) {
                None => diff.added.push(item.code.clone()),
                Some(o) if o.name_vi != item.name_vi => diff.renamed.push(Renamed {
                    code: item.code.clone(),
                    old_name: o.name_vi.clone(),
                    new_name: item.name_vi.clone(),
                }),
                Some(_) => diff.unchanged += 1,
            }
        }
        diff.removed = old.iter().filter(|o| !new_codes.contains(o.code.as_str())).map(|o| o.code.clone()).collect();
        diff
    }
}

// ---- lookups ------------------------------------------------------------------------

/// A version's items indexed for lookups: by code, by parent, by folded name.
#[derive(Debug, Clone)]
pub struct VersionIndex {
    pub version: CodeListVersion,
    items: Vec<CodeItem>,
    by_code: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
    folded: Vec<String>,
}

impl VersionIndex {
    pub fn new(version: CodeListVersion, items: Vec<CodeItem>) -> Self {
        let by_code = items.iter().enumerate().map(|(i, it)| (it.code.clone(), i)).collect();
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, it) in items.iter().enumerate() {
            if let Some(p) = &it.parent_code {
                children.entry(p.clone()).or_default().push(i);
            }
        }
        let folded = items.iter().map(|it| kho_vn::fold(&it.name_vi)).collect();
        Self { version, items, by_code, children, folded }
    }
    pub fn items(&self) -> &[CodeItem] {
        &self.items
    }
    pub fn item(&self, code: &str) -> Option<&CodeItem> {
        self.by_code.get(code).map(|&i| &self.items[i])
    }
    /// The items whose parent is `code`.
    pub fn children(&self, code: &str) -> Vec<&CodeItem> {
        self.children.get(code).map(|v| v.iter().map(|&i| &self.items[i]).collect()).unwrap_or_default()
    }
    /// Items whose name contains every word of `query`, diacritics ignored
    /// (`ba dinh` finds `Phường Ba Đình`); a code equal to the query comes first.
    pub fn search(&self, query: &str) -> Vec<&CodeItem> {
        let words: Vec<String> = kho_vn::fold(query).split_whitespace().map(str::to_string).collect();
        let mut found: Vec<&CodeItem> = self
            .items
            .iter()
            .zip(&self.folded)
            .filter(|(it, f)| it.code == query.trim() || words.iter().all(|w| f.contains(w.as_str())))
            .map(|(it, _)| it)
            .collect();
        found.sort_by_key(|it| it.code != query.trim());
        found
    }
}

// ---- exports ------------------------------------------------------------------------

/// The formats a version can be exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Json,
    Xlsx,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "json" => Ok(Self::Json),
            "xlsx" => Ok(Self::Xlsx),
            other => Err(Error::invalid("format", format!("{other:?} is not csv, json or xlsx"))),
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Xlsx => "xlsx",
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The columns of an export: code, name_vi, name_en, parent_code, then the attributes
/// in name order. Reading an export back gives the same items.
fn export_header(items: &[CodeItem]) -> Vec<String> {
    let mut attrs: Vec<&String> = items.iter().flat_map(|i| i.attributes.keys()).collect();
    attrs.sort();
    attrs.dedup();
    ["code", "name_vi", "name_en", "parent_code"]
        .iter()
        .map(|s| s.to_string())
        .chain(attrs.into_iter().cloned())
        .collect()
}

fn export_row(header: &[String], item: &CodeItem) -> Vec<String> {
    header
        .iter()
        .enumerate()
        .map(|(i, h)| match i {
            0 => item.code.clone(),
            1 => item.name_vi.clone(),
            2 => item.name_en.clone().unwrap_or_default(),
            3 => item.parent_code.clone().unwrap_or_default(),
            _ => item.attributes.get(h).cloned().unwrap_or_default(),
        })
        .collect()
}

/// Writes `items` in `format`. JSON is `{"list", "version", "effective_from",
/// "effective_until", "items": [...]}`; CSV (UTF-8 with BOM, for spreadsheets) and
/// XLSX have one row per item.
pub fn export(format: ExportFormat, version: &CodeListVersion, items: &[CodeItem]) -> Result<Vec<u8>> {
    let header = export_header(items);
    let fail =
        |e: &dyn std::fmt::Display| Error::internal(format!("cannot write the {} export: {e}", format.extension()));
    match format {
        ExportFormat::Json => serde_json::to_vec_pretty(&serde_json::json!({
            "list": version.list,
            "version": version.version,
            "effective_from": version.effective_from,
            "effective_until": version.effective_until,
            "items": items,
        }))
        .map_err(|e| fail(&e)),
        ExportFormat::Csv => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(&header).map_err(|e| fail(&e))?;
                for item in items {
                    w.write_record(export_row(&header, item)).map_err(|e| fail(&e))?;
                }
                w.flush().map_err(|e| fail(&e))?;
            }
            Ok(out)
        }
        ExportFormat::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let sheet = wb.add_worksheet();
            let name: String = version.list.chars().take(31).collect();
            sheet.set_name(name).map_err(|e| fail(&e))?;
            for (c, h) in header.iter().enumerate() {
                sheet.write_string(0, c as u16, h).map_err(|e| fail(&e))?;
            }
            for (r, item) in items.iter().enumerate() {
                for (c, v) in export_row(&header, item).iter().enumerate() {
                    if !v.is_empty() {
                        sheet.write_string(r as u32 + 1, c as u16, v).map_err(|e| fail(&e))?;
                    }
                }
            }
            wb.save_to_buffer().map_err(|e| fail(&e))
        }
    }
}

/// Parses a date as `YYYY-MM-DD` (or `DD/MM/YYYY`), naming the field when it is not one.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| Error::invalid(field, format!("{s:?} is not a date; write YYYY-MM-DD, e.g. 2025-07-01")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version() -> CodeListVersion {
        CodeListVersion {
            list: "dan-toc".into(),
            version: 1,
            status: VersionStatus::Published,
            effective_from: NaiveDate::from_ymd_opt(2020, 1, 1),
            effective_until: None,
            item_count: 0,
            report: ValidationReport::default(),
            created_at: Utc::now(),
            published_at: None,
        }
    }

    #[test]
    fn csv_with_bom_semicolons_and_vietnamese_headers_is_read() {
        let text = "\u{feff}Mã;Tên;Tên tiếng Anh;Mã cha;Ghi chú\n01;Kinh;Viet;;đa số\n02;Tày;;01;\n";
        let parsed = parse_items("dt.csv", text.as_bytes(), None).unwrap();
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(parsed.items[0].name_en.as_deref(), Some("Viet"));
        assert_eq!(parsed.items[0].attributes.get("Ghi chú").map(String::as_str), Some("đa số"));
        assert_eq!(parsed.items[1].parent_code.as_deref(), Some("01"));
        assert_eq!(parsed.rows, vec![2, 3]);
        let (items, report) = validate(parsed);
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn errors_name_row_and_column() {
        let text = "\n\ncode\tname\tparent_code\n01\tKinh\t\n01\tTày\t\n03\t\t09\n";
        let (items, report) = validate(parse_items("dt.tsv", text.as_bytes(), None).unwrap());
        assert_eq!(items.len(), 2);
        let messages: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert_eq!(report.error_count, 3, "{messages:?}");
        assert!(messages[0].starts_with("row 5, column code (A): code \"01\" appears twice, in row 4 and row 5"));
        assert!(messages[1].starts_with("row 6, column name (B): item \"03\" has no name"));
        assert!(messages[2].starts_with("row 6, column parent_code (C): parent code \"09\""));
    }

    #[test]
    fn xlsx_sheets_are_chosen_by_name_and_rows_counted_from_the_top() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().set_name("Ghi chú").unwrap().write_string(0, 0, "không phải danh mục").unwrap();
        let ws = wb.add_worksheet();
        ws.set_name("Dân tộc").unwrap();
        for (c, h) in ["Mã", "Tên"].iter().enumerate() {
            ws.write_string(2, c as u16 + 1, *h).unwrap();
        }
        ws.write_number(3, 1, 1.0).unwrap();
        ws.write_string(3, 2, "Kinh").unwrap();
        ws.write_string(4, 1, "").unwrap();
        ws.write_string(4, 2, "Tày").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let (items, report) = validate(parse_items("dt.xlsx", &bytes, Some("dan toc")).unwrap());
        assert_eq!((items[0].code.as_str(), items[0].name_vi.as_str()), ("1", "Kinh"));
        assert_eq!(report.errors[0].to_string(), "row 5, column Mã (B): the code is empty; every item needs a code");
        let e = parse_items("dt.xlsx", &bytes, Some("Tôn giáo")).unwrap_err();
        assert!(
            e.message.contains("dt.xlsx has no sheet \"Tôn giáo\"; its sheets are Ghi chú, Dân tộc"),
            "{}",
            e.message
        );
        let e = parse_items("dt.xlsx", &bytes, None).unwrap_err();
        assert!(e.message.contains("dt.xlsx, row 1: no column code"), "{}", e.message);
    }

    #[test]
    fn a_header_without_code_says_so() {
        let e = parse_items("x.csv", b"ten,ghi chu\nKinh,a\n", None).unwrap_err();
        assert!(e.message.contains("x.csv, row 1: no column code"), "{}", e.message);
    }

    #[test]
    fn exports_read_back_to_the_same_items() {
        let items = vec![
            CodeItem {
                code: "01".into(),
                name_vi: "Kinh".into(),
                name_en: Some("Kinh".into()),
                parent_code: None,
                attributes: [("nhóm".to_string(), "Việt–Mường".to_string())].into(),
            },
            CodeItem {
                code: "02".into(),
                name_vi: "Tày".into(),
                name_en: None,
                parent_code: Some("01".into()),
                attributes: BTreeMap::new(),
            },
        ];
        for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
            let bytes = export(format, &version(), &items).unwrap();
            let (back, report) = validate(parse_items("x", &bytes, None).unwrap());
            assert!(report.is_ok());
            assert_eq!(back, items, "{format:?}");
        }
        let json: serde_json::Value =
            serde_json::from_slice(&export(ExportFormat::Json, &version(), &items).unwrap()).unwrap();
        let back: Vec<CodeItem> = serde_json::from_value(json["items"].clone()).unwrap();
        assert_eq!(back, items);
    }

    #[test]
    fn diff_counts_added_removed_renamed() {
        let item = |c: &str, n: &str| CodeItem {
            code: c.into(),
            name_vi: n.into(),
            name_en: None,
            parent_code: None,
            attributes: BTreeMap::new(),
        };
        let old = [item("1", "A"), item("2", "B"), item("3", "C")];
        let new = [item("1", "A"), item("2", "Bê"), item("4", "D")];
        let d = Diff::between(Some(1), &old, &new);
        assert_eq!((d.added, d.removed, d.renamed.len(), d.unchanged), (vec!["4".into()], vec!["3".into()], 1, 1));
    }

    #[test]
    fn search_ignores_diacritics_and_the_version_in_force_is_the_newest() {
        let idx = VersionIndex::new(
            version(),
            vec![CodeItem {
                code: "00004".into(),
                name_vi: "Phường Ba Đình".into(),
                name_en: None,
                parent_code: None,
                attributes: BTreeMap::new(),
            }],
        );
        assert_eq!(idx.search("ba dinh").len(), 1);
        assert_eq!(idx.search("BA ĐÌNH").len(), 1);
        assert!(idx.search("hoan kiem").is_empty());
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let mut v1 = version();
        v1.effective_until = Some(d(2025, 6, 30));
        let v2 = CodeListVersion { version: 2, effective_from: Some(d(2025, 7, 1)), ..version() };
        let all = [v1, v2];
        assert_eq!(version_on(&all, d(2025, 6, 30)).unwrap().version, 1);
        assert_eq!(version_on(&all, d(2025, 7, 1)).unwrap().version, 2);
        assert!(version_on(&all, d(2019, 1, 1)).is_none());
    }
}
