//! Names of administrative units as people write them (tên đơn vị hành chính): the
//! type word in front, in full or abbreviated (`Phường`, `P.`, `P`, `TP.`, `TX`, …,
//! `P.Tân Mỹ` with no space, `P1` glued to a number), then the name itself, compared
//! without diacritics or case and with numbers read as numbers (`P.01` = `Phường 1`).
//! The marks that folding drops are kept beside the name to tell apart names that fold
//! alike (`Minh Quân` / `Minh Quán`).

/// Loại đơn vị hành chính — the type word that starts a unit's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum UnitType {
    /// Tỉnh — a province.
    Province,
    /// Thành phố — a city: centrally run (province level) or provincial (district level).
    City,
    /// Quận — an urban district (legacy).
    UrbanDistrict,
    /// Huyện — a rural district (legacy).
    RuralDistrict,
    /// Thị xã — a district-level town (legacy).
    Town,
    /// Phường — a ward.
    Ward,
    /// Xã — a commune.
    Commune,
    /// Thị trấn — a township (legacy).
    Township,
    /// Đặc khu — a special zone (2025).
    SpecialZone,
}

/// The level a part of an address stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Province,
    District,
    Commune,
}

impl UnitType {
    /// Whether a unit of this type can stand at `level`.
    pub(crate) fn fits(self, level: Level) -> bool {
        use UnitType::*;
        match level {
            Level::Province => matches!(self, Province | City),
            Level::District => matches!(self, City | UrbanDistrict | RuralDistrict | Town),
            Level::Commune => matches!(self, Ward | Commune | Township | SpecialZone),
        }
    }
}

/// Type words as folded tokens, longest first so that `thi xa` wins over `thi`.
const TYPE_WORDS: &[(&[&str], UnitType)] = &[
    (&["thanh", "pho"], UnitType::City),
    (&["thi", "xa"], UnitType::Town),
    (&["thi", "tran"], UnitType::Township),
    (&["dac", "khu"], UnitType::SpecialZone),
    (&["t", "p"], UnitType::City),
    (&["tinh"], UnitType::Province),
    (&["quan"], UnitType::UrbanDistrict),
    (&["huyen"], UnitType::RuralDistrict),
    (&["phuong"], UnitType::Ward),
    (&["xa"], UnitType::Commune),
    (&["tp"], UnitType::City),
    (&["tx"], UnitType::Town),
    (&["tt"], UnitType::Township),
    (&["t"], UnitType::Province),
    (&["q"], UnitType::UrbanDistrict),
    (&["h"], UnitType::RuralDistrict),
    (&["p"], UnitType::Ward),
    (&["x"], UnitType::Commune),
];

/// A word of a name: letters (with their marks) and digits, as written and folded.
#[derive(Debug, Clone)]
pub(crate) struct Token<'a> {
    /// The word as written.
    pub text: &'a str,
    /// Its byte offset in the text it was cut from.
    pub start: usize,
    /// Folded (`kho_vn::fold`), apostrophes left out, a number without leading zeros.
    pub folded: String,
}

fn is_mark(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`')
}

/// The words of `text`: anything that is not a letter, a digit, a combining mark or
/// an apostrophe separates them (`Ea H'leo` → `ea`, `hleo`; `P.Tân Mỹ` → `p`, `tan`, `my`).
pub(crate) fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let inside = c.is_alphanumeric() || is_mark(c) || is_apostrophe(c);
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                push_token(&mut out, text, s, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        push_token(&mut out, text, s, text.len());
    }
    out
}

fn push_token<'a>(out: &mut Vec<Token<'a>>, text: &'a str, start: usize, end: usize) {
    let raw = &text[start..end];
    let mut folded: String = kho_vn::fold(raw).chars().filter(|c| !is_apostrophe(*c)).collect();
    if folded.is_empty() {
        return;
    }
    if folded.bytes().all(|b| b.is_ascii_digit()) {
        folded = number(&folded).to_string();
    }
    out.push(Token { text: raw, start, folded });
}

/// Digits without leading zeros (`01` → `1`, `00` → `0`).
fn number(digits: &str) -> &str {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() {
        "0"
    } else {
        trimmed
    }
}

/// The type word at the start of `tokens`: the type, how many tokens it takes, and
/// for a type glued to a number (`P1`, `q10`) the number.
pub(crate) fn type_at<'t>(tokens: &'t [Token<'_>]) -> Option<(UnitType, usize, Option<&'t str>)> {
    for (words, ty) in TYPE_WORDS {
        if tokens.len() >= words.len() && words.iter().zip(tokens).all(|(w, t)| t.folded == *w) {
            return Some((*ty, words.len(), None));
        }
    }
    let first = &tokens.first()?.folded;
    let (ty, digits) = match first.as_bytes().first()? {
        b'p' => (UnitType::Ward, &first[1..]),
        b'q' => (UnitType::UrbanDistrict, &first[1..]),
        _ => return None,
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some((ty, 1, Some(number(digits))));
    }
    None
}

/// One way to read a name: its type word, if any, and the rest as a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reading {
    pub ty: Option<UnitType>,
    /// The folded words after the type word, joined by single spaces.
    pub key: String,
    /// The marks of those words (`kho_vn::marks`), joined by single spaces.
    pub marks: String,
}

