//! The per-tab ref map a snapshot leaves behind: `@eN` and `@cN` keyed on the CDP backend DOM
//! node id, or on an element the page snapshot engine holds, so duplicate names, unnamed nodes
//! and names with quotes resolve to the right element.

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
    /// `@e1`, `@e2`… in order: `@eN` is `elements[N - 1]` (a list, not a map keyed on
    /// `"eN"` strings: a big table's snapshot leaves 60,000 of them).
    pub elements: Vec<RefEntry>,
    /// `@c1`, `@c2`… in order, likewise.
    pub cursor: Vec<RefEntry>,
    /// The tab's document count when the snapshot was taken: refs die with their document.
    pub document: u64,
    /// The object group that keeps the entries' `held` arrays alive; released with the map.
    pub held: Option<HeldGroup>,
}

impl RefMap {
    /// The entry of ref `key`, given without the `@` (`e3`, `c1`) and spelled as the snapshot
    /// printed it: `None` for any other key (`e0`, `e03`, `e+3`, `x1`).
    pub fn get(&self, key: &str) -> Option<&RefEntry> {
        let (list, number) = match key.split_at_checked(1)? {
            ("e", number) => (&self.elements, number),
            ("c", number) => (&self.cursor, number),
            _ => return None,
        };
        if number.starts_with('0') || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: usize = number.parse().ok()?;
        list.get(n.checked_sub(1)?)
    }

    /// How many refs the map holds.
    pub fn count(&self) -> usize {
        self.elements.len() + self.cursor.len()
    }

    /// Every ref with its key (without the `@`), in the order the snapshot printed them:
    /// `e1…` then `c1…`.
    pub fn iter(&self) -> impl Iterator<Item = (String, &RefEntry)> + '_ {
        fn keyed(kind: char, list: &[RefEntry]) -> impl Iterator<Item = (String, &RefEntry)> {
            list.iter()
                .enumerate()
                .map(move |(i, entry)| (format!("{kind}{}", i + 1), entry))
        }
        keyed('e', &self.elements).chain(keyed('c', &self.cursor))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str) -> RefEntry {
        RefEntry {
            backend_node_id: 0,
            held: None,
            role: "button".into(),
            name: name.to_owned(),
            css_path: None,
            frame: None,
        }
    }

    #[test]
    fn refs_are_found_by_the_key_the_snapshot_printed() {
        let map = RefMap {
            elements: vec![entry("one"), entry("two")],
            cursor: vec![entry("cursor")],
            ..RefMap::default()
        };
        assert_eq!(map.get("e1").map(|e| e.name.as_str()), Some("one"));
        assert_eq!(map.get("e2").map(|e| e.name.as_str()), Some("two"));
        assert_eq!(map.get("c1").map(|e| e.name.as_str()), Some("cursor"));
        for unknown in ["e0", "e3", "e01", "e+1", "e", "c2", "x1", "", "é1", "e1 "] {
            assert!(map.get(unknown).is_none(), "{unknown:?} was found");
        }
        let keys: Vec<String> = map.iter().map(|(key, _)| key).collect();
        assert_eq!(keys, ["e1", "e2", "c1"]);
        assert_eq!(map.count(), 3);
    }
}
