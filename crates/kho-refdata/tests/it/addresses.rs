//! Free-text addresses as people write them, and the cases that must not be guessed.

use crate::{assert_unit, codes, units};
use kho_refdata::{AdminUnits, Conversion, Kind};

/// Phường Tân Mỹ (07687), Thành phố Bắc Giang, went whole into Phường Đa Mai (07228),
/// Tỉnh Bắc Ninh.
#[test]
fn the_issue_examples() {
    for text in [
        "Phường Tân Mỹ, Thành phố Bắc Giang, Tỉnh Bắc Giang",
        "phuong tan my, thanh pho bac giang, tinh bac giang",
        "PHƯỜNG TÂN MỸ, THÀNH PHỐ BẮC GIANG, TỈNH BẮC GIANG",
        "P. Tân Mỹ, TP. Bắc Giang, T. Bắc Giang",
        "P.Tân Mỹ, TP.Bắc Giang, T.Bắc Giang",
        "P Tan My, TP Bac Giang, Bac Giang",
        "Tân Mỹ, Bắc Giang, Bắc Giang",
        "Phường Tân Mỹ - TP Bắc Giang - Tỉnh Bắc Giang",
        "Phường Tân Mỹ, Tỉnh Bắc Giang",
        "Phường Tân Mỹ, Thành phố Bắc Giang, Tỉnh Bắc Giang, Việt Nam",
    ] {
        assert_unit(text, Kind::Merged, "07228", "Phường Đa Mai", "");
    }
    assert_unit(
        "123 Lê Lợi, P. Tan My, TP. Bac Giang, T. Bac Giang",
        Kind::Merged,
        "07228",
        "Phường Đa Mai",
        "123 Lê Lợi",
    );
    let c = units().convert_address("Phường Tân Mỹ, Thành phố Bắc Giang, Tỉnh Bắc Giang");
    let unit = c.unit.unwrap();
    assert_eq!((unit.province_code.as_str(), unit.province_name.as_str()), ("24", "Tỉnh Bắc Ninh"));
}

#[test]
fn the_street_part_is_kept_aside() {
    let merged = |text: &str, rest: &str| assert_unit(text, Kind::Merged, "07228", "Phường Đa Mai", rest);
    merged("Số 12, ngõ 5, đường Lê Lợi, P. Tân Mỹ, TP Bắc Giang, Bắc Giang", "Số 12, ngõ 5, đường Lê Lợi");
    merged("Thôn Đông - Phường Tân Mỹ, TP Bắc Giang, Bắc Giang", "Thôn Đông");
    // No comma between the street and the commune: its type word starts the name.
    merged("123 Lê Lợi P. Tân Mỹ, TP Bắc Giang, Bắc Giang", "123 Lê Lợi");
    // Phường Trúc Bạch (00004), Quận Ba Đình went whole into Phường Ba Đình (00004).
    let trúc_bạch = |text: &str, rest: &str| assert_unit(text, Kind::Merged, "00004", "Phường Ba Đình", rest);
    trúc_bạch("Số 5 ngõ 10 phường Trúc Bạch, quận Ba Đình, Hà Nội", "Số 5 ngõ 10");
    trúc_bạch("So 5 ngo 10 phuong Truc Bach, Q. Ba Dinh, TP Ha Noi", "So 5 ngo 10");
    trúc_bạch(" , 8 Xã Đàn,  P.Trúc Bạch , Q.Ba Đình , Hà Nội , ", "8 Xã Đàn");
}

