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
}
