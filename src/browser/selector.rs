//! Resolving a selector argument (CSS, `css=`, `text=`, `xpath=`, `//…`, or an `@eN`/`@cN`
//! ref) to exactly one element, with Playwright's auto-wait and strictness: more than one
//! match is an error, never "the first one". Selectors look in the active frame (`frame`); a
//! ref resolves in the frame its snapshot found it in.
//!
//! An [`Element`] is a CDP remote object; it is released when the value is dropped so a
//! long-lived page does not accumulate handles (without waiting for Chromium's answer).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cdp::Tab;
use headless_chrome::protocol::cdp::{Runtime, DOM};
use serde_json::Value;

use crate::browser::css_syntax;
use crate::browser::frames::{FrameRef, Realm};
use crate::browser::page::{context_call_error, CommandError, Ctx};
use crate::browser::refs::RefEntry;

/// How long locator actions wait for their element (click, fill, select, hover, `html <sel>`):
/// `BROWSE_ACTION_TIMEOUT` (ms), 5000 by default, the timeout gstack gives Playwright's
/// actions; tests shorten it.
pub fn action_timeout() -> Duration {
    crate::settings::action_timeout()
}

/// How often a waiting lookup asks the page again.
const POLL: Duration = Duration::from_millis(75);

/// The strict-mode violation text (spec §5.3).
pub const STRICT_VIOLATION: &str =
    "Selector matched multiple elements. Be more specific or use @refs from 'snapshot'.";

/// One element of a frame of the tab, as a CDP remote object.
pub struct Element {
    /// `Runtime.RemoteObjectId`, usable with `Runtime.callFunctionOn` and the `DOM` domain
    /// of [`Element::session`].
    pub object_id: String,
    tab: Arc<Tab>,
    frame: Option<FrameRef>,
}

impl Element {
    /// Wraps a remote object id of `tab`'s session whose lifetime this value now owns.
    fn new(tab: &Arc<Tab>, object_id: String, frame: Option<FrameRef>) -> Self {
        Self {
            object_id,
            tab: Arc::clone(tab),
            frame,
        }
    }

    /// The CDP session the object lives in: the tab's, or an out-of-process iframe's. Calls on
    /// the object go there; mouse and keyboard input still goes to the tab.
    pub fn session(&self) -> &Arc<Tab> {
        &self.tab
    }

    /// The frame the element is in, when it is not the tab's main frame.
    pub fn frame(&self) -> Option<&FrameRef> {
        self.frame.as_ref()
    }
}

impl Drop for Element {
    fn drop(&mut self) {
        // Nothing waits for the answer: Chromium handles the release in order with the
        // session's later calls, and a failure only means the page (and so the object) is
        // already gone. Waiting cost a round trip (~1-4 ms) on every locator action.
        let _ = self.tab.send_method_unanswered(Runtime::ReleaseObject {
            object_id: self.object_id.clone(),
        });
    }
}

/// Whether resolving a ref makes sure its node is still in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connected {
    /// Checked with a `Runtime.callFunctionOn` of `isConnected` (one round trip): a node
    /// removed from the page is a stale ref.
    Checked,
    /// Left to the caller: for actions whose first page call tests `isConnected` itself and,
    /// when it is false, looks the selector up again with [`Connected::Checked`] (which gives
    /// the stale-ref error, or the ref's CSS-path fallback).
    LeftToCaller,
}

/// Finds the single element `selector` designates, waiting up to `wait` for it to appear.
///
/// More than one match fails at once with [`STRICT_VIOLATION`]; ref errors fail at once with
/// gstack's texts; no match at the deadline fails with `Timeout <ms>ms exceeded.` (see
/// [`is_timeout`]).
pub fn find_one(ctx: &Ctx, selector: &str, wait: Duration) -> Result<Element, CommandError> {
    find_one_with(ctx, selector, wait, Connected::Checked)
}

/// [`find_one`], with a ref's node checked to be in the document or not (see [`Connected`]).
pub fn find_one_with(
    ctx: &Ctx,
    selector: &str,
    wait: Duration,
    connected: Connected,
) -> Result<Element, CommandError> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(element) = find_optional_with(ctx, selector, connected)? {
            return Ok(element);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timeout_error(wait));
        }
        std::thread::sleep(left.min(POLL));
    }
}

/// Finds the single element `selector` designates without waiting; `None` when nothing
/// matches. Still strict, and a ref that does not resolve is still an error.
pub fn find_optional(ctx: &Ctx, selector: &str) -> Result<Option<Element>, CommandError> {
    find_optional_with(ctx, selector, Connected::Checked)
}

fn find_optional_with(
    ctx: &Ctx,
    selector: &str,
    connected: Connected,
) -> Result<Option<Element>, CommandError> {
    if let Some(name) = ref_name(selector) {
        return resolve_ref(ctx, selector, name, connected).map(Some);
    }
    let query = Query::parse(selector)?;
    query_one(&ctx.realm()?, &query)
}