/// Phường 1, Quận 3 (27160) went whole into Phường Bàn Cờ (27154).
#[test]
fn numbered_wards_and_districts() {
    for text in [
        "Phường 1, Quận 3, Thành phố Hồ Chí Minh",
        "P.01, Q.3, TP.HCM",
        "P1, Q3, TP HCM",
        "phuong 01, quan 03, ho chi minh",
        "12 Nguyễn Đình Chiểu, P. 1, Q. 3, Tp. Hồ Chí Minh",
    ] {
        let rest = if text.starts_with("12") { "12 Nguyễn Đình Chiểu" } else { "" };
        assert_unit(text, Kind::Merged, "27154", "Phường Bàn Cờ", rest);
    }
    assert_eq!(units().convert_code("27160"), units().convert_address("P1, Q3, TP HCM"));
}

/// Names written with ` - ` inside: the province Bà Rịa - Vũng Tàu, the 2025 ward
/// Văn Miếu - Quốc Tử Giám.
#[test]
fn names_with_a_dash() {
    // Phường Thắng Tam (26508), Thành phố Vũng Tàu → Phường Vũng Tàu (26506).
    for text in [
        "Phường Thắng Tam, Thành phố Vũng Tàu, Tỉnh Bà Rịa - Vũng Tàu",
        "P. Thang Tam, TP Vung Tau, Ba Ria - Vung Tau",
        "Phường Thắng Tam, TP Vũng Tàu, Bà Rịa Vũng Tàu",
    ] {
        assert_unit(text, Kind::Merged, "26506", "Phường Vũng Tàu", "");
    }
    let c = units().convert_address("Phường Xuân Trường - Đà Lạt, Tỉnh Lâm Đồng");
    assert_eq!((c.kind, c.unit.map(|u| u.code)), (Kind::Exact, Some("24805".into())));
}

/// ` - ` between the levels, and districts whose type word holds a commune's
/// (`Thị xã`): the `xã` is not taken for the start of a commune's name.
#[test]
fn dashes_between_levels() {
    for (text, code) in [
        ("Xóm 4 - Phường Lộc Hưng - Thị xã Trảng Bàng - Tỉnh Tây Ninh", "25717"),
        ("xom 4 - xa ky ha - thi xa ky anh - t ha tinh", "18808"),
        ("Ấp 2 - X Ninh An - Thị xã Ninh Hòa - T Khánh Hòa", "22540"),
        ("Phường Phong Châu - Thị xã Phú Thọ - Tỉnh Phú Thọ", "07945"),
    ] {
        let (c, by_code) = (units().convert_address(text), units().convert_code(code));
        assert!(by_code.unit.is_some());
        assert_eq!((c.kind, c.unit, c.candidates), (by_code.kind, by_code.unit, by_code.candidates), "{text}");
    }
    assert_eq!(units().convert_address("Xóm 4 - Phường Lộc Hưng - Thị xã Trảng Bàng - Tây Ninh").rest, "Xóm 4");
}

/// A legacy commune written with its new province.
#[test]
fn a_legacy_commune_with_the_2025_province() {
    assert_unit("Phường Tân Mỹ, Tỉnh Bắc Ninh", Kind::Merged, "07228", "Phường Đa Mai", "");
    assert_unit("P. Tân Mỹ, TP Bắc Giang, Tỉnh Bắc Ninh", Kind::Merged, "07228", "Phường Đa Mai", "");
}

#[test]
fn a_2025_address_is_exact() {
    for text in [
        "Phường Bắc Giang, Tỉnh Bắc Ninh",
        "phuong bac giang, tinh bac ninh",
        "12 Hoàng Văn Thụ, P. Bắc Giang, Bắc Ninh",
    ] {
        let rest = if text.starts_with("12") { "12 Hoàng Văn Thụ" } else { "" };
        assert_unit(text, Kind::Exact, "07210", "Phường Bắc Giang", rest);
    }
    assert_unit("Đặc khu Côn Đảo, Thành phố Hồ Chí Minh", Kind::Exact, "26732", "Đặc khu Côn Đảo", "");
}

