//! gstack's text answers turned into JSON values for `--json`. The formats are ours (the
//! daemon prints them), so each parser is exact for its command; a line a parser does not
//! recognise is kept as `{"text": line}` rather than dropped.

use serde_json::{json, Map, Value};

/// The `result` value for `command`'s output `text`.
pub fn result(command: &str, text: &str) -> Value {
    let text = text.strip_suffix('\n').unwrap_or(text);
    match command {
        "status" => status(text),
        "tabs" => Value::Array(text.lines().map(tab).collect()),
        "links" => list(text, "(no links)", link),
        "console" => list(text, "(no console", log_line),
        "dialog" => list(text, "(no dialogs", log_line),
        "network" => list(text, "(no network", network),
        "snapshot" => snapshot(text),
        "is" => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::String(other.to_owned()),
        },
        "forms" | "attrs" | "cookies" | "storage" | "newtab" => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        }
        _ => Value::String(text.to_owned()),
    }
}

/// Lines → array, `[]` when the output is the command's "nothing captured" note.
fn list(text: &str, empty_prefix: &str, line: fn(&str) -> Value) -> Value {
    if text.is_empty() || text.starts_with(empty_prefix) {
        return Value::Array(Vec::new());
    }
    Value::Array(text.lines().map(line).collect())
}

fn unparsed(line: &str) -> Value {
    json!({ "text": line })
}

/// `Status: healthy` / `Mode: launched` / `URL: …` / `Tabs: 1` / `PID: 42` → an object with
/// lower-case keys; numbers stay numbers.
fn status(text: &str) -> Value {
    let mut map = Map::new();
    for line in text.lines() {
        if let Some((key, value)) = line.split_once(": ") {
            // `status --no-start` asks no page for its URL: no URL, not a placeholder string.
            if key == "URL" && value == super::local::URL_NOT_ASKED {
                map.insert("url".to_owned(), Value::Null);
                continue;
            }
            let value = value
                .parse::<u64>()
                .map_or_else(|_| Value::String(value.to_owned()), Value::from);
            map.insert(key.to_ascii_lowercase(), value);
        }
    }
    Value::Object(map)
}

/// `→ [2] Title — url` → `{"id":2,"title":"Title","url":"url","active":true}`.
fn tab(line: &str) -> Value {
    let active = line.starts_with('→');
    let rest = line.trim_start_matches('→').trim_start();
    let parsed = rest.strip_prefix('[').and_then(|r| {
        let (id, r) = r.split_once("] ")?;
        let (title, url) = r.rsplit_once(" — ")?;
        Some(json!({
            "id": id.parse::<u64>().ok()?,
            "title": if title == "(untitled)" { "" } else { title },
            "url": url,
            "active": active,
        }))
    });
    parsed.unwrap_or_else(|| unparsed(line))
}

/// `text → href`.
fn link(line: &str) -> Value {
    match line.rsplit_once(" → ") {
        Some((text, href)) => json!({ "text": text, "href": href }),
        None => unparsed(line),
    }
}

/// `[timestamp] [level] text` (console) and `[timestamp] [type] "message" → accepted` (dialog).
fn log_line(line: &str) -> Value {
    let parsed = (|| {
        let (timestamp, rest) = line.strip_prefix('[')?.split_once("] [")?;
        let (kind, text) = rest.split_once("] ")?;
        Some(json!({ "timestamp": timestamp, "level": kind, "text": text }))
    })();
    parsed.unwrap_or_else(|| unparsed(line))
}

/// `GET url → 200 (12ms, 345B)`; `?` and `pending` become null.
fn network(line: &str) -> Value {
    let parsed = (|| {
        let (method, rest) = line.split_once(' ')?;
        let (url, rest) = rest.rsplit_once(" → ")?;
        let (status, rest) = rest.split_once(" (")?;
        let (ms, bytes) = rest.strip_suffix(')')?.split_once(", ")?;
        let number = |s: &str, unit: &str| s.strip_suffix(unit)?.parse::<u64>().ok();
        Some(json!({
            "method": method,
            "url": url,
            "status": status.parse::<u64>().ok(),
            "durationMs": number(ms, "ms"),
            "sizeBytes": number(bytes, "B"),
        }))
    })();
    parsed.unwrap_or_else(|| unparsed(line))
}

