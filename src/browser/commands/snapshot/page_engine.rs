//! The in-page snapshot engine: the same tree as `Accessibility.getFullAXTree`, computed by one
//! script in the page, for the pages whose every element it models exactly.
//!
//! Why: on a page of 5,000 table rows Chromium spends ~4 s building its whole accessibility
//! tree (every node's name *and* the sources of that name) and sends 37 MB of it, of which a
//! snapshot prints a small part. `page_engine.js` walks the flat tree once (shadow roots and
//! slots followed as layout follows them), gives each node the role, name, value and states
//! Chromium would give it (roles from HTML-AAM, names from accname 1.2, as Chromium applies
//! them — checked against Chromium's own tree by `tests/snapshot_engines.rs`), and returns them
//! in Chromium's vocabulary. The Rust side builds the same [`AxTree`] the CDP path builds, so
//! the fold into Playwright's shape, the emit rules and the rendering are one code for both.
//!
//! Safety before speed: the script *declines* (and the snapshot falls back to the CDP tree,
//! whole) wherever its answer could differ from Chromium's. It declines on:
//! - any `role`, any `aria-*` attribute other than `aria-label` on elements whose name it
//!   computes (and `aria-describedby`/`aria-description`, which print nothing): so
//!   `aria-labelledby`, `aria-owns`, `aria-activedescendant`, `aria-hidden`, states…;
//! - `tabindex`, `contenteditable`, `title`, `inert`, `popover`, `is`, `accesskey`;
//! - any element it has no rule for (svg, math, canvas, iframe, video, details, dialog,
//!   fieldset, q, meter, progress, area…), input types other than text-like, checkbox, radio
//!   and buttons, list boxes, optgroups, datalists;
//! - CSS it does not compute: generated content (any style rule mentioning `::before`,
//!   `::after`, `::marker` or `content:`, any cross-origin sheet), `text-transform`,
//!   `visibility` other than visible, `content-visibility`, `-webkit-text-security`, inline
//!   elements laid out as inline-block where that would decide a word break;
//! - what it cannot see: a closed shadow root betrayed by unrendered light children or by an
//!   empty host with a box;
//! - tables whose data/layout status Chromium decides by heuristics (`IsDataTable`): only
//!   header markup or 20+ rows (data) and small tables with no borders or backgrounds (layout)
//!   are modelled; spans, ragged rows, `headers`/`abbr`/`axis` decline;
//! - labels holding inline elements or other controls, controls with several labels, buttons
//!   with labels, names that would come from an unlabelled checkbox, a list box, a number or
//!   password field, a link with no name, a label that is not rendered, an empty text field
//!   with a label inside a name from content (an empty one gives its own name there);
//! - a `<script>`, `<style>`, `<title>`… that author CSS or an animation shows (Chromium's tree
//!   then holds its text; the walk leaves these tags out);
//! - an in-flow block inside a `<p>` (anonymous blocks), an empty `<p>` (not in Chromium's
//!   tree), an element with no box (slot, `display: contents`) whose content is only blank
//!   (one holding text breaks words as a block does, in text and names);
//! - an inline element whose inclusion would move a word break (text runs straight into it)
//!   when it has an event listener (`DOMDebugger.getEventListeners`, asked from Rust for
//!   just those elements): Chromium includes clickable inline elements in its tree.
//!
//! Costs kept off the walk: `el.labels` is replaced by one pass over each tree's labels
//! (Chromium walks the whole document per control the first time: 13 s on 5,000 rows);
//! the per-element style checks are skipped until some author CSS or inline style mentions a
//! property they read; a table part's `display` (and an input's or button's in a cell) is
//! not read where no author rule, inline style or animation sets `display`, `float` or
//! `position` and nothing is in fullscreen: the UA sheet then decides it from the tag and the
//! parent's display, so the first element of each kind is read and the rest reuse it;
//! children are walked by sibling links, not NodeLists. For `-i` the
//! script does only what the printed lines need: names from content only for the roles
//! `-i` prints (a cell's, a heading's name is neither computed nor can it decline), no text
//! runs inside a data table's rows outside interactive elements, elements held only for
//! interactive nodes; the structure, and so each printed line's depth, is the full tree's.
//! The reply is one string (a node stream, `page_engine.js`'s header), not JSON of nested
//! arrays: no array per node for the page's GC, nothing to stringify or parse as JSON, and
//! fewer bytes through `Runtime.getProperties`. The script writes it as UTF-16 code units into
//! one growing typed array, decoded once at the end: appending to a string kept a cons string
//! per piece alive until then, and the scavenges that copied them were a third of the script
//! on a 20,000-row table.
//!
//! `BROWSE_SNAPSHOT_ENGINE` picks the engine, as a debugging aid: `ax` (always the CDP tree),
//! `page` (the page engine or an error saying why it declined), unset or `auto` (the page
//! engine, the CDP tree where it declines). A `-s` snapshot always uses the CDP tree.
//!
//! Refs: the script returns the elements behind the nodes in one array, kept alive in a CDP
//! object group that lives as long as the ref map ([`HeldGroup`]); a ref resolves to
//! `array[i]` on use. That costs nothing at snapshot time, where 15,000 `DOM.describeNode`
//! calls for backend ids cost more than the whole snapshot.
//!
//! The script runs in an isolated world of its own (`Page.createIsolatedWorld`: pristine
//! builtins over the same DOM), so a page that redefines `getComputedStyle` or
//! `Element.prototype.getAttribute` cannot make it print a wrong line; the cursor scan it runs
//! is the CDP path's, which runs in the main world, and reads the same DOM and styles.
//!
//! The cursor scan (`-C`) runs in the same script call, after the walk, reusing its computed
//! styles; it is the same scan the CDP path runs on its own. Where the walk provably saw every
//! element under the body (it ended, met no shadow root, and counted as many elements as the
//! body holds), it hands the scan its elements in document order in place of the scan's
//! selector pass over the document (`page_engine.js`, `candidates`).