#[test]
fn most_2025_addresses_are_exact_and_none_names_another_unit() {
    let mut exact = 0;
    let all: Vec<_> = units().units_2025().collect();
    assert_eq!(all.len(), 3321);
    for unit in &all {
        let text = format!("{}, {}", unit.name, unit.province_name);
        let c = units().convert_address(&text);
        assert!(c.candidates.contains(unit), "{text}: {c:?}");
        match c.kind {
            Kind::Exact => {
                assert_eq!(c.unit.as_ref(), Some(*unit), "{text}");
                exact += 1;
            }
            // The same name was also a legacy commune that went (partly) elsewhere.
            Kind::SplitDefault => assert_eq!(c.unit.as_ref(), Some(*unit), "{text}"),
            Kind::SplitCandidates => assert!(c.unit.is_none() && c.candidates.len() > 1, "{text}"),
            other => panic!("{text}: {other}"),
        }
    }
    assert!(exact * 100 >= all.len() * 95, "{exact} of {} exact", all.len());
}

/// Hà Nội had two Phường Quang Trung (00214 in Đống Đa, 09538 in Hà Đông), both split.
#[test]
fn a_name_in_two_districts_without_a_district_lists_candidates() {
    for text in
        ["Phường Quang Trung, Thành phố Hà Nội", "p. quang trung, ha noi", "10 Nguyễn Trãi, P. Quang Trung, Hà Nội"]
    {
        let c = units().convert_address(text);
        assert_eq!(c.kind, Kind::SplitCandidates, "{text}");
        assert_eq!(c.unit, None, "{text}");
        assert_eq!(codes(&c), ["00229", "00235", "09552", "09556"], "{text}");
    }
    assert_eq!(units().convert_address("10 Nguyễn Trãi, P. Quang Trung, Hà Nội").rest, "10 Nguyễn Trãi");
    // With its district, the split's default.
    let c = units().convert_address("Phường Quang Trung, Quận Đống Đa, Thành phố Hà Nội");
    assert_eq!((c.kind, c.unit.as_ref().map(|u| u.code.as_str())), (Kind::SplitDefault, Some("00235")));
    assert_eq!(codes(&c), ["00229", "00235"]);
}

/// Xã Minh Quân (04567) and Xã Minh Quán (04516) of Huyện Trấn Yên fold alike.
#[test]
fn diacritics_tell_apart_names_that_fold_alike() {
    let c = units().convert_address("Xa Minh Quan, Huyen Tran Yen, Yen Bai");
    assert_eq!((c.kind, c.unit.as_ref()), (Kind::SplitCandidates, None));
    let quân = units().convert_address("Xã Minh Quân, Huyện Trấn Yên, Tỉnh Yên Bái");
    let quán = units().convert_address("Xã Minh Quán, Huyện Trấn Yên, Tỉnh Yên Bái");
    assert_eq!(quân, units().convert_code("04567"));
    assert_eq!(quán, units().convert_code("04516"));
    assert_ne!(quân.unit, quán.unit);
    let mut both = vec![quân.unit.unwrap().code, quán.unit.unwrap().code];
    both.sort();
    assert_eq!(codes(&c), both);
    // The old placement of a tone mark is the same name: Hoà = Hòa.
    let new = units().convert_address("Xã Thiệu Hóa, Tỉnh Thanh Hóa");
    assert_eq!(units().convert_address("Xã Thiệu Hoá, Tỉnh Thanh Hoá"), new);
}

/// Thị trấn Mường Tè (03433) went into Xã Bum Tở, Xã Mường Tè (03445) stayed.
#[test]
fn the_type_word_tells_apart_a_township_and_a_commune() {
    assert_unit("Thị trấn Mường Tè, Huyện Mường Tè, Tỉnh Lai Châu", Kind::Merged, "03433", "Xã Bum Tở", "");
    assert_unit("TT. Muong Te, H. Muong Te, T. Lai Chau", Kind::Merged, "03433", "Xã Bum Tở", "");
    assert_unit("X. Mường Tè, H. Mường Tè, Lai Châu", Kind::Exact, "03445", "Xã Mường Tè", "");
    let c = units().convert_address("Mường Tè, Huyện Mường Tè, Tỉnh Lai Châu");
    assert_eq!((c.kind, &c.unit), (Kind::SplitCandidates, &None));
    assert_eq!(codes(&c), ["03433", "03445"]);
}

