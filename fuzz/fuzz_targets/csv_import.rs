//! The CSV import's reader and checks: any bytes give rows or per-row errors, never a panic,
//! and a file that passes has as many rows as it has records.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match inventory_core::services::csvio::check_file(data) {
        Ok(n) => assert!(n > 0, "an accepted file has rows"),
        Err(errors) => assert!(!errors.is_empty(), "a refusal says why"),
    }
});
