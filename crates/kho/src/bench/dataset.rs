//! Bộ dữ liệu thử — the benchmark's CSV: a year of administrative-procedure dossiers
//! (hồ sơ thủ tục hành chính) as a provincial one-stop office exports them, `;`
//! between cells, the receiving officer's full name with diacritics, dates
//! `dd/mm/yyyy`, fees with `.` between thousands, areas with a decimal comma, and the
//! real 2025 commune codes. It holds no citizen's personal data (no applicant's name
//! next to a birth date), so it may be published as open data.
//!
//! The file is the same for the same seed and row count, whatever the machine: rows
//! are made in chunks, each from its own generator seeded by (seed, chunk), a few
//! chunks at a time in parallel and written in order, so memory holds only those
//! chunks whatever the number of rows.

use kho_core::admin_units::AdminUnit;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// The 2025 administrative units (đơn vị hành chính), as the repository carries them.
const ADMIN_UNITS: &str = include_str!("../../../../data/admin-units-2025.csv");

/// The header row, as the office writes it.
pub const HEADERS: [&str; 11] = [
    "Số hồ sơ",
    "Cán bộ tiếp nhận",
    "Mã tỉnh",
    "Mã xã",
    "Tên xã",
    "Lĩnh vực",
    "Ngày nộp",
    "Ngày hẹn trả",
    "Trạng thái",
    "Lệ phí (đồng)",
    "Diện tích (m2)",
];

/// Rows made by one generator.
const CHUNK_ROWS: u64 = 1 << 16;

/// SplitMix64: small, fast and the same everywhere (no crate whose stream may change).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// One of `items` by weight (the weights need not add up to anything).
    fn weighted<'a>(&mut self, items: &[(&'a str, u32)]) -> &'a str {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut pick = self.below(total as u64) as u32;
        for (item, w) in items {
            if pick < *w {
                return item;
            }
            pick -= w;
        }
        items[items.len() - 1].0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Họ — family names, weighted roughly as they are found in Vietnam.
const FAMILY: [(&str, u32); 16] = [
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 35),
    ("Huỳnh", 20),
    ("Phan", 45),
    ("Vũ", 25),
    ("Võ", 15),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
];
/// Tên đệm — middle names.
const MIDDLE_MALE: [&str; 12] =
    ["Hữu", "Đức", "Minh", "Quang", "Xuân", "Thanh", "Công", "Gia", "Hoàng", "Tuấn", "Anh", "Bảo"];
const MIDDLE_FEMALE: [&str; 11] =
    ["Ngọc", "Thu", "Thanh", "Hoài", "Minh", "Phương", "Bảo", "Khánh", "Mai", "Diệu", "Thúy"];
/// Tên — given names.
const GIVEN_MALE: [&str; 24] = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khoa", "Long", "Minh", "Nam", "Phong", "Phúc",
    "Quân", "Sơn", "Thắng", "Trung", "Tuấn", "Tú", "Việt", "Khôi", "Lộc",
];
const GIVEN_FEMALE: [&str; 24] = [
    "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Nhung", "Phương",
    "Quỳnh", "Tâm", "Thảo", "Thủy", "Trang", "Uyên", "Vy", "Yến", "Hằng", "Loan",
];
/// Lĩnh vực — the field of the procedure; land and building dossiers carry an area.
const FIELDS: [(&str, u32); 9] = [
    ("Hộ tịch", 30),
    ("Chứng thực", 20),
    ("Đất đai", 15),
    ("Xây dựng", 8),
    ("Đăng ký kinh doanh", 8),
    ("Lao động - Thương binh và Xã hội", 6),
    ("Giáo dục và Đào tạo", 5),
    ("Y tế", 4),
    ("Tư pháp", 4),
];
/// Trạng thái — where the dossier stands.
const STATUSES: [(&str, u32); 5] =
    [("Đã trả kết quả", 60), ("Đang xử lý", 20), ("Đã tiếp nhận", 10), ("Trễ hạn", 7), ("Từ chối", 3)];

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub rows: u64,
    pub bytes: u64,
}

