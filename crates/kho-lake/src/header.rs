//! Dòng tiêu đề — finding the header of a CSV file or a sheet among its first rows.
//! Offices put titles, units and blank rows above the table, merge a parent header
//! over several children, and sometimes write no header at all. The rule, over the
//! first [`WINDOW`] rows:
//!
//! 1. A cell is *empty*, a *label* (text that does not read as a number, code, date
//!    or yes/no) or a *value*. The table is as wide as the row with most cells.
//! 2. Rows are looked at from the top. A row whose every filled cell is the first cell
//!    of a region merged across columns is a title (`BÁO CÁO DÂN SỐ NĂM 2025`) and is
//!    skipped. The first row with at least two labels (one, in a one-column table),
//!    more labels than values, and cells in at least half of the table's width is
//!    the header. Rows above it (titles, `Đơn vị: người`, blank rows) are skipped.
//! 3. If a row with at least as many values as labels and cells over half the width
//!    comes first, the file has no header: columns are named `column_1` … `column_n`
//!    and that row is data.
//! 4. The row just below the header is a second header row when it holds only labels
//!    and the header spans it: a header cell merged across columns, or (without merge
//!    information, as in CSV) an empty header cell above one of its labels with a
//!    label to its left, provided the row after it holds values. Each column is then
//!    named "Parent Child" (`Dân số Nam`), the parent taken from the merged or
//!    preceding header cell.
//! 5. When no row qualifies, the first filled row is the header.
//!
//! Headers have their spaces and line breaks collapsed. Row numbers are kept as the
//! file counts them, so errors point to the right row whatever was skipped.

use crate::infer::{looks_like_value, CellRef};
use crate::source::{Merge, OwnedRow, Row};
use unicode_normalization::UnicodeNormalization;

/// Rows looked at to find the header.
pub const WINDOW: usize = 20;

/// Where the table starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The header rows' index in the rows given (none when the file has no header),
    /// and whether a second header row follows it.
    pub header: Option<(usize, bool)>,
    /// Column headers as written (parent and child joined), as wide as the table.
    pub headers: Vec<String>,
    /// Index of the first data row in the rows given.
    pub data_start: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Empty,
    Label,
    Value,
}

fn kind(c: CellRef<'_>) -> Kind {
    match c {
        _ if c.is_empty() => Kind::Empty,
        CellRef::Text(s) if !looks_like_value(s) => Kind::Label,
        _ => Kind::Value,
    }
}

/// Collapses runs of whitespace (merged header cells often hold line breaks).
fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").nfc().collect()
}

struct Shape {
    kinds: Vec<Kind>,
    labels: usize,
    values: usize,
}

impl Shape {
    fn of(row: &OwnedRow) -> Self {
        let kinds: Vec<Kind> = (0..row.cells.len()).map(|i| kind(row.cells.cell(i))).collect();
        let labels = kinds.iter().filter(|k| **k == Kind::Label).count();
        let values = kinds.iter().filter(|k| **k == Kind::Value).count();
        Shape { kinds, labels, values }
    }
    fn filled(&self) -> usize {
        self.labels + self.values
    }
    fn at(&self, i: usize) -> Kind {
        self.kinds.get(i).copied().unwrap_or(Kind::Empty)
    }
}

/// Finds the header among `rows` (the first rows of the file); `merges` are a sheet's
/// merged regions. `header_row` forces a choice: `Some(0)` for no header, `Some(n)`
/// for the row numbered `n`.
pub fn detect(rows: &[OwnedRow], merges: &[Merge], header_row: Option<u64>) -> Result<Layout, String> {
    let shapes: Vec<Shape> = rows.iter().map(Shape::of).collect();
    let width = rows.iter().map(|r| r.cells.iter().rposition(|c| !CellRef::from(c).is_empty()).map_or(0, |p| p + 1));
    let width = width.max().unwrap_or(0);
    let headerless = || Layout { header: None, headers: vec![String::new(); width], data_start: 0 };

    let header = match header_row {
        Some(0) => return Ok(headerless()),
        Some(n) => match rows.iter().position(|r| r.number == n) {
            Some(i) => i,
            None => {
                return Err(format!(
                    "header row {n} is not among the first {} rows that hold anything; give a row number from {} to {}",
                    rows.len(),
                    rows.first().map_or(1, |r| r.number),
                    rows.last().map_or(1, |r| r.number)
                ))
            }
        },
        None => {
            let mut found = None;
            for (i, s) in shapes.iter().enumerate() {
                if s.filled() == 0 || is_title(&rows[i], merges) {
                    continue;
                }
                let wide = s.filled() * 2 >= width;
                if s.labels >= 2.min(width) && s.labels > s.values && wide {
                    found = Some(i);
                    break;
                }
                if s.values > 0 && s.values >= s.labels && wide {
                    return Ok(Layout { data_start: i, ..headerless() });
                }
            }
            match found.or_else(|| shapes.iter().position(|s| s.filled() > 0)) {
                Some(i) => i,
                None => return Ok(headerless()),
            }
        }
    };

    let sub = header + 1 < rows.len() && is_second_header(rows, &shapes, header, merges);
    let headers = (0..width)
        .map(|c| {
            let parent = parent_of(&rows[header], c, merges, sub.then(|| &rows[header + 1]));
            let child = if sub { text(&rows[header + 1], c) } else { String::new() };
            let child =
                if covered_from_above(&rows[header], c, merges, rows.get(header + 1)) { String::new() } else { child };
            match (parent.is_empty(), child.is_empty()) {
                (false, false) => format!("{parent} {child}"),
                (false, true) => parent,
                _ => child,
            }
        })
        .collect();
    Ok(Layout { header: Some((header, sub)), headers, data_start: header + 1 + usize::from(sub) })
}

