//! Where a remote browser's DevTools WebSocket is (`--cdp-url`): a `ws://` URL is used as it
//! is; for `http(s)://host:port[?query]` the browser's `/json/version` names its
//! `webSocketDebuggerUrl`, and the query string (a farm's token) is carried over to it.

use anyhow::{bail, Context, Result};

use crate::settings::redact_url;

/// How long `/json/version` may take (ms).
const VERSION_TIMEOUT_MS: u64 = 5_000;

/// The WebSocket URL of the browser at `url`.
///
/// # Errors
/// An unsupported scheme (`wss://` needs TLS, which this build does not include), a browser
/// that does not answer `/json/version`, or an answer without `webSocketDebuggerUrl`.
pub fn websocket_url(url: &str) -> Result<String> {
    if url.starts_with("ws://") {
        return Ok(url.to_owned());
    }
    if url.starts_with("wss://") || url.starts_with("https://") {
        bail!(
            "cannot connect to {}: TLS (wss://, https://) is not supported; use ws:// or http:// on a trusted network, or a local TLS-terminating proxy",
            redact_url(url)
        );
    }
    let Some(rest) = url.strip_prefix("http://") else {
        bail!(
            "--cdp-url {} is not a DevTools address: use http://host:port or ws://host:port/devtools/browser/<id>",
            redact_url(url)
        );
    };
    let (base, query) = match rest.split_once('?') {
        Some((base, query)) => (base.trim_end_matches('/'), Some(query)),
        None => (rest.trim_end_matches('/'), None),
    };
    let version_url = match query {
        Some(q) => format!("http://{base}/json/version?{q}"),
        None => format!("http://{base}/json/version"),
    };
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_millis(VERSION_TIMEOUT_MS))
        .build();
    let body = agent
        .get(&version_url)
        .call()
        // ureq's own message names the URL, token included: say only what went wrong.
        .map_err(|e| {
            let why = match e {
                ureq::Error::Status(code, _) => format!("HTTP {code} from /json/version"),
                ureq::Error::Transport(t) => match t.message() {
                    Some(message) => format!("{}: {message}", t.kind()),
                    None => t.kind().to_string(),
                },
            };
            anyhow::anyhow!(
                "cannot connect to the remote browser at {}: {why}",
                redact_url(url)
            )
        })?
        .into_string()
        .with_context(|| format!("cannot read {}/json/version", redact_url(url)))?;
    let answer: serde_json::Value = serde_json::from_str(&body)
        .with_context(|| format!("{} did not answer /json/version with JSON", redact_url(url)))?;
    let ws = answer
        .get("webSocketDebuggerUrl")
        .and_then(serde_json::Value::as_str)
        .with_context(|| {
            format!(
                "{}/json/version names no webSocketDebuggerUrl",
                redact_url(url)
            )
        })?;
    Ok(match query {
        Some(q) if !ws.contains('?') => format!("{ws}?{q}"),
        _ => ws.to_owned(),
    })
}
