//! CSV cells that a spreadsheet will not run: a cell starting with `=`, `+`, `-`, `@`, a tab
//! or a carriage return is a formula to Excel, LibreOffice and Google Sheets, so a product
//! named `=HYPERLINK(...)` would come back from an export as a live link. Such cells get a
//! leading apostrophe (OWASP's advice), unless they are plain numbers (`-5` stays a number).
//! The import takes the apostrophe off again, so an export imports back unchanged (text that
//! already starts with an apostrophe before a formula sign gets one more, to stay reversible).

use std::borrow::Cow;

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn is_number(s: &str) -> bool {
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    !t.is_empty()
        && t.chars().all(|c| c.is_ascii_digit() || c == '.')
        && t.chars().filter(|c| *c == '.').count() <= 1
        && t.chars().any(|c| c.is_ascii_digit())
}

/// A formula, or text that would read as an escaped one (so escaping stays reversible).
fn needs_quote(s: &str) -> bool {
    (s.starts_with(TRIGGERS) && !is_number(s)) || s.strip_prefix('\'').is_some_and(needs_quote)
}

/// The cell as a spreadsheet should see it.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as it was before [`escape`].
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

/// Writes one record with every cell escaped.
pub fn write_record<W: std::io::Write, I, S>(w: &mut csv::Writer<W>, cells: I) -> csv::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let cells: Vec<S> = cells.into_iter().collect();
    w.write_record(cells.iter().map(|c| escape(c.as_ref()).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_numbers_are_not() {
        assert_eq!(escape("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(escape("+1+2"), "'+1+2");
        assert_eq!(escape("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape("-A1"), "'-A1");
        assert_eq!(escape("\tx"), "'\tx");
        assert_eq!(escape("-5"), "-5");
        assert_eq!(escape("-12.50"), "-12.50");
        assert_eq!(escape("Claw hammer"), "Claw hammer");
        assert_eq!(escape(""), "");
    }

    #[test]
    fn unescape_reverses_escape() {
        for s in [
            "=1+1", "+x", "-", "@a", "plain", "'quoted", "-5", "'=x", "''@y",
        ] {
            assert_eq!(unescape(&escape(s)), s, "{s:?}");
        }
    }
}
