//! Command handlers, one file per help group. Each takes `(&mut Ctx, args)` (or the session,
//! for commands that manage tabs or run other commands) and returns a `CommandResult`; they
//! import only downward (page, session, selector, events, cdp), never the dispatcher.

pub mod capture;
pub mod chain;
pub mod emulation;
pub mod input;
pub mod inspection;
pub mod interaction;
pub mod navigation;
pub mod network;
pub mod reading;
pub mod saved_state;
pub mod screenshot;
pub mod snapshot;
pub mod state;
pub mod tabs;
pub mod wait_for;
