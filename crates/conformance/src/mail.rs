//! Reading the `.eml` files the server writes to its outbox, and the tokens inside them.

use std::path::Path;

/// Every message in `dir`, oldest first, as text: the raw file followed by its
/// quoted-printable and base64 parts decoded, so a token can be found whatever the encoding.
pub fn read_outbox(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH),
                e.path(),
            )
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, p)| std::fs::read(p).ok())
        .map(|bytes| decoded(&String::from_utf8_lossy(&bytes)))
        .collect()
}

fn decoded(raw: &str) -> String {
    let mut out = raw.to_owned();
    out.push('\n');
    out.push_str(&quoted_printable(raw));
    for block in base64_blocks(raw) {
        out.push('\n');
        out.push_str(&block);
    }
    out
}

fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Bodies of parts marked `Content-Transfer-Encoding: base64`, decoded.
fn base64_blocks(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lines: Vec<&str> = raw.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i]
            .to_ascii_lowercase()
            .starts_with("content-transfer-encoding: base64")
        {
            // Skip the rest of the part's headers, then read until a blank line or boundary.
            while i < lines.len() && !lines[i].trim().is_empty() {
                i += 1;
            }
            let mut data = String::new();
            i += 1;
            while i < lines.len() && !lines[i].trim().is_empty() && !lines[i].starts_with("--") {
                data.push_str(lines[i].trim());
                i += 1;
            }
            let url_safe: String = data
                .chars()
                .map(|c| match c {
                    '+' => '-',
                    '/' => '_',
                    c => c,
                })
                .collect();
            if let Some(bytes) = crate::jwt::b64url_decode(&url_safe) {
                out.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        i += 1;
    }
    out
}

/// The token a verification or reset message carries: the value of a `token=` parameter, or
/// else the longest token-like word (20 or more URL-safe characters) in the message.
pub fn token_in(message: &str) -> Option<String> {
    let token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
    if let Some(pos) = message.rfind("token=") {
        let t: String = message[pos + 6..]
            .chars()
            .take_while(|c| token_char(*c))
            .collect();
        if !t.is_empty() {
            return Some(t);
        }
    }
    message
        .split(|c: char| !token_char(c))
        .filter(|w| w.len() >= 20 && w.chars().any(|c| c.is_ascii_digit()))
        .max_by_key(|w| w.len())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_in_a_link_or_on_its_own() {
        assert_eq!(
            token_in("Open http://x/verify?token=abc_DEF-123 now").as_deref(),
            Some("abc_DEF-123")
        );
        assert_eq!(
            token_in("Your code:\n  Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5\nThanks").as_deref(),
            Some("Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5")
        );
        assert_eq!(quoted_printable("a=3Db=\r\nc"), "a=bc");
    }
}