use std::sync::Arc;

use serde_json::{json, Value};

use super::{
    cdp_error, AxNode, AxProperty, AxRole, AxTree, AxValue, AxValueSource, Children, CursorScan,
    Evaluate, CURSOR_SCAN,
};
use crate::browser::frames::Realm;
use crate::browser::page::CommandError;
use crate::browser::refs::HeldGroup;
use crate::cdp::Tab;

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
struct GetEventListeners(Value);
impl headless_chrome::protocol::cdp::types::Method for GetEventListeners {
    const NAME: &'static str = "DOMDebugger.getEventListeners";
    type ReturnObject = Value;
}

/// The engine script; `__CURSOR_SCAN__` is replaced by the cursor scan function.
const ENGINE: &str = include_str!("page_engine.js");

/// Which engine `BROWSE_SNAPSHOT_ENGINE` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Engine {
    /// `Accessibility.getFullAXTree` always.
    Ax,
    /// The page engine, failing when it declines.
    Page,
    /// The page engine, the CDP tree where it declines (the default).
    Auto,
}

impl Engine {
    /// Reads `BROWSE_SNAPSHOT_ENGINE`. Errors: a value other than `ax`, `page`, `auto`.
    pub(super) fn from_env() -> Result<Self, CommandError> {
        match std::env::var("BROWSE_SNAPSHOT_ENGINE").ok().as_deref() {
            None | Some("") | Some("auto") => Ok(Engine::Auto),
            Some("ax") => Ok(Engine::Ax),
            Some("page") => Ok(Engine::Page),
            Some(other) => Err(CommandError::failed(format!(
                "BROWSE_SNAPSHOT_ENGINE={other} is not an engine: use ax, page or auto \
                 (or leave it unset)"
            ))),
        }
    }
}

/// What one run of the page script read.
pub(super) struct PageRead {
    /// The tree, or why the script declined to model this page.
    pub tree: Result<PageTree, String>,
    /// The cursor scan, when asked for.
    pub cursor: Option<CursorScan>,
}

/// A tree from the page, its node backends being indexes into `elements`.
pub(super) struct PageTree {
    pub tree: AxTree,
    /// The array of elements behind the nodes (its object id, in `held`'s group).
    pub elements: String,
    pub held: HeldGroup,
}

