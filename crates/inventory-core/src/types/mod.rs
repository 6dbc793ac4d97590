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

/// The text of a JSON amount: a string (trimmed) or a number as serde prints it.
fn json_amount_text(v: &serde_json::Value) -> Result<String, String> {
    match v {
        serde_json::Value::String(s) => Ok(s.trim().to_owned()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        _ => Err("A valid number is required.".into()),
    }
}

/// Parses a non-negative decimal with at most `places` decimals into minor units (`10^places`
/// a unit), refusing more than `max` of them: money and costs differ only in their places.
fn parse_decimal(text: &str, places: usize, max: i64) -> Result<i64, String> {
    let too_big = || "Ensure this value is less than or equal to 1000000000000.".to_string();
    if text.starts_with('-') {
        return Err("Ensure this value is greater than or equal to 0.".into());
    }
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int_part.is_empty() || !digits_ok(int_part) || !digits_ok(frac_part) {
        return Err("A valid number is required.".into());
    }
    // serde_json prints whole floats as "20.0"; trailing zeros beyond the places are exact.
    if frac_part.len() > places && frac_part[places..].chars().any(|c| c != '0') {
        return Err(format!(
            "Ensure that there are no more than {places} decimal places."
        ));
    }
    if int_part.len() > 13 {
        return Err(too_big());
    }
    let units: i64 = int_part.parse().map_err(|_| too_big())?;
    let frac = frac_part
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(places)
        .fold(0_i64, |acc, d| acc * 10 + i64::from(d - b'0'));
    let value = units * 10_i64.pow(places as u32) + frac;
    if value > max {
        return Err(too_big());
    }
    Ok(value)
}

/// `v` minor units with `places` decimals, e.g. `-12.3456`.
fn format_decimal(v: i128, places: u32) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(24);
    if v < 0 {
        out.push('-');
    }
    let a = v.unsigned_abs();
    let width = places as usize;
    // Every stored price and cost fits 64 bits: divide and print in 64 bits (a list page
    // formats two amounts a row); only report totals take the 128-bit path.
    let _ = match u64::try_from(a) {
        Ok(a) => {
            let scale = 10_u64.pow(places);
            write!(out, "{}.{:0width$}", a / scale, a % scale)
        }
        Err(_) => {
            let scale = 10_u128.pow(places);
            write!(out, "{}.{:0width$}", a / scale, a % scale)
        }
    };
    out
}

impl Money {
    /// Parses `"19.99"`, `19.99`, `"20"`, `20`: at most two decimals, not negative, and small
    /// enough that any sum the reports make still fits.
    pub fn parse_json(v: &serde_json::Value) -> Result<Money, String> {
        Money::parse_str(&json_amount_text(v)?)
    }

    pub fn parse_str(text: &str) -> Result<Money, String> {
        // 10^12 units, as the error message says (not 10^12 and 99 cents, which it would
        // refuse in words and accept in fact); sums of many stay within i64 cents.
        const MAX_CENTS: i64 = 1_000_000_000_000 * 100;
        parse_decimal(text, 2, MAX_CENTS).map(Money)
    }

    pub fn format_wide(cents: i128) -> String {
        format_decimal(cents, 2)
    }

    pub fn format(cents: i64) -> String {
        format_decimal(i128::from(cents), 2)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Money::format(self.0))
    }
}

/// What one unit cost, in ten-thousandths of the currency unit (`"12.3456"` is 123456): the
/// contract keeps costs to four places so averages of many receipts stay exact enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cost(pub i64);

impl Cost {
    /// Ten-thousandths in a cent: two-place money (prices, supplier costs) becomes a cost.
    pub const PER_CENT: i64 = 100;
    /// The same ceiling as money (10^12 units), so a unit cost times a quantity the ledger
    /// allows is checked once at booking rather than overflowing in a report.
    const MAX: i64 = 1_000_000_000_000 * 10_000;

