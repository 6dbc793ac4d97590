//! Just enough JWT handling to read claims and forge bad tokens, with no crypto dependency.

use serde_json::Value;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url, as JWTs use.
pub fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The three dot-separated parts of a token.
fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let h = it.next().unwrap_or_default().to_owned();
    let p = it.next().unwrap_or_default().to_owned();
    let s = it.next().unwrap_or_default().to_owned();
    (h, p, s)
}

/// The decoded header of a token.
pub fn header(token: &str) -> Value {
    let (h, _, _) = parts(token);
    serde_json::from_slice(&b64url_decode(&h).unwrap_or_default()).unwrap_or(Value::Null)
}

/// The decoded claims of a token.
pub fn claims(token: &str) -> Value {
    let (_, p, _) = parts(token);
    serde_json::from_slice(&b64url_decode(&p).unwrap_or_default()).unwrap_or(Value::Null)
}

/// The same token with one signature character changed.
pub fn with_bad_signature(token: &str) -> String {
    let (h, p, s) = parts(token);
    let mut sig: Vec<char> = s.chars().collect();
    if let Some(first) = sig.first_mut() {
        *first = if *first == 'A' { 'B' } else { 'A' };
    }
    format!("{h}.{p}.{}", sig.into_iter().collect::<String>())
}

/// The same claims, re-encoded with different claims and the original signature.
pub fn with_claims(token: &str, claims: &Value) -> String {
    let (h, _, s) = parts(token);
    format!("{h}.{}.{s}", b64url_encode(claims.to_string().as_bytes()))
}

/// An unsigned token (`alg: none`) carrying the same claims.
pub fn unsigned(token: &str) -> String {
    let (_, p, _) = parts(token);
    let h = b64url_encode(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{h}.{p}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_every_length() {
        for len in 0..10 {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
            assert_eq!(b64url_decode(&b64url_encode(&data)).unwrap(), data);
        }
        assert_eq!(b64url_encode(b"{\"a\":1}"), "eyJhIjoxfQ");
    }
}
