//! What every command handler needs: the tab context it runs in ([`Ctx`]), its error type,
//! and `Runtime.evaluate` with page errors turned into that error.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use headless_chrome::protocol::cdp::Runtime;
use serde_json::Value;

use super::frames::Realm;
use super::session::{Session, TabHandle, TabState};
use crate::catalogue;
pub use crate::cdp::evaluate_request;
use crate::cdp::Tab;
use crate::wire::ErrorBody;

/// How long a single page-side script may run before Chromium terminates it.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed command: the HTTP status and the body the CLI prints.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandError {
    pub status: u16,
    pub body: ErrorBody,
}

impl CommandError {
    /// The command ran and failed (gstack answers these with 500).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            status: 500,
            body: ErrorBody::new(message),
        }
    }

    /// A failure with a hint saying what to do.
    pub fn failed_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            status: 500,
            body: ErrorBody::with_hint(message, hint),
        }
    }

    /// This error with `more` added after its hint (or as its hint when it has none): for a
    /// caller that knows something the failing call could not (a download it set off, a tab
    /// it left open).
    pub fn add_hint(mut self, more: &str) -> Self {
        self.body.hint = Some(match self.body.hint.take() {
            Some(hint) => format!("{hint} {more}"),
            None => more.to_owned(),
        });
        self
    }

    /// The command's usage line from the catalogue: gstack's own words where it has them
    /// (`Usage: browse click <selector>`), else `Usage: browse <name> <synopsis>`. The CLI
    /// prints the same line for the usage errors it catches first.
    pub fn usage(name: &str) -> Self {
        let line = catalogue::lookup(name).map_or_else(
            || format!("Usage: browse {name}"),
            catalogue::CommandInfo::usage_line,
        );
        Self::failed(line)
    }

    /// The request itself was wrong (400).
    pub fn bad_request(body: ErrorBody) -> Self {
        Self { status: 400, body }
    }

    /// gstack's unknown-command error with a "did you mean" and the list of commands.
    pub fn unknown_command(name: &str) -> Self {
        Self::bad_request(catalogue::unknown_command(name))
    }
}

impl From<anyhow::Error> for CommandError {
    fn from(e: anyhow::Error) -> Self {
        Self::failed(format!("{e:#}"))
    }
}

pub type CommandResult = Result<String, CommandError>;

/// What a tab command gets: the session, its tab, and the tab's state (locked for the command).
pub struct Ctx<'a> {
    pub session: &'a Session,
    pub tab: &'a Arc<TabHandle>,
    pub state: &'a mut TabState,
    /// Where relative paths resolve: the calling CLI's directory (see [`CommandRequest::cwd`]).
    pub cwd: PathBuf,
}

impl Ctx<'_> {
    /// Where this command's scripts and selectors run: the active frame (`frame <sel>`), else
    /// the tab's main frame. An error when the active frame's document is gone.
    pub fn realm(&self) -> Result<Realm, CommandError> {
        match &self.state.frame {
            None => Ok(Realm::main(&self.tab.cdp)),
            Some(active) => self.tab.frames.realm_of(&active.frame),
        }
    }
}

/// Evaluates `expression` in the tab's main frame and returns its value (by value).
/// An exception thrown by the page becomes a [`CommandError`].
pub fn evaluate(tab: &Tab, expression: &str, await_promise: bool) -> Result<Value, CommandError> {
    evaluate_in_context(tab, None, expression, await_promise)
}

/// [`evaluate`] in a realm: the active frame's, or any frame's.
pub fn evaluate_in(
    realm: &Realm,
    expression: &str,
    await_promise: bool,
) -> Result<Value, CommandError> {
    evaluate_in_context(&realm.cdp, realm.context, expression, await_promise)
}

/// The error of a CDP call made in `context` (a frame's; `None` for the tab's main frame).
/// A frame's context ends when its iframe goes, even during the call (a script that removes
/// its own iframe): that reads as the frame-gone error, not CDP's "Cannot find context".
pub(crate) fn context_call_error(context: Option<i64>, error: &anyhow::Error) -> CommandError {
    let message = format!("{error:#}");
    if context.is_some() && message.contains("Cannot find context with specified id") {
        super::frames::frame_gone()
    } else {
        CommandError::failed(message)
    }
}

fn evaluate_in_context(
    tab: &Tab,
    context: Option<i64>,
    expression: &str,
    await_promise: bool,
) -> Result<Value, CommandError> {
    let mut request = evaluate_request(expression, true);
    request.context_id = context.and_then(|c| u32::try_from(c).ok());
    request.user_gesture = Some(true);
    request.await_promise = Some(await_promise);
    request.timeout = Some(SCRIPT_TIMEOUT.as_millis() as f64);
    let reply = tab
        .call_method(request)
        .map_err(|e| context_call_error(context, &e))?;
    if let Some(details) = reply.exception_details {
        return Err(script_error(details));
    }
    Ok(reply.result.value.unwrap_or(Value::Null))
}

/// The error a page script threw, as the user should read it: its description (message and
/// stack) when there is one, else CDP's summary text.
pub(crate) fn script_error(details: Runtime::ExceptionDetails) -> CommandError {
    let message = details
        .exception
        .and_then(|ex| ex.description)
        .unwrap_or(details.text);
    CommandError::failed(message)
}
