//! Che dữ liệu — what a consumer sees of a response row: only the agreement's fields,
//! and the masked ones with all but their last four characters hidden.

use serde_json::{Map, Value};

/// A value with all but its last four characters replaced by `*` (shorter values are
/// hidden whole): `079203001234` → `********1234`.
pub fn mask_value(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let keep = if chars.len() > 4 { 4 } else { 0 };
    let hidden = chars.len() - keep;
    "*".repeat(hidden) + &chars[hidden..].iter().collect::<String>()
}

/// A row projected on `fields` (all when empty) with `masked` fields masked; values
/// that are not text are masked as their JSON text.
pub fn mask(row: &Map<String, Value>, fields: &[String], masked: &[String]) -> Map<String, Value> {
    row.iter()
        .filter(|(k, _)| fields.is_empty() || fields.iter().any(|f| f == *k))
        .map(|(k, v)| {
            let v = match v {
                Value::Null => Value::Null,
                _ if masked.iter().any(|m| m == k) => {
                    let text = v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
                    Value::String(mask_value(&text))
                }
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_are_projected_and_masked() {
        let row =
            json!({"so_cccd": "079203001234", "ho_ten": "Nguyễn Văn An", "so_dien_thoai": 912345678, "ghi_chu": null});
        let seen =
            mask(row.as_object().unwrap(), &["so_cccd".into(), "ho_ten".into(), "ghi_chu".into()], &["so_cccd".into()]);
        assert_eq!(Value::Object(seen), json!({"so_cccd": "********1234", "ho_ten": "Nguyễn Văn An", "ghi_chu": null}));
        let all = mask(row.as_object().unwrap(), &[], &["so_dien_thoai".into()]);
        assert_eq!(all["so_dien_thoai"], "*****5678");
        assert_eq!(mask_value("123"), "***");
        assert_eq!(mask_value("Đà Nẵng 5"), "*****ng 5");
    }
}