    pub fn from_cents(cents: i64) -> Cost {
        Cost(cents.saturating_mul(Self::PER_CENT))
    }

    /// Parses `"12.3456"`, `12.5`, `"7"`: at most four decimals, not negative.
    pub fn parse_json(v: &serde_json::Value) -> Result<Cost, String> {
        parse_decimal(&json_amount_text(v)?, 4, Self::MAX).map(Cost)
    }

    pub fn format_wide(v: i128) -> String {
        format_decimal(v, 4)
    }

    /// The product's average after one ledger row, by §10: a receipt (`receipt`) of incoming
    /// units moves it to the weighted average, as do the first units of a product that has
    /// none; every other row leaves it alone. `quantity_after` is the product's total after
    /// the row. The booking and the start-up replay of old rows both answer through this, so
    /// the two cannot drift.
    pub fn next_average(
        receipt: bool,
        delta: i64,
        quantity_after: i64,
        unit_cost: i64,
        average: Option<i64>,
    ) -> Option<i64> {
        if delta > 0 && (receipt || average.is_none()) {
            let before = (quantity_after - delta).max(0);
            Cost::weighted_average(before, average.unwrap_or(unit_cost), delta, unit_cost)
        } else {
            average
        }
    }

    /// The weighted average of `on_hand` units at `average` and `received` at `cost`, rounded
    /// half-even to the unit (ten-thousandths), as §10 asks; `None` if nothing is on hand
    /// after the receipt.
    pub fn weighted_average(on_hand: i64, average: i64, received: i64, cost: i64) -> Option<i64> {
        let units = i128::from(on_hand) + i128::from(received);
        if units <= 0 {
            return None;
        }
        let total =
            i128::from(on_hand) * i128::from(average) + i128::from(received) * i128::from(cost);
        let (q, r) = (total.div_euclid(units), total.rem_euclid(units));
        let rounded = match (2 * r).cmp(&units) {
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Equal => q + (q & 1),
        };
        i64::try_from(rounded).ok()
    }
}

pub fn ser_cost<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&Cost::format_wide(i128::from(*v)))
}

pub fn ser_cost_wide<S: Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&Cost::format_wide(*v))
}

pub fn ser_cost_opt<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(c) => ser_cost(c, s),
        None => s.serialize_none(),
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

mod choices;
pub use choices::*;

/// A username as stored: NFKC-normalised, so the fullwidth `ａｄｍｉｎ` a phone keyboard may
/// type is the plain `admin`.
pub fn normalize_username(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.trim().nfkc().collect()
}

/// The look-alike key of a username: NFKC, case-folded, then the Unicode confusable skeleton
/// (UTS #39), so `Admin`, `ａｄｍｉｎ` and a Cyrillic `аdmin` share one key and only one of
/// them can exist. Kept in a unique column beside the username.
pub fn username_key(username: &str) -> String {
    let folded = normalize_username(username).to_lowercase();
    let skeleton: String = unicode_security::confusable_detection::skeleton(&folded).collect();
    skeleton.to_lowercase()
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

/// Text that passed its type's checks; only `parse` makes one, so holding it is the proof.
macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, diesel::AsExpression)]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl<DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Text, DB>
            for $name
        where
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, DB>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(
                    self.0.as_str(),
                    out,
                )
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

checked_text! {
    /// A stock-keeping unit: printable ASCII, no spaces, at most 64 characters.
    Sku
}

checked_text! {
    /// A barcode: numeric 8/12/13-digit codes carry a valid EAN/UPC check digit; anything
    /// else is printable ASCII of at most 48 characters (Code 128 can draw it).
    Barcode
}

checked_text! {
    /// An email address of the plain `local@domain.tld` form, trimmed.
    EmailAddress
}

impl Sku {
    pub fn parse(s: &str) -> Result<Sku, String> {
        parse_sku(s).map(Sku)
    }
}

