//! Phát hiện dữ liệu cá nhân — the rules that tell when a table's columns look like
//! personal data (Decree 13/2023/NĐ-CP), so that it is not published as open data
//! (Decree 47/2020). All rules live here; each looks at a column's name and a sample
//! of its values. The data dictionary will add its own facts later (an element's
//! personal-data class marks the columns bound to it).

use kho_vn::fold;
use serde::Serialize;

/// A column as the rules see it: its name (the header as loaded) and some values.
#[derive(Debug, Clone)]
pub struct ColumnSample {
    pub name: String,
    /// Non-empty values from the first rows, as text.
    pub values: Vec<String>,
}

/// What kind of personal data a column looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalKind {
    /// Số định danh cá nhân / căn cước công dân (12 digits) or chứng minh nhân dân (9).
    CitizenId,
    /// Số điện thoại.
    Phone,
    /// Địa chỉ thư điện tử.
    Email,
    /// Họ tên next to ngày sinh: together they single out a person.
    NameWithBirthDate,
}

impl PersonalKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::CitizenId => "citizen ID numbers (CCCD/CMND)",
            Self::Phone => "phone numbers",
            Self::Email => "e-mail addresses",
            Self::NameWithBirthDate => "full names next to birth dates",
        }
    }
}

/// One column that looks like personal data, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub column: String,
    pub kind: PersonalKind,
    pub reason: String,
}

/// Share of sampled values that must match a value rule for the column to count.
const VALUE_SHARE: f64 = 0.8;
/// Fewer sampled values than this: values alone decide nothing.
const MIN_VALUES: usize = 3;

fn name_has(name: &str, words: &[&str]) -> bool {
    let folded = fold(name).replace(['_', '-', '.'], " ");
    let padded = format!(" {} ", folded.split_whitespace().collect::<Vec<_>>().join(" "));
    words.iter().any(|w| padded.contains(&format!(" {w} ")))
}

/// The share of values that `test` accepts, when enough values were sampled.
fn share(values: &[String], test: impl Fn(&str) -> bool) -> Option<f64> {
    (values.len() >= MIN_VALUES).then(|| values.iter().filter(|v| test(v.trim())).count() as f64 / values.len() as f64)
}

fn digits_only(v: &str) -> Option<String> {
    let kept: String = v.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    let kept = kept.strip_prefix('+').unwrap_or(&kept).to_string();
    kept.bytes().all(|b| b.is_ascii_digit()).then_some(kept)
}

/// A CCCD: 12 digits starting with a province-of-registration code 001–096.
fn looks_like_cccd(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) && v[..3].parse::<u32>().is_ok_and(|p| (1..=96).contains(&p))
}

/// A Vietnamese mobile or landline number: `0` or `84` then 9 (mobile) or 10 (landline) digits.
fn looks_like_phone(v: &str) -> bool {
    let Some(d) = digits_only(v) else { return false };
    let national = if let Some(rest) = d.strip_prefix("84") {
        rest.to_string()
    } else if let Some(rest) = d.strip_prefix('0') {
        rest.to_string()
    } else {
        return false;
    };
    match national.len() {
        9 => matches!(national.as_bytes()[0], b'3' | b'5' | b'7' | b'8' | b'9'),
        10 => national.starts_with('2'),
        _ => false,
    }
}

fn looks_like_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty() && !user.contains(' ') && domain.contains('.') && !domain.contains(' ')
        }
        None => false,
    }
}

/// The most common Vietnamese family names (họ), folded: together they cover most of
/// the population, so a column of values starting with them is a column of names.
const SURNAMES: &[&str] = &[
    "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo", "dang", "bui", "do", "ho", "ngo", "duong",
    "ly", "dinh", "trinh", "truong", "mai", "cao", "lam", "luong", "ha", "ta", "doan", "vuong", "chu",
];

/// `Nguyễn Văn An`: two to five capitalised words, the first a common family name.
fn looks_like_person_name(v: &str) -> bool {
    let words: Vec<&str> = v.split_whitespace().collect();
    (2..=5).contains(&words.len())
        && words.iter().all(|w| w.chars().next().is_some_and(char::is_uppercase))
        && SURNAMES.contains(&fold(words[0]).as_str())
}

const ID_NAMES: &[&str] =
    &["cccd", "cmnd", "can cuoc", "chung minh", "dinh danh", "so dinh danh", "citizen id", "national id"];
const PHONE_NAMES: &[&str] = &["dien thoai", "sdt", "so dt", "phone", "mobile", "di dong"];
const EMAIL_NAMES: &[&str] = &["email", "e mail", "thu dien tu"];
const PERSON_NAMES: &[&str] =
    &["ho ten", "ho va ten", "ten chu ho", "chu ho", "full name", "nguoi dai dien", "ten nguoi"];
const BIRTH_NAMES: &[&str] = &["ngay sinh", "nam sinh", "sinh ngay", "date of birth", "dob", "birth date", "birthday"];