impl Reading {
    fn of(ty: Option<UnitType>, number: Option<&str>, tokens: &[Token<'_>]) -> Self {
        let mut key = String::new();
        let mut marks = String::new();
        if let Some(n) = number {
            key.push_str(n);
        }
        for (i, t) in tokens.iter().enumerate() {
            if !key.is_empty() {
                key.push(' ');
            }
            if i > 0 || number.is_some() {
                marks.push(' ');
            }
            key.push_str(&t.folded);
            marks.push_str(&kho_vn::marks(t.text));
        }
        Self { ty, key, marks }
    }
}

/// The ways to read a name, most likely first: with its leading type word taken as
/// the type (when something follows it), then the whole as a name without a type
/// (for names such as `Xa Lý` written without their type word).
pub(crate) fn readings(tokens: &[Token<'_>]) -> Vec<Reading> {
    let mut out = Vec::with_capacity(2);
    if let Some((ty, used, number)) = type_at(tokens) {
        if tokens.len() > used || number.is_some() {
            out.push(Reading::of(Some(ty), number, &tokens[used..]));
        }
    }
    if !tokens.is_empty() {
        out.push(Reading::of(None, None, tokens));
    }
    out
}

/// How a unit's name from a list is read: its type word and key.
pub(crate) fn reading_of_listed(name: &str) -> Reading {
    let tokens = tokens(name);
    readings(&tokens).into_iter().next().unwrap_or(Reading { ty: None, key: String::new(), marks: String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> (Option<UnitType>, String) {
        let r = readings(&tokens(text)).into_iter().next().unwrap();
        (r.ty, r.key)
    }

    #[test]
    fn type_words_in_full_and_abbreviated() {
        let ward = (Some(UnitType::Ward), "tan my".to_string());
        for text in ["Phường Tân Mỹ", "P. Tân Mỹ", "P.Tân Mỹ", "p tan my", "PHƯỜNG TÂN MỸ", "  P .  Tan  My "]
        {
            assert_eq!(first(text), ward, "{text}");
        }
        let city = (Some(UnitType::City), "bac giang".to_string());
        for text in ["Thành phố Bắc Giang", "TP. Bắc Giang", "TP Bac Giang", "tp.bac giang", "T.P. Bắc Giang"]
        {
            assert_eq!(first(text), city, "{text}");
        }
        assert_eq!(first("TX. Sa Pa"), (Some(UnitType::Town), "sa pa".into()));
        assert_eq!(first("Thị xã Sa Pa"), (Some(UnitType::Town), "sa pa".into()));
        assert_eq!(first("TT. Ái Tử"), (Some(UnitType::Township), "ai tu".into()));
        assert_eq!(first("Thị Trấn Ái Tử"), (Some(UnitType::Township), "ai tu".into()));
        assert_eq!(first("H. Lục Nam"), (Some(UnitType::RuralDistrict), "luc nam".into()));
        assert_eq!(first("X. Tân Mỹ"), (Some(UnitType::Commune), "tan my".into()));
        assert_eq!(first("T. Bắc Giang"), (Some(UnitType::Province), "bac giang".into()));
        assert_eq!(first("Đặc khu Côn Đảo"), (Some(UnitType::SpecialZone), "con dao".into()));
        assert_eq!(first("Tân Mỹ"), (None, "tan my".into()));
    }

    #[test]
    fn numbers_are_read_as_numbers() {
        for text in ["Phường 1", "P.01", "P1", "p 001", "Phường 01"] {
            assert_eq!(first(text), (Some(UnitType::Ward), "1".into()), "{text}");
        }
        assert_eq!(first("Q10"), (Some(UnitType::UrbanDistrict), "10".into()));
        assert_eq!(first("Phường Mỹ Đình 1"), (Some(UnitType::Ward), "my dinh 1".into()));
    }

    #[test]
    fn punctuation_and_apostrophes() {
        assert_eq!(first("Tỉnh Bà Rịa - Vũng Tàu"), (Some(UnitType::Province), "ba ria vung tau".into()));
        assert_eq!(first("Huyện Ea H'leo").1, "ea hleo");
        assert_eq!(first("Huyện Ea Hleo").1, "ea hleo");
        assert_eq!(first("Phường Văn Miếu - Quốc Tử Giám").1, "van mieu quoc tu giam");
    }

    #[test]
    fn the_untyped_reading_comes_second() {
        let all = readings(&tokens("Xa Lý"));
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].ty, all[0].key.as_str()), (Some(UnitType::Commune), "ly"));
        assert_eq!((all[1].ty, all[1].key.as_str()), (None, "xa ly"));
        // A lone type word is no name.
        assert_eq!(readings(&tokens("Phường")).len(), 1);
        assert!(readings(&tokens(" , ")).is_empty());
    }

    #[test]
    fn marks_follow_the_words_of_the_key() {
        let a = reading_of_listed("Xã Minh Quân");
        let b = reading_of_listed("Xã Minh Quán");
        assert_eq!(a.key, b.key);
        assert_ne!(a.marks, b.marks);
        assert_eq!(reading_of_listed("Xã Hoà Bình").marks, reading_of_listed("Xã Hòa Bình").marks);
        let typed = readings(&tokens("P.Tân Mỹ")).remove(0);
        assert_eq!(typed.marks, reading_of_listed("Phường Tân Mỹ").marks);
    }

    #[test]
    fn levels() {
        assert!(UnitType::City.fits(Level::Province) && UnitType::City.fits(Level::District));
        assert!(!UnitType::Ward.fits(Level::District) && UnitType::Township.fits(Level::Commune));
        assert!(!UnitType::Province.fits(Level::Commune));
    }
}