/// The first element (in document order) `selector` designates, without waiting and without
/// strictness: gstack's `attrs` and `css` use `document.querySelector`. `None` when nothing
/// matches; a ref that does not resolve is still an error.
pub fn find_first(ctx: &Ctx, selector: &str) -> Result<Option<Element>, CommandError> {
    if let Some(name) = ref_name(selector) {
        return resolve_ref(ctx, selector, name, Connected::Checked).map(Some);
    }
    let query = Query::parse(selector)?;
    let realm = ctx.realm()?;
    let expression = format!(
        "(() => {{ const m = {}; return m.length ? m[0] : null; }})()",
        query.matches_expression()
    );
    let mut request = crate::cdp::evaluate_request(&expression, false);
    request.context_id = realm.context.and_then(|c| u32::try_from(c).ok());
    let reply = realm
        .cdp
        .call_method(request)
        .map_err(|e| context_call_error(realm.context, &e))?;
    if let Some(details) = reply.exception_details {
        return Err(first_line_error(details));
    }
    Ok(reply
        .result
        .object_id
        .map(|object_id| Element::new(&realm.cdp, object_id, realm.frame.clone())))
}

/// A page exception as its first line: a SyntaxError's stack adds nothing for the user.
fn first_line_error(details: Runtime::ExceptionDetails) -> CommandError {
    let mut error = crate::browser::page::script_error(details);
    error.body.error = error
        .body
        .error
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    error
}

/// True for the error [`find_one`] gives when nothing matched before its deadline.
pub fn is_timeout(error: &CommandError) -> bool {
    error.body.error.starts_with("Timeout ") && error.body.error.ends_with("ms exceeded.")
}

/// gstack's line for a locator call (`api`: Playwright's name, `innerHTML`) whose selector
/// matched nothing for `waited`, `Operation timed out: <api>: Timeout <ms>ms exceeded.`,
/// with a hint saying that nothing matched and how to find the element: Playwright's line
/// alone does not say whether the element was missing or not ready.
pub fn never_matched(api: &str, sel: &str, waited: Duration) -> CommandError {
    CommandError::failed_with_hint(
        format!(
            "Operation timed out: {api}: Timeout {}ms exceeded.",
            waited.as_millis()
        ),
        format!(
            "Nothing matched {sel} within {} ms: check it with 'browse snapshot -i' (and use \
             an @ref from it), or run 'browse wait {sel}' first if it appears later.",
            waited.as_millis()
        ),
    )
}

fn timeout_error(wait: Duration) -> CommandError {
    CommandError::failed(format!("Timeout {}ms exceeded.", wait.as_millis()))
}

