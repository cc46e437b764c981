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
//! property they read; children are walked by sibling links, not NodeLists.
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
//! styles; it is the same scan the CDP path runs on its own.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    cdp_error, AxNode, AxProperty, AxTree, AxValue, AxValueSource, CursorScan, Evaluate,
    CURSOR_SCAN,
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

/// Runs the engine in `realm` (and the cursor scan with it when `cursor`). The element
/// arrays live in object group `group`, which the returned tree holds, or which is released
/// here when the script declined.
pub(super) fn read(realm: &Realm, group: &str, cursor: bool) -> Result<PageRead, CommandError> {
    let tab = &realm.cdp;
    let held = HeldGroup::new(Arc::clone(tab), group.to_owned());
    let script = ENGINE.replace("__CURSOR_SCAN__", &format!("({})", CURSOR_SCAN));
    let mut params = json!({
        "expression": format!("({script})({cursor})"),
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
    let parsing = std::time::Instant::now();
    let parsed: ReplyJson = serde_json::from_str(tree_text)
        .map_err(|e| CommandError::failed(format!("the snapshot script's tree: {e}")))?;
    let parse_ms = parsing.elapsed().as_millis() as u64;
    let parsed = match parsed {
        ReplyJson { b: Some(b), .. } => Reply::Declined { b },
        ReplyJson { n: Some(n), .. } => Reply::Nodes { n },
        ReplyJson { .. } => {
            return Err(CommandError::failed(
                "the snapshot script returned neither a tree nor a reason",
            ))
        }
    };
    let parsed = match parsed {
        Reply::Nodes { .. } if has_listeners(tab, listened.and_then(|l| l.object_id), group)? => {
            Reply::Declined {
                b: "an inline element with event listeners".to_owned(),
            }
        }
        parsed => parsed,
    };
    let tree = match (parsed, elements.and_then(|e| e.object_id)) {
        (Reply::Declined { b }, _) => {
            tracing::debug!(reason = %b, ms = script_ms, "page snapshot engine declined");
            Err(b)
        }
        (Reply::Nodes { n }, Some(elements)) => {
            let building = std::time::Instant::now();
            let (nodes, children) = ax_nodes(n)?;
            tracing::debug!(
                nodes = nodes.len(),
                script_ms,
                transfer_ms,
                parse_ms,
                nodes_ms = building.elapsed().as_millis() as u64,
                reply_bytes = tree_text.len(),
                "page snapshot engine"
            );
            Ok(PageTree {
                tree: AxTree::with_children(nodes, children),
                elements,
                held,
            })
        }
        (Reply::Nodes { .. }, None) => {
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

/// The script's JSON: `{"b": why}` or `{"n": nodes}`. A plain struct, not an untagged enum,
/// which serde would buffer whole (1.9 MB on 5,000 rows) before trying each variant.
#[derive(Deserialize)]
struct ReplyJson {
    b: Option<String>,
    n: Option<Vec<Node>>,
}

enum Reply {
    Declined { b: String },
    Nodes { n: Vec<Node> },
}

/// One entry of the script's node list (see `page_engine.js`), read without an intermediate
/// `serde_json::Value`: a text run with a DOM node, a whitespace run without one, or an
/// element node `[role, name, childCount, el, flags, value, level, placeholder]` whose last
/// four fields may be left out (0, null, 0, null).
enum Node {
    Text(String),
    Space(String),
    Element(ElementNode),
}

struct ElementNode {
    role: String,
    name: String,
    children: u64,
    el: i64,
    flags: u64,
    value: Option<String>,
    level: i64,
    placeholder: Option<String>,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> serde::de::Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, a one-string array or a four- to eight-field array")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Text(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Node, E> {
                Ok(Node::Text(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                use serde::de::Error;
                let missing = || A::Error::custom("a node array is too short");
                let first: String = seq.next_element()?.ok_or_else(missing)?;
                let Some(name) = seq.next_element::<String>()? else {
                    return Ok(Node::Space(first));
                };
                let node = ElementNode {
                    role: first,
                    name,
                    children: seq.next_element()?.ok_or_else(missing)?,
                    el: seq.next_element()?.ok_or_else(missing)?,
                    // The script leaves trailing fields out where they hold their defaults.
                    flags: seq.next_element()?.unwrap_or(0),
                    value: seq.next_element::<Option<String>>()?.flatten(),
                    level: seq.next_element()?.unwrap_or(0),
                    placeholder: seq.next_element::<Option<String>>()?.flatten(),
                };
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::custom("a node array is too long"));
                }
                Ok(Node::Element(node))
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

const CHECKED: u64 = 1;
const MIXED: u64 = 2;
const DISABLED: u64 = 4;
const EXPANDED: u64 = 8;
const SELECTED: u64 = 16;
const URL: u64 = 32;

/// The script's pre-order node list as the CDP tree's nodes, and each node's children (as
/// indexes into the nodes). A text run's DOM node is the next entry of the elements array; a
/// whitespace run has none (see `page_engine.js`).
fn ax_nodes(list: Vec<Node>) -> Result<(Vec<AxNode>, Vec<Vec<usize>>), CommandError> {
    let bad = || CommandError::failed("the snapshot script returned a malformed tree");
    let mut nodes: Vec<AxNode> = Vec::with_capacity(list.len());
    let mut children: Vec<Vec<usize>> = Vec::with_capacity(list.len());
    // (node index, children still expected)
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut next_element: i64 = 0;
    for item in list {
        let index = nodes.len();
        let (node, count) = match item {
            Node::Text(text) => {
                let backend = Some(next_element);
                next_element += 1;
                (text_node(text, backend), 0)
            }
            Node::Space(text) => (text_node(text, None), 0),
            Node::Element(a) => {
                let el = a.el;
                let flags = a.flags;
                let backend = (el >= 0).then(|| {
                    next_element = el + 1;
                    el
                });
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
                if a.level > 0 {
                    prop("level", json!(a.level));
                }
                if flags & SELECTED != 0 {
                    prop("selected", json!(true));
                }
                if flags & URL != 0 {
                    prop("url", json!(""));
                }
                let sources = match a.placeholder {
                    Some(p) => vec![AxValueSource {
                        attribute: Some("placeholder".into()),
                        attribute_value: Some(Box::new(AxValue {
                            value: Value::String(p),
                            sources: Vec::new(),
                        })),
                    }],
                    None => Vec::new(),
                };
                let node = AxNode {
                    node_id: String::new(),
                    ignored: false,
                    ignored_reasons: Vec::new(),
                    role: Some(AxValue {
                        value: Value::String(a.role),
                        sources: Vec::new(),
                    }),
                    name: Some(AxValue {
                        value: Value::String(a.name),
                        sources,
                    }),
                    value: a.value.map(|v| AxValue {
                        value: Value::String(v),
                        sources: Vec::new(),
                    }),
                    properties,
                    child_ids: Vec::new(),
                    backend,
                };
                (node, a.children)
            }
        };
        if let Some((parent, left)) = open.last_mut() {
            children[*parent].push(index);
            *left -= 1;
        } else if index != 0 {
            return Err(bad());
        }
        nodes.push(node);
        children.push(Vec::new());
        if count > 0 {
            open.push((index, count));
        }
        while open.last().is_some_and(|(_, left)| *left == 0) {
            open.pop();
        }
    }
    if !open.is_empty() {
        return Err(bad());
    }
    Ok((nodes, children))
}

fn text_node(text: String, backend: Option<i64>) -> AxNode {
    AxNode {
        node_id: String::new(),
        ignored: false,
        ignored_reasons: Vec::new(),
        role: Some(AxValue {
            value: json!("StaticText"),
            sources: Vec::new(),
        }),
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
