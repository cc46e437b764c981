//! `accessibility`: Playwright's aria-YAML of the active frame's `body`, which gstack prints
//! as is (`read-commands.ts`: `locator('body').ariaSnapshot()`).
//!
//! The tree is the one `snapshot` folds from `Accessibility.getFullAXTree` (spec §6.6), printed
//! with Playwright's YAML rules (`renderAriaTree`): `- role "name" [props]`, `: text` for a lone
//! text child, a trailing `:` and the children two spaces deeper otherwise, `- text: …` for
//! text among other children, and the `- /url: …` / `- /placeholder: …` lines Playwright adds
//! under links and textboxes. The `/url` is the `href` attribute as written (a `data:` URL cut
//! after its comma), so it is read from the DOM (`DOM.describeNode`), not from Chromium's
//! resolved `url` property. Like Playwright's, the tree stops at iframes (a bare `- iframe`).
//!
//! Where the in-page engine models the page (see `page_engine.rs`), its tree replaces
//! `getFullAXTree` as for `snapshot` (a 5,000-row table: ~1 s instead of ~20 s), with the same
//! fallback and the same `BROWSE_SNAPSHOT_ENGINE`; the `href` and `placeholder` attributes
//! behind the props are then read from the engine's held elements, for just those nodes.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use serde_json::{json, Value};

use super::page_engine::{self, Engine, PageRead, PageTree};
use super::{full_ax_tree, yaml_needs_quotes, yaml_value, Item, Node, OBJECT_GROUPS};
use crate::browser::frames::Realm;
use crate::browser::page::{CommandError, CommandResult, Ctx};
use crate::cdp::Tab;

/// YAML keeps keys under 1024 characters, so Playwright leaves longer names (in UTF-16 units)
/// off the line.
const MAX_NAME_UTF16: usize = 900;

/// `accessibility`: the YAML, one line per node; an empty page prints nothing (gstack prints
/// Playwright's empty snapshot as is: an empty line).
pub fn accessibility(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    let realm = ctx.realm()?;
    let engine = Engine::from_env()?;
    if engine != Engine::Ax {
        let group = format!(
            "browse-accessibility-{}",
            OBJECT_GROUPS.fetch_add(1, Ordering::Relaxed)
        );
        // As for `snapshot`: any failure of the page script falls back to the CDP tree.
        match page_engine::read(&realm, &group, false, false) {
            Ok(PageRead { tree: Ok(page), .. }) => return from_page(&realm, page),
            Ok(PageRead {
                tree: Err(reason), ..
            }) if engine == Engine::Page => return Err(super::engine_declined(&reason)),
            Err(e) if engine == Engine::Page => return Err(e),
            Ok(_) | Err(_) => {}
        }
    }
    let tab = &realm.cdp;
    let frame_id = realm.frame.as_ref().map(|f| f.frame_id.as_str());
    // `accessibility` takes no arguments: the way to ask for less is a frame, or snapshot -s.
    let mut tree = full_ax_tree(
        tab,
        frame_id,
        "Narrow it with `frame <sel>` first or use `snapshot -s <selector>`, or raise",
    )?;
    let Some(root) = tree.root() else {
        return Ok(String::new());
    };
    tree.fetch_label_texts(tab, root)?;
    let items = tree.normalised(&[root], true);
    let holders = prop_holders(&items);
    let attributes = dom_attributes(tab, &holders)?;
    Ok(yaml(&items, &yaml_props(&holders, attributes)))
}

/// The YAML of the page engine's tree; the refs of its nodes are indexes into its held array
/// of elements, which gives the props' attributes.
fn from_page(realm: &Realm, page: PageTree) -> CommandResult {
    let Some(root) = page.tree.root() else {
        return Ok(String::new());
    };
    let items = page.tree.normalised(&[root], true);
    let holders = prop_holders(&items);
    let attributes = held_attributes(&realm.cdp, &page.elements, &holders)?;
    // `page.held` is dropped on return, which releases the elements array.
    Ok(yaml(&items, &yaml_props(&holders, attributes)))
}

/// The lines of `items`, joined.
fn yaml(items: &[Item], props: &Props) -> String {
    let mut lines = Vec::new();
    for item in items {
        render(item, 0, props, &mut lines);
    }
    lines.join("\n")
}

