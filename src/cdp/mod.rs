//! Our Chrome DevTools Protocol connection: one WebSocket to Chromium, request/response
//! correlation by id, flattened sessions for tabs, events delivered per tab on a thread of
//! their own, and browser-level `Target.*` discovery events on a channel of their own. The
//! typed protocol (methods, return objects, events) is headless_chrome's.
//!
//! Why not headless_chrome's transport: in 1.0.22 its reader thread holds the socket's mutex
//! for the whole of a blocking read with a 100 ms timeout, and a sender must take that mutex,
//! so every call waits up to 100 ms; responses are then polled every 5 ms. Measured here: a
//! `Runtime.evaluate` of 4 ms on the wire cost ~100 ms through the crate. Here the reader and
//! the writer are separate halves of the socket, and a caller waits on its own channel.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
pub use headless_chrome::browser::tab::EventListener;
use headless_chrome::protocol::cdp::types::{Event, Method};
use headless_chrome::protocol::cdp::{Browser as CdpBrowser, Target};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

mod frame;

/// An event listener on one tab.
pub type Listener = dyn EventListener<Event> + Send + Sync;

/// A listener that sees a session's events as Chromium sent them (JSON), before the typed
/// decoding, which drops fields the typed protocol lacks (`Runtime.executionContextCreated`'s
/// `auxData.frameId`).
pub type RawListener = dyn Fn(&Value) + Send + Sync;

/// How long a call waits for its answer unless told otherwise.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Screenshots and PDFs travel as base64 in one message.
const MAX_MESSAGE: usize = 512 * 1024 * 1024;

/// What a waiting caller is handed: the answer's frame, still undecoded, or why none came.
type Reply = std::result::Result<String, String>;

/// A call waiting for its answer.
struct Waiter {
    /// The tab's session; None for a browser-level call.
    session: Option<String>,
    method: String,
    tx: mpsc::Sender<Reply>,
}

/// A call written to the socket: where its answer will come.
struct Sent {
    id: u64,
    method: String,
    rx: mpsc::Receiver<Reply>,
}

/// The CDP timing log (`BROWSE_LOG=browse::cdp=trace`): where a command's time goes. `us`
/// counts from `began` (for calls sent back to back, from the first one's sending).
fn trace_call(method: &str, began: Instant, answer: &Result<String>) {
    tracing::trace!(
        method,
        us = began.elapsed().as_micros() as u64,
        bytes = answer.as_ref().map_or(0, String::len),
        "cdp call"
    );
}

/// The typed result of a call's answer frame, or why there is none.
fn decode_answer<C: Method>(frame: Result<String>) -> Result<C::ReturnObject> {
    answer_of(&frame?).map_err(|error| anyhow!("{}: {error}", C::NAME))
}

/// The WebSocket to Chromium, shared by the browser and every tab.
pub struct Connection {
    writer: Mutex<WebSocket<TcpStream>>,
    next_id: AtomicU64,
    pending: Mutex<HashMap<u64, Waiter>>,
    sessions: Mutex<HashMap<String, mpsc::Sender<Value>>>,
    /// Sessions whose renderer crashed: calls fail at once until a navigation revives them.
    crashed: Mutex<std::collections::HashSet<String>>,
    /// Sessions whose target is gone (the page closed itself): calls fail at once.
    detached: Mutex<std::collections::HashSet<String>>,
    closed: AtomicBool,
    /// Where browser-level `Target.*` events go, once someone asked for them.
    target_events: Mutex<Option<mpsc::Sender<Value>>>,
    /// Other browser-level events by method prefix (`Browser.download`), for whoever asked.
    browser_events: Mutex<Vec<(String, mpsc::Sender<Value>)>>,
    /// How many of those events were sent and not yet reported handled.
    target_backlog: Mutex<usize>,
    target_backlog_drained: Condvar,
    /// Set while the browser process does not answer (the heartbeat's verdict): calls fail at
    /// once with this cause instead of each waiting out its timeout.
    unresponsive: Mutex<Option<String>>,
}

/// What a caller reads when the page's renderer process has died.
const CRASHED: &str = "the page crashed (its renderer process died); goto a page to load a new one";

/// What a caller reads when the page closed (`window.close()`) while or before it asked.
const DETACHED: &str = "the page was closed (its tab is gone); run 'tabs' to see what is open";

/// Methods that load a new document, and so a new renderer, into a crashed page.
const REVIVING: &[&str] = &[
    "Page.navigate",
    "Page.reload",
    "Page.navigateToHistoryEntry",
    "Target.closeTarget",
];

