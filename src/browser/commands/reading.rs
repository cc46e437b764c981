//! Reading and inspection commands: `text`, `html`, `links`, `forms`, `js`, `eval`, `attrs`,
//! `is`, `css`, `cookies` and `storage`, plus the page-side visibility test `wait <sel>`
//! shares with `is visible`.
//!
//! Whatever gstack prints as `JSON.stringify(v, null, 2)` of a page value is stringified in
//! the page, so key order is the page's (serde_json would sort it).

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use headless_chrome::protocol::cdp::{Network, Runtime};
use serde::Serialize;
use serde_json::Value;

use crate::browser::confine;
use crate::browser::frames::Realm;
use crate::browser::page::{context_call_error, evaluate_in, CommandError, CommandResult, Ctx};
use crate::browser::selector::{self, Element};
use crate::cdp::NoAnswer;

/// gstack's `text`: the body cloned without scripts, styles and SVG, its `innerText` (which on
/// a detached clone behaves like `textContent`), each line trimmed, empty lines dropped.
const TEXT_SCRIPT: &str = r#"(() => {
  const body = document.body;
  if (!body) return '';
  const clone = body.cloneNode(true);
  clone.querySelectorAll('script, style, noscript, svg').forEach(el => el.remove());
  return clone.innerText.split('\n').map(l => l.trim()).filter(l => l).join('\n');
})()"#;

/// `text`: extra arguments are ignored, as in gstack.
pub fn text(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    let value = page_script(ctx, TEXT_SCRIPT)?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Evaluates one of our page scripts in the active frame; a page exception becomes a
/// one-line-per-message error.
fn page_script(ctx: &Ctx, script: &str) -> Result<Value, CommandError> {
    evaluate_in(&ctx.realm()?, script, false)
        .map_err(|e| CommandError::failed(without_stack(&e.body.error)))
}

/// The doctype line (if any) and the root element's markup.
const DOCUMENT_HTML_SCRIPT: &str = r#"(() => {
  const dt = document.doctype;
  const root = document.documentElement;
  const html = root ? root.outerHTML : '';
  return dt ? `<!DOCTYPE ${dt.name}>\n${html}` : html;
})()"#;