impl Barcode {
    pub fn parse(s: &str) -> Result<Barcode, String> {
        parse_barcode(s).map(Barcode)
    }
}

impl EmailAddress {
    pub fn parse(s: &str) -> Result<EmailAddress, String> {
        parse_email(s).map(EmailAddress)
    }
}

/// A count of units that passed the bounds every quantity shares: not negative, and small
/// enough that sums of many stay far from overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    pub const MAX: i64 = 1_000_000_000_000;

    pub fn parse(v: i64) -> Result<Quantity, String> {
        if v < 0 {
            Err("Ensure this value is greater than or equal to 0.".into())
        } else if v > Self::MAX {
            Err(format!(
                "Ensure this value is less than or equal to {}.",
                Self::MAX
            ))
        } else {
            Ok(Quantity(v))
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

fn parse_sku(s: &str) -> Result<String, String> {
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

fn parse_barcode(s: &str) -> Result<String, String> {
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
fn parse_email(s: &str) -> Result<String, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_keeps_four_places_and_rounds_averages_half_even() {
        let j = |s: &str| Cost::parse_json(&serde_json::json!(s));
        assert_eq!(j("12.3456"), Ok(Cost(123_456)));
        assert_eq!(j("7"), Ok(Cost(70_000)));
        assert_eq!(j("0.5"), Ok(Cost(5_000)));
        assert_eq!(j("1.23450"), Ok(Cost(12_345)));
        assert!(j("1.23456").is_err());
        assert!(j("-1").is_err());
        assert!(j("1e3").is_err());
        assert!(j("10000000000000").is_err());
        assert_eq!(Cost::parse_json(&serde_json::json!(2.25)), Ok(Cost(22_500)));
        assert_eq!(Cost::format_wide(123_456), "12.3456");
        assert_eq!(Cost::format_wide(5), "0.0005");
        // 10 at 1.0000 and 20 at 1.1000: 32/30 = 1.06666… → 1.0667.
        assert_eq!(Cost::weighted_average(10, 10_000, 20, 11_000), Some(10_667));
        // Exactly half a unit rounds to the even neighbour: 1 at 0.0001 and 1 at 0.0002 is
        // 0.00015 → 0.0002; 1 at 0.0002 and 1 at 0.0003 is 0.00025 → 0.0002.
        assert_eq!(Cost::weighted_average(1, 1, 1, 2), Some(2));
        assert_eq!(Cost::weighted_average(1, 2, 1, 3), Some(2));
        assert_eq!(Cost::weighted_average(0, 99, 5, 40_000), Some(40_000));
        assert_eq!(Cost::weighted_average(0, 0, 0, 1), None);
    }

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
        // The ceiling is the one the refusal names: 10^12 exactly, not a cent above.
        assert_eq!(
            Money::parse_str("1000000000000"),
            Ok(Money(100_000_000_000_000))
        );
        assert!(Money::parse_str("1000000000000.01").is_err());
        assert!(Money::parse_str("1000000000000.99").is_err());
        assert_eq!(Money::format(1999), "19.99");
        assert_eq!(Money::format(5), "0.05");
        assert_eq!(Money::format_wide(-1999), "-19.99");
        // Past 64 bits (a report's total), printed exactly.
        assert_eq!(
            Money::format_wide(i128::from(u64::MAX) * 10 + 7),
            "1844674407370955161.57"
        );
        assert_eq!(Cost::format_wide(-5), "-0.0005");
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
    fn look_alike_usernames_share_a_key() {
        let admin = username_key("admin");
        assert_eq!(username_key("Admin"), admin);
        assert_eq!(username_key("ａｄｍｉｎ"), admin, "fullwidth");
        assert_eq!(username_key("\u{0430}dmin"), admin, "Cyrillic a");
        assert_ne!(username_key("admin2"), admin);
        assert_eq!(normalize_username("ａｄｍｉｎ"), "admin");
        assert_eq!(normalize_username(" dana "), "dana");
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
