//! `snapshot`: the accessibility tree as gstack's `@eN [role] "name"` lines, and the ref map it leaves behind.

use super::{CommandError, CommandResult, Ctx};

pub fn snapshot(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