/// `html [sel]`: the whole document, or the `innerHTML` of the one element `sel` matches.
pub fn html(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(sel) = args.first() else {
        let value = page_script(ctx, DOCUMENT_HTML_SCRIPT)?;
        return Ok(value.as_str().unwrap_or_default().to_owned());
    };
    let element = selector::find_one(ctx, sel, selector::action_timeout()).map_err(|e| {
        if selector::is_timeout(&e) {
            selector::never_matched("innerHTML", sel, selector::action_timeout())
        } else {
            e
        }
    })?;
    let value = call_on(&element, "function() { return this.innerHTML; }", vec![])?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Runs `function` on an element (in its own frame's session) and returns its result by value.
fn call_on(element: &Element, function: &str, args: Vec<Value>) -> Result<Value, CommandError> {
    selector::call_function_with(element.session(), &element.object_id, function, args)
        .map_err(|e| CommandError::failed(without_stack(&e.body.error)))
}

/// An error description without its `at …` stack frames.
fn without_stack(description: &str) -> String {
    description
        .lines()
        .filter(|l| !l.trim_start().starts_with("at "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every link with text; `slice(0, 120)` counts UTF-16 units, as gstack does.
const LINKS_SCRIPT: &str = r#"(() => [...document.querySelectorAll('a[href]')]
  .map(a => ({ text: (a.textContent || '').trim().slice(0, 120), href: a.href }))
  .filter(l => l.text && l.href)
  .map(l => `${l.text} → ${l.href}`)
  .join('\n'))()"#;

/// `links`: one `<text> → <href>` line per link.
pub fn links(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    let value = page_script(ctx, LINKS_SCRIPT)?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// The secret-name pattern of gstack's `cookies` (also used for form fields and storage).
const SECRET_NAME_JS: &str = r"/(^|[_.-])(token|secret|key|password|credential|auth|jwt|session|csrf|sid)($|[_.-])|api.?key/i";

/// The secret-value pattern of gstack's `cookies` and `storage`.
const SECRET_VALUE_JS: &str = r"/^(eyJ|sk-|sk_live_|sk_test_|pk_live_|pk_test_|rk_live_|sk-ant-|ghp_|gho_|github_pat_|xox[bpsa]-|AKIA[A-Z0-9]{16}|AIza|SG\.|Bearer\s|sbp_)/";

/// Every form and its fields. `undefined` members vanish in `JSON.stringify`, which is how
/// missing keys are left out; the object literals fix the key order.
fn forms_script() -> String {
    format!(
        r#"(() => {{
  const secret = {SECRET_NAME_JS};
  const forms = [...document.querySelectorAll('form')].map((form, index) => {{
    const fields = [...form.querySelectorAll('input, select, textarea')].map(el => {{
      const redact = el.type === 'password'
        || (!!el.name && secret.test(el.name))
        || (!!el.id && secret.test(el.id));
      return {{
        tag: el.tagName.toLowerCase(),
        type: el.type || undefined,
        name: el.name || undefined,
        id: el.id || undefined,
        placeholder: el.placeholder || undefined,
        required: el.required || undefined,
        value: redact ? '[redacted]' : (el.value || undefined),
        options: el.tagName === 'SELECT'
          ? [...el.options].map(o => ({{ value: o.value, text: o.text }}))
          : undefined,
      }};
    }});
    return {{
      index,
      action: form.action || undefined,
      method: form.method || 'get',
      id: form.id || undefined,
      fields,
    }};
  }});
  return JSON.stringify(forms, null, 2);
}})()"#
    )
}

/// `forms`: 2-space JSON of every form, secrets redacted.
pub fn forms(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    let value = page_script(ctx, &forms_script())?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// `--out`, `--raw` and the remaining words of `js` / `eval`.
#[derive(Debug, Default, PartialEq)]
struct OutArgs {
    out: Option<String>,
    raw: bool,
    rest: Vec<String>,
}

fn parse_out_args(args: &[String]) -> Result<OutArgs, CommandError> {
    let mut parsed = OutArgs::default();
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        let path = if arg == "--out" {
            match words.next() {
                Some(v) if !v.starts_with("--") => Some(v.clone()),
                _ => return Err(CommandError::failed("--out requires a file path")),
            }
        } else if let Some(v) = arg.strip_prefix("--out=") {
            if v.is_empty() {
                return Err(CommandError::failed("--out requires a file path"));
            }
            Some(v.to_owned())
        } else if arg == "--raw" {
            parsed.raw = true;
            None
        } else if let Some(v) = arg.strip_prefix("--raw=") {
            parsed.raw = match v.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(CommandError::failed("--raw must be true or false")),
            };
            None
        } else {
            parsed.rest.push(arg.clone());
            None
        };
        if let Some(path) = path {
            if parsed.out.replace(path).is_some() {
                return Err(CommandError::failed("--out specified more than once"));
            }
        }
    }
    Ok(parsed)
}

/// `js <expr…> [--out <f>] [--raw]`.
pub fn js(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let parsed = parse_out_args(args)?;
    let code = parsed.rest.join(" ");
    if code.is_empty() {
        return Err(CommandError::usage("js"));
    }
    // The output path is checked before the page runs anything: a refused path must not
    // leave the script's side effects behind.
    let target = out_target(ctx, parsed.out.as_deref())?;
    let result = run_script(ctx, &code)?;
    match (parsed.out, target) {
        (Some(out), Some(target)) => {
            let n = write_result(&target, &out, &result, parsed.raw)?;
            Ok(format!("JS result written: {out} ({n} bytes)"))
        }
        _ => Ok(result),
    }
}

/// Where `--out` writes (see [`confine::output`]), checked before the script runs.
fn out_target(ctx: &Ctx, out: Option<&str>) -> Result<Option<std::path::PathBuf>, CommandError> {
    out.map(|out| confine::output(&ctx.cwd, out)).transpose()
}

/// `eval <file.js> [--out <f>] [--raw]`: as `js`, with the code read from a file.
pub fn eval(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let parsed = parse_out_args(args)?;
    let Some(file) = parsed.rest.first() else {
        return Err(CommandError::usage("eval"));
    };
    let path = confine::input(&ctx.cwd, file)?;
    let code = fs::read_to_string(&path)
        .map_err(|e| CommandError::failed(format!("Cannot read {file}: {e}")))?;
    let target = out_target(ctx, parsed.out.as_deref())?;
    let result = run_script(ctx, &code)?;
    match (parsed.out, target) {
        (Some(out), Some(target)) => {
            let n = write_result(&target, &out, &result, parsed.raw)?;
            Ok(format!("Eval result written: {out} ({n} bytes)"))
        }
        _ => Ok(result),
    }
}

/// True when `code` uses `await` outside comments (a string mentioning it also counts; the
/// async wrapper is harmless then).
fn has_await(code: &str) -> bool {
    let mut stripped = String::with_capacity(code.len());
    for line in code.split('\n') {
        if !stripped.is_empty() {
            stripped.push('\n');
        }
        stripped.push_str(line.find("//").map_or(line, |i| &line[..i]));
    }
    let mut text = String::with_capacity(stripped.len());
    let mut rest = stripped.as_str();
    while let Some(start) = rest.find("/*") {
        match rest[start + 2..].find("*/") {
            Some(end) => {
                text.push_str(&rest[..start]);
                rest = &rest[start + 2 + end + 2..];
            }
            None => break,
        }
    }
    text.push_str(rest);
    contains_word(&text, "await")
}

/// `\bword\b` for an ASCII word.
fn contains_word(text: &str, word: &str) -> bool {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(word).any(|(i, _)| {
        !is_word(text[..i].chars().next_back()) && !is_word(text[i + word.len()..].chars().next())
    })
}

/// JavaScript's `code.replace(/;+\s*$/, '')`.
fn strip_trailing_semicolons(code: &str) -> &str {
    let body = code.trim_end_matches(is_js_space);
    let cut = body.trim_end_matches(';');
    if cut.len() == body.len() {
        code
    } else {
        cut
    }
}

/// Index of the parenthesis closing the one `src` starts with, skipping string literals.
fn matching_paren(src: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in src.char_indices() {
        if escaped {
            escaped = false;
        } else if let Some(q) = quote {
            if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
        } else if matches!(c, '"' | '\'' | '`') {
            quote = Some(c);
        } else if c == '(' {
            depth += 1;
        } else if c == ')' {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// One parenthesised expression or IIFE (optionally awaited, optionally followed by a
/// member access), however many lines or semicolons it holds inside.
fn is_single_paren_expression(code: &str) -> bool {
    let trimmed = strip_trailing_semicolons(code.trim());
    let mut src = trimmed;
    if let Some(after) = ["await ", "await\t", "await\n"]
        .iter()
        .find_map(|p| src.strip_prefix(p))
    {
        src = after.trim();
    }
    if !src.starts_with('(') {
        return false;
    }
    let Some(close) = matching_paren(src) else {
        return false;
    };
    let rest = src[close + 1..].trim();
    if rest.is_empty() {
        return true;
    }
    if rest.starts_with('(') {
        if let Some(call_close) = matching_paren(rest) {
            let after = rest[call_close + 1..].trim();
            return after.is_empty() || after.starts_with('.');
        }
    }
    false
}

/// Whether awaited code needs a statement body rather than an expression body.
fn needs_block(code: &str) -> bool {
    let trimmed = code.trim();
    if is_single_paren_expression(trimmed) {
        return false;
    }
    let clean = strip_trailing_semicolons(trimmed);
    const KEYWORDS: &[&str] = &[
        "const", "let", "var", "function", "class", "return", "throw", "if", "for", "while",
        "switch", "try",
    ];
    clean.contains('\n') || KEYWORDS.iter().any(|k| contains_word(clean, k)) || clean.contains(';')
}

/// gstack's async wrap: code using `await` runs inside an async arrow, as an expression body
/// or, for statements, a block body (which then needs its own `return`).
fn wrap_for_evaluate(code: &str) -> String {
    if !has_await(code) {
        return code.to_owned();
    }
    let trimmed = code.trim();
    if needs_block(trimmed) {
        format!("(async()=>{{\n{code}\n}})()")
    } else {
        format!("(async()=>({}))()", strip_trailing_semicolons(trimmed))
    }
}

/// An object result as gstack prints it: Playwright first turns the value into plain data
/// (its `utilityScriptSerializers`: a DOM node becomes the string `ref: <Node>`, a document
/// `ref: <Document>`, a window `ref: <Window>`; functions and symbols become `undefined`; an
/// Error keeps only its `name` as an own property; an object with no own keys but a `toJSON`
/// becomes what that returns; a Date or URL stays itself, so JSON quotes its ISO string or
/// href; getters that throw are left out), then gstack applies `JSON.stringify(v, null, 2)` to objects and `String(v)` to the
/// rest. Done in the page so key order is kept; a cycle throws as `JSON.stringify` would,
/// naming the property that closes it (`result.a.self refers back to result`).
const STRINGIFY_OBJECT: &str = r#"function() {
  'use strict';
  const path = new Map();
  const trail = [];
  const at = (n) => 'result' + trail.slice(0, n).join('');
  const plain = (v) => {
    if (v && typeof v === 'object') {
      if (typeof Window === 'function' && v instanceof Window) return 'ref: <Window>';
      if (typeof Document === 'function' && v instanceof Document) return 'ref: <Document>';
      if (typeof Node === 'function' && v instanceof Node) return 'ref: <Node>';
    }
    if (typeof v === 'symbol' || typeof v === 'function') return undefined;
    if (v === null || typeof v !== 'object') return v;
    let proto = null;
    try { proto = Object.getPrototypeOf(v); } catch (e) {}
    if (v instanceof Error || (proto && proto.name === 'Error')) {
      const e = new Error(v.message);
      e.name = v.name;
      return e;
    }
    // Playwright carries these as themselves; JSON then quotes their ISO string or href.
    const tag = Object.prototype.toString.call(v);
    if (tag === '[object Date]' || tag === '[object URL]') return v;
    if (path.has(v)) {
      throw new TypeError('Converting circular structure to JSON: ' + at(trail.length) +
        ' refers back to ' + at(path.get(v)));
    }
    path.set(v, trail.length);
    try {
      if (Array.isArray(v)) {
        const out = [];
        for (let i = 0; i < v.length; i++) {
          trail.push('[' + i + ']');
          try { out.push(plain(v[i])); } finally { trail.pop(); }
        }
        return out;
      }
      const keys = Object.keys(v);
      if (keys.length === 0 && typeof v.toJSON === 'function') {
        try { return plain(v.toJSON()); } catch (e) {}
      }
      const out = {};
      for (const k of keys) {
        if (k === '__proto__') continue;
        let item;
        try { item = v[k]; } catch (e) { continue; }
        trail.push(/^[A-Za-z_$][\w$]*$/.test(k) ? '.' + k : '[' + JSON.stringify(k) + ']');
        try {
          out[k] = k === 'toJSON' && typeof item === 'function' ? {} : plain(item);
        } finally {
          trail.pop();
        }
      }
      return out;
    } finally {
      path.delete(v);
    }
  };
  const value = plain(this);
  return typeof value === 'object' ? JSON.stringify(value, null, 2) : String(value ?? '');
}"#;

/// Evaluates user code (awaiting a promise result) and turns the result into gstack's text.
///
/// Playwright runs the code through an indirect `eval`, so its `let`/`const` live only for
/// that call and the same `js` can run twice on one page; a plain `Runtime.evaluate` would
/// keep them and refuse the second run. CDP lets that `eval` through a page's CSP.
fn run_script(ctx: &Ctx, code: &str) -> Result<String, CommandError> {
    let literal = Value::String(wrap_for_evaluate(code)).to_string();
    let realm = ctx.realm()?;
    let text = evaluate_user_code(&realm, &format!("(0, eval)({literal})"));
    let _ = realm.cdp.call_method(Runtime::ReleaseObjectGroup {
        object_group: JS_OBJECT_GROUP.into(),
    });
    text
}

/// Where `js`/`eval` results live until they are stringified.
const JS_OBJECT_GROUP: &str = "browse-js";

/// Runs user code in `realm` (the active frame), waiting at most `BROWSE_SCRIPT_TIMEOUT` for
/// the promise it returns to settle.
fn evaluate_user_code(realm: &Realm, expression: &str) -> Result<String, CommandError> {
    let limit = crate::settings::script_timeout();
    let reply = realm
        .cdp
        .call_method_within(
            Runtime::Evaluate {
                expression: expression.to_owned(),
                object_group: Some(JS_OBJECT_GROUP.into()),
                include_command_line_api: None,
                silent: Some(true),
                context_id: realm.context.and_then(|c| u32::try_from(c).ok()),
                return_by_value: Some(false),
                generate_preview: None,
                user_gesture: Some(true),
                await_promise: Some(true),
                throw_on_side_effect: None,
                timeout: None,
                disable_breaks: None,
                repl_mode: None,
                allow_unsafe_eval_blocked_by_csp: Some(true),
                unique_context_id: None,
                serialization_options: None,
            },
            limit,
        )
        .map_err(|e| match e.downcast_ref::<NoAnswer>() {
            Some(_) if page_answers(realm) => unsettled_promise(limit),
            _ => context_call_error(realm.context, &e),
        })?;
    match reply.exception_details {
        Some(details) => Err(CommandError::failed(exception_message(details))),
        None => stringify_result(realm, &reply.result),
    }
}

/// True when `realm`'s page still runs a script at once: an evaluation that got no answer
/// then waited on a promise of the page's, not on a stuck renderer or Chromium.
fn page_answers(realm: &Realm) -> bool {
    let mut probe = crate::cdp::evaluate_request("0", true);
    probe.context_id = realm.context.and_then(|c| u32::try_from(c).ok());
    realm
        .cdp
        .call_method_within(probe, Duration::from_secs(1))
        .is_ok()
}

/// The page's promise never settled (a fetch that never ends, a forgotten `resolve`): the
/// page's doing, said as such, with what to do.
fn unsettled_promise(limit: Duration) -> CommandError {
    CommandError::failed_with_hint(
        format!(
            "The page's promise did not settle within {}ms (the page is still waiting on it; \
             Chromium is fine)",
            limit.as_millis()
        ),
        "Bound it in the script: Promise.race([p, new Promise(r => setTimeout(r, 1000))]); \
         or allow longer with BROWSE_SCRIPT_TIMEOUT=<ms> (below BROWSE_COMMAND_TIMEOUT).",
    )
}

/// An exception as one message: an error's `Name: message` without its stack frames, or the
/// thrown value itself.
fn exception_message(details: Runtime::ExceptionDetails) -> String {
    let Some(exception) = details.exception else {
        return details.text;
    };
    if let Some(Value::String(s)) = &exception.value {
        return s.clone();
    }
    match exception.description {
        Some(description) => without_stack(&description),
        None => exception
            .value
            .map(|v| v.to_string())
            .unwrap_or(details.text),
    }
}

/// The result could not be turned into text; a cycle (the message names where it closes)
/// gets a hint saying what `js`/`eval` print and how to return something that prints.
fn unprintable_result(message: String) -> CommandError {
    if !message.contains("circular structure") {
        return CommandError::failed(message);
    }
    CommandError::failed_with_hint(
        message,
        "js and eval print an object as JSON, which cannot hold a cycle (DOM-like graphs, \
         parent links): return the fields you need, e.g. 'browse js \"({id: o.id, name: \
         o.name})\"', or a string you build, e.g. JSON.stringify(o, ['id', 'name']).",
    )
}

/// `String(v)` for primitives, `JSON.stringify(v, null, 2)` for objects and null (after
/// Playwright's serialisation, see [`STRINGIFY_OBJECT`]), and an empty string for undefined,
/// functions and symbols.
fn stringify_result(realm: &Realm, result: &Runtime::RemoteObject) -> Result<String, CommandError> {
    use Runtime::RemoteObjectType as T;
    if result.subtype == Some(Runtime::RemoteObjectSubtype::Null) {
        return Ok("null".into());
    }
    match result.Type {
        // Playwright cannot carry a function or a symbol back: they arrive as undefined.
        T::Undefined | T::Function | T::Symbol => Ok(String::new()),
        T::String => Ok(result
            .value
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()),
        T::Boolean => Ok(result
            .value
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default()),
        // The description is the page's own number formatting (`1e+21`, `NaN`), except
        // that `String(-0)` is `0` and `String(5n)` is `5`.
        T::Number | T::Bigint => {
            let description = result.description.clone().unwrap_or_default();
            Ok(match description.as_str() {
                "-0" => "0".into(),
                d => d.strip_suffix('n').unwrap_or(d).to_owned(),
            })
        }
        _ => {
            let Some(object_id) = &result.object_id else {
                return Ok(result.description.clone().unwrap_or_default());
            };
            let value =
                selector::call_function_with(&realm.cdp, object_id, STRINGIFY_OBJECT, Vec::new())
                    .map_err(|e| unprintable_result(without_stack(&e.body.error)))?;
            Ok(value.as_str().unwrap_or_default().to_owned())
        }
    }
}

/// Writes a `js`/`eval` result for `--out` and returns the byte count. A base64 data URL is
/// decoded to its bytes unless `raw`.
fn write_result(path: &Path, out: &str, text: &str, raw: bool) -> Result<usize, CommandError> {
    let bytes = match (raw, decode_data_url(text)) {
        (false, Some(decoded)) => decoded?,
        _ => text.as_bytes().to_vec(),
    };
    confine::create_parents(path)?;
    // Atomically, as every output: a symlink planted since the check is replaced, not
    // written through, and a failed write leaves no half file.
    crate::atomic_file::write_atomic(path, &bytes, 0o644)
        .map_err(|e| CommandError::failed(format!("Cannot write {out}: {e}")))?;
    Ok(bytes.len())
}

/// The payload of a `data:…;base64,…` URL; `None` for anything else.
fn decode_data_url(text: &str) -> Option<Result<Vec<u8>, CommandError>> {
    let rest = text.strip_prefix("data:")?;
    let (header, payload) = rest.split_once(',')?;
    if !header
        .split(';')
        .any(|t| t.trim().eq_ignore_ascii_case("base64"))
    {
        return None;
    }
    let malformed = || {
        CommandError::failed("--out: malformed base64 in data URL (decode would corrupt output)")
    };
    let payload: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    let body = payload.trim_end_matches('=');
    let padding = payload.len() - body.len();
    let valid = padding <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !valid {
        return Some(Err(malformed()));
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    Some(engine.decode(body).map_err(|_| malformed()))
}

/// Every attribute, in document order.
const ATTRS_FUNCTION: &str = "function() { const out = {}; \
    for (const a of this.attributes) out[a.name] = a.value; \
    return JSON.stringify(out, null, 2); }";

/// `attrs <sel>`: 2-space JSON of the first matching element's attributes (gstack uses
/// `document.querySelector`: no strictness, no wait).
pub fn attrs(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(sel) = args.first() else {
        return Err(CommandError::usage("attrs"));
    };
    let Some(element) = selector::find_first(ctx, sel)? else {
        return Ok(format!("Element not found: {sel}"));
    };
    let value = call_on(&element, ATTRS_FUNCTION, vec![])?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Playwright's visibility: a non-empty box and not `visibility: hidden` (nor hidden by
/// `content-visibility` or a closed `<details>`); `display: contents` looks at the children.
pub(super) const VISIBLE_FUNCTION: &str = r#"function() {
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === 'contents') {
      for (let c = el.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 1 && visible(c)) return true;
        if (c.nodeType === 3) {
          const range = document.createRange();
          range.selectNodeContents(c);
          const r = range.getBoundingClientRect();
          if (r.width > 0 && r.height > 0) return true;
        }
      }
      return false;
    }
    if (el.checkVisibility && !el.checkVisibility()) return false;
    if (style.visibility !== 'visible') return false;
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0;
  };
  return this.nodeType === 1 ? visible(this) : false;
}"#;

/// Playwright's `isEnabled`: native `disabled` (fieldsets included, via `:disabled`) or an
/// `aria-disabled="true"` on the element or an ancestor.
const ENABLED_FUNCTION: &str = r#"function() {
  if (this.matches(':disabled')) return false;
  return !this.closest('[aria-disabled="true"]');
}"#;