/// Runs the engine in `realm` (and the cursor scan with it when `cursor`). With
/// `interactive_only` (`snapshot -i`) the tree is only good for the interactive lines: nodes
/// of other roles have no names from content and no element, and text inside a data table's
/// rows is left out where it is not inside an interactive element (see `page_engine.js`).
/// The element arrays live in object group `group`, which the returned tree holds, or which
/// is released here when the script declined.
pub(super) fn read(
    realm: &Realm,
    group: &str,
    cursor: bool,
    interactive_only: bool,
) -> Result<PageRead, CommandError> {
    let tab = &realm.cdp;
    let held = HeldGroup::new(Arc::clone(tab), group.to_owned());
    let script = ENGINE.replace("__CURSOR_SCAN__", &format!("({})", CURSOR_SCAN));
    let mut params = json!({
        "expression": format!("({script})({cursor}, {interactive_only})"),
        "objectGroup": group,
        "returnByValue": false,
        "silent": true,
    });
    let frame_id = realm.frame.as_ref().map(|frame| frame.frame_id.as_str());
    params["contextId"] = json!(isolated_world(&realm.cdp, frame_id, "browse-snapshot")?);
    let began = std::time::Instant::now();
    let reply = tab.call_method(Evaluate(params)).map_err(cdp_error)?;
    // The split of a snapshot's time, logged at debug level (BENCHMARKS.md quotes it).
    let script_ms = began.elapsed().as_millis() as u64;
    if let Some(e) = reply.exception {
        return Err(CommandError::failed(format!(
            "the snapshot script failed in the page: {}",
            e.message()
        )));
    }
    let outer = reply
        .result
        .object_id
        .ok_or_else(|| CommandError::failed("the snapshot script returned no array"))?;
    let mut parts = super::array_items(tab, &outer)?.into_iter().map(Some);
    let mut part = || parts.next().flatten();
    let [tree_json, elements, cursor_json, cursor_elements, listened] =
        [part(), part(), part(), part(), part()];
    let transfer_ms = began.elapsed().as_millis() as u64 - script_ms;
    let cursor = if cursor {
        Some(super::cursor_from_parts(
            tab,
            cursor_json.as_ref().and_then(|v| v.value.as_str()),
            cursor_elements.and_then(|v| v.object_id),
        ))
    } else {
        None
    };
    let tree_text = tree_json
        .as_ref()
        .and_then(|v| v.value.as_str())
        .ok_or_else(|| CommandError::failed("the snapshot script returned no tree"))?;
    let parsed = match reply_of(tree_text) {
        Ok(_) if has_listeners(tab, listened.and_then(|l| l.object_id), group)? => {
            Err("an inline element with event listeners".to_owned())
        }
        parsed => parsed,
    };
    let tree = match (parsed, elements.and_then(|e| e.object_id)) {
        (Err(b), _) => {
            tracing::debug!(reason = %b, ms = script_ms, "page snapshot engine declined");
            Err(b)
        }
        (Ok(stream), Some(elements)) => {
            let parsing = std::time::Instant::now();
            let (nodes, children) = ax_nodes(stream)?;
            tracing::debug!(
                nodes = nodes.len(),
                script_ms,
                transfer_ms,
                parse_ms = parsing.elapsed().as_millis() as u64,
                reply_bytes = tree_text.len(),
                "page snapshot engine"
            );
            Ok(PageTree {
                tree: AxTree::with_children(nodes, children),
                elements,
                held,
            })
        }
        (Ok(_), None) => {
            return Err(CommandError::failed(
                "the snapshot script returned no elements",
            ))
        }
    };
    // A declined tree drops `held` here, which releases the group (the cursor scan's
    // elements were already described).
    Ok(PageRead { tree, cursor })
}

/// A fresh isolated world (`Page.createIsolatedWorld`, named `world_name`) over `frame_id`,
/// or over the tab's main frame when `None`: the page's own scripts cannot reach it, so a page
/// that redefines DOM builtins cannot mislead what runs there, and its objects are invisible
/// to the page. The world's execution context id.
pub(super) fn isolated_world(
    tab: &Tab,
    frame_id: Option<&str>,
    world_name: &str,
) -> Result<i64, CommandError> {
    let frame_id = match frame_id {
        Some(id) => id.to_owned(),
        None => {
            let tree = tab
                .call_raw("Page.getFrameTree", json!({}))
                .map_err(cdp_error)?;
            tree["frameTree"]["frame"]["id"]
                .as_str()
                .ok_or_else(|| CommandError::failed("Page.getFrameTree gave no main frame"))?
                .to_owned()
        }
    };
    let world = tab
        .call_raw(
            "Page.createIsolatedWorld",
            json!({ "frameId": frame_id, "worldName": world_name }),
        )
        .map_err(cdp_error)?;
    world["executionContextId"]
        .as_i64()
        .ok_or_else(|| CommandError::failed("Page.createIsolatedWorld gave no context"))
}

