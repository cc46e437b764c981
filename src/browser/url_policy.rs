//! Which URLs `goto` may open, with gstack's messages: http, https, `about:blank` and `file:`
//! inside the daemon's cwd or the temp dir; no scheme guessing; cloud-metadata hosts refused,
//! also when a name resolves to them (DNS rebinding).

use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use url::Url;

use super::page::CommandError;

const METADATA_HOSTS: &[&str] = &[
    "169.254.169.254",
    "metadata.google.internal",
    "metadata.azure.internal",
    "fe80::1",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "::a9fe:a9fe",
];

/// Checks `input` and returns the URL to navigate to and echo: http(s) exactly as typed,
/// `file:` in canonical `file:///` form. A refusal keeps gstack's message and, when the input
/// looks like a URL without its scheme (`localhost:3000`, `example.com/a`), hints at the URL
/// that was probably meant (gstack guesses nothing; neither do we, we only suggest).
pub fn validate(input: &str, cwd: &Path) -> Result<String, CommandError> {
    check(input, cwd).map_err(|message| match missing_scheme_hint(input) {
        Some(hint) => CommandError::failed_with_hint(message, hint),
        None => CommandError::failed(message),
    })
}

/// `no scheme: did you mean http://localhost:3000?` for an input with no `scheme://` whose
/// first part looks like a host (a dot, `localhost`, or `host:port`).
fn missing_scheme_hint(input: &str) -> Option<String> {
    let input = input.trim();
    if input.contains("://") || input.is_empty() || input.contains(char::is_whitespace) {
        return None;
    }
    let host_port = input.split(['/', '?', '#']).next()?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let local = host == "localhost" || host.parse::<IpAddr>().is_ok();
    let dotted_name = host.contains('.') && !host.starts_with('.') && !host.ends_with('.');
    if !local && !dotted_name {
        return None;
    }
    let scheme = if local { "http" } else { "https" };
    Some(format!("no scheme: did you mean {scheme}://{input}?"))
}

