//! The top level of one JSON object, read and fully checked at a few times serde_json's speed on
//! sign-in records, whose long JSON-text columns are dense with escapes.
//!
//! A record is read once to find its fields and to prove it is valid JSON (a record read later
//! only by fingerprint was proven here). serde_json looks at such strings a few bytes at a time
//! between escapes; this finds the quotes, backslashes and control characters of 64 bytes at
//! once. It only *accepts*: whatever it is not sure of (a key with escapes, any `\u` escape,
//! nesting past serde_json's limit, anything invalid) it declines, and the caller asks
//! serde_json, which reads it the same way or says what is wrong.

use std::borrow::Cow;

/// Nesting deeper than this is declined: serde_json refuses past 127 levels, and sign-ins nest
/// a few.
const MOST_DEPTH: usize = 100;

/// The fields of the object `text` (keys, and values as their JSON text), or `None` when this
/// reader declines it.
pub fn object(text: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    let mut fields = Vec::with_capacity(64);
    if bytes.get(at) == Some(&b'}') {
        return (skip_space(bytes, at + 1) == bytes.len()).then_some(fields);
    }
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = skip_string(bytes, at + 1)?;
        let key = &text[at + 1..key_end - 1];
        if key.contains('\\') {
            return None;
        }
        at = skip_space(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let value_start = skip_space(bytes, at + 1);
        let value_end = skip_value(bytes, value_start, 1)?;
        fields.push((Cow::Borrowed(key), &text[value_start..value_end]));
        at = skip_space(bytes, value_end);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    (skip_space(bytes, at + 1) == bytes.len()).then_some(fields)
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// Just past the value starting at `at`, inside `depth` containers.
fn skip_value(bytes: &[u8], at: usize, depth: usize) -> Option<usize> {
    match *bytes.get(at)? {
        b'"' => skip_string(bytes, at + 1),
        b'{' => skip_object(bytes, at + 1, depth + 1),
        b'[' => skip_array(bytes, at + 1, depth + 1),
        b't' => skip_word(bytes, at, b"true"),
        b'f' => skip_word(bytes, at, b"false"),
        b'n' => skip_word(bytes, at, b"null"),
        b'-' | b'0'..=b'9' => skip_number(bytes, at),
        _ => None,
    }
}

fn skip_word(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    bytes.get(at..at + word.len()).filter(|found| *found == word).map(|_| at + word.len())
}

/// Just past the digits at `at`, and whether there was at least one.
fn skip_digits(bytes: &[u8], at: usize) -> (usize, bool) {
    let end = at + bytes[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    (end, end > at)
}

/// JSON's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn skip_number(bytes: &[u8], mut at: usize) -> Option<usize> {
    if bytes[at] == b'-' {
        at += 1;
    }
    match bytes.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at = skip_digits(bytes, at).0,
        _ => return None,
    }
    if bytes.get(at) == Some(&b'.') {
        let (end, some) = skip_digits(bytes, at + 1);
        if !some {
            return None;
        }
        at = end;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        let (end, some) = skip_digits(bytes, at);
        if !some {
            return None;
        }
        at = end;
    }
    Some(at)
}

/// `at` is just past `{`.
fn skip_object(bytes: &[u8], at: usize, depth: usize) -> Option<usize> {
    if depth > MOST_DEPTH {
        return None;
    }
    let mut at = skip_space(bytes, at);
    if bytes.get(at) == Some(&b'}') {
        return Some(at + 1);
    }
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        at = skip_space(bytes, skip_string(bytes, at + 1)?);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(bytes, skip_value(bytes, skip_space(bytes, at + 1), depth)?);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b'}') => return Some(at + 1),
            _ => return None,
        }
    }
}

/// `at` is just past `[`.
fn skip_array(bytes: &[u8], at: usize, depth: usize) -> Option<usize> {
    if depth > MOST_DEPTH {
        return None;
    }
    let mut at = skip_space(bytes, at);
    if bytes.get(at) == Some(&b']') {
        return Some(at + 1);
    }
    loop {
        at = skip_space(bytes, skip_value(bytes, at, depth)?);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b']') => return Some(at + 1),
            _ => return None,
        }
    }
}

/// Whether a backslash may stand before `byte` (`\u` is declined, see the module comment).
fn is_short_escape(byte: u8) -> bool {
    matches!(byte, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')
}

/// `at` is just past the opening quote; returns just past the closing one.
fn skip_string(bytes: &[u8], mut at: usize) -> Option<usize> {
    'blocks: while at + 64 <= bytes.len() {
        let mut specials = special_mask(&bytes[at..at + 64]);
        while specials != 0 {
            let found = at + specials.trailing_zeros() as usize;
            match bytes[found] {
                b'"' => return Some(found + 1),
                b'\\' if bytes.get(found + 1).copied().is_some_and(is_short_escape) => {
                    // The escaped byte may itself be a quote or backslash: resume past it.
                    let resume = found + 2 - at;
                    if resume >= 64 {
                        at = found + 2;
                        continue 'blocks;
                    }
                    specials &= u64::MAX << resume;
                }
                _ => return None,
            }
        }
        at += 64;
    }
    loop {
        match *bytes.get(at)? {
            b'"' => return Some(at + 1),
            b'\\' if bytes.get(at + 1).copied().is_some_and(is_short_escape) => at += 2,
            byte if is_special(byte) => return None,
            _ => at += 1,
        }
    }
}

