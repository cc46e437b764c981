//! Cookie and storage state (issue 13): `cookies --clear`, `cookie-delete <name>`,
//! `cookie-import <file.json>` (gstack's) and `storage clear`. A cookie file is untrusted
//! input: read only from where `confine` allows, size-capped, and checked whole before a
//! single cookie is set.

use std::path::Path;

use headless_chrome::protocol::cdp::Network;
use serde_json::Value;

use super::interaction::cdp_error;
use crate::browser::confine;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};

/// The largest cookie file `cookie-import` reads (bytes): far above any real export, far
/// below what would hurt the daemon.
pub const MAX_COOKIE_FILE: u64 = 16 * 1024 * 1024;

/// `cookies --clear` → `Cleared <n> cookies`: every cookie of the browser
/// (`Network.clearBrowserCookies`), as Playwright's `context.clearCookies()`.
pub fn clear_cookies(ctx: &mut Ctx) -> CommandResult {
    let tab = &ctx.tab.cdp;
    let count = tab
        .call_method(Network::GetAllCookies(None))
        .map_err(cdp_error)?
        .cookies
        .len();
    tab.call_method(Network::ClearBrowserCookies(None))
        .map_err(cdp_error)?;
    Ok(format!("Cleared {count} cookies"))
}

/// `cookie-delete <name>` → `Deleted <n> cookie(s) named <name>`: every cookie of that name,
/// whatever its domain and path (Playwright's `clearCookies({ name })`). No such cookie is an
/// error, so a typo is not mistaken for success.
pub fn cookie_delete(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(name) = args.first().filter(|n| !n.is_empty()) else {
        return Err(CommandError::usage("cookie-delete"));
    };
    let tab = &ctx.tab.cdp;
    let cookies = tab
        .call_method(Network::GetAllCookies(None))
        .map_err(cdp_error)?
        .cookies;
    let matching: Vec<&Network::Cookie> = cookies.iter().filter(|c| &c.name == name).collect();
    if matching.is_empty() {
        return Err(CommandError::failed_with_hint(
            format!("No cookie named {name}"),
            "Run 'browse cookies' for the names there are.",
        ));
    }
    for cookie in &matching {
        tab.call_method(Network::DeleteCookies {
            name: cookie.name.clone(),
            url: None,
            domain: Some(cookie.domain.clone()),
            path: Some(cookie.path.clone()),
            partition_key: None,
        })
        .map_err(cdp_error)?;
    }
    Ok(format!(
        "Deleted {} cookie{} named {name}",
        matching.len(),
        if matching.len() == 1 { "" } else { "s" }
    ))
}

/// `cookie-import <file.json>` → `Loaded <n> cookies from <file>` (gstack's template and
/// rules): a JSON array of `{name, value, url? | domain? path?, expires?, httpOnly?,
/// secure?, sameSite?}`; a cookie without a url or domain gets the current page's host, one
/// whose url's host or domain does not match that host is refused. Every cookie is checked before any is set.
pub fn cookie_import(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(file) = args.first().filter(|f| !f.is_empty()) else {
        return Err(CommandError::usage("cookie-import"));
    };
    let host = page_host(ctx)?;
    let cookies = parse_cookie_file(&ctx.cwd, file, &host)?;
    let count = cookies.len();
    ctx.tab
        .cdp
        .call_method(Network::SetCookies { cookies })
        .map_err(|e| {
            CommandError::failed(format!("Chromium refused the cookies in {file}: {e:#}"))
        })?;
    Ok(format!("Loaded {count} cookies from {file}"))
}

/// The host of the tab's page, which cookies without a domain get.
fn page_host(ctx: &Ctx) -> Result<String, CommandError> {
    let page = ctx.tab.events.url();
    url::Url::parse(&page)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            CommandError::failed(format!(
                "Cannot import cookies on {page}: the page has no hostname. Navigate to the site first."
            ))
        })
}

