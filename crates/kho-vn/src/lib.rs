//! Vietnamese text: folding diacritics for matching and search, and URL slugs from
//! Vietnamese titles. Pure functions, no IO.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lowercases and removes Vietnamese diacritics: `HÀ NỘI` and `Hà Nội` both become
/// `ha noi`; `đ`/`Đ` become `d`.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The diacritics of `text` without its letters, in a fixed order, `đ` counting as one:
/// the part of a word that [`fold`] throws away. Two spellings that fold alike but
/// carry different marks differ here (`Quân` / `Quán`, `Hưng` / `Hùng`), while the old
/// and new placements of a tone mark agree (`Hoà` / `Hòa`, `Thuý` / `Thúy`).
pub fn marks(text: &str) -> String {
    let mut marks: Vec<char> = text
        .nfd()
        .filter_map(|c| match c {
            'đ' | 'Đ' => Some('đ'),
            c if is_combining_mark(c) => Some(c),
            _ => None,
        })
        .collect();
    marks.sort_unstable();
    marks.into_iter().collect()
}

/// A URL slug from a title: folded, ASCII letters and digits joined by single
/// hyphens, at most `max` characters, never empty (`"du-lieu"` stands in for a title
/// with no letters or digits).
pub fn slugify(title: &str, max: usize) -> String {
    let mut slug = String::new();
    for c in fold(title).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.chars().take(max).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        "du-lieu".into()
    } else {
        slug
    }
}

/// Whether `s` is a valid slug: 1 to `max` lowercase ASCII letters, digits and
/// single inner hyphens.
pub fn is_slug(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// A number written the Vietnamese way: `.` between thousands, `,` before decimals
/// (`1234567.5` → `1.234.567,5`), at most two decimals.
pub fn number(v: f64) -> String {
    let rounded = (v.abs() * 100.0).round() / 100.0;
    let digits = (rounded.trunc() as u64).to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    if v < 0.0 && rounded > 0.0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    let cents = ((rounded - rounded.trunc()) * 100.0).round() as u64;
    if cents > 0 {
        out.push_str(format!(",{cents:02}").trim_end_matches('0'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_and_diacritics() {
        assert_eq!(fold("Hà Nội"), "ha noi");
        assert_eq!(fold("HÀ NỘI"), "ha noi");
        assert_eq!(fold("ha noi"), "ha noi");
        assert_eq!(fold("Đường Đá"), "duong da");
        assert_eq!(fold("Thừa Thiên Huế"), "thua thien hue");
        assert_eq!(fold("Ưu đãi ỹ ỵ"), "uu dai y y");
    }

    #[test]
    fn marks_tell_apart_what_folding_merges() {
        assert_eq!(marks("Hoà"), marks("Hòa"));
        assert_eq!(marks("Thuý"), marks("Thúy"));
        assert_eq!(marks("HÒA"), marks("hoà"));
        assert_ne!(marks("Quân"), marks("Quán"));
        assert_ne!(marks("Hưng"), marks("Hùng"));
        assert_ne!(marks("Đông"), marks("Dông"));
        assert_eq!(marks("Sa Pa"), "");
        // Decomposed input gives the same marks as precomposed input.
        assert_eq!(marks("Qua\u{302}n"), marks("Quân"));
    }

    #[test]
    fn slugs_are_ascii_and_bounded() {
        assert_eq!(slugify("Danh sách trường học năm 2025", 80), "danh-sach-truong-hoc-nam-2025");
        assert_eq!(slugify("  Giá đất -- (Bắc Ninh)  ", 80), "gia-dat-bac-ninh");
        assert_eq!(slugify("Giá đất Bắc Ninh", 8), "gia-dat");
        assert_eq!(slugify("—", 80), "du-lieu");
        assert!(is_slug("gia-dat-2025", 80));
        for bad in ["", "Gia", "-a", "a-", "a--b", "a b", "giá"] {
            assert!(!is_slug(bad, 80), "{bad}");
        }
        for title in ["Hộ nghèo xã Đồng Kỳ", "!!!", "Ấp 1 — 2"] {
            assert!(is_slug(&slugify(title, 80), 80), "{title}");
        }
    }

    #[test]
    fn numbers_read_the_vietnamese_way() {
        assert_eq!(number(1_234_567.0), "1.234.567");
        assert_eq!(number(1234.5), "1.234,5");
        assert_eq!(number(0.05), "0,05");
        assert_eq!(number(-980.0), "-980");
        assert_eq!(number(980.0), "980");
    }
}