fn is_special(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

/// Bit k set when `block[k]` is a quote, a backslash or a control character.
#[cfg(target_arch = "x86_64")]
fn special_mask(block: &[u8]) -> u64 {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let mut mask = 0u64;
    for (n, chunk) in block.chunks_exact(16).take(4).enumerate() {
        // SAFETY: SSE2 is part of every x86_64 target; the load reads the 16 bytes of `chunk`.
        let bits = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // min(v, 0x1f) == v exactly for the bytes below 0x20.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u16
        };
        mask |= u64::from(bits) << (16 * n);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
fn special_mask(block: &[u8]) -> u64 {
    block.iter().take(64).enumerate().fold(0, |mask, (k, &byte)| mask | (u64::from(is_special(byte)) << k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::raw_json::RawObject;

    /// What serde_json makes of `text`: its fields, or `None` if it refuses it.
    fn by_serde(text: &str) -> Option<Vec<(String, String)>> {
        let object = RawObject::parse_with_serde(text).ok()?;
        Some(object.0.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn by_fast(text: &str) -> Option<Vec<(String, String)>> {
        object(text).map(|fields| fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    /// Every text this reader accepts, serde_json reads the same; the ones it declines are
    /// the ones listed (serde_json may read those, the caller then asks it).
    fn agrees(text: &str) {
        if let Some(fast) = by_fast(text) {
            assert_eq!(Some(fast), by_serde(text), "{text:?}");
        }
    }

    const RECORD: &str = r#"{"TimeGenerated":"2026-11-01T00:00:13.5580637Z","DurationMs":141,"IsRisky":false,"x":null,"AuthenticationProcessingDetails":"[{\"key\":\"Oauth Scope Info\",\"value\":\"[\\\"user_impersonation\\\"]\"}]","n":[1,-0.5,2e10,{"a":[]}],"e":{},"SessionId":"e2b457ce-f44f-4142-82f6-aea0f8a57ce0"}"#;

    #[test]
    fn a_record_reads_as_serde_json_reads_it() {
        let fields = by_fast(RECORD).expect("accepted");
        assert_eq!(fields.len(), 8);
        assert_eq!(Some(fields), by_serde(RECORD));
        // Long strings cross the 64-byte blocks at every offset, escapes on the boundaries.
        for pad in 0..80 {
            let text = format!(r#"{{"{}":"{}\"\\{}","k":1}}"#, "p".repeat(pad), "a".repeat(pad), "b".repeat(130 - pad));
            assert_eq!(by_fast(&text), by_serde(&text), "{text}");
            assert!(by_fast(&text).is_some());
        }
    }

    #[test]
    fn every_cut_and_every_single_byte_change_of_a_record_is_judged_as_serde_json_judges_it() {
        for end in 0..RECORD.len() {
            if RECORD.is_char_boundary(end) {
                agrees(&RECORD[..end]);
            }
        }
        let replacements = [b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b' ', b'\n', b'\t', 0x01, 0x1f, b'0', b'-', b'.', b'e', b'+', b'a', b'u', b'n', b't', b'f', b'/', b'x'];
        let mut bytes = RECORD.as_bytes().to_vec();
        for at in 0..bytes.len() {
            let original = bytes[at];
            for &replacement in &replacements {
                bytes[at] = replacement;
                agrees(std::str::from_utf8(&bytes).expect("ASCII"));
            }
            bytes[at] = original;
        }
    }

    #[test]
    fn invalid_text_is_never_accepted() {
        let invalid = [
            "", "{", "}", "[]", "5", r#"{"a"}"#, r#"{"a":}"#, r#"{"a":1,}"#, r#"{"a":1 "b":2}"#, r#"{"a":01}"#,
            r#"{"a":1.}"#, r#"{"a":.5}"#, r#"{"a":1e}"#, r#"{"a":-}"#, r#"{"a":tru}"#, r#"{"a":nul}"#, r#"{"a":[1,]}"#,
            r#"{"a":{"b"}}"#, r#"{"a":"\x"}"#, "{\"a\":\"\u{1}\"}", r#"{"a":"b"} x"#, r#"{"a":"b""#, r#"{a:1}"#,
        ];
        for text in invalid {
            assert_eq!(by_fast(text), None, "{text:?}");
            assert_eq!(by_serde(text), None, "serde_json refuses {text:?} too");
        }
    }

    #[test]
    fn what_it_is_not_sure_of_is_declined() {
        let deep = format!(r#"{{"a":{}1{}}}"#, "[".repeat(MOST_DEPTH), "]".repeat(MOST_DEPTH));
        let declined = [r#"{"k\"ey":1}"#, r#"{"a":"\u0041"}"#, deep.as_str()];
        for text in declined {
            assert_eq!(by_fast(text), None, "{text}");
        }
        let nested = format!(r#"{{"a":{}1{}}}"#, "[".repeat(MOST_DEPTH - 1), "]".repeat(MOST_DEPTH - 1));
        assert_eq!(by_fast(&nested), by_serde(&nested));
        assert!(by_fast(&nested).is_some());
    }
}