const CHECKED_FUNCTION: &str = r#"function() {
  const el = this;
  if (el.tagName === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio')) return el.checked;
  const roles = ['checkbox', 'radio', 'switch', 'menuitemcheckbox', 'menuitemradio', 'option', 'treeitem'];
  if (roles.includes(el.getAttribute('role') || '')) return el.getAttribute('aria-checked') === 'true';
  throw new Error('Not a checkbox or radio button');
}"#;

const EDITABLE_FUNCTION: &str = r#"function() {
  const el = this;
  const disabled = el.matches(':disabled') || !!el.closest('[aria-disabled="true"]');
  if (['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) {
    return !disabled && !el.hasAttribute('readonly');
  }
  if (el.isContentEditable) return !disabled;
  const roles = ['checkbox', 'combobox', 'grid', 'gridcell', 'listbox', 'radiogroup', 'slider',
    'spinbutton', 'textbox'];
  if (roles.includes(el.getAttribute('role') || '')) {
    return !disabled && el.getAttribute('aria-readonly') !== 'true';
  }
  throw new Error('Element is not an <input>, <textarea>, <select> or [contenteditable] and does not have a role allowing [aria-readonly]');
}"#;

const FOCUSED_FUNCTION: &str = "function() { return this === document.activeElement; }";

