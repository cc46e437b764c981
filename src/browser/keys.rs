//! Playwright key names and chords (`Enter`, `ArrowDown`, `a`, `Shift+Enter`, `Control+A`)
//! turned into the CDP `Input.dispatchKeyEvent` sequence Playwright sends, on a US layout.

use headless_chrome::protocol::cdp::Input::{DispatchKeyEvent, DispatchKeyEventTypeOption};

/// CDP modifier bits.
pub const ALT: u32 = 1;
pub const CONTROL: u32 = 2;
pub const META: u32 = 4;
pub const SHIFT: u32 = 8;

/// One key of the US layout as Chromium expects to see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub key: String,
    pub code: String,
    pub key_code: u32,
    /// What the key types; empty for keys that type nothing (Tab, arrows, modifiers).
    pub text: String,
    /// 1 for the left modifier keys, 0 otherwise.
    pub location: u32,
}

/// Named keys: (name, code, keyCode, text).
const NAMED: &[(&str, &str, u32, &str)] = &[
    ("Enter", "Enter", 13, "\r"),
    ("Tab", "Tab", 9, ""),
    ("Escape", "Escape", 27, ""),
    ("Backspace", "Backspace", 8, ""),
    ("Delete", "Delete", 46, ""),
    ("Insert", "Insert", 45, ""),
    ("ArrowUp", "ArrowUp", 38, ""),
    ("ArrowDown", "ArrowDown", 40, ""),
    ("ArrowLeft", "ArrowLeft", 37, ""),
    ("ArrowRight", "ArrowRight", 39, ""),
    ("Home", "Home", 36, ""),
    ("End", "End", 35, ""),
    ("PageUp", "PageUp", 33, ""),
    ("PageDown", "PageDown", 34, ""),
    ("CapsLock", "CapsLock", 20, ""),
    ("ContextMenu", "ContextMenu", 93, ""),
    ("F1", "F1", 112, ""),
    ("F2", "F2", 113, ""),
    ("F3", "F3", 114, ""),
    ("F4", "F4", 115, ""),
    ("F5", "F5", 116, ""),
    ("F6", "F6", 117, ""),
    ("F7", "F7", 118, ""),
    ("F8", "F8", 119, ""),
    ("F9", "F9", 120, ""),
    ("F10", "F10", 121, ""),
    ("F11", "F11", 122, ""),
    ("F12", "F12", 123, ""),
];

/// Modifier keys: (name, code, keyCode, bit).
const MODIFIERS: &[(&str, &str, u32, u32)] = &[
    ("Shift", "ShiftLeft", 16, SHIFT),
    ("Control", "ControlLeft", 17, CONTROL),
    ("Alt", "AltLeft", 18, ALT),
    ("Meta", "MetaLeft", 91, META),
];

/// Printable keys other than letters and digits: (code, keyCode, unshifted, shifted).
const PUNCTUATION: &[(&str, u32, char, char)] = &[
    ("Semicolon", 186, ';', ':'),
    ("Equal", 187, '=', '+'),
    ("Comma", 188, ',', '<'),
    ("Minus", 189, '-', '_'),
    ("Period", 190, '.', '>'),
    ("Slash", 191, '/', '?'),
    ("Backquote", 192, '`', '~'),
    ("BracketLeft", 219, '[', '{'),
    ("Backslash", 220, '\\', '|'),
    ("BracketRight", 221, ']', '}'),
    ("Quote", 222, '\'', '"'),
];

/// Shifted digits, `)` for 0 through `(` for 9.
const SHIFTED_DIGITS: [char; 10] = [')', '!', '@', '#', '$', '%', '^', '&', '*', '('];

fn key(key: &str, code: &str, key_code: u32, text: &str) -> Key {
    Key {
        key: key.to_owned(),
        code: code.to_owned(),
        key_code,
        text: text.to_owned(),
        location: 0,
    }
}

