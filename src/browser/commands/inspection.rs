//! Inspection commands added with gstack's Tier B (issue 13): `perf` (navigation timings) and
//! `cdp` (raw DevTools calls behind gstack's allowlist). The older inspection commands (`js`,
//! `eval`, `attrs`, ...) are in `reading.rs`.

use serde_json::{json, Value};

use crate::browser::envelope;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};

/// `perf` (gstack `read-commands.ts`): nine `<key padded to 12> <n>ms` lines from the
/// document's `PerformanceNavigationTiming`, or `No navigation timing data available.`
pub fn perf(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    const SCRIPT: &str = "(() => { const n = performance.getEntriesByType('navigation')[0]; \
        if (!n) return null; const r = Math.round; return [\
        ['dns', r(n.domainLookupEnd - n.domainLookupStart)], \
        ['tcp', r(n.connectEnd - n.connectStart)], \
        ['ssl', r(n.secureConnectionStart > 0 ? n.connectEnd - n.secureConnectionStart : 0)], \
        ['ttfb', r(n.responseStart - n.requestStart)], \
        ['download', r(n.responseEnd - n.responseStart)], \
        ['domParse', r(n.domInteractive - n.responseEnd)], \
        ['domReady', r(n.domContentLoadedEventEnd - n.startTime)], \
        ['load', r(n.loadEventEnd - n.startTime)], \
        ['total', r(n.loadEventEnd - n.startTime)]]; })()";
    let value = evaluate(&ctx.tab.cdp, SCRIPT, false)?;
    let Some(rows) = value.as_array() else {
        return Ok("No navigation timing data available.".into());
    };
    Ok(rows
        .iter()
        .map(|row| {
            let key = row.get(0).and_then(Value::as_str).unwrap_or("");
            let ms = row.get(1).and_then(Value::as_i64).unwrap_or(0);
            format!("{key:<12} {ms}ms")
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Where an allowed method runs, and whether its answer is page content.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Scope {
    Tab,
    Browser,
}

/// gstack's `CDP_ALLOWLIST` (`cdp-allowlist.ts`): `(method, scope, untrusted output)`. Deny by
/// default: no navigation, no script evaluation, no bodies or cookies (those go through the
/// commands that apply the URL policy and redaction).
const ALLOWED: &[(&str, Scope, bool)] = &[
    ("Accessibility.getFullAXTree", Scope::Tab, true),
    ("Accessibility.getPartialAXTree", Scope::Tab, true),
    ("Accessibility.getRootAXNode", Scope::Tab, true),
    ("DOM.describeNode", Scope::Tab, true),
    ("DOM.getBoxModel", Scope::Tab, false),
    ("DOM.getNodeForLocation", Scope::Tab, false),
    ("CSS.getMatchedStylesForNode", Scope::Tab, true),
    ("CSS.getComputedStyleForNode", Scope::Tab, false),
    ("CSS.getInlineStylesForNode", Scope::Tab, true),
    ("Performance.getMetrics", Scope::Tab, false),
    ("Performance.enable", Scope::Tab, false),
    ("Performance.disable", Scope::Tab, false),
    ("Tracing.start", Scope::Browser, false),
    ("Tracing.end", Scope::Browser, true),
    ("Emulation.setDeviceMetricsOverride", Scope::Tab, false),
    ("Emulation.clearDeviceMetricsOverride", Scope::Tab, false),
    ("Emulation.setUserAgentOverride", Scope::Tab, false),
    ("Emulation.setEmulatedMedia", Scope::Tab, false),
    ("Emulation.setCPUThrottlingRate", Scope::Tab, false),
    ("Network.emulateNetworkConditions", Scope::Tab, false),
    ("Page.captureScreenshot", Scope::Tab, true),
    ("Page.printToPDF", Scope::Tab, true),
    ("Network.enable", Scope::Tab, false),
    ("Network.disable", Scope::Tab, false),
    ("Runtime.getProperties", Scope::Tab, true),
];

/// The domains an allowlisted tab method answers from only once enabled on the tab, and the
/// calls that enable them, in order (CDP: `Performance.getMetrics` returns no metrics before
/// `Performance.enable`; the `CSS` methods fail before `CSS.enable`, which needs
/// `DOM.enable`). A user of `cdp` should not have to know it; each enable is idempotent.
const PREREQUISITES: &[(&str, &[&str])] = &[
    ("Performance.getMetrics", &["Performance.enable"]),
    ("CSS.getMatchedStylesForNode", &["DOM.enable", "CSS.enable"]),
    ("CSS.getComputedStyleForNode", &["DOM.enable", "CSS.enable"]),
    ("CSS.getInlineStylesForNode", &["DOM.enable", "CSS.enable"]),
];

/// Enables on `tab` the domains `method` needs ([`PREREQUISITES`]). A failed enable is not
/// reported here: the method's own error then says more.
fn enable_domains_for(tab: &crate::cdp::Tab, method: &str) {
    let Some((_, enables)) = PREREQUISITES.iter().find(|(m, _)| *m == method) else {
        return;
    };
    for enable in *enables {
        if let Err(e) = tab.call_raw(enable, json!({})) {
            tracing::debug!("cdp {method}: {enable} failed: {e:#}");
        }
    }
}

/// `cdp <Domain.method> [json]` (gstack `cdp-commands.ts`): one allowlisted DevTools call on
/// the tab (or the browser, for `Tracing.*`); prints the result as 2-space JSON, inside the
/// untrusted-content envelope when the method returns page content, as gstack does.
pub fn cdp(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(qualified) = args.first() else {
        return Err(CommandError::usage("cdp"));
    };
    let well_formed = qualified
        .split_once('.')
        .is_some_and(|(d, m)| !d.is_empty() && !m.is_empty());
    if !well_formed {
        return Err(CommandError::failed_with_hint(
            format!("Usage: browse cdp <Domain.method> [json-params]\nCause: '{qualified}' is not in Domain.method format."),
            "e.g. browse cdp Accessibility.getFullAXTree {}",
        ));
    }
    let Some(&(_, scope, untrusted)) = ALLOWED.iter().find(|(m, _, _)| m == qualified) else {
        return Err(CommandError::failed_with_hint(
            format!("DENIED: {qualified} is not on the CDP allowlist."),
            "Only audited methods are reachable (gstack's cdp-allowlist.ts); use the browse command that does the job (goto, js, cookies, network --capture).",
        ));
    };
    let params = match args.get(1) {
        None => json!({}),
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Null) => json!({}),
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => {
                return Err(CommandError::failed(format!(
                    "Cannot parse params as JSON: not an object\nCause: argument '{raw}' is not a JSON object."
                )))
            }
            Err(e) => {
                return Err(CommandError::failed_with_hint(
                    format!("Cannot parse params as JSON: {e}\nCause: argument '{raw}' is not valid JSON."),
                    "Pass a JSON object literal, e.g. '{\"backendNodeId\":42}'.",
                ))
            }
        },
    };
    let result = match scope {
        Scope::Tab => {
            enable_domains_for(&ctx.tab.cdp, qualified);
            ctx.tab
                .cdp
                .call_raw(qualified, params)
                .map_err(|e| CommandError::failed(format!("{e:#}")))?
        }
        Scope::Browser => ctx.session.browser_call_raw(qualified, params)?,
    };
    let text = serde_json::to_string_pretty(&result)
        .map_err(|e| CommandError::failed(format!("cannot print the result: {e}")))?;
    Ok(if untrusted {
        envelope::wrap(&text, &format!("cdp:{qualified}"))
    } else {
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_with_prerequisites_is_an_allowed_tab_method() {
        for (method, _) in PREREQUISITES {
            assert!(
                ALLOWED
                    .iter()
                    .any(|(m, scope, _)| m == method && *scope == Scope::Tab),
                "{method}"
            );
        }
    }
}
