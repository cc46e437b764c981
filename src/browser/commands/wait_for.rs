//! `wait`'s page conditions (issue 13): `--text T`, `--url PATTERN`, `--fn EXPR` and
//! `--gone <sel>`, each with an optional deadline in ms (gstack's `wait` rules: 15000 by
//! default, 1000–300000). gstack's `wait` has only the selector and load states; these follow
//! Playwright (`waitForFunction`, `waitForURL`, `locator.waitFor({state:'hidden'})`) and
//! agent-browser's `wait --text/--url/--fn`.
//!
//! Each condition is polled every [`POLL`] until it holds or the deadline passes; a timeout
//! says what was waited for and what the page showed last.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::reading::VISIBLE_FUNCTION;
use crate::browser::page::{evaluate_in, CommandError, CommandResult, Ctx};
use crate::browser::selector::{self, call_function};

/// How often a condition is checked again.
const POLL: Duration = Duration::from_millis(100);

/// What `wait` was asked to wait for, beyond gstack's forms.
pub enum Condition {
    /// `--text T`: the page's visible text (`document.body.innerText`) contains T.
    Text(String),
    /// `--url PATTERN`: the tab's URL matches the glob, or contains the text.
    Url(String),
    /// `--fn EXPR`: the JavaScript expression is truthy (a promise is awaited; a function is
    /// called).
    Function(String),
    /// `--gone SEL`: nothing matches SEL, or what matches is hidden (a stale ref is gone).
    Gone(String),
}

impl Condition {
    /// The condition `flag` (with its value) names, if it is one of these.
    pub fn from_flag(flag: &str, value: &str) -> Option<Self> {
        let value = value.to_owned();
        Some(match flag {
            "--text" => Condition::Text(value),
            "--url" => Condition::Url(value),
            "--fn" => Condition::Function(value),
            "--gone" => Condition::Gone(value),
            _ => return None,
        })
    }

    /// What a timeout names as awaited.
    fn describe(&self) -> String {
        match self {
            Condition::Text(t) => format!("text {}", json!(t)),
            Condition::Url(p) => format!("a URL matching {}", json!(p)),
            Condition::Function(e) => format!("{} to be truthy", json!(e)),
            Condition::Gone(s) => format!("{s} to be hidden or gone"),
        }
    }
}

/// Waits for `condition` for at most `timeout`; the success line says what held.
pub fn wait_for(ctx: &Ctx, condition: &Condition, timeout: Duration) -> CommandResult {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(done) = check(ctx, condition, left)? {
            return Ok(done);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let url = ctx.tab.events.url();
            let glob = match condition {
                Condition::Url(pattern) => glob_hint(pattern, &url),
                _ => String::new(),
            };
            return Err(CommandError::failed_with_hint(
                format!(
                    "Operation timed out: waiting for {}: Timeout {}ms exceeded.",
                    condition.describe(),
                    timeout.as_millis()
                ),
                format!(
                    "The tab is at {url}.{glob} Wait longer with a last argument in ms (up to 300000), or check the page with 'browse text' / 'browse snapshot'.",
                ),
            ));
        }
        std::thread::sleep(left.min(POLL));
    }
}

/// One check: `Some(success line)` when the condition holds now. A promise from `--fn` is
/// waited on for at most `left`, so a promise that never settles cannot outlast the deadline.
fn check(ctx: &Ctx, condition: &Condition, left: Duration) -> Result<Option<String>, CommandError> {
    match condition {
        Condition::Text(text) => {
            // The active frame's document, as `text` reads it; a gone frame is an error.
            let realm = ctx.realm()?;
            // Between documents there is no body yet: just "not yet".
            let found = evaluate_in(
                &realm,
                &format!(
                    "!!(document.body && document.body.innerText.includes({}))",
                    json!(text)
                ),
                false,
            )
            .unwrap_or(Value::Bool(false));
            Ok((found == Value::Bool(true)).then(|| format!("Text {} appeared", json!(text))))
        }
        Condition::Url(pattern) => {
            let url = ctx.tab.events.url();
            Ok(url_matches(pattern, &url).then(|| format!("URL matched {pattern}: {url}")))
        }
        Condition::Function(expression) => {
            let script = format!(
                "(async () => {{ let v = ({expression}\n); if (typeof v === 'function') v = v(); \
                 return !!(await Promise.race([v, new Promise((r) => setTimeout(() => r(false), {}))])); }})()",
                left.as_millis().max(1)
            );
            // The realm `js` runs in: the active frame's.
            match evaluate_in(&ctx.realm()?, &script, true) {
                Ok(Value::Bool(true)) => Ok(Some(format!("Condition met: {expression}"))),
                Ok(_) => Ok(None),
                // A navigation destroyed the context mid-check: try again in the new one.
                Err(e) if e.body.error.contains("context was destroyed") => Ok(None),
                Err(e) => Err(CommandError::failed_with_hint(
                    format!("wait --fn: the expression threw: {}", e.body.error),
                    "Fix the expression; it is evaluated in the page, like 'browse js'.",
                )),
            }
        }
        Condition::Gone(sel) => {
            // A stale ref is a removed element: exactly what was awaited.
            let gone = match selector::find_if_present(ctx, sel)? {
                None => true,
                // Replaced between lookup and check: look again next time.
                Some(element) => matches!(
                    call_function(element.session(), &element.object_id, VISIBLE_FUNCTION),
                    Ok(Value::Bool(false))
                ),
            };
            Ok(gone.then(|| format!("Element {sel} is gone")))
        }
    }
}

