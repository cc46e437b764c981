//! `snapshot`: the accessibility tree as gstack's `@eN [role] "name"` lines, and the ref map
//! it leaves behind.
//!
//! gstack asks Playwright for aria-YAML and parses it back. We ask Chromium once for
//! `Accessibility.getFullAXTree`, fold it into the same shape Playwright would have produced
//! (§6.6 of the compatibility spec), and then apply gstack's emit rules (§6.1, §6.2) to that
//! tree. Every ref is keyed on the node's backend DOM id, so duplicate names, unnamed nodes and
//! names with quotes all resolve to the element that was printed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::cdp::{NoAnswer, Tab};
use headless_chrome::protocol::cdp::types::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::browser::frames::{FrameRef, Frames, Realm};
use crate::browser::page::{CommandError, CommandResult, Ctx};
use crate::browser::refs::{HeldGroup, RefEntry, RefMap};

mod annotate;
mod aria_yaml;
mod iframes;
mod page_engine;

pub use aria_yaml::accessibility;

/// gstack's `INTERACTIVE_ROLES` (`snapshot.ts:29-34`).
const INTERACTIVE_ROLES: &[&str] = &[
    "button",
    "link",
    "textbox",
    "checkbox",
    "radio",
    "combobox",
    "listbox",
    "menuitem",
    "menuitemcheckbox",
    "menuitemradio",
    "option",
    "searchbox",
    "slider",
    "spinbutton",
    "switch",
    "tab",
    "treeitem",
];

/// Followed by the path `-o` named, as gstack prints it.
const OUTPUT_WARNING: &str = "[warning] -o/--output was ignored: it names the output file for an \
annotated (-a/--annotate) or heatmap (-H/--heatmap) screenshot. For a plain screenshot use: \
browse screenshot ";

const CURSOR_HEADER: &str = "── cursor-interactive (not in ARIA tree) ──";

const NO_BASELINE: &str =
    "(no previous snapshot to diff against — this snapshot stored as baseline)";

/// Deeper DOM nesting than this is not walked: the tree is built recursively and a
/// pathological page must not overflow the worker thread's stack.
const MAX_TREE_DEPTH: usize = 512;

/// Numbers the CDP object group each snapshot keeps its remote objects in. The group is
/// released after the reply, so it must not be shared with the next snapshot.
static OBJECT_GROUPS: AtomicU64 = AtomicU64::new(0);

/// `snapshot` and its flags (§6.3).
pub fn snapshot(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let opts = Options::parse(args)?;
    // `-a`/`-H` are checked (JSON, colours, output paths) before anything is read or replaced.
    let overlays = annotate::Plan::new(&opts, &ctx.cwd, &ctx.session.cwd)?;
    // The active frame's document (`frame <sel>`), else the tab's.
    let realm = ctx.realm()?;
    let tab = &realm.cdp;
    // Sampled before reading the tree: a navigation during the snapshot must void its refs.
    let document = ctx.tab.events.document_count();
    let group = format!(
        "browse-snapshot-{}",
        OBJECT_GROUPS.fetch_add(1, Ordering::Relaxed)
    );
    let held_group = format!(
        "browse-snapshot-refs-{}",
        OBJECT_GROUPS.fetch_add(1, Ordering::Relaxed)
    );
    let result = take(&realm, &ctx.tab.frames, &opts, &group, &held_group);
    if opts.selector.is_some() || opts.cursor {
        // The remote objects only served this command. Releasing them is housekeeping the
        // reply need not wait for, and a failure to release is harmless.
        let tab = Arc::clone(tab);
        std::thread::spawn(move || {
            let _ = tab.call_method(ReleaseObjectGroup(json!({ "objectGroup": group })));
        });
    }
    let taken = result?;

    let mut refs = RefMap {
        document,
        ..RefMap::default()
    };
    let text = match taken {
        Taken::Empty => {
            replace_refs(ctx, refs);
            let extra = match overlays {
                Some(plan) => plan.on_empty_page()?,
                None => String::new(),
            };
            return Ok(format!("(no accessible elements found){extra}"));
        }
        Taken::Tree {
            lines,
            cursor,
            held,
        } => {
            let rendering = std::time::Instant::now();
            let text = render(
                &opts,
                lines,
                &cursor,
                realm.frame.as_ref(),
                &mut refs,
                &held,
            );
            refs.held = held.map(|(_, group)| group);
            tracing::debug!(
                refs = refs.count(),
                ms = rendering.elapsed().as_millis() as u64,
                "snapshot render"
            );
            text
        }
    };
    replace_refs(ctx, refs);

    let previous = ctx.state.last_snapshot.replace(text.clone());
    let mut out = if !opts.diff {
        text
    } else if let Some(previous) = previous {
        line_diff(&previous, &text)
    } else {
        format!("{text}\n\n{NO_BASELINE}")
    };
    if ctx.state.frame.is_some() && !opts.diff {
        out = format!("{}\n{out}", iframes::context_line(&realm));
    }
    match (&opts.output, overlays) {
        (_, Some(plan)) => out.push_str(&plan.run(ctx)?),
        (Some(path), None) => {
            out.push('\n');
            out.push_str(OUTPUT_WARNING);
            out.push_str(path);
        }
        (None, None) => {}
    }
    Ok(out)
}

/// Which lines get printed (`-i`, `-c`, `-d`; gstack's `snapshot.ts` filters). The fold asks
/// too, so that it does not build the lines `render` would drop: a 5,000-row table folds
/// 50,000 nodes of which `-i` prints 15,000 (and `-i` builds no node for the others:
/// [`AxTree::lean_lines`]).
#[derive(Debug, Clone, Copy, Default)]
struct Keep {
    interactive: bool,
    compact: bool,
    depth: Option<usize>,
}

impl Keep {
    fn of(opts: &Options) -> Self {
        Keep {
            interactive: opts.interactive,
            compact: opts.compact,
            depth: opts.depth,
        }
    }

    /// Every line (the child frames' lines, whose depths are shifted after the fold, are
    /// filtered by `render` alone).
    fn frames(self) -> Self {
        Keep {
            depth: None,
            ..self
        }
    }

    /// Whether a line `depth` deep, of `role`, with a name (`named`) or inline text
    /// (`has_text`), is printed.
    fn prints(&self, depth: usize, role: &str, named: bool, has_text: bool) -> bool {
        if self.depth.is_some_and(|max| depth > max) {
            return false;
        }
        let interactive = is_interactive(role);
        if self.interactive && !interactive {
            return false;
        }
        !(self.compact && !interactive && !named && !has_text)
    }
}

fn is_interactive(role: &str) -> bool {
    INTERACTIVE_ROLES.contains(&role)
}

/// Makes `refs` the tab's ref map. The old map of a big page holds tens of thousands of
/// entries whose freeing the reply need not wait for.
fn replace_refs(ctx: &mut Ctx, refs: RefMap) {
    let old = std::mem::replace(&mut ctx.state.refs, refs);
    if old.count() > 1_000 {
        std::thread::spawn(move || drop(old));
    }
}

/// The parsed flags.
#[derive(Debug, Default, PartialEq)]
struct Options {
    interactive: bool,
    compact: bool,
    depth: Option<usize>,
    selector: Option<String>,
    diff: bool,
    cursor: bool,
    output: Option<String>,
    /// `-a`: red boxes on every ref.
    annotate: bool,
    /// `-H <json>`: the colour map as given.
    heatmap: Option<String>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Self, CommandError> {
        let mut opts = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "-i" | "--interactive" => opts.interactive = true,
                "-c" | "--compact" => opts.compact = true,
                "-D" | "--diff" => opts.diff = true,
                "-C" | "--cursor-interactive" => opts.cursor = true,
                "-d" | "--depth" => {
                    let n = it.next().and_then(|n| n.parse::<usize>().ok());
                    opts.depth = Some(n.ok_or_else(|| CommandError::usage("snapshot"))?);
                }
                "-s" | "--selector" => {
                    let sel = it.next().ok_or_else(|| CommandError::usage("snapshot"))?;
                    opts.selector = Some(sel.clone());
                }
                "-o" | "--output" => {
                    let path = it.next().ok_or_else(|| CommandError::usage("snapshot"))?;
                    opts.output = Some(path.clone());
                }
                "-a" | "--annotate" => opts.annotate = true,
                "-H" | "--heatmap" => {
                    let map = it.next().ok_or_else(|| CommandError::usage("snapshot"))?;
                    opts.heatmap = Some(map.clone());
                }
                // Bundled boolean short flags (`-ic`, `-iC`): gstack refuses them although its
                // own chain usage shows `-ic` (§10 row 10); accepting them only turns an error
                // into a result.
                bundle
                    if bundle.len() > 2
                        && bundle.starts_with('-')
                        && !bundle.starts_with("--")
                        && bundle[1..].chars().all(|c| "icDCa".contains(c)) =>
                {
                    for c in bundle[1..].chars() {
                        match c {
                            'i' => opts.interactive = true,
                            'c' => opts.compact = true,
                            'D' => opts.diff = true,
                            'a' => opts.annotate = true,
                            _ => opts.cursor = true,
                        }
                    }
                }
                other => {
                    return Err(CommandError::failed(format!(
                        "Unknown snapshot flag: {other}"
                    )))
                }
            }
        }
        // `-i` turns the cursor scan on by itself (`snapshot.ts`).
        opts.cursor |= opts.interactive;
        Ok(opts)
    }
}