/// The wards and communes rows are spread over, in the list's order.
pub fn admin_units() -> Vec<AdminUnit> {
    kho_core::admin_units::read_2025("data/admin-units-2025.csv", ADMIN_UNITS.as_bytes())
        .expect("the embedded admin-unit list is valid")
}

/// Writes `rows` dossiers to `path`.
pub fn write(path: &Path, rows: u64, seed: u64) -> std::io::Result<Written> {
    let units = admin_units();
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut header = HEADERS.join(";");
    header.push('\n');
    out.write_all(header.as_bytes())?;
    let mut bytes = header.len() as u64;
    let chunks = rows.div_ceil(CHUNK_ROWS);
    let workers = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1);
    let mut next = 0;
    while next < chunks {
        let round: Vec<u64> = (next..chunks.min(next + workers)).collect();
        let made: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = round
                .iter()
                .map(|&chunk| {
                    let units = &units;
                    s.spawn(move || {
                        let first = chunk * CHUNK_ROWS;
                        chunk_text(units, seed, chunk, first, (first + CHUNK_ROWS).min(rows))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("a generator thread finished")).collect()
        });
        for text in made {
            out.write_all(text.as_bytes())?;
            bytes += text.len() as u64;
        }
        next += round.len() as u64;
    }
    out.flush()?;
    Ok(Written { rows, bytes })
}

/// Rows `first..end` (0-based), made by the chunk's own generator.
fn chunk_text(units: &[AdminUnit], seed: u64, chunk: u64, first: u64, end: u64) -> String {
    let mut rng = Rng::new(seed ^ chunk.wrapping_mul(0xA24B_AED4_963E_E407));
    let mut text = String::with_capacity(((end - first) * 170) as usize);
    for i in first..end {
        row(&mut rng, units, i + 1, &mut text);
    }
    text
}

const YEAR: i32 = 2025;

/// `dd/mm/yyyy`, as offices write dates.
fn push_date(text: &mut String, d: chrono::NaiveDate) {
    use chrono::Datelike;
    let _ = write!(text, "{:02}/{:02}/{}", d.day(), d.month(), d.year());
}

/// `n` with `separator` between thousands: 1250000 → `1.250.000` with `.`.
pub fn push_grouped(text: &mut String, n: u64, separator: char) {
    let digits = n.to_string();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(separator);
        }
        text.push(c);
    }
}

/// A Vietnamese person's name: họ, tên đệm (sometimes two), tên.
pub fn push_person_name(rng: &mut Rng, text: &mut String) {
    let female = rng.below(2) == 1;
    text.push_str(rng.weighted(&FAMILY));
    text.push(' ');
    if female {
        text.push_str(if rng.below(2) == 0 { "Thị" } else { rng.pick(&MIDDLE_FEMALE) });
    } else {
        text.push_str(if rng.below(20) < 9 { "Văn" } else { rng.pick(&MIDDLE_MALE) });
    }
    if rng.below(10) == 0 {
        text.push(' ');
        text.push_str(rng.pick(if female { &MIDDLE_FEMALE } else { &MIDDLE_MALE }));
    }
    text.push(' ');
    text.push_str(rng.pick(if female { &GIVEN_FEMALE } else { &GIVEN_MALE }));
}

