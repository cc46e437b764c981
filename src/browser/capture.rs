//! Console, network and dialog capture: ring buffers fed by CDP events, and their commands.

use super::{CommandError, CommandResult, Session};

pub fn console(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn network(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn dialog(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
