//! `chain`: several commands in one call, gstack's JSON and pipe forms.

use super::{CommandError, CommandResult, Session};
use crate::wire::CommandRequest;

pub fn run(_session: &Session, _req: &CommandRequest) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
