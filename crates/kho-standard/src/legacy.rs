//! The legacy Vietnamese font encodings (bảng mã cũ) still found in older government
//! spreadsheets, read as text: each byte of the font's encoding shows up as the
//! Latin-1 character of the same number (`Hµ Néi` is TCVN3 for `Hà Nội`, `Haø Noäi`
//! is VNI for the same). Conversion both ways; detection lives in `text`.

use unicode_normalization::UnicodeNormalization;

/// A legacy font encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// TCVN 5712:1993, the VN3 set of the ABC fonts (`.VnTime`, `.VnArial`): one byte
    /// per letter, lowercase letters with tone marks only (capitals with tone marks
    /// come from the separate `.VnTimeH` fonts, whose bytes are those of the lowercase
    /// letters, so they convert to lowercase).
    Tcvn3,
    /// VNI Windows (fonts `VNI-Times`, `VNI-Helve`): a base letter followed by a byte
    /// for its marks; `đ`, `ơ`, `ư` and the toned `i` and `ỵ` are single bytes.
    Vni,
}

impl Encoding {
    /// `TCVN3` or `VNI`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Tcvn3 => "TCVN3",
            Encoding::Vni => "VNI",
        }
    }
}

/// TCVN 5712:1993 (VN3): the letter and the Latin-1 character carrying its byte.
const TCVN3: [(char, char); 74] = [
    ('Ă', '\u{A1}'),
    ('Â', '\u{A2}'),
    ('Ê', '\u{A3}'),
    ('Ô', '\u{A4}'),
    ('Ơ', '\u{A5}'),
    ('Ư', '\u{A6}'),
    ('Đ', '\u{A7}'),
    ('ă', '\u{A8}'),
    ('â', '\u{A9}'),
    ('ê', '\u{AA}'),
    ('ô', '\u{AB}'),
    ('ơ', '\u{AC}'),
    ('ư', '\u{AD}'),
    ('đ', '\u{AE}'),
    ('à', '\u{B5}'),
    ('ả', '\u{B6}'),
    ('ã', '\u{B7}'),
    ('á', '\u{B8}'),
    ('ạ', '\u{B9}'),
    ('ằ', '\u{BB}'),
    ('ẳ', '\u{BC}'),
    ('ẵ', '\u{BD}'),
    ('ắ', '\u{BE}'),
    ('ặ', '\u{C6}'),
    ('ầ', '\u{C7}'),
    ('ẩ', '\u{C8}'),
    ('ẫ', '\u{C9}'),
    ('ấ', '\u{CA}'),
    ('ậ', '\u{CB}'),
    ('è', '\u{CC}'),
    ('ẻ', '\u{CE}'),
    ('ẽ', '\u{CF}'),
    ('é', '\u{D0}'),
    ('ẹ', '\u{D1}'),
    ('ề', '\u{D2}'),
    ('ể', '\u{D3}'),
    ('ễ', '\u{D4}'),
    ('ế', '\u{D5}'),
    ('ệ', '\u{D6}'),
    ('ì', '\u{D7}'),
    ('ỉ', '\u{D8}'),
    ('ĩ', '\u{DC}'),
    ('í', '\u{DD}'),
    ('ị', '\u{DE}'),
    ('ò', '\u{DF}'),
    ('ỏ', '\u{E1}'),
    ('õ', '\u{E2}'),
    ('ó', '\u{E3}'),
    ('ọ', '\u{E4}'),
    ('ồ', '\u{E5}'),
    ('ổ', '\u{E6}'),
    ('ỗ', '\u{E7}'),
    ('ố', '\u{E8}'),
    ('ộ', '\u{E9}'),
    ('ờ', '\u{EA}'),
    ('ở', '\u{EB}'),
    ('ỡ', '\u{EC}'),
    ('ớ', '\u{ED}'),
    ('ợ', '\u{EE}'),
    ('ù', '\u{EF}'),
    ('ủ', '\u{F1}'),
    ('ũ', '\u{F2}'),
    ('ú', '\u{F3}'),
    ('ụ', '\u{F4}'),
    ('ừ', '\u{F5}'),
    ('ử', '\u{F6}'),
    ('ữ', '\u{F7}'),
    ('ứ', '\u{F8}'),
    ('ự', '\u{F9}'),
    ('ỳ', '\u{FA}'),
    ('ỷ', '\u{FB}'),
    ('ỹ', '\u{FC}'),
    ('ý', '\u{FD}'),
    ('ỵ', '\u{FE}'),
];