/// `e3` for `@e3` / `@c1`; `None` for anything that is not a ref.
fn ref_name(selector: &str) -> Option<&str> {
    let name = selector.strip_prefix('@')?;
    let digits = name.strip_prefix('e').or_else(|| name.strip_prefix('c'))?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// Like [`find_optional`], but a stale ref (its element removed, its frame or document
/// replaced) is `None` rather than an error: for `wait --gone`, where gone is the goal. A ref
/// no snapshot ever gave is still an error.
pub fn find_if_present(ctx: &Ctx, selector: &str) -> Result<Option<Element>, CommandError> {
    match ref_name(selector) {
        Some(name) => resolve_ref_if_present(ctx, selector, name, Connected::Checked),
        None => find_optional(ctx, selector),
    }
}

fn resolve_ref(
    ctx: &Ctx,
    selector: &str,
    name: &str,
    connected: Connected,
) -> Result<Element, CommandError> {
    match resolve_ref_if_present(ctx, selector, name, connected)? {
        Some(element) => Ok(element),
        None => {
            let entry = ctx.state.refs.get(name);
            Err(entry.map_or_else(|| unknown_ref_error(selector), |e| stale_error(selector, e)))
        }
    }
}

/// The element behind a ref; `None` when the ref is stale; an error when no snapshot gave it.
fn resolve_ref_if_present(
    ctx: &Ctx,
    selector: &str,
    name: &str,
    connected: Connected,
) -> Result<Option<Element>, CommandError> {
    let Some(entry) = ctx.state.refs.get(name) else {
        return Err(unknown_ref_error(selector));
    };
    if ctx.state.refs.document != ctx.tab.events.document_count() {
        return Ok(None);
    }
    let realm = match &entry.frame {
        None => Realm::main(&ctx.tab.cdp),
        Some(frame) => match ctx.tab.frames.realm_of(frame) {
            Ok(realm) => realm,
            Err(_) => return Ok(None),
        },
    };
    if let Some((elements, index)) = &entry.held {
        // From the page snapshot engine: the element is held in the snapshot's array.
        return resolve_held(&realm, elements, *index);
    }
    if let Some(element) = resolve_backend_node(&realm, entry.backend_node_id, connected)? {
        return Ok(Some(element));
    }
    // A cursor-interactive ref may have been re-rendered into an equivalent node.
    if let Some(path) = &entry.css_path {
        if let Ok(Some(element)) = query_one(&realm, &Query::Css(path.clone())) {
            return Ok(Some(element));
        }
    }
    Ok(None)
}

fn unknown_ref_error(selector: &str) -> CommandError {
    CommandError::failed(format!(
        "Ref {selector} not found. Run 'snapshot' to get fresh refs."
    ))
}

fn stale_error(selector: &str, entry: &RefEntry) -> CommandError {
    CommandError::failed(format!(
        "Ref {selector} ({} \"{}\") is stale — element no longer exists. Run 'snapshot' for fresh refs.",
        entry.role, entry.name
    ))
}

/// The node at `index` of the page snapshot engine's array `elements` (a remote object of the
/// realm's session), if it is still connected.
fn resolve_held(
    realm: &Realm,
    elements: &str,
    index: u32,
) -> Result<Option<Element>, CommandError> {
    let Ok(reply) = realm.cdp.call_method(Runtime::CallFunctionOn {
        function_declaration:
            "function (i) { const n = this[i]; return n && n.isConnected ? n : null; }".into(),
        object_id: Some(elements.to_owned()),
        arguments: Some(vec![Runtime::CallArgument {
            value: Some(Value::from(index)),
            unserializable_value: None,
            object_id: None,
        }]),
        silent: Some(true),
        return_by_value: Some(false),
        generate_preview: None,
        user_gesture: None,
        await_promise: None,
        execution_context_id: None,
        object_group: None,
        throw_on_side_effect: None,
        unique_context_id: None,
        serialization_options: None,
    }) else {
        // The array's context is gone: so is its document.
        return Ok(None);
    };
    Ok(reply
        .result
        .object_id
        .map(|object_id| Element::new(&realm.cdp, object_id, realm.frame.clone())))
}

/// The live element behind a backend node id of the realm's session, if there is one; with
/// [`Connected::Checked`], only while it is still in the document.
fn resolve_backend_node(
    realm: &Realm,
    backend_node_id: i64,
    connected: Connected,
) -> Result<Option<Element>, CommandError> {
    let tab = &realm.cdp;
    let Ok(backend_node_id) = u32::try_from(backend_node_id) else {
        return Ok(None);
    };
    let Ok(reply) = tab.call_method(DOM::ResolveNode {
        node_id: None,
        backend_node_id: Some(backend_node_id),
        object_group: None,
        execution_context_id: None,
    }) else {
        return Ok(None);
    };
    let Some(object_id) = reply.object.object_id else {
        return Ok(None);
    };
    let element = Element::new(tab, object_id, realm.frame.clone());
    if connected == Connected::LeftToCaller {
        return Ok(Some(element));
    }
    // A node removed from the page can still be alive in memory; it is stale all the same.
    let connected = call_function(
        tab,
        &element.object_id,
        "function() { return this.isConnected; }",
    )?;
    Ok((connected == Value::Bool(true)).then_some(element))
}

/// Runs `function` with `this` bound to the remote object and returns its result by value.
pub(crate) fn call_function(
    tab: &Tab,
    object_id: &str,
    function: &str,
) -> Result<Value, CommandError> {
    call_function_with(tab, object_id, function, Vec::new())
}

/// [`call_function`] with JSON arguments.
pub(crate) fn call_function_with(
    tab: &Tab,
    object_id: &str,
    function: &str,
    args: Vec<Value>,
) -> Result<Value, CommandError> {
    let reply = tab
        .call_method(Runtime::CallFunctionOn {
            function_declaration: function.to_owned(),
            object_id: Some(object_id.to_owned()),
            arguments: Some(
                args.into_iter()
                    .map(|v| Runtime::CallArgument {
                        value: Some(v),
                        unserializable_value: None,
                        object_id: None,
                    })
                    .collect(),
            ),
            silent: Some(true),
            return_by_value: Some(true),
            generate_preview: None,
            user_gesture: Some(true),
            await_promise: Some(true),
            execution_context_id: None,
            object_group: None,
            throw_on_side_effect: None,
            unique_context_id: None,
            serialization_options: None,
        })
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    if let Some(details) = reply.exception_details {
        return Err(crate::browser::page::script_error(details));
    }
    Ok(reply.result.value.unwrap_or(Value::Null))
}

/// A parsed non-ref selector.
#[derive(Debug, Clone, PartialEq)]
enum Query {
    Css(String),
    /// CSS with Playwright's `:has-text("…")`: each complex selector as its combinator parts
    /// (see [`combinator_chains`]), each part's CSS with the texts it must contain.
    CssHasText(Vec<Vec<HasTextPart>>),
    XPath(String),
    /// Case-insensitive substring of the normalised text.
    TextContains(String),
    /// Exact (case-sensitive) match of the normalised text, from `text="…"`.
    TextExact(String),
    /// `text=/re/flags`.
    TextRegex(String, String),
    /// Playwright's `nth=N` step of a chain: the N-th of what the steps before found
    /// (0-based; negative counts from the end).
    Nth(i64),
    /// `a >> b`: each step searched inside what the step before found.
    Chain(Vec<Query>),
}

/// One combinator part of a `:has-text()` selector.
#[derive(Debug, Clone, PartialEq)]
struct HasTextPart {
    /// `' '` or `'>'`: how this part relates to the part before.
    combinator: char,
    /// The part without its `:has-text()` (`*` when nothing else was left).
    css: String,
    /// What its text must contain: lower-case, whitespace collapsed.
    texts: Vec<String>,
}

/// Playwright-only syntax we do not emulate; rejected rather than misread as CSS.
const UNSUPPORTED: &[&str] = &[":text(", ":text-is(", ":text-matches(", "internal:"];

impl Query {
    /// A selector, split into Playwright's `>>` steps when it has several.
    fn parse(selector: &str) -> Result<Self, CommandError> {
        let steps = split_chain(selector);
        if steps.len() == 1 {
            return Self::parse_step(selector, false);
        }
        let steps = steps
            .iter()
            .enumerate()
            .map(|(i, step)| Self::parse_step(step, i > 0))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(Query::Nth(_)) = steps.first() {
            return Err(unsupported(selector, "nth= as the first step"));
        }
        Ok(Query::Chain(steps))
    }

    /// One step. After a `>>`, a quoted step is a `text=` one and `nth=N` picks by index, as
    /// in Playwright's selector parser.
    fn parse_step(selector: &str, chained: bool) -> Result<Self, CommandError> {
        let selector = selector.trim();
        if selector.is_empty() {
            return Err(CommandError::failed("Empty selector"));
        }
        if let Some(rest) = selector.strip_prefix("text=") {
            return Ok(text_query(rest));
        }
        if chained && (selector.starts_with('"') || selector.starts_with('\'')) {
            return Ok(text_query(selector));
        }
        if let Some(rest) = selector.strip_prefix("nth=").filter(|_| chained) {
            return rest
                .trim()
                .parse()
                .map(Query::Nth)
                .map_err(|_| unsupported(selector, "nth= without a whole number"));
        }
        if let Some(rest) = selector.strip_prefix("xpath=") {
            return Ok(Query::XPath(rest.to_owned()));
        }
        if selector.starts_with("//") || selector.starts_with("(//") {
            return Ok(Query::XPath(selector.to_owned()));
        }
        for syntax in UNSUPPORTED {
            if selector.contains(syntax) {
                return Err(unsupported(selector, syntax));
            }
        }
        if let Some(rest) = selector.strip_prefix("css=") {
            return css_query(rest);
        }
        // `role=button`, `id=x`, `data-testid=y`: Playwright engines, never valid CSS.
        if let Some((engine, _)) = selector.split_once('=') {
            if !engine.is_empty()
                && engine
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(unsupported(selector, &format!("{engine}=")));
            }
        }
        css_query(selector)
    }

    /// A JS expression evaluating to an array of the matching elements of the document.
    fn matches_expression(&self) -> String {
        match self {
            Query::Chain(steps) => {
                let steps: Vec<String> = steps
                    .iter()
                    .map(|step| match step {
                        Query::Nth(n) => n.to_string(),
                        other => format!("(scope) => {}", other.scoped_expression()),
                    })
                    .collect();
                format!(
                    "(() => {{ let found = [document]; \
                     for (const step of [{}]) {{ \
                       if (typeof step === 'number') {{ \
                         const el = found[step < 0 ? found.length + step : step]; \
                         found = el ? [el] : []; continue; }} \
                       const next = new Set(); \
                       for (const scope of found) for (const el of step(scope)) next.add(el); \
                       found = Array.from(next); }} \
                     return found; }})()",
                    steps.join(", ")
                )
            }
            other => format!(
                "(() => {{ const scope = document; return {}; }})()",
                other.scoped_expression()
            ),
        }
    }

    /// A JS expression evaluating to an array of the matching elements inside `scope` (a
    /// variable holding the document or an element). CSS and `text=` reach into open shadow
    /// roots, as Playwright's engines do; XPath does not (nor does Playwright's).
    fn scoped_expression(&self) -> String {
        let quote = |s: &str| Value::String(s.to_owned()).to_string();
        match self {
            Query::Css(css) => css_expression(css),
            Query::CssHasText(chains) => has_text_expression(chains),
            // Only inside a chain, which handles them itself.
            Query::Nth(_) | Query::Chain(_) => "[]".to_owned(),
            Query::XPath(xpath) => format!(
                "(() => {{ const r = document.evaluate({}, scope, null, \
                 XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null); const out = []; \
                 for (let i = 0; i < r.snapshotLength; i++) {{ const n = r.snapshotItem(i); \
                 if (n.nodeType === 1 && n !== scope) out.push(n); }} return out; }})()",
                quote(xpath)
            ),
            Query::TextContains(t) => {
                let contains = format!(
                    "(s) => s.toLowerCase().includes({})",
                    quote(&normalise(t).to_lowercase())
                );
                text_expression(&contains, Some(&contains))
            }
            Query::TextExact(t) => {
                let needle = quote(&normalise(t));
                text_expression(
                    &format!("(s) => s === {needle}"),
                    Some(&format!("(s) => s.includes({needle})")),
                )
            }
            Query::TextRegex(source, flags) => text_expression(
                &format!(
                    "(() => {{ const re = new RegExp({}, {}); return (s) => re.test(s); }})()",
                    quote(source),
                    quote(flags)
                ),
                None,
            ),
        }
    }
}