fn text(row: &OwnedRow, c: usize) -> String {
    let cell = row.cells.cell(c);
    if cell.is_empty() {
        String::new()
    } else {
        clean(&cell.to_text())
    }
}

fn merge_at(merges: &[Merge], row: u64, c: usize) -> Option<&Merge> {
    merges.iter().find(|m| (m.first_row..=m.last_row).contains(&row) && (m.first_col..=m.last_col).contains(&c))
}

/// Every filled cell starts a region merged across columns within this row only.
fn is_title(row: &OwnedRow, merges: &[Merge]) -> bool {
    if merges.is_empty() {
        return false;
    }
    let filled: Vec<usize> = (0..row.cells.len()).filter(|&c| !row.cells.cell(c).is_empty()).collect();
    !filled.is_empty()
        && filled.iter().all(|&c| {
            merge_at(merges, row.number, c).is_some_and(|m| {
                m.first_col == c && m.last_col > m.first_col && m.first_row == row.number && m.last_row == row.number
            })
        })
}

fn is_second_header(rows: &[OwnedRow], shapes: &[Shape], header: usize, merges: &[Merge]) -> bool {
    let (h, s) = (&shapes[header], &shapes[header + 1]);
    let (hrow, srow) = (&rows[header], &rows[header + 1]);
    if srow.number != hrow.number + 1 || s.labels == 0 || s.values > 0 {
        return false;
    }
    let spans_across = merges.iter().any(|m| m.first_row == hrow.number && m.last_col > m.first_col);
    if spans_across {
        return true;
    }
    let spanned_gap = (1..s.kinds.len())
        .any(|c| s.at(c) == Kind::Label && h.at(c) == Kind::Empty && (0..c).any(|left| h.at(left) == Kind::Label));
    let values_follow = shapes.get(header + 2).is_some_and(|next| next.values > 0);
    spanned_gap && values_follow
}