impl Connection {
    /// Connects to a DevTools WebSocket URL (`ws://127.0.0.1:PORT/devtools/browser/ID`, or a
    /// farm's `ws://host[:PORT][/path]?token=…`).
    pub fn connect(ws_url: &str) -> Result<Arc<Self>> {
        let url = url::Url::parse(ws_url).context("bad DevTools URL")?;
        let addr = format!(
            "{}:{}",
            url.host_str().context("DevTools URL has no host")?,
            // A farm may name no port (`ws://farm.example?token=…`): the scheme's default.
            url.port_or_known_default()
                .context("DevTools URL has no port")?
        );
        let stream = TcpStream::connect(&addr).with_context(|| format!("cannot reach {addr}"))?;
        stream.set_nodelay(true)?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let write_half = stream.try_clone()?;
        let (reader, _) = tungstenite::client::client_with_config(
            // The parsed form: a farm's path-less `ws://host:port?token=…` gets its `/` (a
            // request line of `GET ?token=…` is refused with 400).
            url.as_str(),
            stream,
            Some(config),
        )
        .map_err(|e| anyhow!("DevTools handshake failed: {e}"))?;
        // The handshake is done; the write half frames (and masks) client messages on its own.
        let writer = WebSocket::from_raw_socket(write_half, Role::Client, Some(config));
        let conn = Arc::new(Connection {
            writer: Mutex::new(writer),
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            crashed: Mutex::new(std::collections::HashSet::new()),
            detached: Mutex::new(std::collections::HashSet::new()),
            closed: AtomicBool::new(false),
            target_events: Mutex::new(None),
            browser_events: Mutex::new(Vec::new()),
            target_backlog: Mutex::new(0),
            target_backlog_drained: Condvar::new(),
            unresponsive: Mutex::new(None),
        });
        let weak = Arc::downgrade(&conn);
        std::thread::Builder::new()
            .name("cdp-reader".into())
            .spawn(move || read_loop(reader, weak))?;
        Ok(conn)
    }

    /// True once the socket has closed (Chromium died or hung up).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Sends `method` with `params` (to a tab when `session` is given) and waits for the result.
    pub fn call_raw(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let frame = self.checked_exchange(session, method, params, timeout)?;
        answer_of(&frame).map_err(|error| anyhow!("{method}: {error}"))
    }

    /// A typed call with headless_chrome's generated protocol types.
    pub fn call<C: Method + Serialize>(
        &self,
        session: Option<&str>,
        method: C,
        timeout: Duration,
    ) -> Result<C::ReturnObject> {
        let params = serde_json::to_value(&method)?;
        let frame = self.checked_exchange(session, C::NAME, params, timeout)?;
        answer_of(&frame).map_err(|error| anyhow!("{}: {error}", C::NAME))
    }

    /// [`Self::exchange`] after the checks that fail a call at once: an unresponsive browser,
    /// a closed or crashed page (a navigation revives a crashed one).
    fn checked_exchange(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<String> {
        let began = Instant::now();
        let sent = self.checked_send(session, method, params, Some(timeout))?;
        let answer = self.await_answer(sent, timeout);
        trace_call(method, began, &answer);
        answer
    }

    /// The checks of [`Self::checked_exchange`], then sends the call. `answer_within`: `None`
    /// sends it with nobody waiting for its answer (Chromium's reply is dropped unread).
    fn checked_send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        answer_within: Option<Duration>,
    ) -> Result<Sent> {
        self.refuse_if_unresponsive(method)?;
        if let Some(session) = session {
            if lock(&self.detached).contains(session) {
                bail!("{method}: {DETACHED}");
            }
            let mut crashed = lock(&self.crashed);
            if REVIVING.contains(&method) {
                crashed.remove(session);
            } else if crashed.contains(session) {
                bail!("{method}: {CRASHED}");
            }
        }
        self.send(session, method, params, answer_within.is_some(), true)
    }