/// Whether any element of the remote array `listened` has an event listener of its own
/// (`DOMDebugger.getEventListeners`): Chromium puts such inline elements in its tree, which
/// moves word breaks the page engine does not move.
fn has_listeners(tab: &Tab, listened: Option<String>, group: &str) -> Result<bool, CommandError> {
    let Some(array) = listened else {
        return Ok(false);
    };
    let objects: Vec<String> = super::array_items(tab, &array)?
        .into_iter()
        .filter_map(|v| v.object_id)
        .collect();
    let counts = super::in_parallel(objects, |object_id| {
        // Listeners are reported to their own world only: ask through the main world's
        // wrapper of the node (`DOM.resolveNode` without a context gives that one).
        let backend = super::backend_of(tab, &object_id)?;
        let main = tab
            .call_raw(
                "DOM.resolveNode",
                json!({ "backendNodeId": backend, "objectGroup": group }),
            )
            .map_err(cdp_error)?;
        let main_id = main["object"]["objectId"]
            .as_str()
            .ok_or_else(|| CommandError::failed("DOM.resolveNode gave no object"))?;
        let reply = tab
            .call_method(GetEventListeners(json!({ "objectId": main_id })))
            .map_err(cdp_error)?;
        Ok(reply
            .get("listeners")
            .and_then(Value::as_array)
            .map_or(0, Vec::len))
    })?;
    Ok(counts.into_iter().any(|n| n > 0))
}

const CHECKED: u64 = 1;
const MIXED: u64 = 2;
const DISABLED: u64 = 4;
const EXPANDED: u64 = 8;
const SELECTED: u64 = 16;
const URL: u64 = 32;

/// What the script's tree string says: why it declined (`B<why>`), or its node stream.
fn reply_of(text: &str) -> Result<&str, String> {
    match text.strip_prefix('B') {
        Some(why) => Err(why.to_owned()),
        None => Ok(text),
    }
}

/// A cursor over the node stream (see `page_engine.js`): one pass, no intermediate values.
struct Stream<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Stream<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// The byte `b` next, consumed; `None` (nothing consumed) otherwise.
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek() == Some(b)).then(|| self.at += 1)
    }

    /// Up to (not including) the next `end`, which is consumed.
    fn until(&mut self, end: u8) -> Option<&'a str> {
        let rest = &self.text.as_bytes()[self.at..];
        let n = rest.iter().position(|&b| b == end)?;
        let field = self.text.get(self.at..self.at + n)?;
        self.at += n + 1;
        Some(field)
    }

    /// A number ended by `,`.
    fn number<T: std::str::FromStr>(&mut self) -> Option<T> {
        self.until(b',')?.parse().ok()
    }

    /// A string: its length in UTF-16 units (JavaScript's `length`), `:`, its text.
    fn string(&mut self) -> Option<String> {
        let units: usize = self.until(b':')?.parse().ok()?;
        let rest = self.text.get(self.at..)?;
        // ASCII (almost every string of a big table): a unit is a byte.
        let bytes = if rest.len() >= units && rest.as_bytes()[..units].is_ascii() {
            units
        } else {
            let mut left = units;
            let mut bytes = 0;
            for c in rest.chars() {
                if left == 0 {
                    break;
                }
                left = left.checked_sub(c.len_utf16())?;
                bytes += c.len_utf8();
            }
            if left != 0 {
                return None;
            }
            bytes
        };
        let text = rest.get(..bytes)?.to_owned();
        self.at += bytes;
        Some(text)
    }
}

/// The script's node stream as the CDP tree's nodes, and each node's children (as indexes
/// into the nodes). A text run's DOM node is the next entry of the elements array; a
/// whitespace run has none (see `page_engine.js`).
fn ax_nodes(stream: &str) -> Result<(Vec<AxNode>, Children), CommandError> {
    read_nodes(stream)
        .ok_or_else(|| CommandError::failed("the snapshot script returned a malformed tree"))
}