/// What was read from the page before the emit rules run.
enum Taken {
    /// The tree had nothing to print at all: gstack's `(no accessible elements found)`.
    Empty,
    Tree {
        lines: Vec<Line>,
        cursor: CursorScan,
        /// From the page engine: the elements array the lines' `element`s index, and the
        /// group that keeps it alive.
        held: Option<(String, HeldGroup)>,
    },
}

/// Reads the tree (and the cursor scan) from the page. The two are independent, so they run
/// side by side: each CDP round trip is the dominant cost of a small snapshot.
fn take(
    realm: &Realm,
    frames: &Frames,
    opts: &Options,
    group: &str,
    held_group: &str,
) -> Result<Taken, CommandError> {
    let engine = page_engine::Engine::from_env()?;
    if engine != page_engine::Engine::Ax && opts.selector.is_none() {
        // Any failure of the page script (a page that broke a builtin it uses, the hang
        // watchdog stopping it on a huge page) falls back to the accessibility tree.
        let read = match page_engine::read(realm, held_group, opts.cursor, opts.interactive) {
            Ok(read) => read,
            Err(e) if engine == page_engine::Engine::Page => return Err(e),
            Err(e) => page_engine::PageRead {
                tree: Err(e.body.error),
                cursor: opts.cursor.then(|| cursor_scan(realm, group)),
            },
        };
        let cursor = read.cursor.unwrap_or(CursorScan::Found(Vec::new()));
        match read.tree {
            Ok(page) => {
                let folding = std::time::Instant::now();
                let root: Vec<usize> = page.tree.root().into_iter().collect();
                let folded = page.tree.lines(&root, true, Keep::of(opts));
                let mut lines = folded.lines;
                tracing::debug!(
                    lines = lines.len(),
                    ms = folding.elapsed().as_millis() as u64,
                    "snapshot fold"
                );
                // Freeing 50,000 nodes takes tens of ms the reply need not wait for.
                let tree = page.tree;
                std::thread::spawn(move || drop(tree));
                for line in &mut lines {
                    line.element = line.backend.take().and_then(|i| u32::try_from(i).ok());
                }
                if folded.empty {
                    return Ok(Taken::Empty);
                }
                let lines = iframes::descend(frames, realm, lines, Keep::of(opts));
                return Ok(Taken::Tree {
                    lines,
                    cursor,
                    held: Some((page.elements, page.held)),
                });
            }
            Err(reason) if engine == page_engine::Engine::Page => {
                return Err(engine_declined(&reason));
            }
            Err(_) => {
                let frame_id = realm.frame.as_ref().map(|f| f.frame_id.as_str());
                let folded = tree_lines(&realm.cdp, frame_id, None, Keep::of(opts))?;
                if folded.empty {
                    return Ok(Taken::Empty);
                }
                let lines = iframes::descend(frames, realm, folded.lines, Keep::of(opts));
                return Ok(Taken::Tree {
                    lines,
                    cursor,
                    held: None,
                });
            }
        }
    }
    let tab = &*realm.cdp;
    let scope = match &opts.selector {
        Some(sel) => Some(resolve_scope(realm, sel, group)?),
        None => None,
    };
    let (lines, cursor) = std::thread::scope(|s| {
        // gstack scans the whole page for cursor-interactive elements even under `-s`
        // (`snapshot.ts` walks `document.querySelectorAll('*')`), and so do we.
        let cursor = opts.cursor.then(|| s.spawn(|| cursor_scan(realm, group)));
        let frame_id = realm.frame.as_ref().map(|f| f.frame_id.as_str());
        let lines = tree_lines(tab, frame_id, scope.as_ref(), Keep::of(opts)).map(|folded| {
            let empty = folded.empty;
            (
                iframes::descend(frames, realm, folded.lines, Keep::of(opts)),
                empty,
            )
        });
        let cursor = match cursor.map(|h| h.join()) {
            Some(Ok(scan)) => scan,
            Some(Err(_)) => CursorScan::Failed,
            None => CursorScan::Found(Vec::new()),
        };
        (lines, cursor)
    });
    let (lines, empty) = lines?;
    if empty {
        return Ok(Taken::Empty);
    }
    Ok(Taken::Tree {
        lines,
        cursor,
        held: None,
    })
}

/// The error of `BROWSE_SNAPSHOT_ENGINE=page` on a page the in-page engine does not model.
fn engine_declined(reason: &str) -> CommandError {
    CommandError::failed(format!(
        "the page snapshot engine declined this page ({reason}); unset \
         BROWSE_SNAPSHOT_ENGINE to fall back to the accessibility tree"
    ))
}

/// The normalised tree of the document, or of the `-s` element, as the lines `keep` keeps.
fn tree_lines(
    tab: &Tab,
    frame_id: Option<&str>,
    scope: Option<&Scope>,
    keep: Keep,
) -> Result<Folded, CommandError> {
    let mut tree = full_ax_tree(
        tab,
        frame_id,
        "Snapshot a part of it with -s <selector>, or raise",
    )?;
    let roots = match scope {
        Some(scope) => match tree
            .nodes
            .iter()
            .position(|n| n.backend == Some(scope.backend))
        {
            Some(root) => vec![root],
            // Chromium keeps many inline elements out of its tree; their content is still in
            // it, under the nodes that belong to the element's DOM subtree.
            None => tree.roots_within(&dom_subtree(tab, &scope.object_id)?),
        },
        None => tree.root().into_iter().collect(),
    };
    for &root in &roots {
        tree.fetch_label_texts(tab, root)?;
    }
    Ok(tree.lines(&roots, scope.is_none(), keep))
}

/// Runs `f` on every item, many at once, keeping the order. CDP calls on one tab are
/// independent, and issuing them together costs one round trip instead of one each.
fn in_parallel<T: Send, R: Send>(
    items: Vec<T>,
    f: impl Fn(T) -> Result<R, CommandError> + Sync,
) -> Result<Vec<R>, CommandError> {
    const WAVE: usize = 64;
    let mut out = Vec::with_capacity(items.len());
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let wave: Vec<T> = items.by_ref().take(WAVE).collect();
        let f = &f;
        let results: Vec<Result<R, CommandError>> = std::thread::scope(|s| {
            let handles: Vec<_> = wave.into_iter().map(|x| s.spawn(move || f(x))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(CommandError::failed("a snapshot worker panicked")))
                })
                .collect()
        });
        for r in results {
            out.push(r?);
        }
    }
    Ok(out)
}

/// Applies gstack's emit rules (§6.1 step 5 to 7) and fills `refs`.
/// Consumes the lines: their role and name strings move into the ref map.
fn render(
    opts: &Options,
    lines: Vec<Line>,
    cursor: &CursorScan,
    cursor_frame: Option<&FrameRef>,
    refs: &mut RefMap,
    held: &Option<(String, HeldGroup)>,
) -> String {
    use std::fmt::Write;
    let keep = Keep::of(opts);
    // The elements array's object id, shared by every ref instead of copied into each.
    let elements: Option<Arc<str>> = held.as_ref().map(|(elements, _)| Arc::from(&**elements));
    // One string for the whole text, lines separated by '\n' (a big table prints tens of
    // thousands of lines: no String per line), sized for a typical line.
    let mut out = String::with_capacity(lines.len().saturating_mul(48));
    refs.elements.reserve(lines.len());
    let mut printed = 0usize;
    let mut new_line = |out: &mut String| {
        if printed > 0 {
            out.push('\n');
        }
        printed += 1;
    };
    let mut n = 0;
    for line in lines {
        if !keep.prints(
            line.depth,
            &line.role,
            !line.name.is_empty(),
            line.text.is_some(),
        ) {
            continue;
        }
        n += 1;
        new_line(&mut out);
        for _ in 0..line.depth {
            out.push_str("  ");
        }
        let _ = write!(out, "@e{n} [{}]", line.role);
        if !line.name.is_empty() {
            out.push_str(" \"");
            out.push_str(&line.name);
            out.push('"');
        }
        if !line.props.is_empty() {
            out.push(' ');
            out.push_str(&line.props);
        }
        if let Some(text) = &line.text {
            out.push_str(": ");
            out.push_str(text);
        }
        // `@e{n}`: the n-th entry.
        refs.elements.push(RefEntry {
            backend_node_id: line.backend.unwrap_or_default(),
            held: elements
                .as_ref()
                .zip(line.element)
                .map(|(elements, i)| (Arc::clone(elements), i)),
            role: line.role,
            name: line.name,
            css_path: None,
            frame: line.frame,
        });
    }
    match cursor {
        CursorScan::Found(found) if found.is_empty() => {}
        CursorScan::Found(found) => {
            new_line(&mut out);
            new_line(&mut out);
            out.push_str(CURSOR_HEADER);
            for (i, c) in found.iter().enumerate() {
                new_line(&mut out);
                let _ = write!(out, "@c{} [{}] \"{}\"", i + 1, c.reasons, c.label);
                // `@c{i + 1}`: the (i + 1)-th entry.
                refs.cursor.push(RefEntry {
                    backend_node_id: c.backend,
                    held: None,
                    role: Cow::Borrowed("cursor-interactive"),
                    name: c.label.clone(),
                    css_path: Some(c.path.clone()),
                    frame: cursor_frame.cloned(),
                });
            }
        }
        CursorScan::Failed => {
            new_line(&mut out);
            new_line(&mut out);
            out.push_str("(cursor scan failed — CSP restriction)");
        }
    }
    if printed == 0 {
        return "(no interactive elements found)".into();
    }
    out
}