/// `is <prop> <sel>` → `true` / `false`.
pub fn is(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let [prop, sel, ..] = args else {
        return Err(CommandError::usage("is"));
    };
    let (function, negate) = match prop.as_str() {
        "visible" => (VISIBLE_FUNCTION, false),
        "hidden" => (VISIBLE_FUNCTION, true),
        "enabled" => (ENABLED_FUNCTION, false),
        "disabled" => (ENABLED_FUNCTION, true),
        "checked" => (CHECKED_FUNCTION, false),
        "editable" => (EDITABLE_FUNCTION, false),
        "focused" => (FOCUSED_FUNCTION, false),
        other => {
            return Err(CommandError::failed(format!(
                "Unknown property: {other}. Use: visible, hidden, enabled, disabled, checked, editable, focused"
            )))
        }
    };
    // Playwright counts an element that is not there as hidden, and as nothing else.
    let Some(element) = selector::find_optional(ctx, sel)? else {
        return Ok((prop == "hidden").to_string());
    };
    let value = call_on(&element, function, vec![])?;
    Ok(((value == Value::Bool(true)) != negate).to_string())
}

/// `wait <sel>`: polls until the one element `sel` matches is visible.
pub(super) fn wait_visible(ctx: &Ctx, sel: &str, timeout: Duration) -> Result<(), CommandError> {
    const POLL: Duration = Duration::from_millis(100);
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(element) = selector::find_optional(ctx, sel)? {
            // The element may be replaced between lookup and check; that is just "not yet".
            if let Ok(Value::Bool(true)) = call_on(&element, VISIBLE_FUNCTION, vec![]) {
                return Ok(());
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let found = selector::find_optional(ctx, sel).ok().flatten().is_some();
            return Err(CommandError::failed_with_hint(
                format!(
                    "Operation timed out: waitFor: Timeout {}ms exceeded.",
                    timeout.as_millis()
                ),
                format!(
                    "Waited {} ms for {sel} to be visible: {}. Check the selector with 'browse snapshot -i', or wait longer: browse wait '{sel}' <ms>",
                    timeout.as_millis(),
                    if found {
                        "it exists but stayed hidden (display, visibility or an empty box)"
                    } else {
                        "nothing on the page matched it"
                    }
                ),
            ));
        }
        std::thread::sleep(left.min(POLL));
    }
}

