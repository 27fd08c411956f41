//! Vietnamese standardisation (chuẩn hóa dữ liệu tiếng Việt): one function per kind of
//! value, each total (any input gives an answer, never a panic) and idempotent
//! (standardising an `ok` or `fixed` output again gives it back with [`Status::Ok`]).
//! Pure functions, no IO.
//!
//! | function | kind | standard form |
//! |---|---|---|
//! | [`text`] | free text | Unicode NFC, legacy TCVN3 (ABC) and VNI text converted, whitespace collapsed |
//! | [`fold_key`] | matching key | lowercase without diacritics (`Hà Nội` → `ha noi`) |
//! | [`person_name`] | họ và tên | text, each word capitalised (`NGUYỄN văn  an` → `Nguyễn Văn An`) |
//! | [`phone`] | số điện thoại | E.164 `+84…`, old 11-digit mobile prefixes moved to the 2018 plan |
//! | [`citizen_id`] | CCCD / CMND | 12 digits checked (province, sex and century, birth year); 9-digit CMND recognised |
//! | [`tax_code`] | mã số thuế | `NNNNNNNNNN` or `NNNNNNNNNN-NNN`, check digit verified |
//! | [`date`] | ngày tháng | ISO `yyyy-mm-dd` |
//! | [`amount`] | số tiền | a plain decimal number (`1.250.000 đ` → `1250000`) |
//! | [`address`] | địa chỉ | `street, commune, province` in the 2025 units, legacy units converted |
//!
//! Every function answers a [`Standardized`]: the output, a [`Status`] and a short note.
//! An `invalid` answer keeps the input as its output.
//!
//! ```
//! use kho_standard::{phone, text, Status};
//!
//! let t = text("Hµ Néi");
//! assert_eq!((t.output.as_str(), t.status), ("Hà Nội", Status::Fixed));
//! assert_eq!(phone("0168 123 4567").output, "+84381234567");
//! ```

mod address;
mod amount;
mod citizen_id;
mod date;
mod kind;
mod legacy;
mod name;
mod phone;
mod syllable;
mod tax_code;
mod text;

pub use address::{address, parse_address, AddressParts};
pub use amount::amount;
pub use citizen_id::{citizen_id, parse_citizen_id, province_codes, CitizenId, Sex};
pub use date::date;
pub use kind::Kind;
pub use legacy::{from_tcvn3, from_vni, to_tcvn3, to_vni, Encoding};
pub use name::person_name;
pub use phone::phone;
pub use tax_code::tax_code;
pub use text::{detect_legacy, fold_key, text};

/// How a value compares with its standard form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Already in the standard form.
    Ok,
    /// Changed to the standard form.
    Fixed,
    /// Cannot be made valid; the note says why.
    Invalid,
}

impl Status {
    /// `ok`, `fixed` or `invalid`, as written in reports and CSV.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Fixed => "fixed",
            Status::Invalid => "invalid",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The answer of a standardisation (kết quả chuẩn hóa).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standardized {
    /// The standard form; the input unchanged when `invalid`.
    pub output: String,
    pub status: Status,
    /// What was changed, why the value is invalid, or a remark on a valid value;
    /// short English, empty when there is nothing to say.
    pub note: String,
}

/// What a kind's rules make of a value: its standard form and a note, or why it is
/// invalid.
pub(crate) type Outcome = Result<(String, String), String>;

/// Runs `rules` on `input` and turns the outcome into a [`Standardized`]. A standard
/// form that the rules would change again is refused, so that every `ok` or `fixed`
/// output is a fixed point of the rules (idempotence by construction).
pub(crate) fn standardize(input: &str, rules: impl Fn(&str) -> Outcome) -> Standardized {
    match rules(input) {
        Err(reason) => invalid(input, reason),
        Ok((output, note)) if output == input => Standardized { output, status: Status::Ok, note },
        Ok((output, note)) => match rules(&output) {
            Ok((again, _)) if again == output => Standardized { output, status: Status::Fixed, note },
            _ => invalid(input, format!("no stable standard form: '{output}' reads differently again")),
        },
    }
}

fn invalid(input: &str, note: String) -> Standardized {
    Standardized { output: input.to_owned(), status: Status::Invalid, note }
}

/// Joins the non-empty notes with `; `.
pub(crate) fn join_notes<'a>(notes: impl IntoIterator<Item = &'a str>) -> String {
    notes.into_iter().filter(|n| !n.is_empty()).collect::<Vec<_>>().join("; ")
}
