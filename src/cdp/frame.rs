//! Decoding DevTools frames. Chromium's JSON writer escapes each UTF-16 code unit of a string,
//! so a page string holding a lone surrogate (`'\uD800'`, legal in JavaScript) reaches us as
//! an escape that is not valid JSON Unicode, and `serde_json` refuses the whole frame. Such
//! escapes are replaced by U+FFFD (the WHATWG "replacement character", as `TextEncoder`
//! does), so every answer and event that carries page text still arrives.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
#[cfg(test)]
use serde_json::Value;

/// Parses one frame as `T`, replacing lone surrogate escapes by `\uFFFD` if the plain parse
/// fails.
///
/// Errors: the frame is not JSON of that shape even after that repair.
pub fn decode<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(first) => match replace_lone_surrogates(text) {
            Cow::Owned(repaired) => serde_json::from_str(&repaired),
            Cow::Borrowed(_) => Err(first),
        },
    }
}

/// The `id` of a frame that answers a call: Chromium writes it first (`{"id":12,…`).
pub fn leading_id(text: &str) -> Option<u64> {
    let rest = text.trim_start().strip_prefix("{\"id\":")?;
    let digits: &str = &rest[..rest.find(|c: char| !c.is_ascii_digit())?];
    digits.parse().ok()
}

/// Rewrites every `\uXXXX` escape of a surrogate that is not half of a high + low pair as
/// `\uFFFD`. Borrowed when there was nothing to rewrite.
pub fn replace_lone_surrogates(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Everything before `copied` is already in `out` (or needs no copy).
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        // Backslashes only occur in JSON strings, as the start of an escape.
        let Some(unit) = unicode_escape(bytes, i) else {
            i += 2;
            continue;
        };
        let lone = match unit {
            0xD800..=0xDBFF => match unicode_escape(bytes, i + 6) {
                Some(0xDC00..=0xDFFF) => {
                    i += 12;
                    continue;
                }
                _ => true,
            },
            0xDC00..=0xDFFF => true,
            _ => false,
        };
        if lone {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..i]);
            out.push_str("\\uFFFD");
            copied = i + 6;
        }
        i += 6;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The code unit of a `\uXXXX` escape starting at `at`, if there is one.
fn unicode_escape(bytes: &[u8], at: usize) -> Option<u16> {
    let escape = bytes.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    let hex = std::str::from_utf8(&escape[2..]).ok()?;
    u16::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let frame = r#"{"id":7,"result":{"value":"a\ud800b\uDC00c\ud83d\ude00d\\ud800"}}"#;
        assert!(serde_json::from_str::<Value>(frame).is_err());
        let value: Value = decode(frame).unwrap();
        assert_eq!(
            value["result"]["value"],
            "a\u{FFFD}b\u{FFFD}c\u{1F600}d\\ud800"
        );
    }

    #[test]
    fn a_high_surrogate_before_another_high_one_is_lone() {
        let value: Value = decode(r#"["\ud800\ud800\udc00", "\ud800"]"#).unwrap();
        assert_eq!(value, serde_json::json!(["\u{FFFD}\u{10000}", "\u{FFFD}"]));
    }

    #[test]
    fn valid_frames_are_left_alone() {
        let text = r#"{"id":1,"result":{"v":"\u00e9 \\u0041 é"}}"#;
        assert!(matches!(replace_lone_surrogates(text), Cow::Borrowed(_)));
        assert_eq!(decode::<Value>(text).unwrap()["result"]["v"], "é \\u0041 é");
    }

    #[test]
    fn the_id_of_an_unreadable_answer_is_found() {
        assert_eq!(leading_id(r#"{"id":42,"result":{"#), Some(42));
        assert_eq!(leading_id(r#"{"method":"x"}"#), None);
        assert_eq!(leading_id(r#"{"id":"#), None);
    }

    proptest! {
        /// Any JavaScript string (any sequence of UTF-16 units), escaped unit by unit as
        /// Chromium does, decodes to the same string with lone surrogates replaced.
        #[test]
        fn any_utf16_string_decodes(units in proptest::collection::vec(any::<u16>(), 0..40)) {
            let escaped: String = units.iter().map(|u| format!("\\u{u:04x}")).collect();
            let value: Value = decode(&format!("{{\"id\":1,\"s\":\"{escaped}\"}}")).unwrap();
            let expected: String = char::decode_utf16(units.iter().copied())
                .map(|c| c.unwrap_or('\u{FFFD}'))
                .collect();
            prop_assert_eq!(value["s"].as_str().unwrap(), expected.as_str());
        }
    }
}
