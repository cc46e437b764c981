//! A command's words checked against its catalogue entry before anything starts: an unknown
//! flag, a flag missing its value, too few or too many words are usage errors (exit 2),
//! answered without electing or starting a daemon.
//!
//! A word is a flag when it starts with `--` and a letter, or (for commands with one-letter
//! flags, like `snapshot -i`) with `-` and a letter; `-5` or `-` are values. `--` ends the
//! flags: every later word is positional and the `--` itself is not sent.

use crate::catalogue::{CommandInfo, Flag, ANY};

/// Why a command line was refused (empty when the usage line says it all); printed above the
/// command's usage line.
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

/// The words to send for `info`, or why they are wrong.
pub fn check(info: &CommandInfo, words: Vec<String>) -> Result<Vec<String>, UsageError> {
    let has_short = info.flags.iter().any(|f| f.short.is_some());
    let mut sent = Vec::with_capacity(words.len());
    let mut positional = 0;
    let mut first_positional: Option<String> = None;
    let mut flags_ended = false;
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if !flags_ended && word == "--" {
            flags_ended = true;
            continue;
        }
        if flags_ended || !looks_like_flag(&word, has_short) {
            positional += 1;
            first_positional.get_or_insert_with(|| word.clone());
            sent.push(word);
            continue;
        }
        let (name, inline_value) = match word.split_once('=') {
            Some((name, value)) if word.starts_with("--") => (name, Some(value)),
            _ => (word.as_str(), None),
        };
        match info.flag(name) {
            Some(flag) => {
                let needs_value = flag.value.is_some() && inline_value.is_none();
                sent.push(word.clone());
                if needs_value {
                    let value = words.next().ok_or_else(|| match flag.short {
                        // gstack's snapshot parser: `Usage: snapshot -d <value>`.
                        Some(letter) => {
                            UsageError(format!("Usage: {} -{letter} <value>", info.name))
                        }
                        None => UsageError(format!(
                            "{} needs a value ({})",
                            name,
                            flag.value.unwrap_or("value")
                        )),
                    })?;
                    check_number(info, flag, &value)?;
                    sent.push(value);
                } else if let Some(value) = inline_value {
                    check_number(info, flag, value)?;
                }
            }
            None if is_switch_bundle(info, &word) => sent.push(word),
            // gstack's wording ("Unknown screenshot flag: --bogus").
            None => return Err(UsageError(format!("Unknown {} flag: {name}", info.name))),
        }
    }
    if info.max_positional != ANY && positional > info.max_positional {
        return Err(UsageError(match (info.max_positional, first_positional) {
            // gstack's wording for a stray word after a flags-only command.
            (0, Some(word)) if !info.flags.is_empty() => {
                format!("Unknown {} flag: {word}", info.name)
            }
            (0, _) => format!("'{}' takes no arguments", info.name),
            (n, _) => format!(
                "'{}' takes at most {n} argument{}",
                info.name,
                if n == 1 { "" } else { "s" }
            ),
        }));
    }
    if sent.len() < info.min_words {
        // gstack answers a missing argument with the usage line alone.
        return Err(UsageError(String::new()));
    }
    // The words after a subcommand (`set device <name>`) are its own to count.
    if let Some(sub) = first_positional.and_then(|word| info.subcommand(&word)) {
        let after = positional - 1;
        if after < sub.min_words || (sub.max_words != ANY && after > sub.max_words) {
            return Err(UsageError(sub.usage_line(info.name)));
        }
    }
    Ok(sent)
}

/// gstack reads `snapshot -d` with `parseInt` and refuses what it cannot read
/// (`Usage: snapshot -d <number>`); checked here so the CLI answers it like other usage errors.
fn check_number(info: &CommandInfo, flag: &Flag, value: &str) -> Result<(), UsageError> {
    if flag.long != "--depth" || parse_int_prefix(value) {
        return Ok(());
    }
    let name = flag
        .short
        .map_or_else(|| flag.long.to_owned(), |c| format!("-{c}"));
    Err(UsageError(format!("Usage: {} {name} <number>", info.name)))
}