// VNI Windows: the mark bytes that follow a base letter, in lowercase (a capital base
// takes the same byte minus 0x20, e.g. `AÙ` for `Á`). Tones: sắc, huyền, hỏi, ngã, nặng.
const VNI_TONES: [char; 5] = ['ù', 'ø', 'û', 'õ', 'ï'];
/// After `a`, `e`, `o`: circumflex alone, then with each tone.
const VNI_CIRCUMFLEX: [char; 6] = ['â', 'á', 'à', 'å', 'ã', 'ä'];
/// After `a`: breve alone, then with each tone.
const VNI_BREVE: [char; 6] = ['ê', 'é', 'è', 'ú', 'ü', 'ë'];
/// `i` with each tone, and `ỵ`, are single bytes.
const VNI_I: [char; 5] = ['í', 'ì', 'æ', 'ó', 'ò'];
const TONE_MARKS: [char; 5] = ['\u{301}', '\u{300}', '\u{309}', '\u{303}', '\u{323}'];

/// Converts TCVN3 text to Unicode NFC; characters outside the table are kept.
pub fn from_tcvn3(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii() { c } else { TCVN3.iter().find(|&&(_, b)| b == c).map_or(c, |&(u, _)| u) })
        .collect()
}

/// Converts VNI text to Unicode NFC; characters outside the encoding are kept, and so
/// is a mark whose case differs from its base letter's (`uÕ`).
pub fn from_vni(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii() && chars.get(i + 1).is_none_or(char::is_ascii) {
            out.push(c);
            i += 1;
            continue;
        }
        // The mark's case follows the base letter's (`aù`, `AÙ`).
        let next = chars
            .get(i + 1)
            .filter(|n| n.is_uppercase() == c.is_uppercase())
            .map(|n| n.to_lowercase().next().unwrap_or(*n));
        if let Some(marks) = next.and_then(|m| vni_marks(c, m)) {
            let base = match c {
                'ô' => 'o',
                'Ô' => 'O',
                'ö' => 'u',
                'Ö' => 'U',
                c => c,
            };
            out.extend(std::iter::once(base).chain(marks.chars()).nfc());
            i += 2;
            continue;
        }
        out.push(vni_single(c).unwrap_or(c));
        i += 1;
    }
    out
}

/// The combining marks a VNI mark byte (lowercased) puts on base `c`, if it is one.
fn vni_marks(c: char, mark: char) -> Option<String> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let horn = matches!(lower, 'ô' | 'ö');
    if !matches!(lower, 'a' | 'e' | 'o' | 'u' | 'y') && !horn {
        return None;
    }
    let mut marks = String::new();
    if horn {
        marks.push('\u{31B}');
    }
    if let Some(t) = VNI_TONES.iter().position(|&t| t == mark) {
        marks.push(TONE_MARKS[t]);
        return Some(marks);
    }
    if matches!(lower, 'a' | 'e' | 'o') {
        if let Some(k) = VNI_CIRCUMFLEX.iter().position(|&t| t == mark) {
            marks.push('\u{302}');
            if k > 0 {
                marks.push(TONE_MARKS[k - 1]);
            }
            return Some(marks);
        }
    }
    if lower == 'a' {
        if let Some(k) = VNI_BREVE.iter().position(|&t| t == mark) {
            marks.push('\u{306}');
            if k > 0 {
                marks.push(TONE_MARKS[k - 1]);
            }
            return Some(marks);
        }
    }
    None
}

/// The letter a single VNI byte stands for, when it is not itself.
fn vni_single(c: char) -> Option<char> {
    let upper = c.is_uppercase();
    let lower = c.to_lowercase().next()?;
    let letter = match lower {
        'ñ' => 'đ',
        'ô' => 'ơ',
        'ö' => 'ư',
        'î' => 'ỵ',
        _ => {
            let t = VNI_I.iter().position(|&x| x == lower)?;
            std::iter::once('i').chain(std::iter::once(TONE_MARKS[t])).nfc().next()?
        }
    };
    Some(if upper { letter.to_uppercase().next().unwrap_or(letter) } else { letter })
}

/// Encodes Unicode text in TCVN3; `None` when a character has no TCVN3 byte (a capital
/// with a tone mark, or a character above Latin-1 outside the table).
pub fn to_tcvn3(s: &str) -> Option<String> {
    s.nfc()
        .map(|c| match TCVN3.iter().find(|&&(u, _)| u == c) {
            Some(&(_, b)) => Some(b),
            None if (c as u32) < 0x80 => Some(c),
            None => None,
        })
        .collect()
}