/// Snapshot lines → `{"nodes":[{"ref","role","name","depth","value"?,"props"?}], "text"}`.
/// The text is kept whole too: `-D` diffs and notes have no node shape.
fn snapshot(text: &str) -> Value {
    let nodes: Vec<Value> = text.lines().filter_map(snapshot_node).collect();
    json!({ "nodes": nodes, "text": text })
}

/// `  @e3 [button] "Name" [props]: value` (two spaces per level) or `@c1 [reasons] "label"`.
fn snapshot_node(line: &str) -> Option<Value> {
    let body = line.trim_start_matches(' ');
    let depth = (line.len() - body.len()) / 2;
    let (reference, rest) = body.strip_prefix('@')?.split_once(" [")?;
    let (role, mut rest) = rest.split_once(']')?;
    let mut node =
        json!({ "ref": format!("@{reference}"), "role": role, "depth": depth, "name": "" });
    if let Some(quoted) = rest.strip_prefix(" \"") {
        // The name runs to the last quote that ends it: before props, a value, or the end.
        let end = [
            quoted.rfind("\": "),
            quoted.rfind("\" ["),
            quoted.strip_suffix('"').map(str::len),
        ]
        .into_iter()
        .flatten()
        .min()?;
        node["name"] = Value::String(quoted[..end].to_owned());
        rest = &quoted[end + 1..];
    }
    if let Some((props, value)) = rest.split_once(": ") {
        let props = props.trim();
        if !props.is_empty() {
            node["props"] = Value::String(props.to_owned());
        }
        node["value"] = Value::String(value.to_owned());
    } else if !rest.trim().is_empty() {
        node["props"] = Value::String(rest.trim().to_owned());
    }
    Some(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_status_and_network_lines_become_objects() {
        let tabs = result(
            "tabs",
            "  [1] (untitled) — about:blank\n→ [2] A — B — http://x/",
        );
        assert_eq!(
            tabs[1],
            json!({"id":2,"title":"A — B","url":"http://x/","active":true})
        );
        assert_eq!(tabs[0]["title"], "");
        let status = result(
            "status",
            "Status: healthy\nMode: launched\nURL: about:blank\nTabs: 1\nPID: 7",
        );
        assert_eq!(status["pid"], 7);
        assert_eq!(status["status"], "healthy");
        let unasked = result(
            "status",
            &format!(
                "Status: healthy\nMode: launched\nURL: {}\nTabs: 1\nPID: 7",
                super::super::local::URL_NOT_ASKED
            ),
        );
        assert_eq!(unasked["url"], Value::Null, "{unasked}");
        assert_eq!(unasked["tabs"], 1);
        let net = result("network", "GET http://a/b → 200 (12ms, ?B)");
        assert_eq!(net[0]["status"], 200);
        assert_eq!(net[0]["sizeBytes"], Value::Null);
        assert_eq!(result("network", "(no network requests)"), json!([]));
    }

    #[test]
    fn snapshot_lines_become_nodes() {
        let snap = result(
            "snapshot",
            "@e1 [heading] \"Title\" [level=1]\n  @e2 [textbox] \"User\": alice\n  @e3 [button] \"Say \"hi\"\"",
        );
        let nodes = snap["nodes"].as_array().expect("nodes");
        assert_eq!(nodes[0]["props"], "[level=1]");
        assert_eq!(nodes[0]["name"], "Title");
        assert_eq!(nodes[1]["depth"], 1);
        assert_eq!(nodes[1]["value"], "alice");
        assert_eq!(nodes[2]["name"], "Say \"hi\"");
    }
}