// ---------------------------------------------------------------------------------------------
// CDP calls. headless_chrome's generated types reject enum values newer than its protocol
// snapshot (a new AX property name would fail the whole reply), so these take and return
// plain JSON and are read through the lenient structs below.

macro_rules! raw_method {
    ($ty:ident, $name:literal, $ret:ty) => {
        #[derive(Debug, Serialize)]
        #[serde(transparent)]
        struct $ty(Value);
        impl Method for $ty {
            const NAME: &'static str = $name;
            type ReturnObject = $ret;
        }
    };
}

raw_method!(AxEnable, "Accessibility.enable", Value);
raw_method!(GetFullAxTree, "Accessibility.getFullAXTree", AxTreeReply);
raw_method!(Evaluate, "Runtime.evaluate", EvalReply);
raw_method!(GetProperties, "Runtime.getProperties", PropertiesReply);
raw_method!(DescribeNode, "DOM.describeNode", DescribeReply);
raw_method!(DescribeSubtree, "DOM.describeNode", Value);
raw_method!(ReleaseObjectGroup, "Runtime.releaseObjectGroup", Value);

fn cdp_error(e: anyhow::Error) -> CommandError {
    CommandError::failed(format!("{e:#}"))
}

#[derive(Debug, Deserialize)]
struct AxTreeReply {
    #[serde(default)]
    nodes: Vec<AxNode>,
}

#[derive(Debug, Deserialize)]
struct AxNode {
    #[serde(rename = "nodeId")]
    node_id: String,
    #[serde(default)]
    ignored: bool,
    #[serde(rename = "ignoredReasons", default)]
    ignored_reasons: Vec<AxProperty>,
    #[serde(default)]
    role: AxRole,
    #[serde(default)]
    name: Option<AxValue>,
    /// Boxed: most nodes have none, and a big table's tree holds 180,000 nodes.
    #[serde(default)]
    value: Option<Box<AxValue>>,
    #[serde(default)]
    properties: Vec<AxProperty>,
    #[serde(rename = "childIds", default)]
    child_ids: Vec<String>,
    #[serde(rename = "backendDOMNodeId", default)]
    backend: Option<i64>,
}

/// A node's role (`Accessibility.AXNode.role`'s value). Chromium's role names are a closed
/// set, so the known ones are shared `&'static str`s: a big table's tree has 180,000 nodes,
/// and a `String` each was a tenth of the snapshot's allocations.
#[derive(Debug, Default, Clone)]
struct AxRole(Cow<'static, str>);

impl AxRole {
    fn new(role: &str) -> Self {
        AxRole(match KNOWN_ROLES.iter().find(|&&known| known == role) {
            Some(&known) => Cow::Borrowed(known),
            None => Cow::Owned(role.to_owned()),
        })
    }

    fn as_str(&self) -> &str {
        &self.0
    }

    /// `role` (this role, or one [`playwright_role`] made of it) as a shared string where it
    /// is a known one, else a copy.
    fn shared(&self, role: &str) -> Cow<'static, str> {
        match &self.0 {
            Cow::Borrowed(known) if *known == role => Cow::Borrowed(known),
            _ => AxRole::new(role).0,
        }
    }
}

impl<'de> Deserialize<'de> for AxRole {
    /// From an `AXValue` (`{"type": "role", "value": "button"}`); a value that is not a string
    /// is no role (the empty one), as before.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = AxValue::deserialize(d)?;
        Ok(AxRole::new(value.value.as_str().unwrap_or_default()))
    }
}

/// The roles [`AxRole`] shares instead of copying: those a page's nodes mostly have (Chromium's
/// `ax::mojom::Role` names as `getFullAXTree` and the page engine give them), most common
/// first.
const KNOWN_ROLES: &[&str] = &[
    "StaticText",
    "InlineTextBox",
    "generic",
    "cell",
    "gridcell",
    "row",
    "textbox",
    "checkbox",
    "button",
    "link",
    "paragraph",
    "listitem",
    "ListMarker",
    "none",
    "LineBreak",
    "LabelText",
    "columnheader",
    "rowheader",
    "rowgroup",
    "table",
    "list",
    "heading",
    "radio",
    "combobox",
    "option",
    "MenuListPopup",
    "searchbox",
    "spinbutton",
    "slider",
    "img",
    "image",
    "iframe",
    "navigation",
    "main",
    "banner",
    "contentinfo",
    "complementary",
    "region",
    "form",
    "group",
    "article",
    "section",
    "strong",
    "emphasis",
    "code",
    "Pre",
    "separator",
    "listbox",
    "menuitem",
    "tab",
    "tablist",
    "tabpanel",
    "treeitem",
    "Iframe",
    "RootWebArea",
    "presentation",
    "blockquote",
    "figure",
    "caption",
    "term",
    "definition",
    "DescriptionList",
    "time",
    "mark",
    "subscript",
    "superscript",
    "insertion",
    "deletion",
    "Canvas",
    "Abbr",
    "Ruby",
    "status",
    "alert",
    "dialog",
    "switch",
    "menuitemcheckbox",
    "menuitemradio",
];

#[derive(Debug, Default, Deserialize)]
struct AxValue {
    #[serde(default)]
    value: Value,
    /// For a name: where Chromium looked for it, each source with the attribute it read.
    #[serde(default)]
    sources: Vec<AxValueSource>,
}

/// One `Accessibility.AXValueSource` of a computed name.
#[derive(Debug, Default, Deserialize)]
struct AxValueSource {
    #[serde(default)]
    attribute: Option<String>,
    /// The attribute's value, present only when the element has the attribute.
    #[serde(rename = "attributeValue", default)]
    attribute_value: Option<Box<AxValue>>,
}

#[derive(Debug, Deserialize)]
struct AxProperty {
    name: String,
    #[serde(default)]
    value: AxValue,
}

#[derive(Debug, Deserialize)]
struct EvalReply {
    result: RemoteObject,
    #[serde(rename = "exceptionDetails", default)]
    exception: Option<ExceptionDetails>,
}