/// The US-layout key that types `c`, if there is one (`None` for `é`, emoji, …).
pub fn for_char(c: char) -> Option<Key> {
    let s = c.to_string();
    if c.is_ascii_alphabetic() {
        let upper = c.to_ascii_uppercase();
        return Some(key(&s, &format!("Key{upper}"), upper as u32, &s));
    }
    if let Some(d) = c.to_digit(10) {
        return Some(key(&s, &format!("Digit{d}"), '0' as u32 + d, &s));
    }
    if let Some(d) = SHIFTED_DIGITS.iter().position(|&x| x == c) {
        return Some(key(&s, &format!("Digit{d}"), '0' as u32 + d as u32, &s));
    }
    if let Some((code, key_code, ..)) = PUNCTUATION
        .iter()
        .find(|(_, _, plain, shifted)| *plain == c || *shifted == c)
    {
        return Some(key(&s, code, *key_code, &s));
    }
    match c {
        ' ' => Some(key(" ", "Space", 32, " ")),
        '\n' | '\r' => Some(key("Enter", "Enter", 13, "\r")),
        '\t' => Some(key("Tab", "Tab", 9, "")),
        _ => None,
    }
}

/// A key by its Playwright name: a named key, a `code` (`KeyA`, `Digit1`, `Space`), or a
/// single character.
pub fn by_name(name: &str) -> Option<Key> {
    if let Some((n, code, key_code, text)) = NAMED.iter().find(|(n, ..)| *n == name) {
        return Some(key(n, code, *key_code, text));
    }
    if let Some((n, code, key_code, _)) = MODIFIERS.iter().find(|(n, ..)| *n == name) {
        let mut k = key(n, code, *key_code, "");
        k.location = 1;
        return Some(k);
    }
    if name == "Space" {
        return for_char(' ');
    }
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return for_char(c);
    }
    // Codes name the unshifted key.
    if let Some(rest) = name.strip_prefix("Key").filter(|r| r.len() == 1) {
        return rest
            .chars()
            .next()
            .filter(char::is_ascii_uppercase)
            .and_then(|c| for_char(c.to_ascii_lowercase()));
    }
    if let Some(rest) = name.strip_prefix("Digit").filter(|r| r.len() == 1) {
        return rest
            .chars()
            .next()
            .filter(char::is_ascii_digit)
            .and_then(for_char);
    }
    PUNCTUATION
        .iter()
        .find(|(code, ..)| *code == name)
        .and_then(|(_, _, plain, _)| for_char(*plain))
}

/// The CDP modifier bit of a modifier key's name (`Shift` → [`SHIFT`]); `None` for others.
pub fn modifier_bit(name: &str) -> Option<u32> {
    MODIFIERS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(.., bit)| *bit)
}