/// Playwright's YAML props (`/url`, `/placeholder`) by backend node id.
type Props = HashMap<i64, Vec<(&'static str, String)>>;

/// The attributes a YAML prop is made of, as written in the element.
#[derive(Debug, Default)]
struct PropAttributes {
    href: Option<String>,
    placeholder: Option<String>,
}

/// The nodes that may have a YAML prop, with their backend ids (or element indexes).
fn prop_holders(items: &[Item]) -> Vec<(i64, &Node)> {
    let mut wanted: Vec<(i64, &Node)> = Vec::new();
    let mut stack: Vec<&Item> = items.iter().collect();
    while let Some(item) = stack.pop() {
        if let Item::Node(node) = item {
            if let (true, Some(backend)) = (node.has_yaml_props, node.backend) {
                wanted.push((backend, node));
            }
            stack.extend(&node.children);
        }
    }
    wanted
}

/// The holders' attributes from the DOM, in one pipelined round of `DOM.describeNode` calls.
fn dom_attributes(
    tab: &Tab,
    holders: &[(i64, &Node)],
) -> Result<Vec<PropAttributes>, CommandError> {
    let calls = holders
        .iter()
        .map(|(backend, _)| ("DOM.describeNode", json!({ "backendNodeId": backend })))
        .collect();
    tab.call_raw_pipelined(calls)
        .into_iter()
        .map(|reply| {
            let reply = reply.map_err(super::cdp_error)?;
            let attribute = |wanted: &str| -> Option<String> {
                let attributes = reply["node"]["attributes"].as_array()?;
                attributes
                    .chunks(2)
                    .find(|pair| pair[0].as_str() == Some(wanted))
                    .and_then(|pair| pair.get(1)?.as_str().map(str::to_owned))
            };
            Ok(PropAttributes {
                href: attribute("href"),
                placeholder: attribute("placeholder"),
            })
        })
        .collect()
}

/// Reads `href` and `placeholder` of the holders' elements, `elements[i]` of the page
/// engine's held array, in one `Runtime.callFunctionOn` (in the engine's isolated world,
/// whose `getAttribute` the page cannot redefine).
fn held_attributes(
    tab: &Tab,
    elements: &str,
    holders: &[(i64, &Node)],
) -> Result<Vec<PropAttributes>, CommandError> {
    if holders.is_empty() {
        return Ok(Vec::new());
    }
    let indexes: Vec<i64> = holders.iter().map(|(index, _)| *index).collect();
    let reply = tab
        .call_raw(
            "Runtime.callFunctionOn",
            json!({
                "objectId": elements,
                "functionDeclaration": "function (indexes) { return indexes.map((i) => { \
                    const el = this[i]; return el && el.nodeType === 1 \
                    ? [el.getAttribute('href'), el.getAttribute('placeholder')] : [null, null]; }); }",
                "arguments": [{ "value": indexes }],
                "returnByValue": true,
                "silent": true,
            }),
        )
        .map_err(super::cdp_error)?;
    if let Some(e) = reply.get("exceptionDetails") {
        return Err(CommandError::failed(format!(
            "reading the links' and fields' attributes failed in the page: {}",
            e["exception"]["description"]
                .as_str()
                .unwrap_or("an exception")
        )));
    }
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let pairs = reply["result"]["value"]
        .as_array()
        .filter(|pairs| pairs.len() == holders.len())
        .ok_or_else(|| CommandError::failed("the page returned no attributes for the props"))?;
    Ok(pairs
        .iter()
        .map(|pair| PropAttributes {
            href: text(&pair[0]),
            placeholder: text(&pair[1]),
        })
        .collect())
}

/// The props of the holders whose attributes call for one: a link's `href` (a `data:` URL
/// cut), a textbox's `placeholder` when it is not its name.
fn yaml_props(holders: &[(i64, &Node)], attributes: Vec<PropAttributes>) -> Props {
    let mut props = Props::new();
    for ((backend, node), attributes) in holders.iter().zip(attributes) {
        let found = match &*node.role {
            "link" => attributes
                .href
                .map(|href| ("url", truncate_data_url(&href))),
            "textbox" => attributes
                .placeholder
                .filter(|p| *p != node.name)
                .map(|p| ("placeholder", p)),
            _ => None,
        };
        if let Some(prop) = found {
            props.insert(*backend, vec![prop]);
        }
    }
    props
}

/// Playwright's `truncateDataUrl`: a `data:` URL keeps its header and loses its payload.
fn truncate_data_url(url: &str) -> String {
    match url.find(',') {
        Some(comma) if url.starts_with("data:") => format!("{}\u{2026}", &url[..=comma]),
        _ => url.to_owned(),
    }
}

/// Appends the YAML lines of `item`, `depth` levels deep.
fn render(item: &Item, depth: usize, props: &Props, lines: &mut Vec<String>) {
    let indent = "  ".repeat(depth);
    let node = match item {
        Item::Text { text, .. } => {
            lines.push(format!("{indent}- text: {}", yaml_value(text)));
            return;
        }
        Item::Node(node) => node,
    };
    let mut key = node.role.to_string();
    if !node.name.is_empty() && node.name.encode_utf16().count() <= MAX_NAME_UTF16 {
        key.push(' ');
        // A name that looks like a regular expression is printed bare, any other as JSON.
        if node.name.starts_with('/') && node.name.ends_with('/') {
            key.push_str(&node.name);
        } else {
            key.push_str(&serde_json::to_string(&node.name).unwrap_or_default());
        }
    }
    if !node.props.is_empty() {
        key.push(' ');
        key.push_str(&node.props);
    }
    let line = format!("{indent}- {}", yaml_key(&key));
    let own = node.backend.and_then(|b| props.get(&b));
    match (node.children.as_slice(), own) {
        ([], None) => lines.push(line),
        ([Item::Text { text, .. }], None) => lines.push(format!("{line}: {}", yaml_value(text))),
        (children, own) => {
            lines.push(format!("{line}:"));
            for (name, value) in own.into_iter().flatten() {
                lines.push(format!("{indent}  - /{name}: {}", yaml_value(value)));
            }
            for child in children {
                render(child, depth + 1, props, lines);
            }
        }
    }
}

/// Playwright's `yamlEscapeKeyIfNeeded`: single quotes, a quote inside doubled.
fn yaml_key(key: &str) -> String {
    if yaml_needs_quotes(key) {
        format!("'{}'", key.replace('\'', "''"))
    } else {
        key.to_owned()
    }
}

/// Lets the tests build trees without Chromium.
#[cfg(test)]
fn lines_of(items: &[Item], props: &Props) -> String {
    let mut lines = Vec::new();
    for item in items {
        render(item, 0, props, &mut lines);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(role: &str, name: &str, props: &str, children: Vec<Item>) -> Item {
        Item::Node(Node {
            role: role.to_owned().into(),
            name: name.into(),
            props: props.into(),
            backend: None,
            has_yaml_props: false,
            children,
        })
    }

    fn text(t: &str) -> Item {
        Item::Text {
            text: t.into(),
            backend: None,
        }
    }

    #[test]
    fn nodes_print_as_playwrights_yaml() {
        let mut link = Node {
            role: "link".into(),
            name: "Two".into(),
            props: String::new(),
            backend: Some(7),
            has_yaml_props: true,
            children: Vec::new(),
        };
        link.children.push(text("see"));
        let items = vec![
            node("heading", "Say \"hi\": now", "[level=2]", vec![]),
            node("link", "/regexy/", "", vec![]),
            node("paragraph", "", "", vec![text("42")]),
            node("listitem", "", "", vec![Item::Node(link), text("and it's")]),
            node("textbox", "Bad", "[invalid]", vec![text("x")]),
            text("- dash"),
        ];
        let props: Props = [(7, vec![("url", "?q=1#x".to_owned())])].into();
        assert_eq!(
            lines_of(&items, &props),
            [
                r#"- 'heading "Say \"hi\": now" [level=2]'"#,
                "- link /regexy/",
                "- paragraph: \"42\"",
                "- listitem:",
                "  - link \"Two\":",
                "    - /url: \"?q=1#x\"",
                "    - text: see",
                "  - text: and it's",
                "- textbox \"Bad\" [invalid]: x",
                "- text: \"- dash\"",
            ]
            .join("\n")
        );
    }

    #[test]
    fn data_urls_lose_their_payload() {
        assert_eq!(
            truncate_data_url("data:text/plain,hello"),
            "data:text/plain,\u{2026}"
        );
        assert_eq!(truncate_data_url("data:nocomma"), "data:nocomma");
        assert_eq!(truncate_data_url("/a,b"), "/a,b");
    }
}