    /// Calls on one session sent back to back, then their answer frames awaited in order
    /// (each within `timeout`). Chromium handles one session's messages in the order they
    /// arrive, so this is [`Self::call`] for each in turn, less the round trips spent waiting
    /// between them. Every answer is awaited (or timed out) so none is left pending; a call
    /// that could not be sent ends the sending, and it and the rest read as its error.
    fn frames_in_order(
        &self,
        session: Option<&str>,
        calls: Vec<(&'static str, Result<Value>)>,
        timeout: Duration,
    ) -> Vec<Result<String>> {
        let began = Instant::now();
        let mut sent = Vec::with_capacity(calls.len());
        let mut failed: Option<String> = None;
        for (method, params) in calls {
            let call = match (&failed, params) {
                (Some(why), _) => Err(anyhow!("{method}: not sent: {why}")),
                (None, params) => params
                    .and_then(|params| self.checked_send(session, method, params, Some(timeout))),
            };
            if let Err(e) = &call {
                failed.get_or_insert_with(|| format!("{e:#}"));
            }
            sent.push((method, call));
        }
        sent.into_iter()
            .map(|(method, call)| {
                let frame = call.and_then(|call| self.await_answer(call, timeout));
                trace_call(method, began, &frame);
                frame
            })
            .collect()
    }

    /// Typed calls of one kind on one session, sent back to back and answered in order (see
    /// [`Self::frames_in_order`]); the first failure, if any.
    pub fn call_in_order<C: Method + Serialize>(
        &self,
        session: Option<&str>,
        methods: Vec<C>,
        timeout: Duration,
    ) -> Result<Vec<C::ReturnObject>> {
        let calls = methods
            .iter()
            .map(|m| {
                (
                    C::NAME,
                    serde_json::to_value(m).map_err(anyhow::Error::from),
                )
            })
            .collect();
        self.frames_in_order(session, calls, timeout)
            .into_iter()
            .map(|frame| decode_answer::<C>(frame))
            .collect()
    }

    /// Untyped calls on one session, sent back to back and answered in order (see
    /// [`Self::frames_in_order`]): for enabling several domains, which need nothing of each
    /// other's answers; the first failure, if any.
    pub fn call_raw_in_order(
        &self,
        session: Option<&str>,
        calls: Vec<(&'static str, Value)>,
        timeout: Duration,
    ) -> Result<Vec<Value>> {
        self.raw_answers_in_order(session, calls, timeout)
            .into_iter()
            .collect()
    }

    /// Untyped calls on one session, sent back to back and answered in order (see
    /// [`Self::frames_in_order`]); each answer on its own, for callers that act on every one.
    pub fn raw_answers_in_order(
        &self,
        session: Option<&str>,
        calls: Vec<(&'static str, Value)>,
        timeout: Duration,
    ) -> Vec<Result<Value>> {
        let names: Vec<&'static str> = calls.iter().map(|(method, _)| *method).collect();
        let calls = calls.into_iter().map(|(m, p)| (m, Ok(p))).collect();
        self.frames_in_order(session, calls, timeout)
            .into_iter()
            .zip(names)
            .map(|(frame, method)| answer_of(&frame?).map_err(|error| anyhow!("{method}: {error}")))
            .collect()
    }

    /// Two typed calls on one session, sent back to back and answered in order (see
    /// [`Self::frames_in_order`]); each answer on its own.
    pub fn call_pair_in_order<A: Method + Serialize, B: Method + Serialize>(
        &self,
        session: Option<&str>,
        (first, second): (A, B),
        timeout: Duration,
    ) -> (Result<A::ReturnObject>, Result<B::ReturnObject>) {
        let calls = vec![
            (
                A::NAME,
                serde_json::to_value(&first).map_err(anyhow::Error::from),
            ),
            (
                B::NAME,
                serde_json::to_value(&second).map_err(anyhow::Error::from),
            ),
        ];
        let mut frames = self.frames_in_order(session, calls, timeout).into_iter();
        let mut next = || frames.next().unwrap_or_else(|| Err(anyhow!("no answer")));
        let a = decode_answer::<A>(next());
        (a, decode_answer::<B>(next()))
    }

    /// Sends a typed call and does not wait for its answer (dropped unread when it comes):
    /// for clean-up whose failure changes nothing (`Runtime.releaseObject` of a handle we are
    /// done with). Chromium still handles it in order with the session's later calls.
    pub fn send_unanswered<C: Method + Serialize>(
        &self,
        session: Option<&str>,
        method: C,
    ) -> Result<()> {
        let params = serde_json::to_value(&method)?;
        self.checked_send(session, C::NAME, params, None).map(drop)
    }

    fn refuse_if_unresponsive(&self, method: &str) -> Result<()> {
        match lock(&self.unresponsive).as_ref() {
            Some(cause) => bail!("{method}: {cause}"),
            None => Ok(()),
        }
    }

    /// Sends one call and waits up to `timeout` for its answer frame, undecoded: the caller
    /// decodes it on its own thread, straight into the type it wants. A reply of many
    /// megabytes (a large accessibility tree) then holds up neither the reader nor every
    /// other call behind it. With `refuse_unresponsive`, a browser marked unresponsive fails
    /// it at once (the heartbeat's probe is sent regardless).
    fn exchange(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
        refuse_unresponsive: bool,
    ) -> Result<String> {
        let sent = self.send(session, method, params, true, refuse_unresponsive)?;
        self.await_answer(sent, timeout)
    }

    /// Writes one call to the socket. With `answered`, a waiter is registered first, to be
    /// handed the answer frame ([`Self::await_answer`]); without, the answer is dropped.
    fn send(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        answered: bool,
        refuse_unresponsive: bool,
    ) -> Result<Sent> {
        if self.is_closed() {
            bail!("Chromium's DevTools connection is closed");
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = mpsc::channel();
        if answered {
            let waiter = Waiter {
                session: session.map(str::to_owned),
                method: method.to_owned(),
                tx,
            };
            lock(&self.pending).insert(id, waiter);
        }
        if refuse_unresponsive {
            if let Err(e) = self.refuse_if_unresponsive(method) {
                lock(&self.pending).remove(&id);
                return Err(e);
            }
        }
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = Value::String(session.to_owned());
        }
        let sent = lock(&self.writer).send(Message::text(message.to_string()));
        if let Err(e) = sent {
            lock(&self.pending).remove(&id);
            bail!("cannot send {method} to Chromium: {e}");
        }
        Ok(Sent {
            id,
            method: method.to_owned(),
            rx,
        })
    }

    /// Waits up to `timeout` for the answer frame of a call [`Self::send`] wrote.
    fn await_answer(&self, sent: Sent, timeout: Duration) -> Result<String> {
        let Sent { id, method, rx } = sent;
        match rx.recv_timeout(timeout) {
            Ok(Ok(frame)) => Ok(frame),
            Ok(Err(error)) => Err(anyhow!("{method}: {error}")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                lock(&self.pending).remove(&id);
                Err(anyhow::Error::new(NoAnswer {
                    method,
                    waited: timeout,
                }))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(anyhow!("{method}: Chromium's DevTools connection closed"))
            }
        }
    }

    /// The methods of the calls now waiting for an answer on `session`.
    pub fn pending_methods(&self, session: &str) -> Vec<String> {
        lock(&self.pending)
            .values()
            .filter(|w| w.session.as_deref() == Some(session))
            .map(|w| w.method.clone())
            .collect()
    }

    /// Hands one frame from Chromium to whoever waits for it. An answer goes to its caller
    /// undecoded (Chromium writes its `id` first); only events are decoded here.
    fn receive(&self, text: &str) {
        if let Some(id) = frame::leading_id(text) {
            if let Some(waiter) = lock(&self.pending).remove(&id) {
                let _ = waiter.tx.send(Ok(text.to_owned()));
            }
            return;
        }
        match frame::decode(text) {
            Ok(message) => self.route(message),
            Err(e) => tracing::warn!("unreadable DevTools frame ({e}): {:.200}", text),
        }
    }

    fn route(&self, message: Value) {
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            // An answer whose id was not first: hand it over as any other.
            if let Some(waiter) = lock(&self.pending).remove(&id) {
                let _ = waiter.tx.send(Ok(message.to_string()));
            }
            return;
        }
        let Some(session) = message.get("sessionId").and_then(Value::as_str) else {
            self.route_browser_event(message);
            return;
        };
        if message.get("method").and_then(Value::as_str) == Some("Inspector.targetCrashed") {
            // Nothing will answer the calls waiting on this page: fail them now.
            lock(&self.crashed).insert(session.to_owned());
            self.fail_pending(session, CRASHED);
        }
        let sessions = lock(&self.sessions);
        if let Some(tx) = sessions.get(session) {
            let _ = tx.send(message);
        }
    }

    /// Answers every call waiting on `session` with `why`: nothing else will answer them.
    fn fail_pending(&self, session: &str, why: &str) {
        lock(&self.pending).retain(|_, waiter| {
            let ours = waiter.session.as_deref() == Some(session);
            if ours {
                let _ = waiter.tx.send(Err(why.to_owned()));
            }
            !ours
        });
    }

    /// A browser-level event: `Target.*` ones go to the target watcher, counted until handled.
    /// A session detached because its page closed fails its waiting calls first.
    fn route_browser_event(&self, message: Value) {
        if message.get("method").and_then(Value::as_str) == Some("Target.detachedFromTarget") {
            if let Some(session) = message.pointer("/params/sessionId").and_then(Value::as_str) {
                lock(&self.detached).insert(session.to_owned());
                self.fail_pending(session, DETACHED);
            }
        }
        let method = message.get("method").and_then(Value::as_str).unwrap_or("");
        if !method.starts_with("Target.") {
            let listeners = lock(&self.browser_events);
            if let Some((_, tx)) = listeners
                .iter()
                .find(|(p, _)| method.starts_with(p.as_str()))
            {
                let _ = tx.send(message);
            }
            return;
        }
        let events = lock(&self.target_events);
        let Some(tx) = events.as_ref() else { return };
        *lock(&self.target_backlog) += 1;
        if tx.send(message).is_err() {
            self.target_event_handled();
        }
    }

    fn target_event_handled(&self) {
        let mut backlog = lock(&self.target_backlog);
        *backlog = backlog.saturating_sub(1);
        if *backlog == 0 {
            self.target_backlog_drained.notify_all();
        }
    }

    /// Records whether the browser answers. Going unresponsive fails every waiting call at
    /// once with `cause`; later calls fail at once until the browser answers again.
    fn set_unresponsive(&self, cause: Option<String>) {
        // The cause first: a call registered after the drain below sees it (exchange checks
        // again once it is pending), so none is left waiting out its timeout.
        *lock(&self.unresponsive) = cause.clone();
        if let Some(cause) = cause {
            lock(&self.pending).retain(|_, waiter| {
                let _ = waiter.tx.send(Err(cause.clone()));
                false
            });
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Dropping the senders wakes every waiting caller with "connection closed".
        lock(&self.pending).clear();
        lock(&self.sessions).clear();
        // The watcher's channel ends, and nobody waits for events that will never be handled.
        lock(&self.target_events).take();
        lock(&self.browser_events).clear();
        *lock(&self.target_backlog) = 0;
        self.target_backlog_drained.notify_all();
    }
}

/// A call that got no answer within its time limit (find it with `downcast_ref`).
#[derive(Debug)]
pub struct NoAnswer {
    pub method: String,
    pub waited: Duration,
}

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: Chromium did not answer within {}s",
            self.method,
            self.waited.as_secs()
        )
    }
}