/// Every column of `columns` that looks like personal data, in column order.
pub fn detect(columns: &[ColumnSample]) -> Vec<Finding> {
    let mut found = Vec::new();
    for c in columns {
        let by_values = |test: fn(&str) -> bool| share(&c.values, test).is_some_and(|s| s >= VALUE_SHARE);
        let finding = if name_has(&c.name, ID_NAMES) {
            Some((PersonalKind::CitizenId, format!("its name {:?} says it holds identity numbers", c.name)))
        } else if by_values(looks_like_cccd) {
            Some((PersonalKind::CitizenId, "its values are 12-digit citizen ID numbers".to_string()))
        } else if by_values(looks_like_email) || (name_has(&c.name, EMAIL_NAMES) && !c.values.is_empty()) {
            Some((PersonalKind::Email, "its values are e-mail addresses".to_string()))
        } else if by_values(looks_like_phone) {
            Some((PersonalKind::Phone, "its values are phone numbers".to_string()))
        } else if name_has(&c.name, PHONE_NAMES) && !c.values.is_empty() {
            Some((PersonalKind::Phone, format!("its name {:?} says it holds phone numbers", c.name)))
        } else {
            None
        };
        if let Some((kind, reason)) = finding {
            found.push(Finding { column: c.name.clone(), kind, reason });
        }
    }
    let birth = columns.iter().find(|c| name_has(&c.name, BIRTH_NAMES));
    if let Some(birth) = birth {
        let is_name = |c: &&ColumnSample| {
            name_has(&c.name, PERSON_NAMES)
                || share(&c.values, looks_like_person_name).is_some_and(|s| s >= VALUE_SHARE)
        };
        for c in columns.iter().filter(is_name) {
            found.push(Finding {
                column: c.name.clone(),
                kind: PersonalKind::NameWithBirthDate,
                reason: format!("it holds people's names and the table also holds {:?}", birth.name),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, values: &[&str]) -> ColumnSample {
        ColumnSample { name: name.into(), values: values.iter().map(|v| v.to_string()).collect() }
    }

    fn kinds(columns: &[ColumnSample]) -> Vec<(String, PersonalKind)> {
        detect(columns).into_iter().map(|f| (f.column, f.kind)).collect()
    }

    #[test]
    fn citizen_ids_are_found_by_name_or_by_value() {
        let by_name = col("Số CCCD", &[]);
        let by_value = col("ma", &["001203004567", "027095001234", "096188000111"]);
        assert_eq!(
            kinds(&[by_name, by_value]),
            [("Số CCCD".into(), PersonalKind::CitizenId), ("ma".into(), PersonalKind::CitizenId)]
        );
        // Twelve digits that cannot be a CCCD (province 999) and admin-unit codes are not IDs.
        assert!(detect(&[col("ma", &["999203004567", "999095001234", "999188000111"])]).is_empty());
        assert!(detect(&[col("ma_xa", &["25108", "25111", "25114"])]).is_empty());
    }

    #[test]
    fn phones_and_emails_are_found_in_their_usual_shapes() {
        let phones = col("lien_he", &["0912 345 678", "+84 98.765.4321", "0222.3856.789", "0387654321"]);
        let emails = col("lien_he_2", &["an@bacninh.gov.vn", "binh.tran@gmail.com", "x@y.vn"]);
        assert_eq!(
            kinds(&[phones, emails]),
            [("lien_he".into(), PersonalKind::Phone), ("lien_he_2".into(), PersonalKind::Email)]
        );
        // Amounts and years are not phone numbers.
        assert!(detect(&[col("so_tien", &["1500000", "2000000", "750000"])]).is_empty());
        assert!(detect(&[col("sdt", &[])]).is_empty(), "an empty column holds nothing");
    }

    #[test]
    fn names_count_only_next_to_birth_dates() {
        let names = col("Họ và tên", &["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]);
        assert!(detect(std::slice::from_ref(&names)).is_empty(), "names alone (e.g. of officials) are allowed");
        let born = col("Ngày sinh", &["01/02/1990", "03/04/1985", "05/06/2000"]);
        let head = col("hieu_truong", &["Nguyễn Thị An", "Đặng Văn Bình", "Hồ Thị Cúc", "Lê Văn Cường"]);
        let schools = col("ten_truong", &["Trường Mầm non Hoa Sen", "Mầm non Sao Mai", "Tiểu học Kinh Bắc"]);
        assert_eq!(
            kinds(&[names, born, head, schools]),
            [
                ("Họ và tên".into(), PersonalKind::NameWithBirthDate),
                ("hieu_truong".into(), PersonalKind::NameWithBirthDate)
            ],
            "a column is a column of names by its header or by its values"
        );
    }

    #[test]
    fn headers_folded_to_column_names_still_match() {
        assert!(name_has("so_dien_thoai", PHONE_NAMES));
        assert!(name_has("ho_va_ten", PERSON_NAMES));
        assert!(!name_has("dtich_dat", PHONE_NAMES), "dt must be a word of its own");
    }
}