/// Whether JavaScript's `parseInt(value, 10)` gives a number: optional leading whitespace and
/// sign, then at least one digit.
fn parse_int_prefix(value: &str) -> bool {
    let rest = value.trim_start();
    let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    rest.starts_with(|c: char| c.is_ascii_digit())
}

fn looks_like_flag(word: &str, has_short: bool) -> bool {
    let mut chars = word.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some('-'), Some('-'), Some(c)) => c.is_ascii_alphabetic(),
        (Some('-'), Some(c), _) => has_short && c.is_ascii_alphabetic(),
        _ => false,
    }
}

/// `-ic`: several one-letter switches (no values) in one word, as `snapshot` accepts.
fn is_switch_bundle(info: &CommandInfo, word: &str) -> bool {
    let Some(letters) = word.strip_prefix('-') else {
        return false;
    };
    letters.chars().count() > 1
        && !letters.starts_with('-')
        && letters.chars().all(|letter| {
            info.flags
                .iter()
                .any(|f| f.short == Some(letter) && f.value.is_none())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::lookup;

    fn check_words(command: &str, words: &[&str]) -> Result<Vec<String>, UsageError> {
        let info = lookup(command).expect("known command");
        check(info, words.iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn declared_flags_pass_and_others_are_refused() {
        assert!(check_words("snapshot", &["-i", "-d", "3", "--selector=#main"]).is_ok());
        assert!(check_words("snapshot", &["-ic"]).is_ok());
        assert!(
            check_words("snapshot", &["-id"]).is_err(),
            "-d takes a value"
        );
        assert_eq!(
            check_words("status", &["--json"]),
            Err(UsageError("Unknown status flag: --json".into()))
        );
        assert!(check_words("text", &["--json"]).is_err());
        assert!(check_words("snapshot", &["-d"]).is_err());
        // gstack's own snapshot wording.
        assert_eq!(
            check_words("snapshot", &["-s"]),
            Err(UsageError("Usage: snapshot -s <value>".into()))
        );
        assert_eq!(
            check_words("snapshot", &["-d", "x"]),
            Err(UsageError("Usage: snapshot -d <number>".into()))
        );
        assert_eq!(
            check_words("snapshot", &["--depth=x"]),
            Err(UsageError("Usage: snapshot -d <number>".into()))
        );
        assert!(check_words("snapshot", &["-d", " 3abc"]).is_ok());
    }

    #[test]
    fn arity_is_checked() {
        assert!(check_words("goto", &[]).is_err());
        assert!(check_words("goto", &["a", "b"]).is_err());
        assert!(check_words("url", &["x"]).is_err());
        assert!(check_words("wait", &[]).is_err());
        assert!(check_words("wait", &["--networkidle"]).is_ok());
        assert!(check_words("type", &["hello", "world"]).is_ok());
    }

    #[test]
    fn each_subcommand_has_its_own_arity() {
        assert_eq!(
            check_words("set", &["device"]),
            Err(UsageError("Usage: browse set device <name>".into()))
        );
        assert!(check_words("set", &["device", "iPhone", "15"]).is_ok());
        assert!(check_words("set", &["offline"]).is_ok());
        assert!(check_words("set", &["timezone", "a", "b"]).is_err());
        assert_eq!(
            check_words("mouse", &["move", "1"]),
            Err(UsageError("Usage: browse mouse move <x> <y>".into()))
        );
        assert!(check_words("mouse", &["up"]).is_ok());
        assert!(check_words("storage", &["set"]).is_err());
        assert!(check_words("storage", &[]).is_ok());
        // An unknown subcommand is the command's to refuse, with what it knows.
        assert!(check_words("set", &["bogus"]).is_ok());
    }

    #[test]
    fn values_that_look_numeric_or_come_after_double_dash_are_positional() {
        assert_eq!(check_words("js", &["-1"]).unwrap(), ["-1"]);
        assert_eq!(
            check_words("fill", &["#q", "--", "--not-a-flag"]).unwrap(),
            ["#q", "--not-a-flag"]
        );
        assert_eq!(check_words("type", &["-x"]).unwrap(), ["-x"]);
    }
}
