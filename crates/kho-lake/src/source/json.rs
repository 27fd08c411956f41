//! JSON in the three shapes open-data portals publish: an array of objects, one
//! object per line (NDJSON), and a GeoJSON FeatureCollection. Nothing is read whole:
//! arrays and feature collections are parsed on a thread of their own that hands
//! records over one at a time through a bounded channel; NDJSON is read line by line.
//!
//! The columns are the keys met in the sample (in the order first met); a key that
//! first appears after the sample is a problem of that record. Numbers and booleans
//! keep their type, strings are read the Vietnamese way like any text, and nested
//! objects or arrays are kept as JSON text. A GeoJSON feature's properties become
//! columns and its geometry becomes the first column, `geometry`, holding WKT
//! (field metadata `kho.geometry` = `wkt`, the convention the GeoJSON download reads).

use super::{Detected, Format, OpenOptions, Row, RowProblem, RowSource, SourceColumn, TextInput};
use crate::export::GEOMETRY_KEY;
use crate::infer::{Cell, ColumnType};
use crate::LakeError;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Records handed from the parsing thread to the load at a time, at most.
const QUEUE_RECORDS: usize = 1024;
/// The value of [`GEOMETRY_KEY`] (Arrow field metadata) that marks a WKT column; the
/// downloads read the same convention.
pub const GEOMETRY_WKT: &str = "wkt";

type Message = Result<Item, LakeError>;

/// What the parsing thread hands over.
enum Item {
    Record(Record),
    Feature(Feature),
}

/// One record as the file wrote it, keys in their order.
enum Record {
    Object(Vec<(String, Value)>),
    /// Not an object: the value as text.
    Other(String),
}