#[derive(Debug, Deserialize)]
struct RemoteObject {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    value: Value,
    #[serde(rename = "objectId", default)]
    object_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExceptionDetails {
    #[serde(default)]
    text: String,
    #[serde(default)]
    exception: Option<RemoteObject>,
}

impl ExceptionDetails {
    fn message(&self) -> String {
        self.exception
            .as_ref()
            .and_then(|e| e.description.clone())
            .unwrap_or_else(|| self.text.clone())
    }
}

#[derive(Debug, Deserialize)]
struct PropertiesReply {
    #[serde(default)]
    result: Vec<PropertyDescriptor>,
}

#[derive(Debug, Deserialize)]
struct PropertyDescriptor {
    name: String,
    #[serde(default)]
    value: Option<RemoteObject>,
}

#[derive(Debug, Deserialize)]
struct DescribeReply {
    node: DescribedNode,
}

#[derive(Debug, Deserialize)]
struct DescribedNode {
    #[serde(rename = "backendNodeId")]
    backend_node_id: i64,
    #[serde(rename = "nodeType", default)]
    node_type: i64,
    #[serde(rename = "nodeValue", default)]
    node_value: String,
}

fn evaluate_by_ref(
    realm: &Realm,
    expression: &str,
    group: &str,
) -> Result<RemoteObject, CommandError> {
    let mut params = json!({
        "expression": expression,
        "objectGroup": group,
        "returnByValue": false,
        "silent": true,
        "awaitPromise": false,
    });
    if let Some(context) = realm.context {
        params["contextId"] = json!(context);
    }
    let reply = realm.cdp.call_method(Evaluate(params)).map_err(cdp_error)?;
    match reply.exception {
        Some(e) => Err(CommandError::failed(e.message())),
        None => Ok(reply.result),
    }
}

fn backend_of(tab: &Tab, object_id: &str) -> Result<i64, CommandError> {
    let reply = tab
        .call_method(DescribeNode(json!({ "objectId": object_id })))
        .map_err(cdp_error)?;
    Ok(reply.node.backend_node_id)
}

/// The backend ids of an element and all its DOM descendants.
fn dom_subtree(tab: &Tab, object_id: &str) -> Result<HashSet<i64>, CommandError> {
    let reply = tab
        .call_method(DescribeSubtree(
            json!({ "objectId": object_id, "depth": -1 }),
        ))
        .map_err(cdp_error)?;
    let mut ids = HashSet::new();
    let mut stack: Vec<&Value> = reply.get("node").into_iter().collect();
    while let Some(node) = stack.pop() {
        if let Some(id) = node.get("backendNodeId").and_then(Value::as_i64) {
            ids.insert(id);
        }
        if let Some(children) = node.get("children").and_then(Value::as_array) {
            stack.extend(children);
        }
    }
    Ok(ids)
}

/// The `-s` root: the one element the CSS selector matches.
struct Scope {
    object_id: String,
    backend: i64,
}

fn resolve_scope(realm: &Realm, selector: &str, group: &str) -> Result<Scope, CommandError> {
    let tab = &*realm.cdp;
    // The selector engines' own lookup: shadow roots and `text=` as for every other command.
    let all = crate::browser::selector::matches_expression(selector)?;
    let found = evaluate_by_ref(
        realm,
        &format!(
            "(() => {{ const all = {all}; return all.length === 1 ? all[0] : all.length; }})()"
        ),
        group,
    )?;
    match (found.object_id, found.value.as_u64()) {
        (Some(object_id), _) => {
            let backend = backend_of(tab, &object_id)?;
            Ok(Scope { object_id, backend })
        }
        (None, Some(0)) | (None, None) => Err(CommandError::failed(format!(
            "Selector not found: {selector}"
        ))),
        (None, Some(_)) => Err(CommandError::failed(
            "Selector matched multiple elements. Be more specific or use @refs from 'snapshot'.",
        )),
    }
}

/// The targets whose Accessibility domain we enabled. Enabling keeps Chromium's accessibility
/// cache alive between snapshots, which roughly halves the cost of a warm `getFullAXTree` on a
/// large page; the domain stays enabled across the target's navigations.
static AX_ENABLED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// How long Chromium may take to build the whole accessibility tree: a page of tens of
/// thousands of rows takes many seconds, so this is as long as the CLI waits for the command
/// (`BROWSE_COMMAND_TIMEOUT`, inherited from the CLI that started the daemon) less a margin
/// for the rest of the snapshot, so that the daemon's own clear error arrives first.
fn ax_tree_timeout() -> std::time::Duration {
    let margin = std::time::Duration::from_secs(3);
    crate::settings::command_timeout()
        .saturating_sub(margin)
        .max(std::time::Duration::from_secs(1))
}

/// The accessibility tree of the session's root document, or of frame `frame_id` of it.
/// `smaller`: how the failing command can be asked for less (ends the timeout's hint), e.g.
/// `Snapshot a part of it with -s <selector>, or raise`.
fn full_ax_tree(tab: &Tab, frame_id: Option<&str>, smaller: &str) -> Result<AxTree, CommandError> {
    let target = tab.get_target_id().clone();
    let enabled = crate::browser::events::lock(&AX_ENABLED)
        .as_ref()
        .is_some_and(|set| set.contains(&target));
    if !enabled {
        tab.call_method(AxEnable(json!({}))).map_err(cdp_error)?;
        crate::browser::events::lock(&AX_ENABLED)
            .get_or_insert_with(HashSet::new)
            .insert(target);
    }
    // A script round trip first: on a page whose own script is stuck the watchdog can stop
    // it here, whereas it excuses the slow tree call that follows (our work, not the page's).
    crate::browser::page::evaluate(tab, "0", false)?;
    let began = std::time::Instant::now();
    let limit = ax_tree_timeout();
    let reply = tab
        .call_method_within(
            GetFullAxTree(match frame_id {
                Some(frame_id) => json!({ "frameId": frame_id }),
                None => json!({}),
            }),
            limit,
        )
        .map_err(|e| match e.downcast_ref::<NoAnswer>() {
            Some(_) => CommandError::failed(format!(
                "Chromium did not build this page's accessibility tree within {}s (a page with \
                 very many elements?). {smaller} BROWSE_COMMAND_TIMEOUT.",
                limit.as_secs()
            )),
            None => cdp_error(e),
        })?;
    tracing::debug!(
        nodes = reply.nodes.len(),
        ms = began.elapsed().as_millis() as u64,
        "Accessibility.getFullAXTree"
    );
    Ok(AxTree::new(reply.nodes))
}

// ---------------------------------------------------------------------------------------------
// Normalisation: the CDP tree folded into the tree Playwright's aria snapshot describes.

/// One parsed line of the aria-YAML gstack would have read (§6.1 step 3).
#[derive(Debug, Clone, PartialEq)]
struct Line {
    depth: usize,
    /// Shared where it is a known role ([`AxRole`]).
    role: Cow<'static, str>,
    /// Empty when the node has no name.
    name: String,
    /// `[checked] [level=2]`…, empty when none.
    props: String,
    /// The inline text after `: `, YAML-quoted where Playwright would have quoted it.
    text: Option<String>,
    backend: Option<i64>,
    /// From the page engine: the index of the node in its elements array (`backend` is
    /// then `None`).
    element: Option<u32>,
    /// The frame the node is in, when it is not the snapshot's root document's.
    frame: Option<FrameRef>,
}

/// A child in the normalised tree: a node, or a run of text.
#[derive(Debug)]
enum Item {
    Node(Node),
    Text { text: String, backend: Option<i64> },
}

#[derive(Debug)]
struct Node {
    /// Shared where it is a known role ([`AxRole`]): a full fold of a big table makes a node
    /// for each of its 100,000 rows and cells.
    role: Cow<'static, str>,
    name: String,
    props: String,
    backend: Option<i64>,
    /// Links with an href carry a `/url` prop in Playwright's YAML, which keeps their text off
    /// the line.
    has_yaml_props: bool,
    children: Vec<Item>,
}

struct AxTree {
    nodes: Vec<AxNode>,
    /// Each node's children as indexes into `nodes` (its `child_ids` resolved once: a
    /// 50,000-node tree spent a tenth of its fold hashing id strings).
    children: Children,
    /// Text of the DOM text nodes Chromium hides inside a label that names a control.
    label_texts: HashMap<i64, String>,
}

/// Every node's children in one list, node after node (compressed sparse rows): two
/// allocations for a tree instead of one per parent (a big table has 100,000 parents).
#[derive(Debug, Default)]
struct Children {
    /// The children of all nodes, node 0's first.
    all: Vec<usize>,
    /// Where each node's children end in `all`: node `i`'s are `ends[i - 1]..ends[i]`.
    ends: Vec<usize>,
}

impl Children {
    fn with_capacity(nodes: usize, children: usize) -> Self {
        Children {
            all: Vec::with_capacity(children),
            ends: Vec::with_capacity(nodes),
        }
    }

    /// Adds a child of the node being listed (the one after the last [`Children::end_node`]).
    fn push_child(&mut self, child: usize) {
        self.all.push(child);
    }

    /// Ends the list of the current node's children.
    fn end_node(&mut self) {
        self.ends.push(self.all.len());
    }

    /// Node `i`'s children (none for a node never listed).
    fn of(&self, i: usize) -> &[usize] {
        let start = match i.checked_sub(1) {
            Some(before) => self.ends.get(before).copied().unwrap_or(self.all.len()),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.all.get(start..end).unwrap_or_default()
    }

    /// From each node's parent (`None` for the roots), in node order: children keep the order
    /// of their indexes.
    fn from_parents(parents: &[Option<usize>]) -> Self {
        let mut counts = vec![0usize; parents.len() + 1];
        for &p in parents.iter().flatten() {
            counts[p + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        // `counts[i]` is now where node i's children start; fill them in order.
        let mut next = counts.clone();
        let mut all = vec![0usize; counts[parents.len()]];
        for (child, &p) in parents.iter().enumerate() {
            if let Some(p) = p {
                all[next[p]] = child;
                next[p] += 1;
            }
        }
        counts.remove(0);
        Children { all, ends: counts }
    }
}

impl AxTree {
    fn new(nodes: Vec<AxNode>) -> Self {
        let index: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.node_id.as_str(), i))
            .collect();
        let mut children = Children::with_capacity(nodes.len(), nodes.len());
        for node in &nodes {
            for c in &node.child_ids {
                if let Some(&i) = index.get(c.as_str()) {
                    children.push_child(i);
                }
            }
            children.end_node();
        }
        drop(index);
        AxTree::with_children(nodes, children)
    }

    /// A tree whose children are already indexes into `nodes` (the page engine's).
    fn with_children(nodes: Vec<AxNode>, children: Children) -> Self {
        AxTree {
            nodes,
            children,
            label_texts: HashMap::new(),
        }
    }

    /// The topmost nodes, in tree order, whose DOM node is in `dom`.
    fn roots_within(&self, dom: &HashSet<i64>) -> Vec<usize> {
        let mut roots = Vec::new();
        let mut stack: Vec<(usize, usize)> = self.root().map(|r| (r, 0)).into_iter().collect();
        while let Some((i, depth)) = stack.pop() {
            let node = &self.nodes[i];
            if node.backend.is_some_and(|b| dom.contains(&b)) {
                roots.push(i);
                continue;
            }
            if depth < MAX_TREE_DEPTH {
                for &c in self.children.of(i).iter().rev() {
                    stack.push((c, depth + 1));
                }
            }
        }
        roots
    }

    /// Chromium marks the text of a `<label>` that wraps its control as ignored and drops its
    /// name, but Playwright shows it (`@e11 [text]: I agree`). Those text nodes are read from
    /// the DOM, all at once.
    fn fetch_label_texts(&mut self, tab: &Tab, root: usize) -> Result<(), CommandError> {
        let mut wanted = Vec::new();
        let mut stack = vec![(root, false, 0)];
        while let Some((i, in_label, depth)) = stack.pop() {
            let node = &self.nodes[i];
            let in_label = in_label
                || (node.ignored && node.ignored_reasons.iter().any(|r| r.name == "labelFor"));
            if in_label && node.ignored && node.child_ids.is_empty() {
                if let Some(backend) = node.backend {
                    wanted.push(backend);
                }
            }
            if depth < MAX_TREE_DEPTH {
                for &c in self.children.of(i) {
                    stack.push((c, in_label, depth + 1));
                }
            }
        }
        let texts = in_parallel(wanted, |backend| {
            let reply = tab
                .call_method(DescribeNode(json!({ "backendNodeId": backend })))
                .map_err(cdp_error)?;
            Ok((backend, reply.node))
        })?;
        for (backend, node) in texts {
            // Node.TEXT_NODE
            if node.node_type == 3 {
                self.label_texts.insert(backend, node.node_value);
            }
        }
        Ok(())
    }

    fn root(&self) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| role_of(n) == "RootWebArea")
            .or(if self.nodes.is_empty() { None } else { Some(0) })
    }

