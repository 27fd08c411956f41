//! Amounts of money (số tiền) written the Vietnamese way, to a plain decimal number.

use crate::{standardize, Outcome, Standardized};

/// Digits kept after the decimal point.
const SCALE: u32 = 9;

/// Standardises an amount to a plain decimal number with `.` before the decimals and
/// no thousands separators: `1.250.000 đ` → `1250000`, `1.250.000,50` → `1250000.5`,
/// `1,5 triệu` → `1500000`, `2 tỷ 500 triệu` → `2500000000`. Reads `.` as the
/// thousands separator and `,` as the decimal comma; a lone `.` not followed by
/// exactly three digits is a decimal point. The words `nghìn`/`ngàn`, `triệu`,
/// `tỷ`/`tỉ` multiply; `đ`, `₫`, `đồng`, `VND` are dropped. A result with one to three
/// digits before the point and three after gets a trailing `0` (`1.1250`), so that it
/// does not read as thousands.
pub fn amount(s: &str) -> Standardized {
    standardize(s, rules)
}

fn rules(s: &str) -> Outcome {
    let folded = kho_vn::fold(s.trim()).replace('₫', " d ");
    let (negative, body) = match folded.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, folded.as_str()),
    };
    let mut total: i128 = 0;
    let mut pending: Option<(String, bool)> = None; // number text, multiplied yet
    let mut currency = false;
    for token in tokens(body)? {
        if currency {
            return Err("text after the currency".into());
        }
        match token {
            Token::Number(n) => {
                if let Some((prev, false)) = &mut pending {
                    // `1 250 000`: spaces between thousands.
                    if n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()) && !prev.contains(',') {
                        prev.push('.');
                        prev.push_str(&n);
                        continue;
                    }
                }
                if let Some((_, false)) = pending {
                    return Err("two numbers without a unit between them".into());
                }
                pending = Some((n, false));
            }
            Token::Word(w) => {
                let exp = match w.as_str() {
                    "nghin" | "ngan" => 3,
                    "trieu" => 6,
                    "ty" | "ti" => 9,
                    "d" | "dong" | "vnd" => {
                        currency = true;
                        continue;
                    }
                    _ => return Err(format!("unexpected word '{w}'")),
                };
                let n = match &pending {
                    Some((n, false)) => n.clone(),
                    _ => return Err(format!("'{w}' without a number before it")),
                };
                total = total.checked_add(value(&n, exp)?).ok_or("amount too large")?;
                pending = Some((n, true));
            }
        }
    }
    match pending {
        None => return Err("no number".into()),
        Some((n, false)) => total = total.checked_add(value(&n, 0)?).ok_or("amount too large")?,
        Some((_, true)) => {}
    }
    let output = format_plain(if negative { -total } else { total });
    let note = if output == s { "" } else { "written as a plain number" };
    Ok((output, note.into()))
}

enum Token {
    Number(String),
    Word(String),
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || matches!(d, '.' | ',')) {
                n.push(d);
                chars.next();
            }
            out.push(Token::Number(n));
        } else if c.is_alphabetic() {
            let mut w = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphabetic()) {
                w.push(d);
                chars.next();
            }
            out.push(Token::Word(w));
        } else {
            return Err(format!("unexpected character '{c}'"));
        }
    }
    Ok(out)
}

/// The number `n` (Vietnamese separators) times 10^`exp`, in units of 10^-SCALE.
fn value(n: &str, exp: u32) -> Result<i128, String> {
    let (int, frac) = split_number(n)?;
    if frac.len() > SCALE as usize {
        return Err(format!("more than {SCALE} decimals"));
    }
    let digits = format!("{int}{frac:0<width$}", width = SCALE as usize);
    let v: i128 = digits.parse().map_err(|_| "amount too large")?;
    v.checked_mul(10i128.pow(exp)).ok_or_else(|| "amount too large".into())
}

