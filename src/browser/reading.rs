//! Reading commands: `text` (and, with issue 3, html, links, forms and friends).

use super::{evaluate, CommandError, CommandResult, Ctx};

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
    let value = evaluate(&ctx.tab.cdp, TEXT_SCRIPT, false)?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

pub fn html(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn links(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn forms(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn js(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn eval(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn attrs(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn is(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn css(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn cookies(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn storage(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
