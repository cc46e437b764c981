//! The per-tab ref map a snapshot leaves behind: `@eN` and `@cN` keyed on the CDP backend DOM
//! node id, or on an element the page snapshot engine holds, so duplicate names, unnamed nodes
//! and names with quotes resolve to the right element.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cdp::Tab;

/// What one ref points at.
#[derive(Debug, Clone, PartialEq)]
pub struct RefEntry {
    /// `Accessibility.getFullAXTree`'s `backendDOMNodeId`; resolved with `DOM.resolveNode`.
    /// 0 when `held` gives the element instead.
    pub backend_node_id: i64,
    /// From the page snapshot engine: the remote array of elements (its `Runtime`
    /// object id, alive while the ref map's [`HeldGroup`] is, shared by all the map's
    /// entries) and the index in it.
    pub held: Option<(Arc<str>, u32)>,
    /// Shared, not copied, where it is one of the roles the snapshot knows (a big table's
    /// map holds 60,000 entries).
    pub role: std::borrow::Cow<'static, str>,
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
    /// The object group that keeps the entries' `held` arrays alive; released with the map.
    pub held: Option<HeldGroup>,
}

/// A CDP object group (`Runtime.releaseObjectGroup`) released when this value is dropped:
/// when a new snapshot replaces the ref map, or the tab's refs are reset.
pub struct HeldGroup {
    tab: Arc<Tab>,
    group: String,
}

impl HeldGroup {
    /// Owns `group` of `tab`'s session from now on.
    pub fn new(tab: Arc<Tab>, group: String) -> Self {
        Self { tab, group }
    }
}

impl std::fmt::Debug for HeldGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldGroup")
            .field("group", &self.group)
            .finish()
    }
}

impl Drop for HeldGroup {
    fn drop(&mut self) {
        // Housekeeping no reply waits for; a failure means the page and its objects are gone.
        let tab = Arc::clone(&self.tab);
        let group = std::mem::take(&mut self.group);
        std::thread::spawn(move || {
            let _ = tab.call_method(
                headless_chrome::protocol::cdp::Runtime::ReleaseObjectGroup {
                    object_group: group,
                },
            );
        });
    }
}