impl<'de> serde::Deserialize<'de> for Record {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            entries.push((k, v));
        }
        Ok(Record::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Record, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Record::Other(Value::Array(items).to_string()))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Record, E> {
        Ok(Record::Other(v.to_string()))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Record, E> {
        Ok(Record::Other(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Record, E> {
        Ok(Record::Other(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Record, E> {
        Ok(Record::Other(v.to_string()))
    }

    fn visit_str<E>(self, v: &str) -> Result<Record, E> {
        Ok(Record::Other(v.to_string()))
    }

    fn visit_unit<E>(self) -> Result<Record, E> {
        Ok(Record::Other("null".into()))
    }
}

/// A GeoJSON feature: its geometry and its properties in their order.
#[derive(serde::Deserialize)]
struct Feature {
    #[serde(default)]
    geometry: Option<Value>,
    #[serde(default)]
    properties: Option<Record>,
}

enum Reading {
    Lines { reader: BufReader<Box<dyn Read + Send>>, line: u64, buf: String },
    Stream { rx: Receiver<Message>, parser: Option<std::thread::JoinHandle<()>>, record: u64 },
}

/// A JSON, NDJSON or GeoJSON file read record by record.
pub struct JsonSource {
    detected: Detected,
    name: String,
    input: TextInput,
    reading: Reading,
    geo: bool,
    /// Column headers; for GeoJSON, `geometry` first.
    keys: Vec<String>,
    /// Key → column.
    index: HashMap<String, usize>,
    frozen: bool,
    cells: Vec<Cell>,
    number: u64,
    problem: Option<RowProblem>,
}

impl JsonSource {
    pub fn open(path: &Path, format: Format, options: &OpenOptions) -> Result<Self, LakeError> {
        let name = options.name.clone();
        let (input, _, decoded) = TextInput::open(path, &name)?;
        let geo = format == Format::GeoJson;
        let reading = if format == Format::Ndjson {
            Reading::Lines { reader: BufReader::with_capacity(1 << 16, decoded), line: 0, buf: String::new() }
        } else {
            let (tx, rx) = sync_channel(QUEUE_RECORDS);
            let file = name.clone();
            let parser = std::thread::spawn(move || parse(decoded, geo, &file, tx));
            Reading::Stream { rx, parser: Some(parser), record: 0 }
        };
        Ok(Self {
            detected: Detected { format, encoding: Some(input.encoding.name()), delimiter: None, sheet: None },
            name,
            input,
            reading,
            geo,
            keys: if geo { vec!["geometry".to_string()] } else { Vec::new() },
            index: HashMap::new(),
            frozen: false,
            cells: Vec::new(),
            number: 0,
            problem: None,
        })
    }

    /// Places a record's value in its column.
    fn put(&mut self, key: String, value: Value) {
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None if self.frozen => {
                if self.problem.is_none() {
                    let known: Vec<&str> = self.keys.iter().skip(usize::from(self.geo)).map(String::as_str).collect();
                    self.problem = Some(RowProblem {
                        column: key,
                        value: text_of(&value),
                        expected: format!("under a key of the first records ({})", known.join(", ")),
                        fix: "put a record with this key among the first 1000, or remove the key".into(),
                    });
                }
                return;
            }
            None => {
                self.keys.push(key.clone());
                self.index.insert(key, self.keys.len() - 1);
                self.cells.push(Cell::Null);
                self.keys.len() - 1
            }
        };
        self.cells[i] = cell(value);
    }

    /// Turns one record into the current row.
    fn take(&mut self, record: Record) {
        self.cells.clear();
        self.cells.resize(self.keys.len(), Cell::Null);
        self.problem = None;
        match record {
            Record::Object(entries) => entries.into_iter().for_each(|(k, v)| self.put(k, v)),
            Record::Other(shown) => {
                self.problem = Some(RowProblem {
                    column: "(record)".into(),
                    value: shown,
                    expected: "a JSON object such as {\"ma\": 1}".into(),
                    fix: "make every record an object of column names and values".into(),
                })
            }
        }
    }

    /// Turns one GeoJSON feature into the current row: the geometry as WKT first.
    fn take_feature(&mut self, feature: Feature) {
        self.take(feature.properties.unwrap_or(Record::Object(Vec::new())));
        if let Some(g) = feature.geometry.filter(|g| !g.is_null()) {
            match wkt_of(&g) {
                Ok(wkt) => self.cells[0] = Cell::Text(wkt),
                Err(e) => {
                    self.problem = Some(RowProblem {
                        column: "geometry".into(),
                        value: text_of(&g),
                        expected: "a GeoJSON geometry such as {\"type\": \"Point\", \"coordinates\": [105.84, 21.02]}"
                            .into(),
                        fix: format!("fix or remove the geometry ({e})"),
                    })
                }
            }
        }
    }
}

/// A GeoJSON geometry as WKT (`POINT(105.84 21.02)`), its coordinates written as
/// the file wrote them.
pub fn wkt_of(geometry: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_geometry(geometry, &mut out)?;
    Ok(out)
}

fn write_geometry(g: &Value, out: &mut String) -> Result<(), String> {
    let g = g.as_object().ok_or("a geometry is an object")?;
    let kind = g.get("type").and_then(Value::as_str).ok_or("the geometry has no \"type\"")?;
    if kind == "GeometryCollection" {
        let parts = g.get("geometries").and_then(Value::as_array).ok_or("a GeometryCollection has \"geometries\"")?;
        out.push_str("GEOMETRYCOLLECTION");
        if parts.is_empty() {
            out.push_str(" EMPTY");
            return Ok(());
        }
        out.push('(');
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_geometry(part, out)?;
        }
        out.push(')');
        return Ok(());
    }
    // How deep positions sit in "coordinates", and whether each is wrapped on its own.
    let (name, depth) = match kind {
        "Point" => ("POINT", 0),
        "MultiPoint" => ("MULTIPOINT", 1),
        "LineString" => ("LINESTRING", 1),
        "MultiLineString" => ("MULTILINESTRING", 2),
        "Polygon" => ("POLYGON", 2),
        "MultiPolygon" => ("MULTIPOLYGON", 3),
        other => return Err(format!("{other:?} is not a GeoJSON geometry type")),
    };
    let coordinates = g.get("coordinates").ok_or("the geometry has no \"coordinates\"")?;
    out.push_str(name);
    if coordinates.as_array().is_some_and(|a| a.is_empty()) {
        out.push_str(" EMPTY");
        return Ok(());
    }
    if depth == 0 {
        out.push('(');
        position(coordinates, out)?;
        out.push(')');
        return Ok(());
    }
    nested(coordinates, depth, kind == "MultiPoint", out)
}

fn nested(v: &Value, depth: usize, wrap_points: bool, out: &mut String) -> Result<(), String> {
    let items = v.as_array().ok_or("\"coordinates\" do not nest as the geometry type needs")?;
    out.push('(');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match (depth, wrap_points) {
            (1, false) => position(item, out)?,
            (1, true) => {
                out.push('(');
                position(item, out)?;
                out.push(')');
            }
            _ => nested(item, depth - 1, wrap_points, out)?,
        }
    }
    out.push(')');
    Ok(())
}

fn position(v: &Value, out: &mut String) -> Result<(), String> {
    let numbers = v.as_array().filter(|a| (2..=4).contains(&a.len())).ok_or("a position is [x, y] or [x, y, z]")?;
    for (i, n) in numbers.iter().enumerate() {
        let Value::Number(n) = n else { return Err("a position holds numbers".into()) };
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&n.to_string());
    }
    Ok(())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cell(v: Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Boolean(b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Cell::Integer(i),
            None => Cell::Decimal(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Cell::Text(s),
        nested => Cell::Text(nested.to_string()),
    }
}

/// Said by the parser when the load stopped listening.
const STOPPED: &str = "the load stopped reading";

/// Parses an array of records or a feature collection, sending each record.
fn parse(reader: Box<dyn Read + Send>, geo: bool, file: &str, tx: SyncSender<Message>) {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut de = serde_json::Deserializer::from_reader(&mut reader);
    let top = Top { tx: &tx, geo };
    let parsed = top.deserialize(&mut de).and_then(|_| de.end());
    drop(de);
    match parsed {
        Err(e) if e.to_string().starts_with(STOPPED) => {}
        Err(e) => {
            let message = format!("not valid JSON: {e}");
            let _ = tx.send(Err(LakeError::Source { file: file.to_string(), message }));
        }
        Ok(()) => {
            // What follows the value (whitespace) still counts for the file's hash.
            if let Err(e) = super::drain(&mut reader, file) {
                let _ = tx.send(Err(e));
            }
        }
    }
}

struct Top<'a> {
    tx: &'a SyncSender<Message>,
    geo: bool,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if self.geo {
            f.write_str("a GeoJSON FeatureCollection")
        } else {
            f.write_str("an array of objects")
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        if self.geo {
            return Err(A::Error::custom("expected a GeoJSON FeatureCollection, found an array"));
        }
        Elements { tx: self.tx, geo: false }.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if !self.geo {
            return Err(A::Error::custom(
                "expected an array of records [{...}, {...}], one object per line, or a GeoJSON FeatureCollection",
            ));
        }
        let mut features = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" {
                map.next_value_seed(Elements { tx: self.tx, geo: true })?;
                features = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !features {
            return Err(A::Error::custom("the FeatureCollection has no \"features\""));
        }
        Ok(())
    }
}

/// The records of an array (or the features of a collection), sent one by one.
struct Elements<'a> {
    tx: &'a SyncSender<Message>,
    geo: bool,
}

impl<'de> DeserializeSeed<'de> for Elements<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            let item = if self.geo {
                seq.next_element::<Feature>()?.map(Item::Feature)
            } else {
                seq.next_element::<Record>()?.map(Item::Record)
            };
            let Some(item) = item else { return Ok(()) };
            if self.tx.send(Ok(item)).is_err() {
                return Err(A::Error::custom(STOPPED));
            }
        }
    }
}