    /// The lines `keep` keeps for the subtrees at `roots`, as siblings. With `skip_root` (the
    /// document) the roots themselves are not printed, only what is under them.
    fn lines(&self, roots: &[usize], skip_root: bool, keep: Keep) -> Folded {
        let mut folded = Folded {
            lines: Vec::new(),
            empty: true,
        };
        if keep.interactive {
            for &root in roots {
                if skip_root {
                    self.lean_children(root, 0, 0, &keep, &mut folded);
                } else {
                    self.lean_lines(root, 0, 0, &keep, &mut folded);
                }
            }
            if !folded.empty {
                return folded;
            }
            // Nothing but text, perhaps: whether the tree is empty decides which message an
            // empty `-i` prints, so that is answered by the full fold.
        }
        for item in self.fold(roots, skip_root) {
            emit(item, 0, &keep, &mut folded);
        }
        folded
    }

    /// The tree Playwright's aria snapshot describes, for the subtrees at `roots` (see
    /// [`AxTree::lines`]), before it is turned into lines or YAML.
    fn normalised(&self, roots: &[usize], skip_root: bool) -> Vec<Item> {
        self.fold(roots, skip_root)
    }

    /// [`AxTree::normalised`].
    fn fold(&self, roots: &[usize], skip_root: bool) -> Vec<Item> {
        let mut items = Vec::new();
        for &root in roots {
            if skip_root {
                self.children_items(root, 0, &mut items);
            } else {
                self.items(root, 0, &mut items);
            }
        }
        normalise_children(items, "")
    }

    fn children_items(&self, i: usize, depth: usize, out: &mut Vec<Item>) {
        if depth > MAX_TREE_DEPTH {
            return;
        }
        for &c in self.children.of(i) {
            self.items(c, depth + 1, out);
        }
    }

    /// Appends what node `i` contributes to its parent: itself, its children moved up, a
    /// piece of text, or nothing.
    fn items(&self, i: usize, depth: usize, out: &mut Vec<Item>) {
        let node = &self.nodes[i];
        let role = role_of(node);
        match role {
            "InlineTextBox" | "ListMarker" => return,
            "StaticText" => {
                if !node.ignored {
                    out.push(Item::Text {
                        text: string_of(node.name.as_ref()),
                        backend: node.backend,
                    });
                }
                return;
            }
            "LineBreak" => {
                out.push(Item::Text {
                    text: "\n".into(),
                    backend: node.backend,
                });
                return;
            }
            _ => {}
        }
        // After the text cases: a text run's name is its text, not normalised here.
        let name = match node.name.as_ref().map(|v| &v.value) {
            // Normalised from the borrowed text: no copy of every node's name first.
            Some(Value::String(text)) => normalise_space(text),
            _ => normalise_space(&string_of(node.name.as_ref())),
        };
        if node.ignored && node.child_ids.is_empty() {
            if let Some(text) = node.backend.and_then(|b| self.label_texts.get(&b)) {
                out.push(Item::Text {
                    text: text.clone(),
                    backend: node.backend,
                });
            }
            return;
        }
        let Some(role) = (!node.ignored)
            .then(|| playwright_role(role, &name))
            .flatten()
        else {
            // Playwright surrounds a block element's text with spaces so that the text of
            // neighbouring blocks does not run together. Chromium keeps inline elements out of
            // the tree, except labels.
            let block =
                role != "LabelText" && !node.ignored_reasons.iter().any(|r| r.name == "labelFor");
            if block {
                out.push(space());
            }
            self.children_items(i, depth, out);
            if block {
                out.push(space());
            }
            return;
        };
        let mut children = Vec::new();
        let childless = node.child_ids.is_empty() && self.children.of(i).is_empty();
        if takes_value_as_text(role, childless) {
            // Playwright gives an input its value as its only child and ignores what Chromium
            // shows inside it (the placeholder, the editor's inner text).
            children.push(Item::Text {
                text: string_of(node.value.as_deref()),
                backend: node.backend,
            });
        } else {
            self.children_items(i, depth, &mut children);
        }
        let children = normalise_children(children, &name);
        let has_yaml_props = (role == "link" && node.properties.iter().any(|p| p.name == "url"))
            || (role == "textbox" && placeholder_of(node).is_some_and(|p| p != name));
        out.push(Item::Node(Node {
            role: node.role.shared(role),
            props: props_of(role, node),
            name,
            backend: node.backend,
            has_yaml_props,
            children,
        }));
    }
}

impl AxTree {
    /// The lines of `snapshot -i`, emitted straight from the tree: [`AxTree::items`] then
    /// [`emit`] for the interactive nodes (their subtrees in full), and for the others only
    /// what `emit` would do with them. Such a node prints no line of its own (unless `keep`
    /// says so: an `iframe`, which the descent into frames needs), and nothing it holds can
    /// change what an interactive line below it prints: its text and its name only reach its
    /// own line, `normalise_children` only merges texts (a node's children are then nodes
    /// only, kept as they are), and it gives the lines below it their depth (`at`). So no
    /// node is built for the 100,000 rows and cells of a big table. `depth` is the depth in
    /// the tree ([`MAX_TREE_DEPTH`]), `at` the line's.
    fn lean_lines(&self, i: usize, depth: usize, at: usize, keep: &Keep, folded: &mut Folded) {
        let node = &self.nodes[i];
        let role = role_of(node);
        if matches!(
            role,
            "InlineTextBox" | "ListMarker" | "StaticText" | "LineBreak"
        ) || (node.ignored && node.child_ids.is_empty())
        {
            // Text, or at most a label's text: no line of its own, and `-i` prints no text.
            return;
        }
        // The role as the full fold decides it; a name matters there only by being empty or
        // not.
        let named = match node.name.as_ref().map(|v| &v.value) {
            Some(Value::String(text)) => text
                .chars()
                .any(|c| !c.is_whitespace() && !matches!(c, '\u{200b}' | '\u{ad}')),
            Some(Value::Number(_)) => true,
            _ => false,
        };
        let role = (!node.ignored)
            .then(|| playwright_role(role, if named { "x" } else { "" }))
            .flatten();
        match role {
            Some(role) if is_interactive(role) => {
                let mut items = Vec::with_capacity(1);
                self.items(i, depth, &mut items);
                for item in items {
                    emit(item, at, keep, folded);
                }
            }
            Some(role) => {
                // As `emit` does with a node of no name, no props and nodes as children.
                folded.empty = false;
                if keep.depth.is_some_and(|max| at > max) {
                    return;
                }
                if role == "iframe" || keep.prints(at, role, false, false) {
                    folded.lines.push(Line {
                        depth: at,
                        role: node.role.shared(role),
                        name: String::new(),
                        props: String::new(),
                        text: None,
                        backend: node.backend,
                        element: None,
                        frame: None,
                    });
                }
                self.lean_children(i, depth, at + 1, keep, folded);
            }
            // Folded away: its children move up.
            None => self.lean_children(i, depth, at, keep, folded),
        }
    }

    /// [`AxTree::lean_lines`] of node `i`'s children, their lines `at` deep.
    fn lean_children(&self, i: usize, depth: usize, at: usize, keep: &Keep, folded: &mut Folded) {
        if depth > MAX_TREE_DEPTH {
            return;
        }
        for &c in self.children.of(i) {
            self.lean_lines(c, depth + 1, at, keep, folded);
        }
    }
}
fn space() -> Item {
    Item::Text {
        text: " ".into(),
        backend: None,
    }
}

fn role_of(node: &AxNode) -> &str {
    node.role.as_str()
}