/// The JS expression (an array of elements) that `selector`, a non-ref selector, designates:
/// for callers that look elements up their own way (`snapshot -s`).
pub(crate) fn matches_expression(selector: &str) -> Result<String, CommandError> {
    Ok(Query::parse(selector)?.matches_expression())
}

/// Splits `a >> b >> c` into its steps at every `>>` outside quotes, brackets and parentheses
/// (Playwright's selector parser); one step when there is none.
fn split_chain(selector: &str) -> Vec<&str> {
    let bytes = selector.as_bytes();
    let (mut depth, mut quote, mut start) = (0usize, None, 0);
    let mut steps = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\\' => i += 1,
                b'"' | b'\'' => quote = Some(b),
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth = depth.saturating_sub(1),
                b'>' if depth == 0 && bytes.get(i + 1) == Some(&b'>') => {
                    steps.push(&selector[start..i]);
                    i += 2;
                    start = i;
                    continue;
                }
                _ => {}
            },
        }
        i += 1;
    }
    steps.push(&selector[start.min(selector.len())..]);
    steps
}

/// A CSS step: checked with Playwright's parser first (a selector that cannot parse fails at
/// once, see [`css_syntax`]), then split for `:has-text()` when it has one.
fn css_query(css: &str) -> Result<Query, CommandError> {
    css_syntax::check(css).map_err(CommandError::failed)?;
    if !css.contains(":has-text(") {
        return Ok(Query::Css(css.to_owned()));
    }
    let mut chains = Vec::new();
    for chain in combinator_chains(css) {
        let mut parts = Vec::new();
        for (combinator, part) in chain {
            let (rest, texts) = take_has_text(&part)
                .ok_or_else(|| unsupported(css, ":has-text( before a + or ~ combinator"))?;
            let rest = rest.trim();
            let css = if rest.is_empty() || rest.ends_with(['+', '~']) {
                format!("{rest}*")
            } else {
                rest.to_owned()
            };
            parts.push(HasTextPart {
                combinator,
                css,
                texts,
            });
        }
        chains.push(parts);
    }
    Ok(Query::CssHasText(chains))
}

