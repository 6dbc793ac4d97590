//! Validated value types: each parses once at the edge and is trusted afterwards.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`) in PATCH bodies.
pub fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An exact amount of money in minor units (cents). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub i64);

impl Money {
    /// Parses `"19.99"`, `19.99`, `"20"`, `20`: at most two decimals, not negative, and small
    /// enough that any sum the reports make still fits.
    pub fn parse_json(v: &serde_json::Value) -> Result<Money, String> {
        let text = match v {
            serde_json::Value::String(s) => s.trim().to_owned(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err("A valid number is required.".into()),
        };
        Money::parse_str(&text)
    }

    pub fn parse_str(text: &str) -> Result<Money, String> {
        const MAX_UNITS: i64 = 1_000_000_000_000; // 10^12 units: sums of many stay within i64 cents
        if text.starts_with('-') {
            return Err("Ensure this value is greater than or equal to 0.".into());
        }
        let (int_part, frac_part) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if int_part.is_empty() || !digits_ok(int_part) || !digits_ok(frac_part) {
            return Err("A valid number is required.".into());
        }
        if frac_part.len() > 2 {
            // serde_json prints whole floats as "20.0"; trailing zeros beyond two places are exact.
            if frac_part[2..].chars().any(|c| c != '0') {
                return Err("Ensure that there are no more than 2 decimal places.".into());
            }
        }
        if int_part.len() > 13 {
            return Err("Ensure this value is less than or equal to 1000000000000.".into());
        }
        let units: i64 = int_part
            .parse()
            .map_err(|_| "A valid number is required.".to_string())?;
        if units > MAX_UNITS {
            return Err("Ensure this value is less than or equal to 1000000000000.".into());
        }
        let mut frac = frac_part.chars().take(2).collect::<String>();
        while frac.len() < 2 {
            frac.push('0');
        }
        let cents: i64 = frac
            .parse()
            .map_err(|_| "A valid number is required.".to_string())?;
        Ok(Money(units * 100 + cents))
    }

    pub fn format_wide(cents: i128) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        let a = cents.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    pub fn format(cents: i64) -> String {
        let sign = if cents < 0 { "-" } else { "" };
        let a = cents.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Money::format(self.0))
    }
}

/// Serializes cents as a decimal string; for struct fields kept as `i64`.
pub fn ser_money<S: Serializer>(cents: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&Money::format(*cents))
}

pub fn ser_money_wide<S: Serializer>(cents: &i128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&Money::format_wide(*cents))
}

pub fn ser_money_opt<S: Serializer>(cents: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match cents {
        Some(c) => s.serialize_str(&Money::format(*c)),
        None => s.serialize_none(),
    }
}

/// Timestamps as RFC 3339 UTC with a `Z`, as the contract says.
pub fn ser_ts<S: Serializer>(t: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&fmt_ts(t))
}

pub fn ser_ts_opt<S: Serializer>(
    t: &Option<chrono::NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&fmt_ts(t)),
        None => s.serialize_none(),
    }
}

pub use crate::ts::fmt_ts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Employee,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Employee => "employee",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "employee" => Ok(Role::Employee),
            "auditor" => Ok(Role::Auditor),
            other => Err(format!("\"{other}\" is not a valid choice.")),
        }
    }
}

/// Trims and bounds a required text field.
pub fn required_text(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("This field may not be blank.".into());
    }
    bounded_text(t, max)
}

pub fn bounded_text(s: &str, max: usize) -> Result<String, String> {
    if s.chars().count() > max {
        return Err(format!(
            "Ensure this field has no more than {max} characters."
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("Control characters are not allowed.".into());
    }
    Ok(s.to_owned())
}

/// A stock-keeping unit: printable, no spaces, at most 64 characters.
pub fn parse_sku(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if t.len() > 64 {
        return Err("Ensure this field has no more than 64 characters.".into());
    }
    if !t.chars().all(|c| c.is_ascii_graphic()) {
        return Err("SKU may contain printable ASCII characters without spaces only.".into());
    }
    Ok(t.to_owned())
}

/// A barcode: numeric 8/12/13-digit codes must carry a valid EAN/UPC check digit; anything
/// else is printable ASCII of at most 48 characters (Code 128 can draw it).
pub fn parse_barcode(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if t.len() > 48 || !t.chars().all(|c| (' '..='~').contains(&c)) {
        return Err("Barcode must be printable ASCII of at most 48 characters.".into());
    }
    if t.chars().all(|c| c.is_ascii_digit()) && matches!(t.len(), 8 | 12 | 13) && !gtin_valid(t) {
        return Err("Invalid EAN/UPC check digit.".into());
    }
    Ok(t.to_owned())
}

/// GS1 check digit over EAN-8, UPC-A (12) and EAN-13.
pub fn gtin_valid(code: &str) -> bool {
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != code.len() || digits.len() < 2 {
        return false;
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    (10 - sum % 10) % 10 == check[0]
}

/// A plausible email address: one `@`, a dotted domain, no spaces, at most 254 characters.
pub fn parse_email(s: &str) -> Result<String, String> {
    let t = s.trim();
    let ok = t.len() <= 254
        && !t.chars().any(|c| c.is_whitespace() || c.is_control())
        && match t.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if ok {
        Ok(t.to_owned())
    } else {
        Err("Enter a valid email address.".into())
    }
}

/// A non-negative whole quantity within a bound that keeps sums far from overflow.
pub fn parse_quantity(v: i64) -> Result<i64, String> {
    const MAX: i64 = 1_000_000_000_000;
    if v < 0 {
        Err("Ensure this value is greater than or equal to 0.".into())
    } else if v > MAX {
        Err(format!("Ensure this value is less than or equal to {MAX}."))
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_accepts_two_places_and_rejects_three() {
        assert_eq!(Money::parse_str("19.99"), Ok(Money(1999)));
        assert_eq!(Money::parse_str("20"), Ok(Money(2000)));
        assert_eq!(Money::parse_str("0.5"), Ok(Money(50)));
        assert_eq!(Money::parse_str("20.0"), Ok(Money(2000)));
        assert!(Money::parse_str("1.999").is_err());
        assert!(Money::parse_str("-1").is_err());
        assert!(Money::parse_str("abc").is_err());
        assert!(Money::parse_str("1e5").is_err());
        assert!(Money::parse_str("99999999999999999999").is_err());
        assert_eq!(Money::format(1999), "19.99");
        assert_eq!(Money::format(5), "0.05");
    }

    #[test]
    fn money_from_json_numbers_keeps_exact_cents() {
        let v: serde_json::Value = serde_json::from_str("19.99").unwrap();
        assert_eq!(Money::parse_json(&v), Ok(Money(1999)));
        let v: serde_json::Value = serde_json::from_str("0.1").unwrap();
        assert_eq!(Money::parse_json(&v), Ok(Money(10)));
        let v: serde_json::Value = serde_json::from_str("1.005").unwrap();
        assert!(Money::parse_json(&v).is_err());
    }

    #[test]
    fn ean_check_digits_are_enforced() {
        assert!(parse_barcode("4006381333931").is_ok());
        assert!(parse_barcode("4006381333932").is_err());
        assert!(parse_barcode("036000291452").is_ok());
        assert!(parse_barcode("96385074").is_ok());
        assert!(parse_barcode("96385075").is_err());
        assert!(parse_barcode("ABC-123").is_ok());
        assert!(parse_barcode("12345").is_ok());
    }
}