/// `css <sel> <prop>`: the first matching element's computed value (as `attrs`).
pub fn css(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let [sel, prop, ..] = args else {
        return Err(CommandError::usage("css"));
    };
    let Some(element) = selector::find_first(ctx, sel)? else {
        return Ok(format!("Element not found: {sel}"));
    };
    let value = call_on(
        &element,
        "function(prop) { return getComputedStyle(this).getPropertyValue(prop); }",
        vec![Value::String(prop.clone())],
    )?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// `SECRET_NAME_JS` in Rust: `(^|[_.-])(token|…|sid)($|[_.-])|api.?key`, case-insensitive.
fn secret_name(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "token",
        "secret",
        "key",
        "password",
        "credential",
        "auth",
        "jwt",
        "session",
        "csrf",
        "sid",
    ];
    // ASCII lowering keeps byte offsets, and a JS non-unicode /i never folds non-ASCII
    // letters onto ASCII ones.
    let lower = name.to_ascii_lowercase();
    let separator = |c: Option<char>| c.is_none_or(|c| matches!(c, '_' | '.' | '-'));
    let delimited = WORDS.iter().any(|w| {
        lower.match_indices(w).any(|(i, _)| {
            separator(lower[..i].chars().next_back())
                && separator(lower[i + w.len()..].chars().next())
        })
    });
    let api_key = lower.match_indices("api").any(|(i, _)| {
        let rest = &lower[i + 3..];
        rest.starts_with("key")
            || rest
                .chars()
                .next()
                .filter(|c| !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
                .is_some_and(|c| rest[c.len_utf8()..].starts_with("key"))
    });
    delimited || api_key
}

/// `SECRET_VALUE_JS` in Rust (case-sensitive prefixes).
fn secret_value(value: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "eyJ",
        "sk-",
        "sk_live_",
        "sk_test_",
        "pk_live_",
        "pk_test_",
        "rk_live_",
        "sk-ant-",
        "ghp_",
        "gho_",
        "github_pat_",
        "AIza",
        "SG.",
        "sbp_",
    ];
    if PREFIXES.iter().any(|p| value.starts_with(p)) {
        return true;
    }
    if let Some(rest) = value.strip_prefix("xox") {
        let mut chars = rest.chars();
        if matches!(chars.next(), Some('b' | 'p' | 's' | 'a')) && chars.next() == Some('-') {
            return true;
        }
    }
    if let Some(rest) = value.strip_prefix("AKIA") {
        let id: Vec<char> = rest.chars().take(16).collect();
        if id.len() == 16
            && id
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return true;
        }
    }
    value
        .strip_prefix("Bearer")
        .and_then(|rest| rest.chars().next())
        .is_some_and(is_js_space)
}

