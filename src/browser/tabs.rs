//! Tab commands: tabs, tab, newtab, closetab.

use super::{CommandError, CommandResult, Session};

pub fn list(_session: &Session) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn switch(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn open(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn close(_session: &Session, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
