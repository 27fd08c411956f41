//! Whether a word reads as Vietnamese (âm tiết tiếng Việt): initial consonants, a
//! vowel nucleus of the language, an allowed final and at most one tone mark. Loose on
//! consonants (ethnic-minority and loan names such as `Krông`, `Đắk` pass), strict on
//! vowels, which is where text in a legacy encoding read as Latin-1 goes wrong
//! (`Haø`, `Nguyeãn`, `Hµ`).

use std::collections::HashMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// Vowel nuclei (without tone), after `qu` and `gi` are taken as initials.
const NUCLEI: [&str; 53] = [
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia",
    "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ưu",
    "ươ", "ya", "yê", "iêu", "oai", "oay", "oao", "oeo", "uây", "uôi", "ươi", "ươu", "uyê",
];
const MORE_NUCLEI: [&str; 3] = ["uya", "uyu", "yêu"];
/// Nuclei that end the syllable: no final consonant after them.
const OPEN: [&str; 29] = [
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ua", "ui", "ưa", "ưi", "ưu", "iêu",
    "oai", "oay", "oao", "oeo", "uây", "uôi", "ươi", "ươu", "uyu", "yêu",
];
const FINALS: [&str; 9] = ["", "c", "ch", "m", "n", "ng", "nh", "p", "t"];
const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// Whether `word` is plausible Vietnamese: after trimming punctuation (ASCII and the
/// General Punctuation block: `“”…–`; not `«»`, which are TCVN3 letters) at its
/// ends, every part between hyphens or apostrophes is a syllable, a number or one or
/// two ASCII letters (`H'Mông`, `K'Ho`).
pub(crate) fn plausible_word(word: &str) -> bool {
    let word = word.trim_matches(|c: char| c.is_ascii_punctuation() || ('\u{2000}'..='\u{206F}').contains(&c));
    if word.is_empty() {
        return false;
    }
    word.split(['-', '\'', '’']).all(|part| {
        part.is_empty()
            || part.bytes().all(|b| b.is_ascii_digit())
            || (part.len() <= 2 && part.bytes().all(|b| b.is_ascii_alphabetic()))
            || syllable(part)
    })
}

/// A letter without its tone mark, and whether it had one (`ộ` → `ô`, true).
fn split_tone(c: char) -> (Option<char>, bool) {
    static TONED: OnceLock<HashMap<char, char>> = OnceLock::new();
    if (c as u32) < 0xC0 {
        return (Some(c), false);
    }
    let toned = TONED.get_or_init(|| {
        let letters = (0xC0..=0x1B0).chain(0x1EA0..=0x1EF9).filter_map(char::from_u32);
        letters
            .filter_map(|c| {
                let decomposed: String = c.nfd().collect();
                let base: String = decomposed.chars().filter(|d| !TONES.contains(d)).nfc().collect();
                let mut base = base.chars();
                match (base.next(), base.next(), decomposed.chars().any(|d| TONES.contains(&d))) {
                    (Some(b), None, true) => Some((c, b)),
                    _ => None,
                }
            })
            .collect()
    });
    match toned.get(&c) {
        Some(&base) => (Some(base), true),
        None => (Some(c), false),
    }
}

/// Whether `part` is one Vietnamese syllable.
fn syllable(part: &str) -> bool {
    let mut tone_at = None;
    let mut letters: Vec<char> = Vec::with_capacity(part.len());
    for c in part.chars() {
        let (base, toned) = if TONES.contains(&c) { (None, true) } else { split_tone(c) };
        letters.extend(base.into_iter().flat_map(char::to_lowercase));
        if toned {
            if tone_at.is_some() {
                return false;
            }
            // A lone combining tone mark belongs to the letter before it.
            tone_at = Some(letters.len().saturating_sub(1));
        }
    }
    let is_vowel = |c: char| "aăâeêioôơuưy".contains(c);
    let is_consonant = |c: char| c == 'đ' || (c.is_ascii_lowercase() && !is_vowel(c));
    let mut i = letters.iter().take_while(|&&c| is_consonant(c)).count();
    if i > 3 {
        return false;
    }
    // `qu` and `gi` (before another vowel) are initials.
    let qu = i > 0 && letters[i - 1] == 'q' && letters.get(i) == Some(&'u');
    let gi =
        i == 1 && letters[0] == 'g' && letters.get(1) == Some(&'i') && letters.get(2).is_some_and(|&c| is_vowel(c));
    if qu || gi {
        i += 1;
    }
    let len = letters[i..].iter().take_while(|&&c| is_vowel(c)).count();
    let nucleus: String = letters[i..i + len].iter().collect();
    let last: String = letters[i + len..].iter().collect();
    if !(NUCLEI.contains(&nucleus.as_str()) || MORE_NUCLEI.contains(&nucleus.as_str())) {
        return false;
    }
    if !(FINALS.contains(&last.as_str()) || last == "k") || (!last.is_empty() && OPEN.contains(&nucleus.as_str())) {
        return false;
    }
    // `nh` and `ch` close only `a`, `ê`, `i` and `y` (`anh`, `ếch`, `tỉnh`, `huỳnh`).
    if matches!(last.as_str(), "nh" | "ch") && !nucleus.ends_with(['a', 'ê', 'i', 'y']) {
        return false;
    }
    match tone_at {
        None => true,
        Some(at) if at < i || at >= i + len => false,
        Some(at) => tone_fits(&nucleus, at - i, !last.is_empty()),
    }
}

/// Whether the tone mark may sit on vowel `k` of `nucleus` (old and new placements
/// both allowed: `hoà` and `hòa`).
fn tone_fits(nucleus: &str, k: usize, has_final: bool) -> bool {
    let vowels: Vec<char> = nucleus.chars().collect();
    if let Some(marked) = vowels.iter().rposition(|c| "ăâêôơư".contains(*c)) {
        return k == marked;
    }
    match (vowels.len(), has_final) {
        (1, _) => k == 0,
        (_, true) => k == vowels.len() - 1,
        (2, false) if matches!(nucleus, "oa" | "oe" | "uy") => true,
        (2, false) => k == 0,
        _ => k == 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_words_are_plausible() {
        for w in [
            "Hà",
            "Nội",
            "Nguyễn",
            "giường",
            "Quảng",
            "khuỷu",
            "Thuỷ",
            "Thủy",
            "Đắk",
            "Krông",
            "H'Mông",
            "xoong",
            "Huế,",
            "uống",
            "nghiêng",
            "Ánh",
            "2024",
            "ộ",
            "hoà",
            "hòa",
            "Thuý",
            "Thúy",
            "già",
            "quýt",
            "khoảng",
            "ngoái",
            "người",
            "cứu",
            "thuở",
        ] {
            assert!(plausible_word(w), "{w}");
        }
    }

    #[test]
    fn legacy_text_read_as_latin1_is_not() {
        for w in [
            "Hµ", "Néi", "Haø", "Noäi", "Nguyeãn", "ThÞ", "B×nh", "Thieân", "café", "Zürich", "HAØ", "NOÄI", "xyz", "",
            "Leõ", "hoạì", "Phaùm", "tổnh",
        ] {
            assert!(!plausible_word(w), "{w}");
        }
    }
}
