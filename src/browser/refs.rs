//! The per-tab ref map a snapshot leaves behind: `@eN` and `@cN` keyed on the CDP backend DOM
//! node id, so duplicate names, unnamed nodes and names with quotes resolve to the right
//! element.

use std::collections::HashMap;

/// What one ref points at.
#[derive(Debug, Clone, PartialEq)]
pub struct RefEntry {
    /// `Accessibility.getFullAXTree`'s `backendDOMNodeId`; resolved with `DOM.resolveNode`.
    pub backend_node_id: i64,
    pub role: String,
    pub name: String,
    /// For `@c` refs: a CSS path kept as a fallback.
    pub css_path: Option<String>,
    /// The frame the node lives in when it is not the tab's main frame: its backend id is
    /// resolved in that frame's session.
    pub frame: Option<crate::browser::frames::FrameRef>,
}

/// The refs of the tab's last snapshot; replaced whole by each snapshot.
#[derive(Debug, Default)]
pub struct RefMap {
    /// Keyed without the `@`: `e3`, `c1`.
    pub entries: HashMap<String, RefEntry>,
    /// The tab's document count when the snapshot was taken: refs die with their document.
    pub document: u64,
}
