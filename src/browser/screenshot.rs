//! Capture to files: screenshot and pdf.

use super::{CommandError, CommandResult, Ctx};

pub fn screenshot(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn pdf(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