fn read_nodes(stream: &str) -> Option<(Vec<AxNode>, Children)> {
    let mut s = Stream {
        text: stream,
        at: 0,
    };
    // Sized for a big table's stream (~16 bytes a node): growing a vector of 180,000 nodes
    // by doubling copied it whole several times.
    let guess = stream.len() / 16;
    let mut nodes: Vec<AxNode> = Vec::with_capacity(guess);
    let mut parents: Vec<Option<usize>> = Vec::with_capacity(guess);
    // The open element nodes, innermost last.
    let mut open: Vec<usize> = Vec::new();
    let mut next_element: i64 = 0;
    while let Some(kind) = s.peek() {
        s.at += 1;
        let index = nodes.len();
        let node = match kind {
            b')' => {
                open.pop()?;
                continue;
            }
            b'T' => {
                let backend = Some(next_element);
                next_element += 1;
                text_node(s.string()?, backend)
            }
            b'W' => text_node(s.string()?, None),
            b'E' => {
                let role = AxRole::new(s.until(b',')?);
                let mut backend = None;
                if s.eat(b'@').is_some() {
                    let el: i64 = s.number()?;
                    next_element = el + 1;
                    backend = Some(el);
                }
                let flags: u64 = match s.eat(b'f') {
                    Some(()) => s.number()?,
                    None => 0,
                };
                let level: i64 = match s.eat(b'l') {
                    Some(()) => s.number()?,
                    None => 0,
                };
                let name = match s.eat(b'n') {
                    Some(()) => s.string()?,
                    None => String::new(),
                };
                let value = match s.eat(b'v') {
                    Some(()) => Some(s.string()?),
                    None => None,
                };
                let placeholder = match s.eat(b'p') {
                    Some(()) => Some(s.string()?),
                    None => None,
                };
                s.eat(b';')?;
                element_node(role, name, backend, flags, value, level, placeholder)
            }
            _ => return None,
        };
        match open.last() {
            Some(&parent) => parents.push(Some(parent)),
            None if index != 0 => return None,
            None => parents.push(None),
        }
        nodes.push(node);
        if kind == b'E' {
            open.push(index);
        }
    }
    (open.is_empty() && !nodes.is_empty()).then(|| (nodes, Children::from_parents(&parents)))
}

/// An element node of the stream as the CDP tree would report it: its states as
/// properties, its placeholder as a name source.
fn element_node(
    role: AxRole,
    name: String,
    backend: Option<i64>,
    flags: u64,
    value: Option<String>,
    level: i64,
    placeholder: Option<String>,
) -> AxNode {
    let mut properties = Vec::new();
    let mut prop = |name: &str, value: Value| {
        properties.push(AxProperty {
            name: name.into(),
            value: AxValue {
                value,
                sources: Vec::new(),
            },
        })
    };
    if flags & MIXED != 0 {
        prop("checked", json!("mixed"));
    } else if flags & CHECKED != 0 {
        prop("checked", json!("true"));
    }
    if flags & DISABLED != 0 {
        prop("disabled", json!(true));
    }
    if flags & EXPANDED != 0 {
        prop("expanded", json!(true));
    }
    if level > 0 {
        prop("level", json!(level));
    }
    if flags & SELECTED != 0 {
        prop("selected", json!(true));
    }
    if flags & URL != 0 {
        prop("url", json!(""));
    }
    let sources = match placeholder {
        Some(p) => vec![AxValueSource {
            attribute: Some("placeholder".into()),
            attribute_value: Some(Box::new(AxValue {
                value: Value::String(p),
                sources: Vec::new(),
            })),
        }],
        None => Vec::new(),
    };
    AxNode {
        node_id: String::new(),
        ignored: false,
        ignored_reasons: Vec::new(),
        role,
        name: Some(AxValue {
            value: Value::String(name),
            sources,
        }),
        value: value.map(|v| {
            Box::new(AxValue {
                value: Value::String(v),
                sources: Vec::new(),
            })
        }),
        properties,
        child_ids: Vec::new(),
        backend,
    }
}