/// The integer digits and the decimal digits of a number with separators.
fn split_number(n: &str) -> Result<(String, String), String> {
    let dots = n.matches('.').count();
    let commas = n.matches(',').count();
    let (thousands, decimal) = match (dots, commas) {
        (0, 0) => (None, None),
        (_, 0) if dots > 1 || grouped(n, '.') => (Some('.'), None),
        (1, 0) => (None, Some('.')),
        (0, 1) => (None, Some(',')),
        (0, _) => (Some(','), None),
        _ if n.rfind(',') > n.rfind('.') => (Some('.'), Some(',')),
        _ => (Some(','), Some('.')),
    };
    let (int, frac) = match decimal {
        Some(d) => {
            let (i, f) = n.rsplit_once(d).unwrap_or((n, ""));
            if f.contains(['.', ',']) || f.is_empty() {
                return Err("misplaced decimal separator".into());
            }
            (i, f)
        }
        None => (n, ""),
    };
    if let Some(t) = thousands {
        if !grouped(int, t) {
            return Err("misplaced thousands separator".into());
        }
    }
    let int: String = int.chars().filter(char::is_ascii_digit).collect();
    if int.is_empty() {
        return Err("no digits before the decimal separator".into());
    }
    Ok((int, frac.to_owned()))
}

/// Whether `n` is digits grouped by `sep` in threes (`1.250.000`), with at least one `sep`.
fn grouped(n: &str, sep: char) -> bool {
    let mut groups = n.split(sep);
    let first = groups.next().unwrap_or("");
    n.contains(sep)
        && (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

fn format_plain(v: i128) -> String {
    let scale = 10i128.pow(SCALE);
    let (int, frac) = (v.unsigned_abs() / scale.unsigned_abs(), v.unsigned_abs() % scale.unsigned_abs());
    let sign = if v < 0 { "-" } else { "" };
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let mut frac = format!("{frac:0width$}", width = SCALE as usize);
    while frac.ends_with('0') {
        frac.pop();
    }
    let int_text = int.to_string();
    if int_text.len() <= 3 && frac.len() == 3 {
        frac.push('0');
    }
    format!("{sign}{int_text}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    #[test]
    fn vietnamese_amounts_become_plain_numbers() {
        let cases = [
            ("1.250.000", "1250000", Status::Fixed),
            ("1.250.000 đ", "1250000", Status::Fixed),
            ("1.250.000đ", "1250000", Status::Fixed),
            ("1.250.000 VNĐ", "1250000", Status::Fixed),
            ("1.250.000 đồng", "1250000", Status::Fixed),
            ("1.250.000 ₫", "1250000", Status::Fixed),
            ("1.250.000,50", "1250000.5", Status::Fixed),
            ("1 250 000", "1250000", Status::Fixed),
            ("1,5 triệu", "1500000", Status::Fixed),
            ("1.5 triệu", "1500000", Status::Fixed),
            ("2 tỷ", "2000000000", Status::Fixed),
            ("2 tỷ 500 triệu", "2500000000", Status::Fixed),
            ("500 nghìn", "500000", Status::Fixed),
            ("1.250", "1250", Status::Fixed),
            ("1,125", "1.1250", Status::Fixed),
            ("-350.000", "-350000", Status::Fixed),
            ("1250000", "1250000", Status::Ok),
            ("1250000.5", "1250000.5", Status::Ok),
            ("0", "0", Status::Ok),
        ];
        for (input, output, status) in cases {
            let r = amount(input);
            assert_eq!((r.output.as_str(), r.status), (output, status), "{input}: {}", r.note);
        }
    }

    #[test]
    fn wrong_amounts_are_invalid() {
        let cases = [
            ("", "no number"),
            ("đ", "no number"),
            ("triệu", "'trieu' without a number before it"),
            ("1.25.000", "misplaced thousands separator"),
            ("12 34", "two numbers without a unit between them"),
            ("1.250.000 đ 5", "text after the currency"),
            ("abc", "unexpected word 'abc'"),
            ("1,2,3,4", "misplaced thousands separator"),
            ("1$", "unexpected character '$'"),
        ];
        for (input, note) in cases {
            let r = amount(input);
            assert_eq!((r.status, r.note.as_str()), (Status::Invalid, note), "{input}");
        }
    }
}