impl std::error::Error for NoAnswer {}

/// An answer frame as Chromium writes it: the result, or an error instead.
#[derive(serde::Deserialize)]
struct Answer<T> {
    result: Option<T>,
    error: Option<Value>,
}

/// The result of an answer frame decoded as `T`, or the error Chromium sent instead.
fn answer_of<T: DeserializeOwned>(text: &str) -> std::result::Result<T, String> {
    let answer: Answer<T> = frame::decode(text)
        .map_err(|e| format!("unexpected answer from Chromium ({e}): {:.200}", text))?;
    if let Some(error) = answer.error {
        return Err(error
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| error.to_string(), str::to_owned));
    }
    match answer.result {
        Some(result) => Ok(result),
        None => serde_json::from_value(Value::Null)
            .map_err(|e| format!("Chromium's answer has no result: {e}")),
    }
}

fn read_loop(mut reader: WebSocket<TcpStream>, conn: Weak<Connection>) {
    loop {
        let message = reader.read();
        let Some(conn) = conn.upgrade() else { return };
        match message {
            Ok(Message::Text(text)) => conn.receive(text.as_str()),
            Ok(Message::Binary(bytes)) => conn.receive(&String::from_utf8_lossy(&bytes)),
            Ok(_) => {}
            Err(e) => {
                tracing::info!("DevTools connection ended: {e}");
                conn.close();
                return;
            }
        }
    }
}