impl RowSource for JsonSource {
    fn advance(&mut self) -> Result<bool, LakeError> {
        let item = match &mut self.reading {
            Reading::Stream { rx, record, .. } => match rx.recv() {
                Ok(Ok(item)) => {
                    *record += 1;
                    self.number = *record;
                    item
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(false),
            },
            Reading::Lines { reader, line, buf } => loop {
                buf.clear();
                let n = reader
                    .read_line(buf)
                    .map_err(|e| LakeError::Source { file: self.name.clone(), message: e.to_string() })?;
                if n == 0 {
                    return Ok(false);
                }
                *line += 1;
                if buf.trim().is_empty() {
                    continue;
                }
                self.number = *line;
                match serde_json::from_str::<Record>(buf) {
                    Ok(r) => break Item::Record(r),
                    Err(e) => {
                        let shown: String = buf.trim().chars().take(200).collect();
                        self.cells.clear();
                        self.problem = Some(RowProblem {
                            column: "(line)".into(),
                            value: shown,
                            expected: "a JSON object".into(),
                            fix: format!("write one JSON object on each line ({e})"),
                        });
                        return Ok(true);
                    }
                }
            },
        };
        match item {
            Item::Record(r) => self.take(r),
            Item::Feature(f) => self.take_feature(f),
        }
        Ok(true)
    }

    fn current(&self) -> &dyn Row {
        &self.cells
    }

    fn row_number(&self) -> u64 {
        self.number
    }

    fn problem(&self) -> Option<RowProblem> {
        self.problem.clone()
    }

    fn columns(&mut self) -> Option<Vec<SourceColumn>> {
        self.frozen = true;
        Some(
            self.keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    if self.geo && i == 0 {
                        SourceColumn {
                            header: k.clone(),
                            kind: Some(ColumnType::Text),
                            metadata: vec![(GEOMETRY_KEY.into(), GEOMETRY_WKT.into())],
                        }
                    } else {
                        SourceColumn { header: k.clone(), kind: None, metadata: Vec::new() }
                    }
                })
                .collect(),
        )
    }

    fn detected(&self) -> &Detected {
        &self.detected
    }

    fn bytes_read(&self) -> Arc<AtomicU64> {
        self.input.bytes_read.clone()
    }

    fn total_bytes(&self) -> u64 {
        self.input.total_bytes
    }

    fn finish(&mut self) -> Result<String, LakeError> {
        match &mut self.reading {
            Reading::Stream { rx, parser, .. } => {
                // The parser drains the file once the value ends; errors come first.
                while let Ok(message) = rx.recv() {
                    message?;
                }
                if let Some(p) = parser.take() {
                    let _ = p.join();
                }
            }
            Reading::Lines { reader, .. } => super::drain(reader, &self.name)?,
        }
        Ok(self.input.sha256())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn geometries_become_wkt() {
        assert_eq!(wkt_of(&json!({"type": "Point", "coordinates": [105.84, 21.02]})).unwrap(), "POINT(105.84 21.02)");
        let square = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]});
        assert_eq!(wkt_of(&square).unwrap(), "POLYGON((0 0,1 0,1 1,0 0))");
        let holes = json!({"type": "MultiPolygon", "coordinates": [[[[0, 0], [2, 0], [0, 2], [0, 0]]], [[[5, 5], [6, 5], [5, 6], [5, 5]]]]});
        assert_eq!(wkt_of(&holes).unwrap(), "MULTIPOLYGON(((0 0,2 0,0 2,0 0)),((5 5,6 5,5 6,5 5)))");
        let points = json!({"type": "MultiPoint", "coordinates": [[1.5, 2], [3, 4]]});
        assert_eq!(wkt_of(&points).unwrap(), "MULTIPOINT((1.5 2),(3 4))");
        let line = json!({"type": "LineString", "coordinates": [[1, 2, 3], [4, 5, 6]]});
        assert_eq!(wkt_of(&line).unwrap(), "LINESTRING(1 2 3,4 5 6)");
        let both =
            json!({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}, line]});
        assert_eq!(wkt_of(&both).unwrap(), "GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(1 2 3,4 5 6))");
        assert!(wkt_of(&json!({"type": "Circle", "coordinates": [0, 0]})).unwrap_err().contains("Circle"));
        assert!(wkt_of(&json!({"type": "Point", "coordinates": ["a", 1]})).is_err());
    }
}
