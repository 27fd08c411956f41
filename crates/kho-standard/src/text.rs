//! Free text (văn bản): Unicode NFC, legacy TCVN3 and VNI text detected and converted,
//! whitespace trimmed and collapsed; and the diacritic-insensitive key for matching.

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::legacy::{from_tcvn3, from_vni, Encoding};
use crate::syllable::plausible_word;
use crate::{join_notes, standardize, Standardized};

/// Standardises free text: NFC, TCVN3 or VNI text converted to Unicode, whitespace
/// trimmed and runs of it made one space. Never `invalid`.
pub fn text(s: &str) -> Standardized {
    standardize(s, |s| Ok(rules(s)))
}

/// The diacritic-insensitive key of a text (khóa so khớp): standardised, then folded
/// (`Hµ  Néi` and `HÀ NỘI` both give `ha noi`).
pub fn fold_key(s: &str) -> String {
    kho_vn::fold(&rules(s).0)
}

pub(crate) fn rules(s: &str) -> (String, String) {
    let (nfc, nfc_note) = match is_nfc_quick(s.chars()) {
        IsNormalized::Yes => (s.to_owned(), ""),
        _ => {
            let n: String = s.nfc().collect();
            let note = if n == s { "" } else { "normalised to NFC" };
            (n, note)
        }
    };
    let collapsed = collapse(&nfc);
    let space_note = if collapsed == nfc { "" } else { "whitespace collapsed" };
    if let Some(encoding) = detect_legacy(&collapsed) {
        let converted = collapse(&convert(&collapsed, encoding).nfc().collect::<String>());
        // A conversion that would itself read as legacy text is not trusted.
        if detect_legacy(&converted).is_none() {
            let from = format!("converted from {}", encoding.as_str());
            return (converted, join_notes([from.as_str(), nfc_note, space_note]));
        }
    }
    (collapsed, join_notes([nfc_note, space_note]))
}

fn convert(s: &str, encoding: Encoding) -> String {
    match encoding {
        Encoding::Tcvn3 => from_tcvn3(s),
        Encoding::Vni => from_vni(s),
    }
}

/// Trims and replaces every run of whitespace with one space.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The legacy encoding `s` is written in, if it reads as one. Text with any character
/// above Latin-1 (but the punctuation of Windows-1252) is Unicode; otherwise each word that a conversion changes is weighed:
/// it counts for the encoding when it reads as Vietnamese after the conversion and not
/// before, and against it when it does not read as Vietnamese after. An encoding is
/// chosen when at least one word of two letters or more counts for it, more count for
/// it than against it, and the other encoding does not do as well (`Höng` is `Hưng` in
/// VNI and `Hửng` in TCVN3: no answer). Words that read as Vietnamese both ways (`Cô`,
/// VNI for `Cơ`) decide nothing, so ordinary Unicode and English text are left alone.
pub fn detect_legacy(s: &str) -> Option<Encoding> {
    // Punctuation of Windows-1252 (`–`, `“`, `…`, `€`) also appears in legacy text.
    let unicode_only = |c: char| c as u32 > 0xFF && !matches!(c, '\u{2000}'..='\u{206F}' | '€');
    if s.is_ascii() || s.chars().any(unicode_only) {
        return None;
    }
    let [tcvn3, vni] = [Encoding::Tcvn3, Encoding::Vni].map(|e| score(s, e));
    match (tcvn3, vni) {
        (Some(t), Some(v)) if t == v => None,
        (Some(t), Some(v)) => Some(if t > v { Encoding::Tcvn3 } else { Encoding::Vni }),
        (Some(_), None) => Some(Encoding::Tcvn3),
        (None, Some(_)) => Some(Encoding::Vni),
        (None, None) => None,
    }
}

/// How many more words read as Vietnamese after the conversion than do not, when that
/// is positive and one of them has two letters or more.
fn score(s: &str, encoding: Encoding) -> Option<i64> {
    let (mut strong, mut support, mut against) = (false, 0i64, 0i64);
    for word in s.split_whitespace() {
        let converted = convert(word, encoding);
        if converted == word {
            continue;
        }
        match (plausible_word(word), plausible_word(&converted)) {
            (false, true) => {
                support += 1;
                strong |= converted.chars().filter(|c| c.is_alphabetic()).count() >= 2;
            }
            (_, false) => against += 1,
            (true, true) => {}
        }
    }
    let score = support - against;
    (strong && score > 0).then_some(score)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn legacy_text_becomes_unicode() {
        let cases = [
            ("Hµ Néi", "Hà Nội", "TCVN3"),
            ("UBND tØnh Th¸i Nguyªn", "UBND tỉnh Thái Nguyên", "TCVN3"),
            ("Së Tµi nguyªn vµ M«i tr\u{AD}êng", "Sở Tài nguyên và Môi trường", "TCVN3"),
            ("NguyÔn ThÞ Thu Hµ", "Nguyễn Thị Thu Hà", "TCVN3"),
            ("  Ninh   B×nh ", "Ninh Bình", "TCVN3"),
            ("Haø Noäi", "Hà Nội", "VNI"),
            ("Thaønh phoá Hoà Chí Minh", "Thành phố Hồ Chí Minh", "VNI"),
            ("Nguyeãn Vaên An", "Nguyễn Văn An", "VNI"),
            ("Leâ Thò Hoàng Nhung", "Lê Thị Hồng Nhung", "VNI"),
            ("Thaùi Sôn", "Thái Sơn", "VNI"),
            ("HAØ NOÄI", "HÀ NỘI", "VNI"),
            ("Hµ Néi – “Thñ ®«”…", "Hà Nội – “Thủ đô”…", "TCVN3"),
            ("Soá 5, ñöôøng Traàn Phuù", "Số 5, đường Trần Phú", "VNI"),
            ("Bµ RÞa - Vòng Tµu", "Bà Rịa - Vũng Tàu", "TCVN3"),
        ];
        for (input, output, from) in cases {
            let r = text(input);
            assert_eq!((r.output.as_str(), r.status), (output, Status::Fixed), "{input}");
            assert!(r.note.contains(&format!("converted from {from}")), "{input}: {}", r.note);
        }
    }

    #[test]
    fn unicode_and_english_are_left_alone() {
        for s in [
            "Hà Nội",
            "Cô Tô",
            "Hà Tây",
            "Bà Rịa – Vũng Tàu",
            "Cà Mau",
            "Tôi là cán bộ",
            "Ông Bà Cô Chú",
            "Hà Tây – “Cô Tô”",
            "Tí",
            "São Paulo",
            "café au lait",
            "Zürich, naïve résumé",
            "Hôtel Métropole",
            "Größe",
            "Año Niño señor",
            "Ação",
            "5 µg/ml",
            "Temperature 25°C ± 2",
            "Price: 5 € — «quoted»",
            "plain ASCII text",
            "",
        ] {
            let r = text(s);
            assert_eq!((r.output.as_str(), r.status), (s, Status::Ok), "{s}");
        }
    }

    #[test]
    fn whitespace_and_nfc_are_fixed() {
        let r = text("  Ha\u{300}   No\u{323}\u{302}i\t");
        assert_eq!((r.output.as_str(), r.status), ("Hà Nội", Status::Fixed));
        assert_eq!(r.note, "normalised to NFC; whitespace collapsed");
    }

    #[test]
    fn fold_keys_ignore_encoding_case_and_marks() {
        assert_eq!(fold_key("Hµ  Néi"), "ha noi");
        assert_eq!(fold_key("HAØ NOÄI"), "ha noi");
        assert_eq!(fold_key("Hà Nội"), "ha noi");
    }
}
