//! List query strings: any text deserialises into the API's filter types or is refused, and
//! what passes goes through the same checks as a request (ordering, page bounds, prices)
//! without a panic.
#![no_main]

use inventory_core::paging::{parse_ordering, PageReq};
use inventory_core::services::{audit_log, ledger, products};
use inventory_core::types::Money;
use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize)]
struct Page {
    page: Option<String>,
    page_size: Option<String>,
}

fuzz_target!(|data: &[u8]| {
    let Ok(qs) = std::str::from_utf8(data) else { return };
    if let Ok(f) = serde_urlencoded::from_str::<products::ProductFilter>(qs) {
        let _ = parse_ordering(f.ordering.as_deref(), &products::ORDERING);
        for p in [f.min_price.as_deref(), f.max_price.as_deref()].into_iter().flatten() {
            let _ = Money::parse_str(p.trim());
        }
    }
    if let Ok(f) = serde_urlencoded::from_str::<audit_log::AuditFilter>(qs) {
        for t in [f.since.as_deref(), f.until.as_deref()].into_iter().flatten() {
            let _ = audit_log::parse_instant("since", t);
        }
    }
    let _ = serde_urlencoded::from_str::<ledger::AdjustmentFilter>(qs);
    if let Ok(p) = serde_urlencoded::from_str::<Page>(qs) {
        let n = |s: &Option<String>| s.as_deref().and_then(|v| v.trim().parse::<i64>().ok());
        if let Ok(page) = PageReq::new(n(&p.page), n(&p.page_size)) {
            assert!(page.page >= 1 && (1..=PageReq::MAX_SIZE).contains(&page.page_size));
            let _ = page.offset();
            let _ = page.check_in_range(i64::MAX);
        }
    }
});