/// JavaScript's `\s`.
fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// gstack's redaction of a secret-looking cookie or storage value.
fn redacted(value: &str) -> String {
    format!("[REDACTED — {} chars]", value.encode_utf16().count())
}

/// One cookie as Playwright's `context.cookies()` reports it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CookieOut {
    name: String,
    value: String,
    domain: String,
    path: String,
    expires: Value,
    http_only: bool,
    secure: bool,
    same_site: &'static str,
}

/// A number as JavaScript prints it: integral values without a fraction.
fn js_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// `cookies`: 2-space JSON of every cookie in the browser, secrets redacted.
pub fn cookies(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    if args.iter().any(|a| a == "--clear") {
        return super::state::clear_cookies(ctx);
    }
    let reply = ctx
        .tab
        .cdp
        .call_method(Network::GetAllCookies(None))
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    let out: Vec<CookieOut> = reply
        .cookies
        .into_iter()
        .map(|c| {
            let value = if secret_name(&c.name) || secret_value(&c.value) {
                redacted(&c.value)
            } else {
                c.value
            };
            CookieOut {
                name: c.name,
                value,
                domain: c.domain,
                path: c.path,
                expires: js_number(c.expires),
                http_only: c.http_only,
                secure: c.secure,
                // Playwright reports a cookie without the attribute as Lax.
                same_site: match c.same_site {
                    Some(Network::CookieSameSite::Strict) => "Strict",
                    Some(Network::CookieSameSite::None) => "None",
                    Some(Network::CookieSameSite::Lax) | None => "Lax",
                },
            }
        })
        .collect();
    serde_json::to_string_pretty(&out).map_err(|e| CommandError::failed(e.to_string()))
}