/// `part` without its top-level `:has-text(…)` pseudo-classes, and their texts (unquoted,
/// whitespace collapsed, lower-case: Playwright matches them as case-insensitive substrings).
/// `None` when one applies to an element before a sibling combinator (`a:has-text(x) + b`),
/// which the part-wise matching cannot express.
fn take_has_text(part: &str) -> Option<(String, Vec<String>)> {
    const PSEUDO: &str = ":has-text(";
    let mut rest = String::new();
    let mut texts = Vec::new();
    let mut tail = part;
    while let Some(at) = tail.find(PSEUDO) {
        rest.push_str(&tail[..at]);
        let args = &tail[at + PSEUDO.len()..];
        let close = closing_paren(args)?;
        let arg = args[..close].trim();
        let unquoted = match arg.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) if arg.len() >= 2 && arg.as_bytes()[arg.len() - 1] == *q => {
                &arg[1..arg.len() - 1]
            }
            _ => arg,
        };
        texts.push(normalise(&unquoted.replace("\\", "")).to_lowercase());
        tail = &args[close + 1..];
        if tail.contains(['+', '~']) {
            return None;
        }
    }
    rest.push_str(tail);
    Some((rest, texts))
}

/// The index of the `)` that closes a parenthesis opened just before `s`, outside quotes.
fn closing_paren(s: &str) -> Option<usize> {
    let (mut depth, mut quote, mut escaped) = (0usize, None, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                '"' | '\'' => quote = Some(c),
                '(' => depth += 1,
                ')' if depth == 0 => return Some(i),
                ')' => depth -= 1,
                _ => {}
            }
        }
    }
    None
}

fn unsupported(selector: &str, syntax: &str) -> CommandError {
    CommandError::failed(format!(
        "Unsupported selector syntax '{syntax}' in {selector:?}: Playwright-only selectors are not \
         supported. Use CSS, css=, text=, xpath= (or //…), or an @ref from 'snapshot'."
    ))
}

