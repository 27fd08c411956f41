//! The kinds of value a standardiser exists for, by the names the command line, the
//! quality rules and the cleaning step use (`text`, `name`, `phone`, `citizen-id`,
//! `tax-code`, `date`, `amount`, `address`).

use crate::{Standardized, Status};
use chrono::NaiveDate;

/// A kind of value and its standardiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Unicode NFC; legacy TCVN3 and VNI text converted to Unicode.
    Text,
    /// Person names (họ và tên): whitespace and capitals.
    Name,
    /// Phone numbers (số điện thoại) to E.164.
    Phone,
    /// Citizen IDs (CCCD, 12 digits; a 9-digit CMND is recognised).
    CitizenId,
    /// Tax codes (mã số thuế) with their check digit.
    TaxCode,
    /// Dates (ngày tháng) to yyyy-mm-dd.
    Date,
    /// Amounts (số tiền) with Vietnamese separators and words.
    Amount,
    /// Addresses (địa chỉ) in the 2025 administrative units.
    Address,
}

impl Kind {
    /// Every kind, in the order the help lists them.
    pub const ALL: [Kind; 8] =
        [Kind::Text, Kind::Name, Kind::Phone, Kind::CitizenId, Kind::TaxCode, Kind::Date, Kind::Amount, Kind::Address];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Name => "name",
            Kind::Phone => "phone",
            Kind::CitizenId => "citizen-id",
            Kind::TaxCode => "tax-code",
            Kind::Date => "date",
            Kind::Amount => "amount",
            Kind::Address => "address",
        }
    }

    /// The kind named `s` (`citizen_id` is accepted for `citizen-id`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let wanted = s.trim().replace('_', "-");
        Self::ALL.into_iter().find(|k| k.as_str() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
            format!("{s:?} is not a kind of value; use one of {}", names.join(", "))
        })
    }

    /// Standardises `value`; `dob` (a date of birth in any accepted date form)
    /// cross-checks a citizen ID and is ignored by the other kinds.
    pub fn standardize(self, value: &str, dob: Option<&str>) -> Standardized {
        match self {
            Kind::Text => crate::text(value),
            Kind::Name => crate::person_name(value),
            Kind::Phone => crate::phone(value),
            Kind::CitizenId => {
                let born = dob
                    .map(crate::date)
                    .filter(|d| d.status != Status::Invalid)
                    .and_then(|d| NaiveDate::parse_from_str(&d.output, "%Y-%m-%d").ok());
                crate::citizen_id(value, born)
            }
            Kind::TaxCode => crate::tax_code(value),
            Kind::Date => crate::date(value),
            Kind::Amount => crate::amount(value),
            Kind::Address => crate::address(value),
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_from_its_name() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Ok(k));
        }
        assert_eq!(Kind::parse("citizen_id"), Ok(Kind::CitizenId));
        assert!(Kind::parse("colour").unwrap_err().contains("citizen-id"));
    }

    #[test]
    fn a_citizen_id_is_cross_checked_with_the_date_of_birth() {
        let id = "001085012345";
        assert_eq!(Kind::CitizenId.standardize(id, Some("05/03/1985")).status, Status::Ok);
        assert_eq!(Kind::CitizenId.standardize(id, Some("05/03/1990")).status, Status::Invalid);
    }
}