fn string_of(value: Option<&AxValue>) -> String {
    match value.map(|v| &v.value) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The role Playwright prints for a Chromium role, or `None` when Playwright folds the node
/// away and moves its children up.
fn playwright_role<'a>(role: &'a str, name: &str) -> Option<&'a str> {
    match role {
        "" | "generic" | "none" | "presentation" | "RootWebArea" | "MenuListPopup" => None,
        // Without a name these are not landmarks, and Playwright gives them no role.
        "form" | "region" if name.is_empty() => None,
        "Iframe" => Some("iframe"),
        "image" => Some("img"),
        // Chromium's internal roles (`LabelText`, `Pre`, `Canvas`…) have no ARIA counterpart.
        r if r.starts_with(|c: char| c.is_ascii_uppercase()) => None,
        r => Some(r),
    }
}

/// The element's `placeholder` attribute, read from the name sources Chromium reports (the
/// attribute is not among the AX properties). Playwright gives a textbox whose placeholder is
/// not its name a `/placeholder` prop, which, like a link's `/url`, keeps its value off the
/// line (`ariaSnapshot.ts`, `processElement`).
fn placeholder_of(node: &AxNode) -> Option<String> {
    let source = node
        .name
        .as_ref()?
        .sources
        .iter()
        .find(|s| s.attribute.as_deref() == Some("placeholder"))?;
    match &source.attribute_value.as_ref()?.value {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Playwright shows an `<input>`'s value (not a checkbox's or radio's) as its inline text.
/// `childless`: the node has no children (in `child_ids` or, for the page engine's tree, in
/// [`AxTree`]'s resolved children).
fn takes_value_as_text(role: &str, childless: bool) -> bool {
    match role {
        "textbox" | "searchbox" | "spinbutton" | "slider" => true,
        // A `<select>` is a combobox with a popup of options; an editable one has no children.
        "combobox" => childless,
        _ => false,
    }
}

/// The true states, in the order Playwright prints them.
fn props_of(role: &str, node: &AxNode) -> String {
    if node.properties.is_empty() {
        return String::new();
    }
    let prop = |name: &str| node.properties.iter().find(|p| p.name == name);
    let flag = |name: &str| prop(name).is_some_and(|p| p.value.value == Value::Bool(true));
    let tristate = |name: &str| match prop(name).map(|p| &p.value.value) {
        Some(Value::String(s)) if s == "true" => Some(""),
        Some(Value::Bool(true)) => Some(""),
        Some(Value::String(s)) if s == "mixed" => Some("=mixed"),
        _ => None,
    };
    let mut props = Vec::new();
    if let Some(v) = tristate("checked") {
        props.push(format!("[checked{v}]"));
    }
    if flag("disabled") {
        props.push("[disabled]".into());
    }
    if flag("expanded") {
        props.push("[expanded]".into());
    }
    if role == "heading" {
        if let Some(level) = prop("level").and_then(|p| p.value.value.as_i64()) {
            props.push(format!("[level={level}]"));
        }
    }
    if let Some(v) = tristate("pressed") {
        props.push(format!("[pressed{v}]"));
    }
    if flag("selected") {
        props.push("[selected]".into());
    }
    props.join(" ")
}

/// Playwright's `normalizeWhiteSpace`: the words (split at whitespace, zero-width spaces and
/// soft hyphens removed, empty ones dropped) joined by one space. One pass into one
/// allocation: a big table's fold calls this for every node.
fn normalise_space(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace) {
        if word.is_empty() {
            continue;
        }
        let before = out.len();
        if before > 0 {
            out.push(' ');
        }
        let start = out.len();
        if word.contains(['\u{200b}', '\u{ad}']) {
            out.extend(word.chars().filter(|c| !matches!(c, '\u{200b}' | '\u{ad}')));
        } else {
            out.push_str(word);
        }
        if out.len() == start {
            out.truncate(before);
        }
    }
    out
}

/// Whether [`normalise_space`] would return `text` unchanged: words of no zero-width space or
/// soft hyphen, separated by single spaces.
fn is_normalised(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with(' ')
        && !text.ends_with(' ')
        && !text.contains("  ")
        && !text
            .chars()
            .any(|c| (c.is_whitespace() && c != ' ') || matches!(c, '\u{200b}' | '\u{ad}'))
}

/// Playwright's `normalizeStringChildren`: adjacent text merged, whitespace collapsed, empty
/// text dropped, and a lone text equal to the node's name dropped.
fn normalise_children(items: Vec<Item>, name: &str) -> Vec<Item> {
    if !items.iter().any(|item| matches!(item, Item::Text { .. })) {
        // Nodes only (a table row, a lean fold): nothing to merge, the list is kept as is.
        return items;
    }
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    // The run of adjacent texts so far, in the first text's string (a lone text that is
    // already normalised, the common case, moves through without a copy).
    let mut run: Option<String> = None;
    let mut run_backend = None;
    let flush = |out: &mut Vec<Item>, run: &mut Option<String>, backend: &mut Option<i64>| {
        if let Some(text) = run.take() {
            let text = if is_normalised(&text) {
                text
            } else {
                normalise_space(&text)
            };
            if !text.is_empty() {
                out.push(Item::Text {
                    text,
                    backend: backend.take(),
                });
            }
        }
        *backend = None;
    };
    for item in items {
        match item {
            Item::Text { text, backend } => {
                if run_backend.is_none() {
                    run_backend = backend;
                }
                match &mut run {
                    Some(buffer) => buffer.push_str(&text),
                    None => run = Some(text),
                }
            }
            node => {
                flush(&mut out, &mut run, &mut run_backend);
                out.push(node);
            }
        }
    }
    flush(&mut out, &mut run, &mut run_backend);
    if let [Item::Text { text, .. }] = out.as_slice() {
        if text == name {
            out.clear();
        }
    }
    out
}

/// The lines of a fold that `render` will print, and whether the tree had any line at all.
struct Folded {
    lines: Vec<Line>,
    /// No line, kept or not: gstack's `(no accessible elements found)`, where a tree whose
    /// lines are all filtered out says `(no interactive elements found)`.
    empty: bool,
}

/// Turns the normalised tree into lines the way Playwright renders YAML and gstack parses it,
/// keeping those `keep` keeps (and every `iframe` line, which the descent into frames needs).
/// Consumes the tree: its strings move into the lines.
fn emit(item: Item, depth: usize, keep: &Keep, folded: &mut Folded) {
    folded.empty = false;
    if keep.depth.is_some_and(|max| depth > max) {
        // Neither this line nor any below it is printed.
        return;
    }
    let lines = &mut folded.lines;
    match item {
        Item::Text { text, backend } => {
            if !keep.prints(depth, "text", false, true) {
                return;
            }
            lines.push(Line {
                depth,
                role: Cow::Borrowed("text"),
                name: String::new(),
                props: String::new(),
                text: Some(yaml_value_owned(text)),
                backend,
                element: None,
                frame: None,
            });
        }
        Item::Node(node) => {
            // YAML limits a key to 1024 characters, so Playwright leaves longer names out.
            let name = if node.name.len() <= 900 || node.name.encode_utf16().count() <= 900 {
                node.name
            } else {
                String::new()
            };
            let mut line = Line {
                depth,
                role: node.role,
                name,
                props: node.props,
                text: None,
                backend: node.backend,
                element: None,
                frame: None,
            };
            let named = !line.name.is_empty();
            let kept = |line: &Line, has_text| {
                line.role == "iframe" || keep.prints(depth, &line.role, named, has_text)
            };
            let mut children = node.children;
            match children.as_slice() {
                [] => {
                    if kept(&line, false) {
                        lines.push(line);
                    }
                }
                [Item::Text { .. }] if !node.has_yaml_props => {
                    if kept(&line, true) {
                        if let Some(Item::Text { text, .. }) = children.pop() {
                            line.text = Some(yaml_value_owned(text));
                        }
                        lines.push(line);
                    }
                }
                _ => {
                    if kept(&line, false) {
                        lines.push(line);
                    }
                    for child in children.drain(..) {
                        emit(child, depth + 1, keep, folded);
                    }
                }
            }
        }
    }
}

/// Playwright's `yamlEscapeValueIfNeeded`: gstack prints the inline text as it appears in
/// the YAML, quotes included.
fn yaml_value(text: &str) -> String {
    if !yaml_needs_quotes(text) {
        return text.to_owned();
    }
    yaml_quoted(text)
}

/// [`yaml_value`] of a string the caller gives up: moved through when it needs no quotes.
fn yaml_value_owned(text: String) -> String {
    if yaml_needs_quotes(&text) {
        yaml_quoted(&text)
    } else {
        text
    }
}

/// `text` in double quotes, escaped as Playwright's YAML escapes it.
fn yaml_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn yaml_needs_quotes(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return true;
    };
    let last = s.chars().next_back().unwrap_or(first);
    // Adjacent character pairs, without collecting the characters.
    let pairs = || s.chars().zip(s.chars().skip(1));
    let control = |c: char| {
        let u = c as u32;
        (u <= 0x08)
            || u == 0x0b
            || u == 0x0c
            || (0x0e..=0x1f).contains(&u)
            || (0x7f..=0x9f).contains(&u)
    };
    let colon_or_newline_then_space = pairs()
        .any(|(a, b)| (a == ':' || a == '\n') && b.is_whitespace())
        || matches!(last, ':' | '\n');
    first.is_whitespace()
        || last.is_whitespace()
        || s.chars().any(control)
        || first == '-'
        || colon_or_newline_then_space
        || pairs().any(|(a, b)| a.is_whitespace() && b == '#')
        || s.contains(['\n', '\r'])
        || "&*],?!>|@\"'#%".contains(first)
        || s.contains(['{', '}', '`'])
        || first == '['
        || js_number_like(s)
        || yaml_keyword(s)
}