/// Encodes Unicode text in VNI; `None` when a character has no VNI form (anything
/// above ASCII that is not a Vietnamese letter).
pub fn to_vni(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.nfc() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let upper = c.is_uppercase();
        let case = |x: char| if upper { x.to_uppercase().next().unwrap_or(x) } else { x };
        let lower = c.to_lowercase().next()?;
        if lower == 'đ' {
            out.push(case('ñ'));
            continue;
        }
        let mut base = None;
        let (mut tone, mut circumflex, mut breve, mut horn) = (None, false, false, false);
        for d in lower.nfd() {
            match d {
                '\u{302}' => circumflex = true,
                '\u{306}' => breve = true,
                '\u{31B}' => horn = true,
                d if TONE_MARKS.contains(&d) => tone = TONE_MARKS.iter().position(|&t| t == d),
                d if d.is_ascii_lowercase() && base.is_none() => base = Some(d),
                _ => return None,
            }
        }
        let base = base?;
        match (base, circumflex, breve, horn) {
            ('i', false, false, false) => out.push(case(VNI_I[tone?])),
            ('y', false, false, false) if tone == Some(4) => out.push(case('î')),
            ('a' | 'e' | 'o' | 'u' | 'y', false, false, false) => {
                out.push(case(base));
                out.push(case(VNI_TONES[tone?]));
            }
            ('a' | 'e' | 'o', true, false, false) => {
                out.push(case(base));
                out.push(case(VNI_CIRCUMFLEX[tone.map_or(0, |t| t + 1)]));
            }
            ('a', false, true, false) => {
                out.push(case(base));
                out.push(case(VNI_BREVE[tone.map_or(0, |t| t + 1)]));
            }
            ('o' | 'u', false, false, true) => {
                out.push(case(if base == 'o' { 'ô' } else { 'ö' }));
                if let Some(t) = tone {
                    out.push(case(VNI_TONES[t]));
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Place and person names in Unicode, TCVN3 and VNI, as typed with the old fonts.
    const NAMES: [(&str, &str, &str); 10] = [
        ("Hà Nội", "Hµ Néi", "Haø Noäi"),
        ("Ninh Bình", "Ninh B×nh", "Ninh Bình"),
        ("Thừa Thiên Huế", "Thõa Thiªn HuÕ", "Thöøa Thieân Hueá"),
        ("Nguyễn Văn Đức", "NguyÔn V\u{A8}n §øc", "Nguyeãn Vaên Ñöùc"),
        ("Trần Thị Thuỷ", "TrÇn ThÞ Thuû", "Traàn Thò Thuyû"),
        ("Bảo Thắng", "B¶o Th¾ng", "Baûo Thaéng"),
        ("Mường Khương", "M\u{AD}êng Kh\u{AD}\u{AC}ng", "Möôøng Khöông"),
        ("Đắk Lắk", "§¾k L¾k", "Ñaék Laék"),
        ("Phạm Thị Ngọc Ánh", "Ph¹m ThÞ Ngäc ¸nh", "Phaïm Thò Ngoïc AÙnh"),
        ("Lê Quý Đôn", "Lª Quý §«n", "Leâ Quyù Ñoân"),
    ];

    #[test]
    fn legacy_names_convert_to_unicode() {
        for (unicode, tcvn3, vni) in NAMES {
            if to_tcvn3(unicode).is_some() {
                assert_eq!(from_tcvn3(tcvn3), unicode, "{tcvn3}");
            }
            assert_eq!(from_vni(vni), unicode, "{vni}");
        }
        assert_eq!(from_tcvn3("Hµ Néi"), "Hà Nội");
        assert_eq!(from_tcvn3("Thõa Thiªn HuÕ"), "Thừa Thiên Huế");
        assert_eq!(from_tcvn3("NguyÔn V\u{A8}n §øc"), "Nguyễn Văn Đức");
        assert_eq!(from_tcvn3("M\u{AD}êng Kh\u{AD}\u{AC}ng"), "Mường Khương");
        assert_eq!(from_tcvn3("Ph¹m ThÞ Ngäc ¸nh"), "Phạm Thị Ngọc ánh");
    }

    #[test]
    fn unicode_encodes_to_the_legacy_forms() {
        for (unicode, tcvn3, vni) in NAMES {
            assert_eq!(to_vni(unicode).as_deref(), Some(vni), "{unicode}");
            if let Some(encoded) = to_tcvn3(unicode) {
                assert_eq!(encoded, tcvn3, "{unicode}");
            }
        }
        // A capital with a tone mark has no TCVN3 byte.
        assert_eq!(to_tcvn3("Ánh"), None);
        assert_eq!(to_tcvn3("Hà Nội").as_deref(), Some("Hµ Néi"));
    }

    #[test]
    fn vni_capitals_take_capital_marks() {
        assert_eq!(to_vni("HÀ NỘI").as_deref(), Some("HAØ NOÄI"));
        assert_eq!(from_vni("HAØ NOÄI"), "HÀ NỘI");
        assert_eq!(from_vni("ÑÖÔØNG"), "ĐƯỜNG");
        assert_eq!(from_vni("Kyø Sôn"), "Kỳ Sơn");
    }
}