/// `pattern` against `url`: a glob when it has a `*` (Playwright's `waitForURL` globs: `**`
/// any characters, `*` any but `/`, matched against the whole URL), else a substring.
pub fn url_matches(pattern: &str, url: &str) -> bool {
    if !pattern.contains('*') {
        return url.contains(pattern);
    }
    glob_match(pattern.as_bytes(), url.as_bytes())
}

/// For a `--url` glob that did not match `url`: what the glob matches (Playwright's rules,
/// which users often misread: `*` stops at `/`, and the glob must match the whole URL), and
/// the nearest reading of it that does match `url`, if one does. Empty for a substring
/// pattern (no `*`).
fn glob_hint(pattern: &str, url: &str) -> String {
    if !pattern.contains('*') {
        return String::new();
    }
    let mut text = " A pattern with * is a glob matched against the whole URL (scheme, host, \
                    path, query): * matches any characters but /, ** any characters."
        .to_owned();
    // Each star as `**`, then a `**` at either end: the usual intents of a pattern that
    // fails only by these rules.
    let doubled = pattern.replace("**", "*").replace('*', "**");
    let bare = pattern.trim_matches('*');
    let open_end = |p: &str| {
        if p.ends_with("**") {
            p.to_owned()
        } else {
            format!("{p}**")
        }
    };
    let open_start = |p: &str| {
        if p.starts_with("**") {
            p.to_owned()
        } else {
            format!("**{p}")
        }
    };
    let readings = [
        doubled.clone(),
        open_end(&doubled),
        open_start(&doubled),
        open_start(&open_end(&doubled)),
    ];
    if let Some(reading) = readings
        .iter()
        .find(|reading| *reading != pattern && url_matches(reading, url))
    {
        text.push_str(&format!(" '{reading}' would match the current URL."));
    } else if !bare.is_empty() && !bare.contains('*') && url.contains(bare) {
        text.push_str(&format!(
            " '{bare}' (no *) would match it as text the URL contains."
        ));
    }
    text
}

/// Glob matching by dynamic programming over (pattern, text) positions: O(len²) whatever
/// the pattern, so a pattern of many stars cannot take exponential time.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // matches[j]: the pattern consumed so far matches text[..j].
    let mut matches = vec![false; text.len() + 1];
    matches[0] = true;
    let mut p = 0;
    while p < pattern.len() {
        let mut next = vec![false; text.len() + 1];
        if pattern[p] == b'*' {
            let any = pattern.get(p + 1) == Some(&b'*');
            let mut reachable = false;
            for j in 0..=text.len() {
                // A star extends a match over any character (`**`) or any but `/` (`*`).
                reachable = matches[j] || (reachable && (any || text[j - 1] != b'/'));
                next[j] = reachable;
            }
            p += if any { 2 } else { 1 };
        } else {
            for j in 1..=text.len() {
                next[j] = matches[j - 1] && text[j - 1] == pattern[p];
            }
            p += 1;
        }
        matches = next;
    }
    matches[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_that_misses_is_explained_with_a_reading_that_matches() {
        let url = "http://127.0.0.1:8080/app/dashboard?tab=1";
        let hint = glob_hint("*/dashboard", url);
        assert!(hint.contains("* matches any characters but /"), "{hint}");
        assert!(
            hint.contains("'**/dashboard**' would match the current URL"),
            "{hint}"
        );
        let hint = glob_hint("http://127.0.0.1:*/app*", url);
        assert!(hint.contains("'http://127.0.0.1:**/app**' would"), "{hint}");
        assert!(glob_hint("/dashboard", url).is_empty());
        assert!(!glob_hint("**/settings", url).contains("would match"));
    }

    #[test]
    fn url_patterns_follow_playwright_globs_or_substrings() {
        let url = "http://127.0.0.1:8080/app/dashboard?tab=1";
        assert!(url_matches("/dashboard", url));
        assert!(!url_matches("/settings", url));
        assert!(url_matches("**/dashboard*", url));
        assert!(url_matches("http://127.0.0.1:*/app/**", url));
        assert!(!url_matches("http://*/dashboard*", url), "* stops at /");
        assert!(!url_matches("**/dash", url), "a glob matches the whole URL");
    }
}
