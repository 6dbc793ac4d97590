//! One module per area; each public function is one use case: it checks the permission,
//! runs its change in one transaction with the audit entry, and returns a domain value.

pub mod accounts;
pub mod alerts;
pub mod api_tokens;
pub mod audit_log;
pub mod auth_budget;
pub mod catalog;
pub mod csvio;
pub mod customers;
pub mod dashboard;
pub mod idempotency;
pub mod insight;
pub mod ledger;
pub mod links;
pub mod locations;
pub mod names;
pub mod orders;
pub mod products;
pub mod sales;
pub mod seed;
pub mod sessions;
pub mod stats;
pub mod stock;
pub mod tokens;
pub mod transfers;
pub mod users;
pub mod webhooks;

diesel::define_sql_function! {
    /// Case folding that means the same on SQLite and PostgreSQL for ASCII.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    #[sql_name = "lower"]
    fn lower_nullable(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// A `LIKE` pattern that matches `term` anywhere, with the wildcards in `term` escaped.
pub fn contains_pattern(term: &str) -> String {
    let escaped = term
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The checks every "these products, these quantities" body shares (receiving a purchase
/// order, shipping or returning a sales order): at least one line, each quantity a positive
/// [`Quantity`](crate::types::Quantity), no product twice; problems go into `errs`.
pub(crate) fn check_moved_lines(
    errs: &mut crate::error::Errors,
    lines: impl ExactSizeIterator<Item = (i64, i64)>,
    none_given: &str,
) {
    if lines.len() == 0 {
        errs.add("lines", none_given);
    }
    let mut seen = std::collections::HashSet::new();
    for (i, (product_id, quantity)) in lines.enumerate() {
        if quantity <= 0 {
            errs.add(
                &format!("lines[{i}].quantity"),
                "Ensure this value is greater than 0.",
            );
        } else if let Err(m) = crate::types::Quantity::parse(quantity) {
            errs.add(&format!("lines[{i}].quantity"), m);
        }
        if !seen.insert(product_id) {
            errs.add(&format!("lines[{i}]"), "The same product appears twice.");
        }
    }
}
