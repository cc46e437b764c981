//! Notes a command leaves for its caller besides its answer (the daemon sends them as
//! [`crate::wire::NOTE_HEADER`] headers; the CLI prints them on stderr).
//!
//! A command runs from start to end on one blocking thread of the daemon (see
//! `daemon/server.rs`), so its notes are kept per thread: a handler deep in a command (the
//! snapshot's iframe step) says a note without every layer above it carrying it back.

use std::cell::RefCell;

thread_local! {
    static NOTES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Leaves `note` for the caller of the command running on this thread.
pub fn say(note: impl Into<String>) {
    NOTES.with(|notes| notes.borrow_mut().push(note.into()));
}

/// The notes said on this thread since the last call, as header-safe text
/// ([`crate::wire::encode_note`]; the CLI decodes them).
pub fn take() -> Vec<String> {
    NOTES.with(|notes| {
        notes
            .borrow_mut()
            .drain(..)
            .map(|note| crate::wire::encode_note(&note))
            .collect()
    })
}