/// Whether `s`, lowercased, is a YAML 1.1 boolean or null word. Lowercasing never makes a
/// string shorter in characters, so only strings of at most five characters are lowercased.
fn yaml_keyword(s: &str) -> bool {
    s.chars().nth(5).is_none()
        && ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]
            .contains(&s.to_lowercase().as_str())
}

/// `!isNaN(Number(s))` for the strings that reach it (non-empty, no surrounding space).
fn js_number_like(s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() {
        return true;
    }
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned == "Infinity" {
        return true;
    }
    let radix = match t.as_bytes() {
        [b'0', b'x' | b'X', ..] => Some(16),
        [b'0', b'o' | b'O', ..] => Some(8),
        [b'0', b'b' | b'B', ..] => Some(2),
        _ => None,
    };
    if let Some(radix) = radix {
        let digits = &t[2..];
        return !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    }
    !unsigned.starts_with(|c: char| c.is_alphabetic())
        && !unsigned.contains(|c: char| c.is_alphabetic() && c != 'e' && c != 'E')
        && t.parse::<f64>().is_ok()
}

// ---------------------------------------------------------------------------------------------
// The cursor scan (-C): clickable elements the ARIA tree does not show.

#[derive(Debug)]
enum CursorScan {
    Found(Vec<CursorHit>),
    Failed,
}

#[derive(Debug)]
struct CursorHit {
    reasons: String,
    label: String,
    path: String,
    backend: i64,
}

#[derive(Debug, Deserialize)]
struct CursorMeta {
    reasons: String,
    label: String,
    path: String,
}

/// Returns `[JSON of the hits, ...the hit elements]` so one call gives both the data and the
/// handles whose backend ids key the refs.
///
/// gstack's rules (§6.1 step 6), less its noise: `cursor:pointer` is inherited, so gstack also
/// lists every descendant of a link or clickable card (`"1."`, `"span"`, `"wbr"` on real
/// documentation pages). An element whose only reason is a pointer that its parent shows too
/// is part of that clickable and is left out, as is an element with no text and an empty box.
///
/// Where the document provably has no author style for `cursor` (every sheet readable, no
/// rule, inline style or animation declaring `cursor` or `all`), an element that only inherits
/// its cursor (a table part, list or phrasing element under another, which Chromium's UA
/// sheets give no cursor and which hosts no shadow root) is not read: it cannot be listed for
/// a pointer alone. On a 5,000-row table that leaves 2 style reads of 25,000.
/// `tests/snapshot_engines.rs` (`cursor_scan_lists_cells_whatever_gives_them_a_pointer`) sets
/// a cell's cursor every way the proof must see.
///
/// `walked`, when the page engine gives it: every element under the body in document order,
/// less some the loop skips anyway in an author-free document; it then replaces the selector
/// pass (`cursor_scan_lists_what_the_walk_did_not_see` hides elements from that walk).
const CURSOR_SCAN: &str = r#"function (cachedStyle, walked) {
  const getComputedStyle = cachedStyle || window.getComputedStyle;
  const root = this && this.nodeType === 1 ? this : document.body;
  if (!root) return ['[]'];
  const skip = new Set(['A', 'BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'SUMMARY', 'DETAILS']);
  // `cursor` is inherited: an element that no rule of its own can reach has its parent's
  // cursor, so it is never listed for its pointer alone (see the parent rule below), and its
  // style need not be read (one read per element was a tenth of a big table's snapshot).
  // PASSIVE elements are reached by no rule of Chromium's UA sheets (html.css sets `cursor`
  // on a, area, label, input, textarea, select and button only) and host no shadow root
  // (author or UA), whose `:host` and `::slotted` rules, or a slot's inherited cursor, could
  // reach them from a sheet we cannot read when the root is closed. Author rules are ruled
  // out for the whole document first: no readable sheet, inline style or animation declares
  // `cursor` or `all`, and no sheet is unreadable; any doubt reads every element's style.
  const PASSIVE_TAGS = 'table, thead, tbody, tfoot, tr, td, th, caption, colgroup, col, ul, '
    + 'ol, li, dl, dt, dd, em, strong, b, i, u, s, small, code, kbd, samp, var, cite, abbr, '
    + 'dfn, mark, sub, sup, time, q, del, ins, pre, br, wbr, hr, form, font, center, tt, '
    + 'big, nobr, bdi, bdo, data, figure, figcaption, address';
  const PASSIVE = new Set(PASSIVE_TAGS.split(', '));
  const HTML_NS = 'http://www.w3.org/1999/xhtml';
  const declares = (s) => s.getPropertyValue('cursor') !== '' || s.getPropertyValue('all') !== '';
  const rulesFree = (rules) => {
    for (const rule of rules) {
      if (rule.styleSheet && !sheetsFree([rule.styleSheet])) return false;
      if (rule.style && declares(rule.style)) return false;
      if (rule.cssRules && rule.cssRules.length && !rulesFree(rule.cssRules)) return false;
    }
    return true;
  };
  const sheetsFree = (sheets) => {
    for (const sheet of sheets) {
      let rules;
      try { rules = sheet.cssRules; } catch (e) { return false; }
      if (!rules || !rulesFree(rules)) return false;
    }
    return true;
  };
  const authorFree = () => {
    if (!sheetsFree(document.styleSheets) || !sheetsFree(document.adoptedStyleSheets || [])) {
      return false;
    }
    for (const el of document.querySelectorAll('[style]')) {
      if (!el.style || declares(el.style)) return false;
    }
    for (const a of document.getAnimations()) {
      const effect = a.effect;
      if (!effect || typeof effect.getKeyframes !== 'function') return false;
      for (const k of effect.getKeyframes()) if ('cursor' in k || 'all' in k) return false;
    }
    return true;
  };
  let free = false;
  try { free = authorFree(); } catch (e) { free = false; }
  const follows = (el) => {
    if (!free || el.namespaceURI !== HTML_NS || !PASSIVE.has(el.localName)) return false;
    const p = el.parentElement;
    return p !== null && p.namespaceURI === HTML_NS && PASSIVE.has(p.localName);
  };
  const cursorOf = (el) => {
    while (follows(el)) el = el.parentElement;
    return getComputedStyle(el).cursor;
  };
  // The elements the loop below can list, in document order: with every element in HTML's
  // namespace (type selectors would also match another namespace's `td`), a selector leaves
  // the followers without onclick or tabindex out natively; otherwise all of them.
  const candidates = () => {
    // The page engine's walk of every element under the body, in document order, less
    // elements the loop skips in an author-free document (page_engine.js, `candidates`).
    if (free && walked) return walked;
    if (free && document.getElementsByTagName('*').length
        === document.getElementsByTagNameNS(HTML_NS, '*').length) {
      // The loop skips links and form controls themselves: they need not be matched either
      // (on a big table, 15,000 of the candidates were inputs and buttons to skip).
      const own = ':not(' + PASSIVE_TAGS + ', a, button, input, select, textarea, summary, '
        + 'details)';
      const not = ':not(' + PASSIVE_TAGS + ')';
      return root.querySelectorAll(own + ', ' + not + ' > *, [onclick], [tabindex]');
    }
    return root.querySelectorAll('*');
  };
  const floating = (el) => {
    for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
      if (p.hasAttribute('data-radix-popper-content-wrapper') || p.hasAttribute('data-radix-portal')
          || p.hasAttribute('data-floating-ui-portal')) return true;
      const r = p.getAttribute('role');
      if (r === 'listbox' || r === 'menu') return true;
      const s = getComputedStyle(p);
      if ((s.position === 'fixed' || s.position === 'absolute') && (parseInt(s.zIndex, 10) || 0) >= 10) return true;
    }
    return false;
  };
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      const k = e.parentElement ? Array.prototype.indexOf.call(e.parentElement.children, e) + 1 : 1;
      parts.unshift(e.tagName.toLowerCase() + ':nth-child(' + k + ')');
    }
    return ['html'].concat(parts).join(' > ');
  };
  const meta = [], els = [];
  for (const el of candidates()) {
    if (skip.has(el.tagName)) continue;
    const onclick = el.hasAttribute('onclick');
    const tab = el.hasAttribute('tabindex') ? parseInt(el.getAttribute('tabindex'), 10) : NaN;
    // Its cursor is its parent's: a pointer would make it part of the parent's clickable.
    if (!onclick && !(tab >= 0) && follows(el)) continue;
    const pointer = cursorOf(el) === 'pointer';
    if (!pointer && !onclick && !(tab >= 0)) continue;
    if (!el.offsetParent) continue;
    // A pointer and nothing else, inside a parent that shows one too, is part of that
    // clickable (a link, a card), not a clickable of its own.
    if (!onclick && !(tab >= 0) && el.parentElement
        && cursorOf(el.parentElement) === 'pointer') continue;
    const text = (el.innerText || '').replace(/\s+/g, ' ').trim().slice(0, 80);
    if (!text) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
    }
    const role = el.getAttribute('role');
    const inFloating = floating(el);
    if (role && !inFloating) continue;
    const reasons = [];
    if (inFloating) reasons.push('popover-child');
    if (pointer) reasons.push('cursor:pointer');
    if (onclick) reasons.push('onclick');
    if (tab >= 0) reasons.push('tabindex=' + tab);
    if (role) reasons.push('role=' + role);
    meta.push({ reasons: reasons.join(', '), label: text || el.tagName.toLowerCase(), path: path(el) });
    els.push(el);
  }
  return [JSON.stringify(meta)].concat(els);
}"#;