/// Both storages, copied in the page (insertion order kept) and redacted like cookies.
fn storage_script() -> String {
    format!(
        r#"(() => {{
  const name = {SECRET_NAME_JS};
  const value = {SECRET_VALUE_JS};
  const copy = (store) => {{
    const out = {{}};
    for (const [k, v] of Object.entries({{ ...store }})) {{
      out[k] = (name.test(k) || value.test(v)) ? `[REDACTED — ${{v.length}} chars]` : v;
    }}
    return out;
  }};
  return JSON.stringify({{ localStorage: copy(localStorage), sessionStorage: copy(sessionStorage) }}, null, 2);
}})()"#
    )
}

/// `storage` → 2-space JSON of both storages; `storage set <k> [v]` → `Set localStorage["<k>"]`.
pub fn storage(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    if args.first().is_some_and(|verb| verb == "clear") {
        return super::state::storage_clear(ctx);
    }
    if let [verb, key, rest @ ..] = args {
        if verb == "set" {
            let value = rest.first().cloned().unwrap_or_default();
            let script = format!(
                "localStorage.setItem({}, {})",
                Value::String(key.clone()),
                Value::String(value)
            );
            page_script(ctx, &script)?;
            return Ok(format!("Set localStorage[\"{key}\"]"));
        }
    }
    let value = page_script(ctx, &storage_script())?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

// `data` and `media` (gstack's Tier B, issue 13). The page formats the JSON itself
// (`JSON.stringify(v, null, 2)`), so keys keep the document's order as gstack prints them.

/// The page side of `data`: `{jsonLd, openGraph, twitterCards, meta}`, the parts asked for.
const DATA_SCRIPT: &str = r#"((want) => {
  const out = {};
  const attr = (el, name) => (el && el.getAttribute(name)) || '';
  if (want.jsonLd) {
    out.jsonLd = [];
    for (const s of document.querySelectorAll('script[type="application/ld+json"]')) {
      try { out.jsonLd.push(JSON.parse(s.textContent || '')); } catch (e) {}
    }
  }
  const prefixed = (selector, name, prefix) => {
    const found = {};
    for (const m of document.querySelectorAll(selector)) {
      found[attr(m, name).replace(prefix, '')] = attr(m, 'content');
    }
    return found;
  };
  if (want.og) out.openGraph = prefixed('meta[property^="og:"]', 'property', 'og:');
  if (want.twitter) out.twitterCards = prefixed('meta[name^="twitter:"]', 'name', 'twitter:');
  if (want.meta) {
    const meta = {};
    const canonical = document.querySelector('link[rel="canonical"]');
    if (canonical) meta.canonical = attr(canonical, 'href');
    for (const name of ['description', 'keywords', 'author']) {
      const m = document.querySelector(`meta[name="${name}"]`);
      if (m) meta[name] = attr(m, 'content');
    }
    const title = document.querySelector('title');
    if (title) meta.title = title.textContent || '';
    out.meta = meta;
  }
  return JSON.stringify(out, null, 2);
})"#;

/// `data [--jsonld|--og|--meta|--twitter]` (gstack `read-commands.ts`): the page's structured
/// data as 2-space JSON; no flag means all four parts.
pub fn data(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let all = args.is_empty();
    let has = |flag: &str| all || args.iter().any(|a| a == flag);
    let want = serde_json::json!({
        "jsonLd": has("--jsonld"),
        "og": has("--og"),
        "twitter": has("--twitter"),
        "meta": has("--meta"),
    });
    let value = page_script(ctx, &format!("{DATA_SCRIPT}({want})"))?;
    Ok(value.as_str().unwrap_or("{}").to_owned())
}

/// The page side of `media`, called with `this` the scope (an element, or the document):
/// images, videos, audio and CSS background images (at most 500) in the scope, the scope
/// element itself included, of the `kinds` asked for (all when empty).
const MEDIA_FUNCTION: &str = r#"function(kinds) {
  const root = this;
  const want = (kind) => kinds.length === 0 || kinds.includes(kind);
  const within = (sel) => [
    ...(root.matches && root.matches(sel) ? [root] : []), ...root.querySelectorAll(sel),
  ];
  const images = [], videos = [], audio = [], backgroundImages = [];
  if (want('images')) {
    within('img').forEach((img, index) => {
      const r = img.getBoundingClientRect();
      images.push({
        index, src: img.src || '', srcset: img.srcset || '', currentSrc: img.currentSrc || '',
        alt: img.alt || '', width: img.width, height: img.height,
        naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
        loading: img.loading || '',
        dataSrc: img.getAttribute('data-src') || img.getAttribute('data-lazy-src')
          || img.getAttribute('data-original') || '',
        visible: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0,
      });
    });
  }
  if (want('videos')) {
    within('video').forEach((v, index) => {
      const sources = [...v.querySelectorAll('source')].map(s => ({ src: s.src || '', type: s.type || '' }));
      videos.push({
        index, src: v.src || '', currentSrc: v.currentSrc || '', poster: v.poster || '',
        width: v.videoWidth || v.width, height: v.videoHeight || v.height,
        duration: isFinite(v.duration) ? v.duration : 0,
        type: sources.length ? sources[0].type : '', sources,
        isHLS: sources.some(s => s.type.includes('mpegURL') || s.src.includes('.m3u8')),
        isDASH: sources.some(s => s.type.includes('dash') || s.src.includes('.mpd')),
      });
    });
  }
  if (want('audio')) {
    within('audio').forEach((a, index) => {
      const source = a.querySelector('source');
      audio.push({
        index, src: a.src || (source && source.src) || '', currentSrc: a.currentSrc || '',
        duration: isFinite(a.duration) ? a.duration : 0, type: (source && source.type) || '',
      });
    });
  }
  if (want('images')) {
    for (const el of within('*')) {
      if (backgroundImages.length >= 500) break;
      const bg = getComputedStyle(el).backgroundImage;
      const m = bg && bg !== 'none' && bg.match(/url\(["']?([^"')]+)["']?\)/);
      if (!m || !m[1] || m[1].startsWith('data:')) continue;
      const tag = el.tagName.toLowerCase();
      const classes = typeof el.className === 'string' && el.className
        ? '.' + el.className.trim().split(/\s+/).join('.') : '';
      backgroundImages.push({
        index: backgroundImages.length, url: m[1],
        selector: tag + (el.id ? '#' + el.id : '') + classes, element: tag,
      });
    }
  }
  const total = images.length + videos.length + audio.length + backgroundImages.length;
  return JSON.stringify({ images, videos, audio, backgroundImages, total }, null, 2);
}"#;

