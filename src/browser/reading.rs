//! Reading commands: `text` (and, with issue 3, html, links, forms and friends).

use super::{evaluate, CommandResult, TabHandle};

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
pub fn text(tab: &TabHandle) -> CommandResult {
    let value = evaluate(&tab.cdp, TEXT_SCRIPT, false)?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}