/// The browser-level handle: version checks, tab creation and discovery.
#[derive(Clone)]
pub struct Browser {
    conn: Arc<Connection>,
}

impl Browser {
    /// Connects to Chromium's browser endpoint.
    pub fn connect(ws_url: &str) -> Result<Self> {
        Ok(Browser {
            conn: Connection::connect(ws_url)?,
        })
    }

    /// True once the WebSocket has closed (the browser exited or hung up).
    pub fn is_disconnected(&self) -> bool {
        self.conn.is_closed()
    }

    /// `Browser.getVersion` within `timeout`: a call that involves no page, for the heartbeat.
    /// It is sent even while the browser is marked unresponsive, to learn that it answers again.
    pub fn probe(&self, timeout: Duration) -> Result<()> {
        let params = serde_json::to_value(CdpBrowser::GetVersion(None))?;
        self.conn
            .exchange(None, CdpBrowser::GetVersion::NAME, params, timeout, false)
            .map(drop)
    }

    /// Marks the browser unresponsive with `cause` (every waiting and later call fails at once
    /// with it), or, with `None`, answering again.
    pub fn set_unresponsive(&self, cause: Option<String>) {
        self.conn.set_unresponsive(cause);
    }

    /// The cause recorded by [`Self::set_unresponsive`], while the browser does not answer.
    pub fn unresponsive(&self) -> Option<String> {
        lock(&self.conn.unresponsive).clone()
    }

