//! Money and quantities: whatever the text or JSON, parsing never panics, accepted amounts
//! are in range and print back to a string that parses to the same amount.
#![no_main]

use inventory_core::types::{Money, Quantity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = Money::parse_str(text) {
        assert!(m.0 >= 0 && m.0 <= 100_000_000_000_000);
        assert_eq!(Money::parse_str(&Money::format(m.0)), Ok(m));
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(m) = Money::parse_json(&v) {
            assert_eq!(Money::parse_str(&Money::format(m.0)), Ok(m));
        }
        if let Some(n) = v.as_i64() {
            if let Ok(q) = Quantity::parse(n) {
                assert!((0..=Quantity::MAX).contains(&q.get()));
            }
        }
    }
    let wide = i128::from_le_bytes({
        let mut b = [0u8; 16];
        for (i, x) in data.iter().take(16).enumerate() {
            b[i] = *x;
        }
        b
    });
    let _ = Money::format_wide(wide);
});
