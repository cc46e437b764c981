//! Interaction commands: click, fill, select, hover, type, press, scroll, upload, viewport, cookie and the dialog policy.

use super::{CommandError, CommandResult, Ctx, Session};

pub fn click(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn fill(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn select(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn hover(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn type_text(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn press(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn scroll(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn upload(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn viewport(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn cookie(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn dialog_accept(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn dialog_dismiss(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
