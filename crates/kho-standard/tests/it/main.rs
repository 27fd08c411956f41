//! Properties of every normaliser: no panic on any input, idempotence, and for text the
//! round trip through the legacy encodings.

use chrono::NaiveDate;
use kho_standard::{
    address, amount, citizen_id, date, detect_legacy, from_tcvn3, from_vni, person_name, phone, tax_code, text,
    to_tcvn3, to_vni, Encoding, Standardized, Status,
};
use proptest::prelude::*;

/// Vietnamese words whose TCVN3 and VNI forms cannot be read as Unicode Vietnamese, so
/// one of them in a text is enough to recognise the encoding.
const TELLING: [&str; 25] = [
    "Hà",
    "Nội",
    "Nguyễn",
    "Văn",
    "Đức",
    "Trần",
    "Phạm",
    "Huế",
    "Thiên",
    "Nẵng",
    "Quảng",
    "Mường",
    "Khương",
    "Đắk",
    "Lắk",
    "Phường",
    "huyện",
    "tỉnh",
    "đường",
    "Ngọc",
    "Tuyết",
    "Hương",
    "Bắc",
    "Vĩnh",
    "Hoàng",
];

/// Other words of names and places, some of which read alike in Unicode and in a legacy
/// encoding (`Sơn` is `Sôn` in VNI, `Hồ` is `Hoà`, `Thừa` is `Thõa` in TCVN3, `Bình` is
/// itself).
const WORDS: [&str; 27] = [
    "Hồ", "Thừa", "Hưng", "Thị", "Minh", "Lê", "Chí", "Ninh", "Bình", "Sơn", "Xã", "thành", "phố", "số", "Ánh", "Lan",
    "Kỳ", "Thái", "Nguyên", "Cần", "Thơ", "Giang", "Yên", "Tây", "Cô", "Tô", "Phúc",
];

/// Strings likely to reach every branch: digits and separators, Vietnamese letters,
/// Latin-1 (where the legacy encodings live), and some words the rules know.
fn messy() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9 .,+()/\\-]{0,20}",
        "[ \\-'a-zA-ZđĐàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ\u{A0}-\u{FF}]{0,24}",
        "(ngày|tháng|năm|triệu|tỷ|đ|[0-9]{1,4}|[./,-]| ){0,8}",
    ]
}