    /// `Browser.close`: Chromium closes gracefully, writing cookies and storage to the profile.
    /// It may hang up before it answers, which counts as done.
    pub fn close(&self, timeout: Duration) -> Result<()> {
        match self
            .conn
            .exchange(None, "Browser.close", json!({}), timeout, false)
        {
            Ok(_) => Ok(()),
            Err(_) if self.conn.is_closed() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The first page target Chromium opened at launch, or a new one.
    pub fn initial_tab(&self) -> Result<Arc<Tab>> {
        match self.page_targets()?.into_iter().next() {
            Some(target_id) => Tab::attach(&self.conn, target_id),
            None => self.new_tab(),
        }
    }

    /// The target ids of every page (tab or popup) Chromium has open (`Target.getTargets`).
    pub fn page_targets(&self) -> Result<Vec<String>> {
        let targets =
            self.conn
                .call_raw(None, "Target.getTargets", json!({}), DEFAULT_CALL_TIMEOUT)?;
        Ok(targets
            .get("targetInfos")
            .and_then(Value::as_array)
            .map(|infos| {
                infos
                    .iter()
                    .filter(|t| is_tab_page(t))
                    .filter_map(|t| t.get("targetId").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Attaches to a page target that exists already (one a page opened).
    pub fn attach(&self, target_id: &str) -> Result<Arc<Tab>> {
        Tab::attach(&self.conn, target_id.to_owned())
    }

    /// A handle on a session Chromium attached on its own (browser-level
    /// `Target.setAutoAttach`: `sessionId` from `Target.attachedToTarget`), no domain enabled:
    /// a page's (then [`Tab::enable_page_domains`]) or a service or shared worker's.
    pub fn attached_session(&self, session_id: &str, target_id: &str) -> Result<Arc<Tab>> {
        Tab::route_session(&self.conn, session_id.to_owned(), target_id.to_owned())
    }

    /// Turns on target discovery (`Target.setDiscoverTargets`): every `Target.targetCreated`,
    /// `targetInfoChanged` and `targetDestroyed` event, those of the targets that exist now
    /// included, arrives on the returned channel. Each must be reported with
    /// [`target_event_handled`](Self::target_event_handled) once dealt with.
    pub fn watch_targets(&self) -> Result<mpsc::Receiver<Value>> {
        let (tx, rx) = mpsc::channel();
        *lock(&self.conn.target_events) = Some(tx);
        self.conn.call_raw(
            None,
            "Target.setDiscoverTargets",
            json!({ "discover": true }),
            DEFAULT_CALL_TIMEOUT,
        )?;
        Ok(rx)
    }

    /// Browser-level events whose method starts with `prefix` (`Browser.download`), on the
    /// returned channel; the channel ends with the connection.
    pub fn watch_events(&self, prefix: &str) -> mpsc::Receiver<Value> {
        let (tx, rx) = mpsc::channel();
        lock(&self.conn.browser_events).push((prefix.to_owned(), tx));
        rx
    }

    /// Waits, at most `timeout`, until Chromium's storage service has written to disk every
    /// localStorage commit it has started (see `daemon/server.rs::commit_web_storage`): it
    /// opens a blank page (never run: only its storage partition is used) and asks that
    /// partition to clear the localStorage of an origin no page can have
    /// (`Storage.clearDataForOrigin`, answered after the storage service's database sequence
    /// ran the deletion, so after every commit queued before it). Errors name the CDP call.
    pub fn wait_for_storage_commits(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let left = || deadline.saturating_duration_since(Instant::now());
        let created = self.conn.call_raw(
            None,
            "Target.createTarget",
            json!({ "url": "about:blank" }),
            left(),
        )?;
        let target_id = created
            .get("targetId")
            .and_then(Value::as_str)
            .context("Target.createTarget returned no targetId")?;
        let attached = self.conn.call_raw(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
            left(),
        )?;
        let session_id = attached
            .get("sessionId")
            .and_then(Value::as_str)
            .context("Target.attachToTarget returned no sessionId")?;
        self.conn.call_raw(
            Some(session_id),
            "Storage.clearDataForOrigin",
            json!({ "origin": STORAGE_FENCE_ORIGIN, "storageTypes": "local_storage" }),
            left(),
        )?;
        Ok(())
    }

    /// An untyped browser-level call (no tab session), waiting at most `timeout`.
    pub fn call_raw(&self, method: &str, params: Value, timeout: Duration) -> Result<Value> {
        self.conn.call_raw(None, method, params, timeout)
    }

    /// Reports one event from [`watch_targets`](Self::watch_targets) as dealt with.
    pub fn target_event_handled(&self) {
        self.conn.target_event_handled();
    }

    /// Waits until every target event received so far was dealt with; false at `deadline`.
    pub fn wait_target_events(&self, deadline: Instant) -> bool {
        let mut backlog = lock(&self.conn.target_backlog);
        while *backlog > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            backlog = match self.conn.target_backlog_drained.wait_timeout(backlog, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// Opens a blank page target and attaches to it.
    pub fn new_tab(&self) -> Result<Arc<Tab>> {
        let created = self.conn.call_raw(
            None,
            "Target.createTarget",
            json!({ "url": "about:blank" }),
            DEFAULT_CALL_TIMEOUT,
        )?;
        let target_id = created
            .get("targetId")
            .and_then(Value::as_str)
            .context("Target.createTarget returned no targetId")?
            .to_owned();
        Tab::attach(&self.conn, target_id)
    }
}

/// The origin whose (never written) localStorage [`Browser::wait_for_storage_commits`]
/// clears: `.invalid` is reserved (RFC 2606), so no page has it.
const STORAGE_FENCE_ORIGIN: &str = "http://browse-storage-fence.invalid";

/// True for a `TargetInfo` that is a page a user would see as a tab: type `page`, and no
/// subtype (a `prerender` page is Chromium's speculative load, not a tab).
pub fn is_tab_page(info: &Value) -> bool {
    info.get("type").and_then(Value::as_str) == Some("page")
        && info
            .get("subtype")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
}

/// `Target.setAutoAttach` parameters that attach new targets as flattened sessions, each held
/// before it runs (`waitForDebuggerOnStart`) until `Runtime.runIfWaitingForDebugger`: of the
/// target types in `only` (`TargetFilter` entries, every other type excluded), or of every
/// type with `None` (for a browser too old for the filter).
pub fn held_auto_attach_params(only: Option<&[&str]>) -> Value {
    let mut params = serde_json::json!({
        "autoAttach": true,
        "waitForDebuggerOnStart": true,
        "flatten": true,
    });
    if let Some(types) = only {
        let mut filter: Vec<Value> = types
            .iter()
            .map(|t| serde_json::json!({ "type": t, "exclude": false }))
            .collect();
        filter.push(serde_json::json!({ "exclude": true }));
        params["filter"] = Value::Array(filter);
    }
    params
}

/// One page target, attached through a flattened session.
pub struct Tab {
    conn: Arc<Connection>,
    session_id: String,
    target_id: String,
    timeout: RwLock<Duration>,
    listeners: Arc<Mutex<Vec<Arc<Listener>>>>,
    raw_listeners: Arc<Mutex<Vec<Arc<RawListener>>>>,
}

/// Where Chromium sends a value the crate's generated types cannot hold, makes it one they
/// can with the same meaning, so the event is not dropped. `Input.dragIntercepted`: the
/// protocol's `dragOperationsMask` is a signed integer and Chromium sends -1 ("every
/// operation"); the crate declares it unsigned, so -1 becomes copy | link | move (1 | 2 | 16),
/// every operation a web page can ask for.
fn repair_event(mut message: Value) -> Value {
    if message.get("method").and_then(Value::as_str) == Some("Input.dragIntercepted") {
        if let Some(mask) = message.pointer_mut("/params/data/dragOperationsMask") {
            if mask.as_i64().is_some_and(|m| m < 0) {
                *mask = json!(1 | 2 | 16);
            }
        }
    }
    message
}

impl Tab {
    fn attach(conn: &Arc<Connection>, target_id: String) -> Result<Arc<Tab>> {
        let attached = conn.call_raw(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
            DEFAULT_CALL_TIMEOUT,
        )?;
        let session_id = attached
            .get("sessionId")
            .and_then(Value::as_str)
            .context("Target.attachToTarget returned no sessionId")?
            .to_owned();
        let tab = Tab::route_session(conn, session_id, target_id)?;
        tab.enable_page_domains()?;
        Ok(tab)
    }

    /// The domains every page handle has on: `Page` (with lifecycle events) and `Inspector`.
    /// A page held waiting for a debugger in a renderer not started yet (a `noopener` popup)
    /// answers only once it runs.
    pub fn enable_page_domains(&self) -> Result<()> {
        // Inspector: for Inspector.targetCrashed (a dead renderer must fail calls at once, not
        // time out). Sent back to back: a new page's first answer waits for its renderer to
        // start, and the other two then need no round trip of their own.
        self.conn.call_raw_in_order(
            Some(&self.session_id),
            vec![
                ("Page.enable", json!({})),
                ("Page.setLifecycleEventsEnabled", json!({ "enabled": true })),
                ("Inspector.enable", json!({})),
            ],
            DEFAULT_CALL_TIMEOUT,
        )?;
        Ok(())
    }

    /// Routes the events of a flattened session to a new handle: a listener thread of its own,
    /// never the socket reader (a listener that makes a CDP call must not wait for the thread
    /// that would deliver its answer).
    fn route_session(
        conn: &Arc<Connection>,
        session_id: String,
        target_id: String,
    ) -> Result<Arc<Tab>> {
        let (tx, rx) = mpsc::channel::<Value>();
        lock(&conn.sessions).insert(session_id.clone(), tx);
        let listeners: Arc<Mutex<Vec<Arc<Listener>>>> = Arc::default();
        let raw_listeners: Arc<Mutex<Vec<Arc<RawListener>>>> = Arc::default();
        let deliver_to = Arc::clone(&listeners);
        let deliver_raw = Arc::clone(&raw_listeners);
        std::thread::Builder::new()
            .name("cdp-tab-events".into())
            .spawn(move || {
                for message in rx {
                    let raw: Vec<Arc<RawListener>> = lock(&deliver_raw).clone();
                    for listener in raw {
                        listener(&message);
                    }
                    let Ok(event) = serde_json::from_value::<Event>(repair_event(message)) else {
                        continue;
                    };
                    let current: Vec<Arc<Listener>> = lock(&deliver_to).clone();
                    for listener in current {
                        listener.on_event(&event);
                    }
                }
            })?;
        Ok(Arc::new(Tab {
            conn: Arc::clone(conn),
            session_id,
            target_id,
            timeout: RwLock::new(DEFAULT_CALL_TIMEOUT),
            listeners,
            raw_listeners,
        }))
    }

    /// A handle on a session Chromium attached under this one (`Target.setAutoAttach` with
    /// `flatten`: an out-of-process iframe's `sessionId` from `Target.attachedToTarget`). No
    /// domain is enabled on it; its events reach its own listeners.
    pub fn child_session(&self, session_id: &str, target_id: &str) -> Result<Arc<Tab>> {
        let child = Tab::route_session(&self.conn, session_id.to_owned(), target_id.to_owned())?;
        child.set_default_timeout(*self.timeout.read().unwrap_or_else(|p| p.into_inner()));
        Ok(child)
    }

    /// This handle's flattened session id (`Target.SessionID`).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// Adds a listener that sees every event of this session as raw JSON, before the typed
    /// listeners (see [`RawListener`]).
    pub fn add_raw_listener(&self, listener: Arc<RawListener>) {
        lock(&self.raw_listeners).push(listener);
    }

    /// An untyped call on this tab's session (for methods or fields the typed protocol lacks:
    /// `cdp` passthrough, `IO.read`, `Fetch.*`).
    pub fn call_raw(&self, method: &str, params: Value) -> Result<Value> {
        let timeout = *self.timeout.read().unwrap_or_else(|p| p.into_inner());
        self.conn
            .call_raw(Some(&self.session_id), method, params, timeout)
    }

    /// Untyped calls on this tab's session sent back to back and answered in order (see
    /// [`Connection::raw_answers_in_order`]): a frame held paused until the last of them
    /// (`Runtime.runIfWaitingForDebugger`) waits one round trip, not one per call. One
    /// result per call, in order.
    pub fn call_raw_pipelined(&self, calls: Vec<(&'static str, Value)>) -> Vec<Result<Value>> {
        let timeout = *self.timeout.read().unwrap_or_else(|p| p.into_inner());
        self.conn
            .raw_answers_in_order(Some(&self.session_id), calls, timeout)
    }

    /// A typed call on this tab's session.
    pub fn call_method<C: Method + Serialize>(&self, method: C) -> Result<C::ReturnObject> {
        let timeout = *self.timeout.read().unwrap_or_else(|p| p.into_inner());
        self.conn.call(Some(&self.session_id), method, timeout)
    }

    /// A typed call on this tab's session with its own deadline.
    pub fn call_method_within<C: Method + Serialize>(
        &self,
        method: C,
        timeout: Duration,
    ) -> Result<C::ReturnObject> {
        self.conn.call(Some(&self.session_id), method, timeout)
    }

    /// Typed calls on this tab's session sent back to back and answered in order (see
    /// [`Connection::call_in_order`]): one round trip's wait instead of one per call.
    pub fn call_methods_in_order<C: Method + Serialize>(
        &self,
        methods: Vec<C>,
    ) -> Result<Vec<C::ReturnObject>> {
        let timeout = *self.timeout.read().unwrap_or_else(|p| p.into_inner());
        self.conn
            .call_in_order(Some(&self.session_id), methods, timeout)
    }

    /// Untyped calls on this tab's session sent back to back and answered in order (see
    /// [`Connection::call_raw_in_order`]).
    pub fn call_raw_in_order(&self, calls: Vec<(&'static str, Value)>) -> Result<Vec<Value>> {
        let timeout = *self.timeout.read().unwrap_or_else(|p| p.into_inner());
        self.conn
            .call_raw_in_order(Some(&self.session_id), calls, timeout)
    }

    /// Two typed calls on this tab's session sent back to back and answered in order (see
    /// [`Connection::call_pair_in_order`]).
    pub fn call_pair_in_order<A: Method + Serialize, B: Method + Serialize>(
        &self,
        calls: (A, B),
    ) -> (Result<A::ReturnObject>, Result<B::ReturnObject>) {
        let timeout = *self.timeout.read().unwrap_or_else(|p| p.into_inner());
        self.conn
            .call_pair_in_order(Some(&self.session_id), calls, timeout)
    }

    /// A typed call on this tab's session whose answer nobody waits for (see
    /// [`Connection::send_unanswered`]).
    pub fn send_method_unanswered<C: Method + Serialize>(&self, method: C) -> Result<()> {
        self.conn.send_unanswered(Some(&self.session_id), method)
    }

    /// How long calls on this tab wait for Chromium's answer.
    pub fn set_default_timeout(&self, timeout: Duration) -> &Self {
        *self.timeout.write().unwrap_or_else(|p| p.into_inner()) = timeout;
        self
    }

    /// The CDP methods of this tab's calls that are waiting for an answer now.
    pub fn pending_methods(&self) -> Vec<String> {
        self.conn.pending_methods(&self.session_id)
    }

    /// True after the page's renderer died and before a navigation revived it.
    pub fn is_crashed(&self) -> bool {
        lock(&self.conn.crashed).contains(&self.session_id)
    }

    pub fn get_target_id(&self) -> &String {
        &self.target_id
    }

    /// The target's current URL, asked of Chromium.
    pub fn get_url(&self) -> String {
        self.conn
            .call_raw(
                None,
                "Target.getTargetInfo",
                json!({ "targetId": self.target_id }),
                Duration::from_secs(5),
            )
            .ok()
            .and_then(|info| {
                info.pointer("/targetInfo/url")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    }

    pub fn add_event_listener(&self, listener: Arc<Listener>) -> Result<Weak<Listener>> {
        let weak = Arc::downgrade(&listener);
        lock(&self.listeners).push(listener);
        Ok(weak)
    }

    pub fn remove_event_listener(&self, listener: &Weak<Listener>) -> Result<()> {
        if let Some(target) = listener.upgrade() {
            lock(&self.listeners).retain(|l| !Arc::ptr_eq(l, &target));
        }
        Ok(())
    }

    /// Closes the target; true when Chromium closed it.
    pub fn close_target(&self) -> Result<bool> {
        let closed = self.conn.call(
            None,
            Target::CloseTarget {
                target_id: self.target_id.clone(),
            },
            DEFAULT_CALL_TIMEOUT,
        )?;
        lock(&self.conn.sessions).remove(&self.session_id);
        Ok(closed.success)
    }

    /// Stops routing events to this tab once its target is gone (the page closed itself).
    pub fn detach_events(&self) {
        lock(&self.conn.sessions).remove(&self.session_id);
    }

    /// Brings the target to the front.
    pub fn activate(&self) -> Result<&Self> {
        self.conn.call(
            None,
            Target::ActivateTarget {
                target_id: self.target_id.clone(),
            },
            DEFAULT_CALL_TIMEOUT,
        )?;
        Ok(self)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A `Runtime.evaluate` of `expression` in the main frame, silent, everything else default.
pub fn evaluate_request(
    expression: &str,
    return_by_value: bool,
) -> headless_chrome::protocol::cdp::Runtime::Evaluate {
    headless_chrome::protocol::cdp::Runtime::Evaluate {
        expression: expression.to_owned(),
        object_group: None,
        include_command_line_api: None,
        silent: Some(true),
        context_id: None,
        return_by_value: Some(return_by_value),
        generate_preview: None,
        user_gesture: None,
        await_promise: None,
        throw_on_side_effect: None,
        timeout: None,
        disable_breaks: None,
        repl_mode: None,
        allow_unsafe_eval_blocked_by_csp: None,
        unique_context_id: None,
        serialization_options: None,
    }
}