/// One dossier, `number` counting from 1.
fn row(rng: &mut Rng, units: &[AdminUnit], number: u64, text: &mut String) {
    use chrono::Datelike;
    let unit = &units[rng.below(units.len() as u64) as usize];
    let first_day = chrono::NaiveDate::from_ymd_opt(YEAR, 1, 1).expect("a date");
    let submitted = first_day + chrono::Days::new(rng.below(365));
    // Số hồ sơ: commune code, submission date, running number.
    let (yy, mm, dd) = (submitted.year() % 100, submitted.month(), submitted.day());
    let _ = write!(text, "{}-{yy:02}{mm:02}{dd:02}-{number:07};", unit.ward_code);
    // Cán bộ tiếp nhận.
    push_person_name(rng, text);
    let _ = write!(text, ";{};{};{};", unit.province_code, unit.ward_code, unit.ward_name);
    let field = rng.weighted(&FIELDS);
    text.push_str(field);
    text.push(';');
    push_date(text, submitted);
    text.push(';');
    // Ngày hẹn trả: the day the result is due, 1 to 30 days later.
    push_date(text, submitted + chrono::Days::new(1 + rng.below(30)));
    text.push(';');
    text.push_str(rng.weighted(&STATUSES));
    text.push(';');
    // Lệ phí: 10.000 to about 50.000.000 đồng, small fees far more common.
    let thousands = match rng.below(20) {
        0..=9 => 10 + rng.below(40),
        10..=15 => 50 + rng.below(450),
        16..=18 => 500 + rng.below(4_500),
        _ => 5_000 + rng.below(45_000),
    };
    push_grouped(text, thousands * 1_000, '.');
    text.push(';');
    if matches!(field, "Đất đai" | "Xây dựng") {
        let hundredths = 3_000 + rng.below(500_000);
        push_grouped(text, hundredths / 100, '.');
        let _ = write!(text, ",{:02}", hundredths % 100);
    }
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_writes_the_same_file_and_another_seed_another() {
        let dir = std::env::temp_dir().join(format!("kho-dataset-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b, c) = (dir.join("a.csv"), dir.join("b.csv"), dir.join("c.csv"));
        let rows = CHUNK_ROWS + 10;
        let written = write(&a, rows, 7).unwrap();
        write(&b, rows, 7).unwrap();
        write(&c, rows, 8).unwrap();
        let (a, b, c) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), std::fs::read(&c).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(written.bytes, a.len() as u64);
        let text = String::from_utf8(a).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, rows + 1);
        assert_eq!(lines[0], HEADERS.join(";"));
        for line in &lines[1..] {
            assert_eq!(line.split(';').count(), HEADERS.len(), "{line}");
        }
        assert!(lines.last().unwrap().contains(&format!("-{:07};", rows)), "rows are numbered in order");
    }

    #[test]
    fn rows_read_the_vietnamese_way() {
        let units = admin_units();
        assert!(units.len() > 3000, "every 2025 commune and ward");
        let mut text = String::new();
        let mut rng = Rng::new(1);
        for n in 1..=2000 {
            row(&mut rng, &units, n, &mut text);
        }
        let mut fees = 0;
        for line in text.lines() {
            let cells: Vec<&str> = line.split(';').collect();
            let name: Vec<&str> = cells[1].split(' ').collect();
            assert!((3..=4).contains(&name.len()), "họ, tên đệm, tên: {line}");
            assert!(units.iter().any(|u| u.ward_code == cells[3] && u.province_code == cells[2]), "{line}");
            let submitted = chrono::NaiveDate::parse_from_str(cells[6], "%d/%m/%Y").unwrap();
            let due = chrono::NaiveDate::parse_from_str(cells[7], "%d/%m/%Y").unwrap();
            assert_eq!(chrono::Datelike::year(&submitted), 2025, "{line}");
            assert!((1..=30).contains(&(due - submitted).num_days()), "{line}");
            let fee: u64 = cells[9].replace('.', "").parse().unwrap();
            assert!(fee >= 10_000 && fee.is_multiple_of(1_000), "{line}");
            assert!(cells[9].contains('.'), "thousands are grouped: {line}");
            fees += fee;
            if !cells[10].is_empty() {
                let (whole, decimals) = cells[10].split_once(',').unwrap();
                assert_eq!(decimals.len(), 2, "{line}");
                whole.replace('.', "").parse::<u64>().unwrap();
            }
        }
        assert!(fees > 0);
        assert!(text.contains("Nguyễn") && text.contains(" Thị ") && text.contains("Đã trả kết quả"));
        assert!(text.contains("Phường") && text.contains(",5"), "commune names, decimal commas");
    }

    #[test]
    fn thousands_are_grouped_with_dots() {
        let mut s = String::new();
        for n in [0, 999, 1_000, 1_250_000, 12_345_678] {
            push_grouped(&mut s, n, '.');
            s.push(' ');
        }
        assert_eq!(s, "0 999 1.000 1.250.000 12.345.678 ");
    }
}