/// An `ok` or `fixed` output standardises to itself with `ok`; an `invalid` one stays
/// `invalid`.
fn assert_settled(first: &Standardized, again: &Standardized) {
    if first.status == Status::Invalid {
        assert_eq!(again.status, Status::Invalid, "{first:?} then {again:?}");
    } else {
        assert_eq!((again.output.as_str(), again.status), (first.output.as_str(), Status::Ok), "{first:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn text_is_idempotent(s in messy()) {
        let first = text(&s);
        prop_assert_ne!(first.status, Status::Invalid);
        assert_settled(&first, &text(&first.output));
    }

    #[test]
    fn person_name_is_idempotent(s in messy()) {
        let first = person_name(&s);
        assert_settled(&first, &person_name(&first.output));
    }

    #[test]
    fn phone_is_idempotent(s in messy()) {
        let first = phone(&s);
        assert_settled(&first, &phone(&first.output));
    }

    #[test]
    fn citizen_id_is_idempotent(s in messy(), dob in proptest::option::of((1890i32..2030, 1u32..13, 1u32..29))) {
        let dob = dob.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
        let first = citizen_id(&s, dob);
        assert_settled(&first, &citizen_id(&first.output, dob));
    }

    #[test]
    fn tax_code_is_idempotent(s in messy()) {
        let first = tax_code(&s);
        assert_settled(&first, &tax_code(&first.output));
    }

    #[test]
    fn date_is_idempotent(s in messy()) {
        let first = date(&s);
        assert_settled(&first, &date(&first.output));
    }

    #[test]
    fn amount_is_idempotent(s in messy()) {
        let first = amount(&s);
        assert_settled(&first, &amount(&first.output));
    }

    #[test]
    fn address_is_idempotent(
        s in prop_oneof![
            messy(),
            "([0-9]{1,3} Lê Lợi, )?(P\\. |Phường |Xã |)(Tân Mỹ|Đa Mai|Trúc Bạch|Cống Vị|1|Bến Nghé), (Q\\. 1, |TP\\. Bắc Giang, |)(T\\. Bắc Giang|Tỉnh Bắc Ninh|Hà Nội|TP HCM)",
        ],
    ) {
        let first = address(&s);
        assert_settled(&first, &address(&first.output));
    }

    #[test]
    fn generated_values_are_accepted(
        mobile in "0(3[2-9]|9[0-4]|8[1-9])[0-9]{7}",
        cccd_tail in "[0-3][0-9]{8}",
        day in 1u32..29, month in 1u32..13, year in 1900i32..2100,
        int in 0u64..10_000_000_000, cents in 0u32..100,
    ) {
        prop_assert_eq!(phone(&mobile).output, format!("+84{}", &mobile[1..]));
        let cccd = format!("001{cccd_tail}");
        prop_assert_eq!(citizen_id(&cccd, None).status, Status::Ok);
        let iso = format!("{year:04}-{month:02}-{day:02}");
        prop_assert_eq!(date(&format!("{day}/{month}/{year}")).output, iso.clone());
        prop_assert_eq!(date(&format!("ngày {day} tháng {month} năm {year}")).output, iso);
        let written = format!("{},{cents:02}", kho_vn::number(int as f64).replace(',', ""));
        let plain = amount(&written).output;
        let expected: f64 = int as f64 + f64::from(cents) / 100.0;
        prop_assert!((plain.parse::<f64>().unwrap() - expected).abs() < 1e-6, "{} → {}", written, plain);
    }

    #[test]
    fn legacy_encodings_round_trip(
        s in "[ a-zA-Z0-9,.đĐàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ\
              ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ]{0,30}",
    ) {
        let vni = to_vni(&s).expect("every Vietnamese letter has a VNI form");
        prop_assert_eq!(from_vni(&vni), s.clone());
        if let Some(tcvn3) = to_tcvn3(&s) {
            prop_assert_eq!(from_tcvn3(&tcvn3), s);
        }
    }

    #[test]
    fn legacy_text_round_trips(
        words in proptest::collection::vec(proptest::sample::select(&WORDS[..]), 0..5),
        telling in proptest::sample::select(&TELLING[..]),
        at in 0usize..5,
    ) {
        let mut words = words;
        words.insert(at.min(words.len()), telling);
        let unicode = words.join(" ");
        let vni = to_vni(&unicode).expect("Vietnamese letters have a VNI form");
        prop_assert_eq!(detect_legacy(&vni), Some(Encoding::Vni), "{}", vni);
        prop_assert_eq!(&text(&vni).output, &unicode);
        if let Some(tcvn3) = to_tcvn3(&unicode) {
            prop_assert_eq!(detect_legacy(&tcvn3), Some(Encoding::Tcvn3), "{}", tcvn3);
            prop_assert_eq!(&text(&tcvn3).output, &unicode);
        }
        prop_assert_eq!(text(&unicode).status, Status::Ok);
    }
}

#[test]
fn words_that_read_alike_stay_as_they_are() {
    // `Hoà` is Unicode Vietnamese and also VNI for `Hồ`: Unicode wins.
    for s in ["Hoà", "Sôn", "Thò", "Thõa", "Höng", "Cô Tô", "Hà Tây"] {
        assert_eq!(text(s).status, Status::Ok, "{s}");
    }
}

#[test]
fn each_telling_word_alone_is_recognised() {
    for word in TELLING {
        let vni = to_vni(word).unwrap();
        assert_eq!(detect_legacy(&vni), Some(Encoding::Vni), "{word} → {vni}");
        assert_eq!(text(word).status, Status::Ok, "{word}");
        if let Some(tcvn3) = to_tcvn3(word) {
            assert_eq!(detect_legacy(&tcvn3), Some(Encoding::Tcvn3), "{word} → {tcvn3}");
        }
    }
}