/// The cursor scan's result when the page engine ran it: its metadata JSON and the array of
/// its elements (`None` for either when the scan threw in the page).
fn cursor_from_parts(tab: &Tab, meta: Option<&str>, elements: Option<String>) -> CursorScan {
    let hits = || -> Result<Vec<CursorHit>, CommandError> {
        let meta: Vec<CursorMeta> = meta
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| CommandError::failed("cursor scan returned no data"))?;
        if meta.is_empty() {
            return Ok(Vec::new());
        }
        let array =
            elements.ok_or_else(|| CommandError::failed("cursor scan returned no array"))?;
        describe_hits(tab, meta, array_items(tab, &array)?.into_iter())
    };
    match hits() {
        Ok(hits) => CursorScan::Found(hits),
        Err(_) => CursorScan::Failed,
    }
}

/// Pairs each hit's metadata with its element's backend id, described all at once.
fn describe_hits(
    tab: &Tab,
    meta: Vec<CursorMeta>,
    elements: impl Iterator<Item = RemoteObject>,
) -> Result<Vec<CursorHit>, CommandError> {
    let pairs: Vec<(CursorMeta, String)> = meta
        .into_iter()
        .zip(elements)
        .filter(|(_, element)| element.kind == "object")
        .filter_map(|(m, element)| Some((m, element.object_id?)))
        .collect();
    in_parallel(pairs, |(m, object_id)| {
        Ok(CursorHit {
            reasons: m.reasons,
            label: m.label,
            path: m.path,
            backend: backend_of(tab, &object_id)?,
        })
    })
}

fn cursor_scan(realm: &Realm, group: &str) -> CursorScan {
    match try_cursor_scan(realm, group) {
        Ok(hits) => CursorScan::Found(hits),
        Err(_) => CursorScan::Failed,
    }
}

/// The indexed items of a remote array (`Runtime.getProperties`, own properties), in index
/// order; the array's other properties (`length`) are left out.
fn array_items(tab: &Tab, array: &str) -> Result<Vec<RemoteObject>, CommandError> {
    let props = tab
        .call_method(GetProperties(
            json!({ "objectId": array, "ownProperties": true }),
        ))
        .map_err(cdp_error)?;
    let mut items: Vec<(usize, RemoteObject)> = props
        .result
        .into_iter()
        .filter_map(|p| Some((p.name.parse::<usize>().ok()?, p.value?)))
        .collect();
    items.sort_by_key(|(i, _)| *i);
    Ok(items.into_iter().map(|(_, v)| v).collect())
}

fn try_cursor_scan(realm: &Realm, group: &str) -> Result<Vec<CursorHit>, CommandError> {
    let tab = &*realm.cdp;
    let mut in_document = json!({
        "expression": format!("({CURSOR_SCAN}).call(document.body)"),
        "objectGroup": group,
        "returnByValue": false,
        "silent": true,
    });
    if let Some(context) = realm.context {
        in_document["contextId"] = json!(context);
    }
    let reply = tab.call_method(Evaluate(in_document)).map_err(cdp_error)?;
    if let Some(e) = reply.exception {
        return Err(CommandError::failed(e.message()));
    }
    if reply.result.description.as_deref() == Some("Array(1)") {
        // Only the (empty) metadata: nothing qualified.
        return Ok(Vec::new());
    }
    let array = reply
        .result
        .object_id
        .ok_or_else(|| CommandError::failed("cursor scan returned no array"))?;
    let mut slots = array_items(tab, &array)?.into_iter();
    let meta: Vec<CursorMeta> = slots
        .next()
        .and_then(|v| v.value.as_str().map(str::to_owned))
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(|| CommandError::failed("cursor scan returned no data"))?;
    describe_hits(tab, meta, slots)
}

// ---------------------------------------------------------------------------------------------
// -D: a line diff against the previous snapshot, in the shape of jsdiff's `diffLines` output
// as gstack prints it.

fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.split('\n').collect();
    let b: Vec<&str> = new.split('\n').collect();
    let mut out = vec![
        "--- previous snapshot".to_owned(),
        "+++ current snapshot".to_owned(),
        String::new(),
    ];
    for (op, line) in diff_ops(&a, &b) {
        if line.is_empty() {
            // gstack drops empty lines of each diff part.
            continue;
        }
        out.push(format!("{op}{line}"));
    }
    out.join("\n")
}

/// An LCS line diff; within a changed region removals come before additions, as in jsdiff.
fn diff_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(&'static str, &'a str)> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<(&'static str, &'a str)> = a[..prefix].iter().map(|l| ("  ", *l)).collect();
    let (n, m) = (am.len(), bm.len());
    if n.saturating_mul(m) > 16_000_000 {
        // Too large for the table: report the middle as replaced.
        ops.extend(am.iter().map(|l| ("- ", *l)));
        ops.extend(bm.iter().map(|l| ("+ ", *l)));
    } else {
        // lcs[i][j]: LCS length of am[i..] and bm[j..].
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        let mut removed = Vec::new();
        let mut added = Vec::new();
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.extend(removed.drain(..).map(|l| ("- ", l)));
                ops.extend(added.drain(..).map(|l| ("+ ", l)));
                ops.push(("  ", am[i]));
                i += 1;
                j += 1;
            } else if j >= m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                removed.push(am[i]);
                i += 1;
            } else {
                added.push(bm[j]);
                j += 1;
            }
        }
        ops.extend(removed.into_iter().map(|l| ("- ", l)));
        ops.extend(added.into_iter().map(|l| ("+ ", l)));
    }
    ops.extend(a[a.len() - suffix..].iter().map(|l| ("  ", *l)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_parse_including_bundles() {
        let o = Options::parse(&args(&["-ic"])).unwrap();
        assert!(o.interactive && o.compact && o.cursor);
        let o = Options::parse(&args(&["-d", "2", "-s", "nav", "-D"])).unwrap();
        assert_eq!(o.depth, Some(2));
        assert_eq!(o.selector.as_deref(), Some("nav"));
        assert!(o.diff && !o.cursor);
        let e = Options::parse(&args(&["-x"])).unwrap_err();
        assert_eq!(e.body.error, "Unknown snapshot flag: -x");
        let e = Options::parse(&args(&["-id"])).unwrap_err();
        assert_eq!(e.body.error, "Unknown snapshot flag: -id");
    }

    #[test]
    fn yaml_quoting_matches_playwright() {
        assert_eq!(yaml_value("I agree"), "I agree");
        assert_eq!(yaml_value("42"), "\"42\"");
        assert_eq!(yaml_value("Note: this"), "\"Note: this\"");
        assert_eq!(yaml_value("say \"hi\""), "say \"hi\"");
        assert_eq!(yaml_value("\"hi\""), "\"\\\"hi\\\"\"");
        assert_eq!(yaml_value("yes"), "\"yes\"");
        assert_eq!(yaml_value("a # b"), "\"a # b\"");
        assert_eq!(yaml_value("1e5x"), "1e5x");
    }

    #[test]
    fn whitespace_and_yaml_words_normalise_as_playwright_does() {
        assert_eq!(normalise_space("  a\u{200b}  \u{ad} b\n\tc "), "a b c");
        assert_eq!(normalise_space("\u{200b} \u{ad}"), "");
        assert_eq!(normalise_space("so\u{ad}ft"), "soft");
        assert_eq!(yaml_value("YES"), "\"YES\"");
        assert_eq!(yaml_value("Null"), "\"Null\"");
        assert_eq!(yaml_value("Yesterday"), "Yesterday");
        assert_eq!(yaml_value("0X1f"), "\"0X1f\"");
        assert_eq!(yaml_value("0xg"), "0xg");
        assert_eq!(yaml_value("a: b"), "\"a: b\"");
    }

    #[test]
    fn normalised_text_is_recognised_exactly() {
        for s in [
            "a b",
            "a  b",
            " a",
            "a ",
            "a\tb",
            "a\nb",
            "a\u{200b}b",
            "so\u{ad}ft",
            "x",
            "a\u{a0}b",
            "é ü",
            "\u{200b}",
        ] {
            assert_eq!(is_normalised(s), normalise_space(s) == s, "{s:?}");
        }
        assert!(!is_normalised(""));
    }

    #[test]
    fn diff_marks_changes() {
        let d = line_diff("a\nb\nc", "a\nx\nc");
        assert_eq!(
            d,
            "--- previous snapshot\n+++ current snapshot\n\n  a\n- b\n+ x\n  c"
        );
    }
}