/// `text=` forms: `"exact"` / `'exact'`, `/regex/flags`, or a case-insensitive substring.
fn text_query(value: &str) -> Query {
    let bytes = value.as_bytes();
    if value.len() >= 2 {
        let (first, last) = (bytes[0], bytes[value.len() - 1]);
        if (first == b'"' || first == b'\'') && first == last {
            return Query::TextExact(value[1..value.len() - 1].to_owned());
        }
        if first == b'/' {
            if let Some(end) = value.rfind('/').filter(|&e| e > 0) {
                let flags = &value[end + 1..];
                if flags.chars().all(|c| "dgimsuyv".contains(c)) {
                    return Query::TextRegex(value[1..end].to_owned(), flags.to_owned());
                }
            }
        }
    }
    Query::TextContains(value.to_owned())
}

/// Whitespace collapsed and trimmed, as Playwright's text engine compares text.
fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// JS defining `shadowRoots()`: the document and every open shadow root under it, nested
/// ones included, documents first. A closed root is unreachable from page script by design.
/// A TreeWalker per tree: on a 120,000-element page it took a tenth of the time of iterating
/// `querySelectorAll('*')`.
const SHADOW_ROOTS_JS: &str = "const shadowRoots = () => { const out = [scope]; \
    for (let i = 0; i < out.length; i++) { \
      const w = document.createTreeWalker(out[i], NodeFilter.SHOW_ELEMENT); \
      for (let n = w.nextNode(); n; n = w.nextNode()) if (n.shadowRoot) out.push(n.shadowRoot); } \
    return out; };";