/// Splits a chord on `+` as Playwright does: `Shift++` is Shift and `+`, `+` alone is `+`.
fn split_chord(chord: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for c in chord.chars() {
        if c == '+' && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

/// What to do instead of an unknown key `name` (Playwright's `Unknown key: "<name>"`): text
/// that is not a key of the US layout (`é`, `你`, `Hello`) is typed, not pressed. `chords`:
/// the command takes `Control+A` chords (`press`), else one key (`keydown`/`keyup`).
pub fn unknown_key_hint(name: &str, chords: bool) -> String {
    let keys = if chords {
        "a Playwright key name (Enter, Tab, ArrowDown, a, Shift) or a chord (Control+A)"
    } else {
        "one Playwright key name (Shift, Control, a, Enter, ArrowDown); for a chord such as \
         Control+A use 'press'"
    };
    // A key name is ASCII without spaces; anything else was meant as text.
    let is_text = !name.contains('+')
        && name.chars().all(|c| !c.is_control())
        && name.chars().any(|c| !c.is_ascii() || c == ' ');
    if is_text {
        format!(
            "Keys are named as on a US keyboard: use {keys}. To enter the text \"{name}\" use \
             'browse type {name}' (or 'browse fill <sel> <value>')."
        )
    } else {
        format!("Use {keys}; to enter text use 'browse type <text>'.")
    }
}

/// The full keyDown/keyUp sequence for one key or chord, as `press` sends it.
pub fn press_events(chord: &str) -> Result<Vec<DispatchKeyEvent>, String> {
    press_events_holding(chord, 0)
}

/// [`press_events`] while the modifiers `held` (by `keydown`) stay down throughout, as
/// Playwright's `keyboard.press` after `keyboard.down('Shift')`.
pub fn press_events_holding(chord: &str, held: u32) -> Result<Vec<DispatchKeyEvent>, String> {
    let names = split_chord(chord);
    let unknown = || format!("Unknown key: \"{chord}\"");
    let mut keys = Vec::with_capacity(names.len());
    for name in &names {
        keys.push(by_name(name).ok_or_else(unknown)?);
    }
    let mut events = Vec::new();
    let mut modifiers = held;
    // Press in order, release in reverse, with the modifier state each event would see.
    for (name, k) in names.iter().zip(&keys) {
        modifiers |= modifier_bit(name).unwrap_or(0);
        events.push(key_down(k, modifiers));
    }
    for (name, k) in names.iter().zip(&keys).rev() {
        modifiers &= !modifier_bit(name).unwrap_or(0) | held;
        events.push(key_up(k, modifiers));
    }
    Ok(events)
}

/// keyDown (or rawKeyDown when nothing is typed) for `k` with `modifiers` held.
pub fn key_down(k: &Key, modifiers: u32) -> DispatchKeyEvent {
    // Like Playwright: a chord with Control, Alt or Meta types nothing.
    let text = if modifiers & (CONTROL | ALT | META) != 0 {
        String::new()
    } else if modifiers & SHIFT != 0 {
        shifted(&k.text)
    } else {
        k.text.clone()
    };
    // A shifted printable key reports what it types (`A`, `!`); Enter stays `Enter`.
    let key = if modifiers & SHIFT != 0 && !text.is_empty() && text != k.text {
        text.clone()
    } else {
        k.key.clone()
    };
    let kind = if text.is_empty() {
        DispatchKeyEventTypeOption::RawKeyDown
    } else {
        DispatchKeyEventTypeOption::KeyDown
    };
    event(
        kind,
        k,
        key,
        Some(text).filter(|t| !t.is_empty()),
        modifiers,
    )
}

/// keyUp for `k` with `modifiers` still held.
pub fn key_up(k: &Key, modifiers: u32) -> DispatchKeyEvent {
    event(
        DispatchKeyEventTypeOption::KeyUp,
        k,
        k.key.clone(),
        None,
        modifiers,
    )
}

/// What a key types with Shift held (letters, digits and punctuation of the US layout).
fn shifted(text: &str) -> String {
    let mut chars = text.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return text.to_owned();
    };
    if c.is_ascii_lowercase() {
        return c.to_ascii_uppercase().to_string();
    }
    if let Some(d) = c.to_digit(10) {
        return SHIFTED_DIGITS[d as usize].to_string();
    }
    PUNCTUATION
        .iter()
        .find(|(_, _, plain, _)| *plain == c)
        .map_or_else(|| text.to_owned(), |(.., s)| s.to_string())
}

fn event(
    kind: DispatchKeyEventTypeOption,
    k: &Key,
    key: String,
    text: Option<String>,
    modifiers: u32,
) -> DispatchKeyEvent {
    DispatchKeyEvent {
        Type: kind,
        modifiers: Some(modifiers),
        timestamp: None,
        unmodified_text: text.clone(),
        text,
        key_identifier: None,
        code: Some(k.code.clone()),
        key: Some(key),
        windows_virtual_key_code: Some(k.key_code),
        native_virtual_key_code: Some(k.key_code),
        auto_repeat: None,
        is_keypad: None,
        is_system_key: None,
        location: Some(k.location),
        commands: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(chord: &str) -> Vec<(String, String, u32, Option<String>, u32)> {
        press_events(chord)
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                let kind = serde_json::to_value(&e.Type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (
                    kind,
                    e.key.unwrap_or_default(),
                    e.windows_virtual_key_code.unwrap_or_default(),
                    e.text,
                    e.modifiers.unwrap_or_default(),
                )
            })
            .collect()
    }

    fn ev(
        kind: &str,
        key: &str,
        code: u32,
        text: Option<&str>,
        m: u32,
    ) -> (String, String, u32, Option<String>, u32) {
        (kind.into(), key.into(), code, text.map(str::to_owned), m)
    }

    #[test]
    fn named_keys() {
        assert_eq!(
            summary("Enter"),
            vec![
                ev("keyDown", "Enter", 13, Some("\r"), 0),
                ev("keyUp", "Enter", 13, None, 0)
            ]
        );
        assert_eq!(summary("Tab")[0], ev("rawKeyDown", "Tab", 9, None, 0));
        for (name, code) in [
            ("Escape", 27),
            ("Backspace", 8),
            ("Delete", 46),
            ("ArrowUp", 38),
            ("ArrowDown", 40),
            ("ArrowLeft", 37),
            ("ArrowRight", 39),
            ("Home", 36),
            ("End", 35),
            ("PageUp", 33),
            ("PageDown", 34),
            ("F1", 112),
            ("F12", 123),
        ] {
            assert_eq!(
                summary(name)[0],
                ev("rawKeyDown", name, code, None, 0),
                "{name}"
            );
        }
        assert_eq!(summary("Space")[0], ev("keyDown", " ", 32, Some(" "), 0));
    }

    #[test]
    fn characters() {
        assert_eq!(summary("a")[0], ev("keyDown", "a", 65, Some("a"), 0));
        assert_eq!(summary("A")[0], ev("keyDown", "A", 65, Some("A"), 0));
        assert_eq!(summary("7")[0], ev("keyDown", "7", 55, Some("7"), 0));
        assert_eq!(summary("?")[0], ev("keyDown", "?", 191, Some("?"), 0));
        assert_eq!(summary("+")[0], ev("keyDown", "+", 187, Some("+"), 0));
        assert_eq!(summary("KeyB")[0], ev("keyDown", "b", 66, Some("b"), 0));
    }

    #[test]
    fn chords() {
        assert_eq!(
            summary("Shift+Enter"),
            vec![
                ev("rawKeyDown", "Shift", 16, None, SHIFT),
                ev("keyDown", "Enter", 13, Some("\r"), SHIFT),
                ev("keyUp", "Enter", 13, None, SHIFT),
                ev("keyUp", "Shift", 16, None, 0),
            ]
        );
        assert_eq!(
            summary("Control+A"),
            vec![
                ev("rawKeyDown", "Control", 17, None, CONTROL),
                ev("rawKeyDown", "A", 65, None, CONTROL),
                ev("keyUp", "A", 65, None, CONTROL),
                ev("keyUp", "Control", 17, None, 0),
            ]
        );
        assert_eq!(summary("Meta+K")[1], ev("rawKeyDown", "K", 75, None, META));
        assert_eq!(
            summary("Shift+a")[1],
            ev("keyDown", "A", 65, Some("A"), SHIFT)
        );
        assert_eq!(
            summary("Shift++")[1],
            ev("keyDown", "+", 187, Some("+"), SHIFT)
        );
        assert_eq!(
            summary("Control+Shift+ArrowLeft")[2],
            ev("rawKeyDown", "ArrowLeft", 37, None, CONTROL | SHIFT)
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert_eq!(
            press_events("Entr").err(),
            Some("Unknown key: \"Entr\"".to_owned())
        );
        assert_eq!(
            press_events("Shift+Bogus").err(),
            Some("Unknown key: \"Shift+Bogus\"".to_owned())
        );
        assert!(press_events("enter").is_err());
        assert!(press_events("").is_err());
        assert!(unknown_key_hint("é", true).contains("'browse type é'"));
        assert!(unknown_key_hint("Shift+Bogus", true).contains("'browse type <text>'"));
        assert!(unknown_key_hint("Entr", true).contains("'browse type <text>'"));
        assert!(unknown_key_hint("two words", false).contains("'browse type two words'"));
    }

    #[test]
    fn typing_table() {
        assert_eq!(for_char('é'), None);
        assert_eq!(for_char('\n').map(|k| k.key), Some("Enter".into()));
        assert_eq!(for_char('"').map(|k| k.code), Some("Quote".into()));
    }
}
