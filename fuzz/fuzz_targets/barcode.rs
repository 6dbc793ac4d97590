//! Barcodes: any text is accepted or refused without a panic; an accepted numeric EAN/UPC
//! always carries a valid check digit, and changing its check digit makes it invalid.
#![no_main]

use inventory_core::types::{gtin_valid, Barcode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(code) = Barcode::parse(text) {
        let code = code.as_str().to_owned();
        assert!(code.len() <= 48 && !code.is_empty());
        let digits = code.chars().all(|c| c.is_ascii_digit());
        if digits && matches!(code.len(), 8 | 12 | 13) {
            assert!(gtin_valid(&code));
            let last = code.as_bytes()[code.len() - 1];
            let other = if last == b'9' { b'0' } else { last + 1 };
            let mut changed = code.clone().into_bytes();
            let n = changed.len();
            changed[n - 1] = other;
            let changed = String::from_utf8(changed).unwrap_or_default();
            assert!(!gtin_valid(&changed));
            assert!(Barcode::parse(&changed).is_err());
        }
    }
    let _ = gtin_valid(text);
});