/// Reads and checks a cookie file (see [`cookie_import`]).
fn parse_cookie_file(
    cwd: &Path,
    file: &str,
    host: &str,
) -> Result<Vec<Network::CookieParam>, CommandError> {
    let path = confine::input(cwd, file)?;
    let size = std::fs::metadata(&path)
        .map_err(|e| CommandError::failed(format!("Cannot read {file}: {e}")))?
        .len();
    if size > MAX_COOKIE_FILE {
        return Err(CommandError::failed(format!(
            "Cookie file {file} is {size} bytes; the limit is {MAX_COOKIE_FILE}"
        )));
    }
    let raw = std::fs::read_to_string(&path)
        .map_err(|e| CommandError::failed(format!("Cannot read {file}: {e}")))?;
    let parsed: Value = serde_json::from_str(&raw)
        .map_err(|e| CommandError::failed(format!("Invalid JSON in {file}: {e}")))?;
    let Value::Array(items) = parsed else {
        return Err(CommandError::failed(
            "Cookie file must contain a JSON array",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            cookie_param(item, host).map_err(|why| {
                CommandError::failed_with_hint(
                    why,
                    format!(
                        "In {file}, cookie #{} (counting from 1). Nothing was imported.",
                        i + 1
                    ),
                )
            })
        })
        .collect()
}

/// One cookie of the file, checked field by field.
pub(super) fn cookie_param(item: &Value, host: &str) -> Result<Network::CookieParam, String> {
    const NAME_VALUE: &str = "Each cookie must have \"name\" and \"value\" fields";
    let text = |key: &str| -> Result<Option<String>, String> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("Cookie field \"{key}\" must be a string")),
        }
    };
    let flag = |key: &str| -> Result<Option<bool>, String> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("Cookie field \"{key}\" must be true or false")),
        }
    };
    if !item.is_object() {
        return Err(NAME_VALUE.into());
    }
    let name = text("name")?.filter(|n| !n.is_empty()).ok_or(NAME_VALUE)?;
    let value = text("value")?.ok_or(NAME_VALUE)?;
    let url = text("url")?.filter(|u| !u.is_empty());
    let domain = text("domain")?.filter(|d| !d.is_empty());
    let path = text("path")?.filter(|p| !p.is_empty());
    // The cookie's site, however given, must be the page's (gstack's rule for `domain`).
    let check_site = |site: &str| -> Result<(), String> {
        let bare = site.strip_prefix('.').unwrap_or(site);
        if bare != host && !host.ends_with(&format!(".{bare}")) {
            return Err(format!(
                "Cookie domain \"{site}\" does not match current page domain \"{host}\". Use the target site first."
            ));
        }
        Ok(())
    };
    // Playwright's `addCookies`: a cookie has a `url`, or a `domain` and `path`, not both;
    // with a `url`, the cookie is host-only for its host (`Network.setCookie`'s default).
    let (url, domain, path) = match url {
        Some(url) => {
            if domain.is_some() || path.is_some() {
                return Err("Cookie has \"url\" and \"domain\"/\"path\": give either a url or a domain and path".into());
            }
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    format!("Cookie field \"url\" must be an http(s) URL, not \"{url}\"")
                })?;
            check_site(parsed.host_str().unwrap_or_default())?;
            // The URL's directory, as Playwright computes it (Chromium would default to `/`).
            let directory = parsed
                .path()
                .rfind('/')
                .map_or("/", |end| &parsed.path()[..=end])
                .to_owned();
            (Some(url), None, Some(directory))
        }
        None => {
            let domain = match domain {
                None => host.to_owned(),
                Some(domain) => {
                    check_site(&domain)?;
                    domain
                }
            };
            (None, Some(domain), Some(path.unwrap_or_else(|| "/".into())))
        }
    };
    let expires = match item.get("expires") {
        None | Some(Value::Null) => None,
        // -1 is Playwright's "session cookie".
        Some(Value::Number(n)) => n.as_f64().filter(|e| *e > 0.0),
        Some(_) => {
            return Err("Cookie field \"expires\" must be a number (seconds since 1970)".into())
        }
    };
    let same_site = match text("sameSite")?.as_deref() {
        None => None,
        Some("Strict") => Some(Network::CookieSameSite::Strict),
        Some("Lax") => Some(Network::CookieSameSite::Lax),
        Some("None") => Some(Network::CookieSameSite::None),
        Some(other) => {
            return Err(format!(
                "Cookie field \"sameSite\" must be Strict, Lax or None, not \"{other}\""
            ))
        }
    };
    Ok(Network::CookieParam {
        name,
        value,
        url,
        domain,
        path,
        secure: flag("secure")?,
        http_only: flag("httpOnly")?,
        same_site,
        expires,
        priority: None,
        same_party: None,
        source_scheme: None,
        source_port: None,
        partition_key: None,
    })
}

/// `storage clear` → `Cleared localStorage and sessionStorage for <origin>`: both storages of
/// the page's origin (`Storage.clear()` in the page).
pub fn storage_clear(ctx: &mut Ctx) -> CommandResult {
    let origin = evaluate(
        &ctx.tab.cdp,
        "localStorage.clear(); sessionStorage.clear(); location.origin",
        false,
    )?;
    Ok(format!(
        "Cleared localStorage and sessionStorage for {}",
        origin.as_str().unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cookies_are_checked_field_by_field() {
        let ok = cookie_param(&json!({"name": "a", "value": "1"}), "example.com").unwrap();
        assert_eq!(ok.domain.as_deref(), Some("example.com"));
        assert_eq!(ok.path.as_deref(), Some("/"));
        assert!(cookie_param(
            &json!({"name": "a", "value": "1", "domain": ".example.com"}),
            "www.example.com"
        )
        .is_ok());
        let err = |v: Value| cookie_param(&v, "example.com").err().unwrap_or_default();
        assert_eq!(
            err(json!({"name": "a"})),
            "Each cookie must have \"name\" and \"value\" fields"
        );
        assert_eq!(
            err(json!("a=1")),
            "Each cookie must have \"name\" and \"value\" fields"
        );
        assert_eq!(
            err(json!({"name": "a", "value": 1})),
            "Cookie field \"value\" must be a string"
        );
        assert!(
            err(json!({"name": "a", "value": "1", "domain": "evil.com"})).starts_with(
                "Cookie domain \"evil.com\" does not match current page domain \"example.com\""
            )
        );
        assert!(
            err(json!({"name": "a", "value": "1", "domain": "ample.com"}))
                .starts_with("Cookie domain")
        );
        assert!(err(json!({"name": "a", "value": "1", "sameSite": "lax"}))
            .contains("Strict, Lax or None"));
        assert!(
            err(json!({"name": "a", "value": "1", "expires": "soon"})).contains("must be a number")
        );
    }
}