#[test]
fn nothing_matches() {
    for text in [
        "",
        "   ",
        ", ,",
        "Tỉnh Bắc Giang",
        "Xã Không Có, Huyện Không Có, Tỉnh Bắc Giang",
        "Xã Không Có, Tỉnh Bắc Giang",
        "123 Lê Lợi",
        // Phường Tân Mỹ is not in Quận Ba Đình: the district is not dropped to find it.
        "Phường Tân Mỹ, Quận Ba Đình, Thành phố Hà Nội",
    ] {
        let c = units().convert_address(text);
        assert_eq!(c, Conversion::not_found(), "{text:?}");
    }
}

#[test]
fn codes_stay_in_their_list() {
    // Legacy 00004 is Phường Trúc Bạch; 2025 00004 is Phường Ba Đình: not exact.
    let c = units().convert_code("00004");
    assert_eq!((c.kind, c.unit.as_ref().map(|u| u.name.as_str())), (Kind::Merged, Some("Phường Ba Đình")));
    // Legacy 00229 Phường Kim Liên went whole into 2025 00229 Phường Kim Liên.
    let c = units().convert_code("00229");
    assert_eq!((c.kind, c.unit.as_ref().map(|u| u.name.as_str())), (Kind::Exact, Some("Phường Kim Liên")));
    // Leading zeros dropped by a spreadsheet, spaces around.
    assert_eq!(units().convert_code(" 4 "), units().convert_code("00004"));
    for code in ["99999", "", "abc", "000004", "0000a"] {
        assert_eq!(units().convert_code(code), Conversion::not_found(), "{code:?}");
    }
    // A 2025 code that is no legacy code (Đặc khu Côn Đảo) is not converted.
    assert!(units().unit_2025("26732").is_some());
    assert_eq!(units().convert_code("26732"), Conversion::not_found());
}

#[test]
fn the_json_shape() {
    let value = serde_json::to_value(units().convert_code("00007")).unwrap();
    assert_eq!(value["kind"], "split-default");
    assert_eq!(value["unit"]["code"], "00008");
    assert_eq!(value["unit"]["province_code"], "01");
    assert_eq!(value["unit"]["province_name"], "Thành phố Hà Nội");
    assert_eq!(value["candidates"].as_array().unwrap().len(), 2);
    assert_eq!(value["rest"], "");
    let value = serde_json::to_value(units().convert_address("nowhere")).unwrap();
    assert_eq!(value, serde_json::json!({"kind": "not-found", "unit": null, "candidates": [], "rest": ""}));
    let names: Vec<String> =
        Kind::ALL.iter().map(|k| serde_json::to_value(k).unwrap().as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["exact", "merged", "split-default", "split-candidates", "not-found"]);
    assert!(Kind::ALL.iter().all(|k| names.contains(&k.as_str().to_string())));
}

#[test]
fn the_embedded_lists_are_whole() {
    let units = AdminUnits::embedded();
    assert_eq!(units.units_2025().len(), 3321);
    // 10,040 rows: 10,035 communes and the 5 island districts that had none.
    assert_eq!(units.legacy_communes().len(), 10_035);
    let provinces: std::collections::BTreeSet<_> = units.units_2025().map(|u| &u.province_code).collect();
    assert_eq!(provinces.len(), 34);
    let legacy: std::collections::BTreeSet<_> = units.legacy_communes().iter().map(|c| &c.province_code).collect();
    assert_eq!(legacy.len(), 63);
    assert!(std::ptr::eq(units, AdminUnits::embedded()), "parsed once");
}