fn text_node(text: String, backend: Option<i64>) -> AxNode {
    AxNode {
        node_id: String::new(),
        ignored: false,
        ignored_reasons: Vec::new(),
        role: AxRole::new("StaticText"),
        name: Some(AxValue {
            value: Value::String(text),
            sources: Vec::new(),
        }),
        value: None,
        properties: Vec::new(),
        child_ids: Vec::new(),
        backend,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Keep, Line};
    use super::*;

    /// The tags of a JavaScript `new Set([...])` or comma-separated string that follows
    /// `marker` in `source`.
    fn tags_after(source: &str, marker: &str) -> Vec<String> {
        let start = source.find(marker).expect("the marker is in the script") + marker.len();
        let end = start + source[start..].find([']', ';']).expect("the list ends");
        source[start..end]
            .split([',', '\'', '+', '\n', ' '])
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The walk leaves out of the cursor scan's candidates only elements the scan's loop
    /// skips: its skip tags, and table parts under table parts (`ctx.table`: a table, section
    /// or row), which must all be PASSIVE there. An edit to either list that breaks that
    /// would silently drop clickable elements from `snapshot -C`.
    #[test]
    fn the_walk_leaves_out_only_what_the_cursor_scan_skips() {
        let passive = tags_after(CURSOR_SCAN, "const PASSIVE_TAGS = ");
        let table_parts = tags_after(ENGINE, "const TABLE_PARTS = new Set([");
        for tag in table_parts.iter().map(String::as_str).chain(["table"]) {
            assert!(passive.iter().any(|p| p == tag), "{tag} is not PASSIVE");
        }
        let skips = tags_after(ENGINE, "const SCAN_SKIPS = new Set([");
        let scan_skips = tags_after(CURSOR_SCAN, "const skip = new Set([");
        for tag in &skips {
            assert!(
                scan_skips.contains(&tag.to_uppercase()),
                "{tag} is not skipped by the scan"
            );
        }
        assert!(table_parts.len() >= 6 && skips.len() >= 5 && passive.len() > 20);
    }

    fn name(node: &AxNode) -> &str {
        node.name
            .as_ref()
            .and_then(|v| v.value.as_str())
            .unwrap_or("")
    }

    #[test]
    fn the_node_stream_reads_into_nodes_and_children() {
        // Lengths count UTF-16 units, as JavaScript does: "é😀x" is 4 (2 for the emoji).
        let stream = "ERootWebArea,;Ebutton,@0,f5,n4:é😀x;T6:a)b:c\n)W2:  \
                      Eheading,l2,n0:;)Etextbox,@2,v0:p3:a;b;))";
        let (nodes, children) = read_nodes(stream).expect("a well-formed stream");
        assert_eq!(nodes.len(), 6);
        assert_eq!(children.of(0), [1, 3, 4, 5]);
        assert_eq!(children.of(1), [2]);
        assert_eq!(name(&nodes[1]), "é😀x");
        assert_eq!(nodes[1].backend, Some(0));
        let props: Vec<&str> = nodes[1]
            .properties
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(props, ["checked", "disabled"]);
        // A text run's element is the next one after the last element node's.
        assert_eq!((name(&nodes[2]), nodes[2].backend), ("a)b:c\n", Some(1)));
        assert_eq!((name(&nodes[3]), nodes[3].backend), ("  ", None));
        assert_eq!(nodes[4].properties[0].name, "level");
        assert_eq!(
            nodes[5].value.as_ref().map(|v| v.value.clone()),
            Some(json!(""))
        );
        assert_eq!(placeholder(&nodes[5]), Some("a;b"));
        assert!(children.of(5).is_empty());
        assert!(children.of(2).is_empty() && children.of(6).is_empty());
    }

    fn placeholder(node: &AxNode) -> Option<&str> {
        node.name
            .as_ref()?
            .sources
            .first()?
            .attribute_value
            .as_ref()?
            .value
            .as_str()
    }

    /// What of a fold's lines matters: those `render` prints under `keep`, whole, and the
    /// `iframe` lines the descent into frames expands (where they are and which element: under
    /// `-i` their name is never printed), and whether the tree had any line.
    type Kept = (Vec<Line>, Vec<(usize, Option<i64>)>, bool);

    fn kept(lines: Vec<Line>, empty: bool, keep: Keep) -> Kept {
        let iframes = lines
            .iter()
            .filter(|l| l.role == "iframe" && keep.depth.is_none_or(|max| l.depth <= max))
            .map(|l| (l.depth, l.backend))
            .collect();
        let printed = lines
            .into_iter()
            .filter(|l| keep.prints(l.depth, &l.role, !l.name.is_empty(), l.text.is_some()))
            .collect();
        (printed, iframes, empty)
    }

    /// [`kept`] of the full fold's lines, as `render` and the frame descent would pick them.
    fn kept_of_full(tree: &AxTree, keep: Keep) -> Kept {
        let root: Vec<usize> = tree.root().into_iter().collect();
        let full = tree.lines(&root, true, Keep::default());
        kept(full.lines, full.empty, keep)
    }

    #[test]
    fn interactive_lines_are_the_full_folds_lines_that_print() {
        // Controls in a table, in landmarks named and not, in lists and folded-away generics;
        // a link whose /url keeps its text off the line; text only; nothing; an iframe line.
        let table = "ERootWebArea,;Eheading,l1,n4:Rows;T4:Rows)Etable,;\
                     Erow,;Ecell,;T1:0)Ecell,;Echeckbox,@1,n6:pick 0;))Ecell,;\
                     Etextbox,@2,n5:qty 0v1:0;))Ecell,;Ebutton,@3,n6:Edit 0;T6:Edit 0)))\
                     Erow,;Ecell,;T1:1)Ecell,;Echeckbox,@5,f1,n6:pick 1;))Ecell,;\
                     Ebutton,@6,f4,n0:;T3:Off))))W1: )";
        let landmarks = "ERootWebArea,;Eform,n4:Sign;Elink,@0,f32,n4:Home;T4:Home))\
                         Eregion,;Ebutton,@2,n2:Go;)Eparagraph,;T3:txt))Elist,;Elistitem,;\
                         Elink,@4,n1:a;T1:a)T4: end))Egeneric,;Eslider,@6,n3:volv2:50;)\
                         EIframe,@7,n2:fr;)Egeneric,;Egeneric,;Etextbox,@8,n0:p5:where;)))))";
        // Within and beyond the depth the fold walks (`MAX_TREE_DEPTH`).
        let deep = |n: usize| {
            format!(
                "ERootWebArea,;{}Ebutton,@0,n4:deep;){})",
                "Egeneric,;Elist,;".repeat(n),
                "))".repeat(n)
            )
        };
        let (deep, deeper) = (deep(130), deep(260));
        let streams = [
            table,
            landmarks,
            &deep,
            &deeper,
            "ERootWebArea,;Eparagraph,;T5:hello))",
            "ERootWebArea,;)",
        ];
        let keeps = [None, Some(0), Some(1), Some(2), Some(3), Some(5)]
            .into_iter()
            .flat_map(|depth| {
                [false, true].map(|compact| Keep {
                    interactive: true,
                    compact,
                    depth,
                })
            });
        for stream in streams {
            let (nodes, children) = read_nodes(stream).expect("a well-formed stream");
            let tree = AxTree::with_children(nodes, children);
            let root: Vec<usize> = tree.root().into_iter().collect();
            for keep in keeps.clone() {
                let lean = tree.lines(&root, true, keep);
                assert_eq!(
                    kept(lean.lines, lean.empty, keep),
                    kept_of_full(&tree, keep),
                    "{keep:?} of {stream:.80}"
                );
            }
        }
        // The comparisons compared something: five controls in the table, an iframe beside
        // the landmarks' controls.
        let interactive = Keep {
            interactive: true,
            ..Keep::default()
        };
        let of = |stream| {
            let (nodes, children) = read_nodes(stream).expect("a well-formed stream");
            kept_of_full(&AxTree::with_children(nodes, children), interactive)
        };
        assert_eq!(of(table).0.len(), 5);
        let (printed, iframes, _) = of(landmarks);
        assert_eq!((printed.len(), iframes), (5, vec![(0, Some(7))]));
    }

    #[test]
    fn a_malformed_stream_is_refused() {
        for bad in [
            "",
            "ERootWebArea,;",
            "ERootWebArea,;))",
            "ERootWebArea,;)ERootWebArea,;)",
            "ERootWebArea,;T9:short)",
            "ERootWebArea,;T1:😀)",
            "ERootWebArea,;Ebutton,@x,;))",
            "ERootWebArea,;X)",
            "ERootWebArea,n3:ab",
        ] {
            assert!(read_nodes(bad).is_none(), "{bad:?} was read");
        }
        assert_eq!(reply_of("Bsome reason"), Err("some reason".to_owned()));
    }
}