fn check(input: &str, cwd: &Path) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.eq_ignore_ascii_case("about:blank") {
        return Ok("about:blank".into());
    }
    if let Some(rest) = strip_prefix_ci(trimmed, "file://") {
        return validate_file(trimmed, rest, cwd);
    }
    let parsed = Url::parse(trimmed).map_err(|_| format!("Invalid URL: {input}"))?;
    match parsed.scheme() {
        "http" | "https" => {}
        "file" => {
            let rest = strip_prefix_ci(trimmed, "file:").ok_or_else(|| format!("Invalid URL: {input}"))?;
            return validate_file(trimmed, rest, cwd);
        }
        other => {
            return Err(format!(
                "Blocked: scheme \"{other}:\" is not allowed. Only http:, https:, file:, and about:blank URLs are permitted."
            ))
        }
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("Invalid URL: {input}"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if is_metadata_host(&host) {
        return Err(format!(
            "Blocked: {host} is a cloud metadata endpoint. Access is denied for security."
        ));
    }
    if needs_dns_check(&host) {
        let port = parsed.port_or_known_default().unwrap_or(80);
        if let Ok(addrs) = (host.as_str(), port).to_socket_addrs() {
            if addrs.into_iter().any(|a| is_metadata_ip(&a.ip())) {
                return Err(format!(
                    "Blocked: {host} resolves to a cloud metadata IP. Possible DNS rebinding attack."
                ));
            }
        }
    }
    Ok(trimmed.to_owned())
}

fn validate_file(input: &str, after_scheme: &str, cwd: &Path) -> Result<String, String> {
    let (path_part, suffix) = split_suffix(after_scheme);
    let path: PathBuf = if let Some(rel) = path_part.strip_prefix("./") {
        if rel.is_empty() {
            return Err(format!(
                "Invalid file URL: {input}. Name a file after file://./"
            ));
        }
        cwd.join(rel)
    } else if let Some(rel) = path_part.strip_prefix("~/") {
        if rel.is_empty() {
            return Err(format!(
                "Invalid file URL: {input}. Name a file after file://~/"
            ));
        }
        let home = std::env::var_os("HOME").ok_or("Invalid file URL: HOME is not set")?;
        PathBuf::from(home).join(rel)
    } else if path_part.is_empty() {
        return Err(format!(
            "Invalid file URL: {input}. Use file:///<absolute-path> for local files."
        ));
    } else {
        let url = Url::parse(&format!("file://{path_part}"))
            .map_err(|_| format!("Invalid URL: {input}"))?;
        match url.host_str() {
            None | Some("") | Some("localhost") => {}
            Some(host) => {
                return Err(format!(
                "Unsupported file URL host: {host}. Use file:///<absolute-path> for local files."
            ))
            }
        }
        url.to_file_path()
            .map_err(|_| format!("Invalid URL: {input}"))?
    };
    let resolved = path
        .canonicalize()
        .map_err(|e| format!("Cannot open {}: {e}", path.display()))?;
    if !super::confine::is_allowed(&resolved, cwd) {
        return Err(super::confine::refusal(cwd).body.error);
    }
    let canonical = Url::from_file_path(&resolved).map_err(|_| format!("Invalid URL: {input}"))?;
    Ok(format!("{canonical}{suffix}"))
}

/// Splits `path?query#hash` into the path and the rest.
fn split_suffix(s: &str) -> (&str, &str) {
    match s.find(['?', '#']) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get` rather than slicing: the input may have a multi-byte character at the cut.
    s.get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(prefix))
        .and_then(|_| s.get(prefix.len()..))
}

fn is_metadata_host(host: &str) -> bool {
    if METADATA_HOSTS.contains(&host) {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => is_metadata_ip(&ip),
        Err(_) => false,
    }
}

fn is_metadata_ip(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.octets() == [169, 254, 169, 254],
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4() {
                if v4.octets() == [169, 254, 169, 254] {
                    return true;
                }
            }
            let first = v6.segments()[0];
            // fc00::/7 (unique local) and fe80::/10 (link local).
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

fn needs_dns_check(host: &str) -> bool {
    if matches!(host, "localhost" | "127.0.0.1" | "::1") {
        return false;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => !(v4.is_private() || v4.is_loopback()),
        Ok(IpAddr::V6(_)) => false,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(u: &str) -> Result<String, String> {
        check(u, Path::new("/tmp"))
    }

    #[test]
    fn http_is_echoed_as_typed() {
        assert_eq!(
            checked("http://127.0.0.1:8080/a?b#c").unwrap(),
            "http://127.0.0.1:8080/a?b#c"
        );
        assert_eq!(checked("ABOUT:BLANK").unwrap(), "about:blank");
    }

    #[test]
    fn no_scheme_guessing_and_no_other_schemes() {
        assert_eq!(
            checked("example.com").unwrap_err(),
            "Invalid URL: example.com"
        );
        assert!(checked("javascript:alert(1)")
            .unwrap_err()
            .starts_with("Blocked: scheme \"javascript:\""));
        assert!(checked("localhost:3000")
            .unwrap_err()
            .starts_with("Blocked: scheme \"localhost:\""));
    }

    #[test]
    fn multi_byte_input_is_an_error_not_a_panic() {
        // Found by the fuzzer: slicing at a byte offset inside a character panicked.
        assert!(checked("𐀀 ࠀ").is_err());
        assert!(checked("\u{1}file:x").is_err());
    }

    #[test]
    fn metadata_is_refused() {
        for u in [
            "http://169.254.169.254/latest",
            "http://[::ffff:169.254.169.254]/",
            "http://metadata.google.internal/",
        ] {
            assert!(checked(u).unwrap_err().contains("cloud metadata"), "{u}");
        }
    }

    #[test]
    fn file_urls_stay_inside_allowed_dirs() {
        let dir = tempfile::tempdir_in("/tmp").unwrap();
        let page = dir.path().join("p.html");
        std::fs::write(&page, "<p>x</p>").unwrap();
        let url = format!("file://{}", page.display());
        assert_eq!(
            checked(&(url.clone() + "#top")).unwrap(),
            format!("{url}#top")
        );
        assert!(checked("file:///etc/passwd")
            .unwrap_err()
            .starts_with("Path must be within"));
        assert!(checked("file://evil.example/x")
            .unwrap_err()
            .starts_with("Unsupported file URL host"));
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests (run long by `scripts/fuzz`): any input gets a verdict, never a panic,
    //! and nothing but the allowed schemes is ever accepted.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_url_policy_never_panics_and_only_allows_known_schemes(
            input in prop_oneof![".{0,64}", "(http|https|file|about|javascript|data|ftp)://?[a-z0-9./~?#:%@\\[\\]-]{0,40}"]
        ) {
            if let Ok(url) = check(&input, Path::new("/tmp")) {
                // http(s) is echoed as typed, so judge what a WHATWG parser (Chromium's too)
                // makes of it.
                let scheme = Url::parse(&url).map(|u| u.scheme().to_owned()).unwrap_or_default();
                prop_assert!(
                    matches!(scheme.as_str(), "http" | "https" | "file") || url == "about:blank",
                    "accepted {url}"
                );
            }
        }
    }

    #[test]
    fn a_url_without_its_scheme_gets_a_hint() {
        let hint = |input: &str| {
            validate(input, Path::new("/tmp"))
                .err()
                .and_then(|e| e.body.hint)
        };
        assert_eq!(
            hint("localhost:18431").as_deref(),
            Some("no scheme: did you mean http://localhost:18431?")
        );
        assert_eq!(
            hint("example.com/a?b").as_deref(),
            Some("no scheme: did you mean https://example.com/a?b?")
        );
        assert_eq!(
            hint("127.0.0.1:80/x").as_deref(),
            Some("no scheme: did you mean http://127.0.0.1:80/x?")
        );
        assert_eq!(hint("javascript:alert(1)"), None);
        assert_eq!(hint("nonsense"), None);
    }
}