/// The parent header over column `c`: its own cell, the cell a merged region starts
/// from, or (for a second header row without merge information) the nearest header
/// cell to its left.
fn parent_of(row: &OwnedRow, c: usize, merges: &[Merge], sub: Option<&OwnedRow>) -> String {
    let own = text(row, c);
    if !own.is_empty() {
        return own;
    }
    if let Some(m) = merge_at(merges, row.number, c) {
        return text(row, m.first_col);
    }
    match sub {
        Some(sub) if merges.is_empty() && !text(sub, c).is_empty() => {
            (0..c).rev().map(|left| text(row, left)).find(|t| !t.is_empty()).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// The header cell of column `c` is merged down over the second header row.
fn covered_from_above(row: &OwnedRow, c: usize, merges: &[Merge], below: Option<&OwnedRow>) -> bool {
    below.is_some_and(|b| merge_at(merges, b.number, c).is_some_and(|m| m.first_row <= row.number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::Cell;

    fn rows(lines: &[&str]) -> Vec<OwnedRow> {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| OwnedRow {
                number: i as u64 + 1,
                cells: if l.is_empty() {
                    vec![]
                } else {
                    l.split('|').map(|c| if c.is_empty() { Cell::Null } else { Cell::Text(c.to_string()) }).collect()
                },
            })
            .collect()
    }

    fn merge(row: u64, last_row: u64, first_col: usize, last_col: usize) -> Merge {
        Merge { first_row: row, last_row, first_col, last_col }
    }

    #[test]
    fn the_first_row_of_labels_is_the_header() {
        let r = rows(&["Mã|Họ tên|Ngày sinh", "1|An|01/02/1980", "2|Bình|03/04/1985"]);
        let l = detect(&r, &[], None).unwrap();
        assert_eq!(
            l,
            Layout {
                header: Some((0, false)),
                headers: vec!["Mã".into(), "Họ tên".into(), "Ngày sinh".into()],
                data_start: 1
            }
        );
    }

    #[test]
    fn title_unit_and_blank_rows_above_the_header_are_skipped() {
        let r = rows(&[
            "BÁO CÁO DÂN SỐ NĂM 2025|||",
            "Đơn vị: người|||",
            "",
            "STT|Đơn vị hành chính|Dân số|Ngày cập nhật",
            "1|Phường Bắc Giang|12.345|01/07/2025",
        ]);
        let l = detect(&r, &[], None).unwrap();
        assert_eq!(l.header, Some((3, false)));
        assert_eq!(l.data_start, 4);
        assert_eq!(l.headers, ["STT", "Đơn vị hành chính", "Dân số", "Ngày cập nhật"]);
    }

    #[test]
    fn a_merged_title_across_the_table_is_not_the_header() {
        // Two merged titles side by side, as on official letterheads.
        let r = rows(&["UBND TỈNH BẮC NINH|CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Mã|Tên", "1|An"]);
        let merges = [merge(1, 1, 0, 0), merge(1, 1, 1, 1)];
        assert_eq!(detect(&r, &merges, None).unwrap().header, Some((0, false)), "single-cell merges are not titles");
        let r = rows(&["UBND TỈNH BẮC NINH||CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM|", "Mã|Tên|Tuổi|Ghi chú", "1|An|30|"]);
        let merges = [merge(1, 1, 0, 1), merge(1, 1, 2, 3)];
        assert_eq!(detect(&r, &merges, None).unwrap().header, Some((1, false)));
    }

    #[test]
    fn a_two_row_header_from_merged_cells_joins_parent_and_child() {
        let r = rows(&["STT|Đơn vị|Dân số||Ngày\ncập nhật", "||Nam|Nữ|", "1|Phường A|1.234|1.300|01/07/2025"]);
        // STT, Đơn vị and Ngày cập nhật are merged down over two rows; Dân số across two columns.
        let merges = [merge(1, 2, 0, 0), merge(1, 2, 1, 1), merge(1, 1, 2, 3), merge(1, 2, 4, 4)];
        let l = detect(&r, &merges, None).unwrap();
        assert_eq!(l.header, Some((0, true)));
        assert_eq!(l.data_start, 2);
        assert_eq!(l.headers, ["STT", "Đơn vị", "Dân số Nam", "Dân số Nữ", "Ngày cập nhật"]);
        // The same table saved as CSV: blank cells where cells were merged.
        let l = detect(&r, &[], None).unwrap();
        assert_eq!(l.headers, ["STT", "Đơn vị", "Dân số Nam", "Dân số Nữ", "Ngày cập nhật"]);
    }

    #[test]
    fn a_first_row_of_text_data_is_not_taken_for_a_second_header() {
        let r = rows(&["Họ tên|Địa chỉ|", "An|Hà Nội|x", "Bình|Huế|y"]);
        let l = detect(&r, &[], None).unwrap();
        assert_eq!((l.header, l.data_start), (Some((0, false)), 1));
    }

    #[test]
    fn a_file_without_header_gets_numbered_columns() {
        let r = rows(&["1|Nguyễn Văn An|01/02/1980|1.250.000", "2|Trần Thị Bình|15/11/1975|980.000"]);
        let l = detect(&r, &[], None).unwrap();
        assert_eq!(l, Layout { header: None, headers: vec![String::new(); 4], data_start: 0 });
        // Codes with leading zeros are values too.
        let r = rows(&["07210|0912345678", "07228|0987654321"]);
        assert_eq!(detect(&r, &[], None).unwrap().header, None);
    }

    #[test]
    fn the_header_row_can_be_given() {
        let r = rows(&["An|Hà Nội", "Bình|Huế"]);
        assert_eq!(detect(&r, &[], None).unwrap().header, Some((0, false)), "text only: the first row is the header");
        assert_eq!(detect(&r, &[], Some(0)).unwrap().header, None);
        let l = detect(&r, &[], Some(2)).unwrap();
        assert_eq!((l.header, l.data_start), (Some((1, false)), 2));
        assert!(detect(&r, &[], Some(9)).unwrap_err().contains("header row 9"));
    }
}