/// CSS through open shadow roots, as Playwright's CSS engine does: every tree is queried, and
/// the descendant and child combinators also cross from a shadow host into its shadow tree
/// (`#host .inner`, `#host > button`). A page with no shadow root gets plain
/// `querySelectorAll` semantics. Invalid CSS throws the browser's SyntaxError.
fn css_expression(css: &str) -> String {
    let quote = |s: &str| Value::String(s.to_owned()).to_string();
    let chains = Value::from(
        combinator_chains(css)
            .into_iter()
            .map(|chain| {
                Value::from(
                    chain
                        .into_iter()
                        .map(|(comb, part)| Value::from(vec![comb.to_string(), part]))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    );
    format!(
        "(() => {{ {SHADOW_ROOTS_JS} \
         const light = Array.from(scope.querySelectorAll({css})); \
         const roots = shadowRoots(); if (roots.length === 1) return light; \
         const chains = {chains}; \
         const up = (el) => el.parentElement || (el.parentNode && el.parentNode.host) || null; \
         const ancestorsMatch = (el, chain, i) => {{ if (i < 0) return true; \
           const direct = chain[i + 1][0] === '>'; \
           for (let a = up(el); a; a = direct ? null : up(a)) \
             if (a.matches(chain[i][1]) && ancestorsMatch(a, chain, i - 1)) return true; \
           return false; }}; \
         const out = new Set(); \
         for (const root of roots) for (const chain of chains) \
           for (const el of root.querySelectorAll(chain[chain.length - 1][1])) \
             if (ancestorsMatch(el, chain, chain.length - 2)) out.add(el); \
         return Array.from(out); }})()",
        css = quote(css),
    )
}

/// CSS with `:has-text()`: the elements of every tree under `scope` that match the last part
/// of a complex selector, whose ancestors match the parts before it (as [`css_expression`]
/// does across shadow roots), where each part's element also contains that part's texts
/// (Playwright's `:has-text`: the element's text, descendants' included, holds each text as a
/// case-insensitive substring, whitespace collapsed).
fn has_text_expression(chains: &[Vec<HasTextPart>]) -> String {
    let chains = Value::from(
        chains
            .iter()
            .map(|chain| {
                Value::from(
                    chain
                        .iter()
                        .map(|p| serde_json::json!([p.combinator.to_string(), p.css, p.texts]))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    );
    format!(
        "(() => {{ {SHADOW_ROOTS_JS} \
         const skip = new Set(['script', 'style', 'noscript', 'template', 'head', 'title']); \
         const cache = new Map(); \
         const raw = (n) => {{ let s = cache.get(n); if (s !== undefined) return s; s = ''; \
           if (n.nodeType === 3) s = n.nodeValue; \
           else if (!(n.nodeType === 1 && skip.has(n.localName))) {{ \
             for (let c = n.firstChild; c; c = c.nextSibling) s += raw(c); \
             if (n.shadowRoot) s += raw(n.shadowRoot); }} \
           cache.set(n, s); return s; }}; \
         const text = (el) => raw(el).replace(/\\s+/g, ' ').trim().toLowerCase(); \
         const ok = (el, part) => el.matches(part[1]) && part[2].every((t) => text(el).includes(t)); \
         const chains = {chains}; \
         const up = (el) => el.parentElement || (el.parentNode && el.parentNode.host) || null; \
         const ancestorsMatch = (el, chain, i) => {{ if (i < 0) return true; \
           const direct = chain[i + 1][0] === '>'; \
           for (let a = up(el); a; a = direct ? null : up(a)) \
             if (ok(a, chain[i]) && ancestorsMatch(a, chain, i - 1)) return true; \
           return false; }}; \
         const out = new Set(); \
         for (const root of shadowRoots()) for (const chain of chains) {{ \
           const last = chain[chain.length - 1]; \
           for (const el of root.querySelectorAll(last[1])) \
             if (ok(el, last) && ancestorsMatch(el, chain, chain.length - 2)) out.add(el); }} \
         return Array.from(out); }})()"
    )
}

/// A selector list split into its selectors, and each selector into the parts its top-level
/// descendant (whitespace) and child (`>`) combinators separate, each with the combinator
/// before it: `a b > c + d, e` gives `[[(' ', "a"), (' ', "b"), ('>', "c + d")], [(' ', "e")]]`.
/// Sibling combinators stay inside a part (siblings share a tree); brackets, parentheses,
/// quotes and escapes are kept whole.
fn combinator_chains(css: &str) -> Vec<Vec<(char, String)>> {
    fn finish(chains: &mut [Vec<(char, String)>], part: &mut String, comb: char) {
        let text = part.trim().to_owned();
        part.clear();
        if let (false, Some(chain)) = (text.is_empty(), chains.last_mut()) {
            chain.push((comb, text));
        }
    }
    let mut chains = vec![Vec::new()];
    let mut part = String::new();
    let mut comb = ' ';
    let (mut depth, mut quote, mut escaped, mut space) = (0usize, None, false, false);
    for c in css.chars() {
        if escaped || quote.is_some() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if Some(c) == quote {
                quote = None;
            }
            part.push(c);
            continue;
        }
        if depth == 0 {
            if c.is_whitespace() {
                space = true;
                continue;
            }
            if c == ',' || c == '>' {
                finish(&mut chains, &mut part, comb);
                comb = if c == '>' { '>' } else { ' ' };
                if c == ',' {
                    chains.push(Vec::new());
                }
                space = false;
                continue;
            }
            if std::mem::take(&mut space) && !part.is_empty() {
                if part.ends_with(['+', '~']) || c == '+' || c == '~' {
                    part.push(' ');
                } else {
                    finish(&mut chains, &mut part, comb);
                    comb = ' ';
                }
            }
        }
        match c {
            '\\' => escaped = true,
            '"' | '\'' => quote = Some(c),
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        part.push(c);
    }
    finish(&mut chains, &mut part, comb);
    chains.retain(|chain| !chain.is_empty());
    chains
}

/// Playwright's text engine, our way: an element's text is that of its text nodes and child
/// elements (and shadow tree), leaving out what is never rendered (script, style, noscript,
/// template, head, title); the elements whose normalised text satisfies `predicate` are kept,
/// innermost only (a parent matched only because a child matches is left out). Open shadow
/// roots are searched too.
///
/// `prune`, when given, is a predicate that holds for the normalised `textContent` of every
/// element with a matching descendant (the text contains the wanted text): a subtree whose
/// `textContent` (a superset of its rendered text) fails it is skipped whole, unless it holds
/// a shadow tree or a button-like `<input>`, whose text `textContent` does not see. Rendered
/// text is then only built on the way to a match: `text=` on a 120,000-element page went from
/// about 1.1 s to 0.1 s.
fn text_expression(predicate: &str, prune: Option<&str>) -> String {
    let prune = prune.unwrap_or("null");
    format!(
        "(() => {{ const test = {predicate}; const prune = {prune}; {SHADOW_ROOTS_JS} \
         const skip = new Set(['script', 'style', 'noscript', 'template', 'head', 'title']); \
         const buttonInput = (n) => n instanceof HTMLInputElement && \
           ['button', 'submit', 'reset'].includes(n.type); \
         const up = (e) => e.parentElement || (e.parentNode && e.parentNode.host) || null; \
         const keep = new Set(); \
         const keepPath = (e) => {{ for (; e && !keep.has(e); e = up(e)) keep.add(e); }}; \
         if (prune) for (const root of shadowRoots()) {{ \
           if (root.host) keepPath(root.host); \
           for (const i of root.querySelectorAll('input')) if (buttonInput(i)) keepPath(i); }} \
         const cache = new Map(); \
         const raw = (node) => {{ let s = cache.get(node); if (s !== undefined) return s; s = ''; \
           if (buttonInput(node)) s = node.value; \
           else if (!(node.nodeType === 1 && skip.has(node.localName))) {{ \
             for (let c = node.firstChild; c; c = c.nextSibling) \
               if (c.nodeType === 3) s += c.nodeValue; else if (c.nodeType === 1) s += raw(c); \
             if (node.shadowRoot) s += raw(node.shadowRoot); }} \
           cache.set(node, s); return s; }}; \
         const norm = (s) => s.replace(/\\s+/g, ' ').trim(); \
         const out = []; \
         const visit = (el) => {{ if (skip.has(el.localName)) return false; \
           if (prune && !keep.has(el) && !prune(norm(el.textContent || ''))) return false; \
           let childMatched = false; \
           for (const c of el.children) if (visit(c)) childMatched = true; \
           if (el.shadowRoot) for (const c of el.shadowRoot.children) if (visit(c)) childMatched = true; \
           if (childMatched) return true; \
           if (test(norm(raw(el)))) {{ out.push(el); return true; }} return false; }}; \
         if (scope === document) {{ if (document.body) visit(document.body); }} \
         else {{ for (const c of scope.children) visit(c); \
           if (scope.shadowRoot) for (const c of scope.shadowRoot.children) visit(c); }} \
         return out; }})()"
    )
}

/// Runs the query once in `realm`: the element when exactly one matches, `None` for none.
fn query_one(realm: &Realm, query: &Query) -> Result<Option<Element>, CommandError> {
    let tab = &realm.cdp;
    let expression = format!(
        "(() => {{ const m = {}; return m.length === 1 ? m[0] : m.length; }})()",
        query.matches_expression()
    );
    let mut request = crate::cdp::evaluate_request(&expression, false);
    request.context_id = realm.context.and_then(|c| u32::try_from(c).ok());
    let reply = tab
        .call_method(request)
        .map_err(|e| context_call_error(realm.context, &e))?;
    if let Some(details) = reply.exception_details {
        return Err(first_line_error(details));
    }
    if let Some(object_id) = reply.result.object_id {
        return Ok(Some(Element::new(tab, object_id, realm.frame.clone())));
    }
    match reply.result.value.as_ref().and_then(Value::as_u64) {
        Some(0) | None => Ok(None),
        Some(count) => Err(CommandError::failed_with_hint(
            STRICT_VIOLATION,
            format!(
                "It matched {count} elements. Narrow it (an id, a parent, :nth-of-type), or run 'browse snapshot -i' and use the @ref of the one you mean."
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_recognised() {
        assert_eq!(ref_name("@e3"), Some("e3"));
        assert_eq!(ref_name("@c12"), Some("c12"));
        assert_eq!(ref_name("@e"), None);
        assert_eq!(ref_name("@x1"), None);
        assert_eq!(ref_name("e3"), None);
        assert_eq!(ref_name("@e3a"), None);
    }

    #[test]
    fn selector_forms_parse() {
        assert_eq!(Query::parse("#a .b").ok(), Some(Query::Css("#a .b".into())));
        assert_eq!(
            Query::parse("css=div > p").ok(),
            Some(Query::Css("div > p".into()))
        );
        assert_eq!(
            Query::parse("input[name=q]").ok(),
            Some(Query::Css("input[name=q]".into()))
        );
        assert_eq!(
            Query::parse("//div[@id='x']").ok(),
            Some(Query::XPath("//div[@id='x']".into()))
        );
        assert_eq!(
            Query::parse("xpath=//p").ok(),
            Some(Query::XPath("//p".into()))
        );
        assert_eq!(
            Query::parse("text=Save").ok(),
            Some(Query::TextContains("Save".into()))
        );
        assert_eq!(
            Query::parse("text=\"Save\"").ok(),
            Some(Query::TextExact("Save".into()))
        );
        assert_eq!(
            Query::parse("text=/sa+ve/i").ok(),
            Some(Query::TextRegex("sa+ve".into(), "i".into()))
        );
        assert_eq!(
            Query::parse("text=a/b").ok(),
            Some(Query::TextContains("a/b".into()))
        );
    }

    #[test]
    fn playwright_only_syntax_is_rejected() {
        for s in [
            "p:text(\"x\")",
            "internal:role=button",
            "role=button",
            "data-testid=x",
        ] {
            let err = Query::parse(s)
                .err()
                .map(|e| e.body.error)
                .unwrap_or_default();
            assert!(err.starts_with("Unsupported selector syntax"), "{s}: {err}");
        }
    }

    #[test]
    fn combinators_split_selectors() {
        let chains = |css: &str| {
            combinator_chains(css)
                .into_iter()
                .map(|chain| {
                    chain
                        .into_iter()
                        .map(|(comb, part)| format!("{comb}{part}"))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(chains("#inner"), vec![vec![" #inner"]]);
        assert_eq!(
            chains("  #host  .panel > b , i ~ u"),
            vec![vec![" #host", " .panel", ">b"], vec![" i ~ u"]]
        );
        assert_eq!(
            chains("a[title='x > y, z'] :is(p > b)\\ c"),
            vec![vec![" a[title='x > y, z']", " :is(p > b)\\ c"]]
        );
        assert_eq!(
            chains("div >p+ span>em"),
            vec![vec![" div", ">p+ span", ">em"]]
        );
        assert_eq!(chains("a +b"), vec![vec![" a +b"]]);
        assert_eq!(chains(""), Vec::<Vec<String>>::new());
    }

    #[test]
    fn timeout_errors_are_recognisable() {
        assert!(is_timeout(&timeout_error(action_timeout())));
        assert!(!is_timeout(&CommandError::failed(STRICT_VIOLATION)));
    }
}