/// `media [--images] [--videos] [--audio] [selector]` (gstack `media-extract.ts`): every
/// media element, with URLs, sizes and types, as 2-space JSON. Kind flags combine (none means
/// all). The selector (CSS, or a ref) scopes the search to the first element it matches, that
/// element included; one that matches nothing or does not parse fails rather than silently
/// listing the whole page (gstack falls back to the document).
pub fn media(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let kinds: Vec<&str> = ["images", "videos", "audio"]
        .into_iter()
        .filter(|k| args.iter().any(|a| *a == format!("--{k}")))
        .collect();
    let kinds = serde_json::json!(kinds);
    let value = match args.iter().find(|a| !a.starts_with("--")) {
        None => page_script(ctx, &format!("({MEDIA_FUNCTION}).call(document, {kinds})"))?,
        Some(scope) => {
            let Some(element) = selector::find_first(ctx, scope)? else {
                return Err(CommandError::failed_with_hint(
                    format!("Element not found: {scope}"),
                    "Check the selector with 'browse snapshot' or 'browse html', or leave it out to list the whole page's media.",
                ));
            };
            call_on(&element, MEDIA_FUNCTION, vec![kinds])?
        }
    };
    Ok(value.as_str().unwrap_or("{}").to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn await_wrapping_follows_gstack() {
        assert_eq!(wrap_for_evaluate("1 + 1"), "1 + 1");
        assert_eq!(wrap_for_evaluate("// await\n1"), "// await\n1");
        assert_eq!(wrap_for_evaluate("/* await */ 1"), "/* await */ 1");
        assert_eq!(
            wrap_for_evaluate("await fetch('/x');"),
            "(async()=>(await fetch('/x')))()"
        );
        assert_eq!(
            wrap_for_evaluate("const r = await f(); return r"),
            "(async()=>{\nconst r = await f(); return r\n})()"
        );
        assert_eq!(
            wrap_for_evaluate("await (async () => { const a = 1; return a; })()"),
            "(async()=>(await (async () => { const a = 1; return a; })()))()"
        );
        assert_eq!(wrap_for_evaluate("awaited + 1"), "awaited + 1");
    }

    #[test]
    fn out_args_parse_like_gstack() {
        let p = parse_out_args(&words(&["1+1", "--out", "a.txt", "--raw"])).unwrap();
        assert_eq!(
            p,
            OutArgs {
                out: Some("a.txt".into()),
                raw: true,
                rest: words(&["1+1"])
            }
        );
        let p = parse_out_args(&words(&["x", "--out=b.bin"])).unwrap();
        assert_eq!(p.out.as_deref(), Some("b.bin"));
        let err = |a: &[&str]| parse_out_args(&words(a)).unwrap_err().body.error;
        assert_eq!(err(&["x", "--out"]), "--out requires a file path");
        assert_eq!(err(&["x", "--out="]), "--out requires a file path");
        assert_eq!(
            err(&["x", "--out=a", "--out=b"]),
            "--out specified more than once"
        );
        assert_eq!(err(&["x", "--raw=maybe"]), "--raw must be true or false");
    }

    #[test]
    fn secret_patterns_match_gstack() {
        for name in [
            "session_id",
            "SID",
            "auth",
            "x-csrf-token",
            "my.key",
            "apikey",
            "API_KEY",
            "api-key",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in ["theme", "monkey", "sessions", "authors", "lang", "keyboard"] {
            assert!(!secret_name(name), "{name}");
        }
        for value in [
            "eyJhbGci",
            "sk-abc",
            "Bearer x",
            "AKIAABCDEFGHIJKLMNOP",
            "xoxb-1",
            "SG.x",
        ] {
            assert!(secret_value(value), "{value}");
        }
        for value in ["hello", "bearer x", "AKIAabc", "xoxz-1", "Bearer"] {
            assert!(!secret_value(value), "{value}");
        }
        assert_eq!(redacted("héllo"), "[REDACTED — 5 chars]");
    }

    #[test]
    fn data_urls_decode_unless_malformed() {
        assert_eq!(
            decode_data_url("data:text/plain;base64,aGk=")
                .unwrap()
                .unwrap(),
            b"hi"
        );
        assert_eq!(
            decode_data_url("data:text/plain;base64,aGk")
                .unwrap()
                .unwrap(),
            b"hi"
        );
        assert!(decode_data_url("data:text/plain;base64,a*k=")
            .unwrap()
            .is_err());
        assert!(decode_data_url("data:text/plain,hi").is_none());
        assert!(decode_data_url("hello").is_none());
    }

    #[test]
    fn js_numbers_print_like_javascript() {
        assert_eq!(js_number(-1.0).to_string(), "-1");
        assert_eq!(js_number(1767225600.5).to_string(), "1767225600.5");
    }
}
