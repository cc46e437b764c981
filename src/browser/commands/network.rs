//! Network control: `route`, `unroute` and `routes` (mock or block requests; the table and its
//! interception live in `browser::routes`), `downloads` (what the pages downloaded, kept by
//! `browser::downloads`) and `download` (fetch one URL with the page's cookies, gstack's
//! command).

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::atomic_file::write_atomic;
use crate::browser::confine;
use crate::browser::downloads::{Download, DownloadState};
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::routes::{self, Route, RouteAction, MAX_BODY};
use crate::browser::selector;
use crate::browser::session::Session;
use crate::browser::url_policy;

/// How long `downloads --wait` waits by default (ms).
const DOWNLOAD_WAIT_MS: u64 = 30_000;
/// gstack's cap on a `download` (bytes).
const MAX_DOWNLOAD: usize = 200 * 1024 * 1024;
/// gstack's cap on `download --base64` (bytes).
const MAX_BASE64: usize = 10 * 1024 * 1024;

/// A command's words split into positionals and `--flag value` / `--flag=value` / `--switch`
/// pairs; `valued` names the flags that take a value.
struct Words {
    positional: Vec<String>,
    flags: Vec<(String, Option<String>)>,
}

impl Words {
    fn parse(command: &str, args: &[String], valued: &[&str]) -> Result<Self, CommandError> {
        let mut words = Words {
            positional: Vec::new(),
            flags: Vec::new(),
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if !arg.starts_with("--") || arg.len() == 2 {
                words.positional.push(arg.clone());
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let value = if valued.contains(&name.as_str()) {
                match inline {
                    Some(v) => Some(v),
                    None => Some(iter.next().cloned().ok_or_else(|| {
                        CommandError::failed(format!("{command}: {name} needs a value"))
                    })?),
                }
            } else {
                inline
            };
            words.flags.push((name, value));
        }
        Ok(words)
    }

    fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|(n, _)| n == name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// `route <pattern> [--abort | --status N --body TEXT | --body-file F] [--content-type T]`:
/// answers every request whose URL matches the Playwright glob, on every tab, until `unroute`.
pub fn route(session: &Session, args: &[String], cwd: &std::path::Path) -> CommandResult {
    let words = Words::parse(
        "route",
        args,
        &["--status", "--body", "--body-file", "--content-type"],
    )?;
    let [pattern] = words.positional.as_slice() else {
        return Err(CommandError::usage("route"));
    };
    refuse_unmatchable_glob(pattern)?;
    let fulfils = ["--status", "--body", "--body-file", "--content-type"]
        .iter()
        .any(|f| words.has(f));
    let action = if words.has("--abort") {
        if fulfils {
            return Err(CommandError::failed_with_hint(
                "route: --abort cannot be combined with --status, --body, --body-file or --content-type",
                "Block with --abort, or answer with --status/--body.",
            ));
        }
        RouteAction::Abort
    } else if fulfils {
        fulfil_action(&words, cwd)?
    } else {
        return Err(CommandError::failed_with_hint(
            "route: say what to do with matching requests",
            "Add --abort to block them, or --status N and/or --body TEXT (--body-file F) to answer them.",
        ));
    };
    let summary = describe(&action);
    let route = Route::new(pattern, action).map_err(|e| {
        CommandError::failed_with_hint(
            format!("route: {e}"),
            "Globs: * (within a path part), ** (anything), {a,b} (either), \\ escapes.",
        )
    })?;
    session
        .routes
        .add(route)
        .map_err(|e| CommandError::failed(format!("route: cannot intercept requests: {e:#}")))?;
    Ok(format!("Route added: {pattern} → {summary}"))
}

/// Refuses a glob that can match no request's URL, which would otherwise be added, listed
/// and never hit, the page reaching the real server: an empty one, a path (`/api/*`,
/// `./api`), and any other that cannot match the start of a URL (`api/*`, `*`, `*.png`,
/// `localhost:3000/api/*`, `HTTP://…`; [`routes::glob_can_match_a_request`]). A glob is
/// matched against the whole URL, as Playwright's are when no `baseURL` is set (with one,
/// Playwright resolves `/api/*` against it; we have none). The hint suggests a glob that can.
fn refuse_unmatchable_glob(pattern: &str) -> Result<(), CommandError> {
    if pattern.is_empty() {
        return Err(CommandError::failed_with_hint(
            "route: the URL glob is empty",
            "'**' matches every request, '**/api/*' those whose path ends in /api/<one part>.",
        ));
    }
    if routes::glob_can_match_a_request(pattern) {
        return Ok(());
    }
    let mut hint = String::from(
        "A glob is matched against the whole URL, scheme and host included (http://host/path)",
    );
    match suggest_glob(pattern) {
        Some(better) => hint.push_str(&format!(": did you mean '{better}'?")),
        None => hint.push_str(
            ", and routed requests' URLs start with http://, https:// or file:/// (in lower case).",
        ),
    }
    Err(CommandError::failed_with_hint(
        format!("route: the glob {pattern} can match no URL"),
        hint,
    ))
}

/// A glob that can match what `pattern` probably meant: `**` before a path (`/api/*` →
/// `**/api/*`, `api/*` → `**/api/*`, `*.png` → `**/*.png`), any scheme before a host
/// (`localhost:3000/api/*` → `*://localhost:3000/api/*`), a scheme in lower case; `None`
/// when nothing simple can match.
fn suggest_glob(pattern: &str) -> Option<String> {
    let first_part = pattern.split('/').next().unwrap_or_default();
    let candidate = if let Some((scheme, rest)) = pattern.split_once("://") {
        format!("{}://{rest}", scheme.to_ascii_lowercase())
    } else if pattern.starts_with('/') || pattern.starts_with('.') {
        let tail = pattern.trim_start_matches('.');
        if tail.starts_with('/') {
            format!("**{tail}")
        } else {
            format!("**/{tail}")
        }
    } else if pattern.contains('/')
        && (first_part.contains(['.', ':']) || first_part == "localhost")
    {
        format!("*://{pattern}")
    } else {
        format!("**/{pattern}")
    };
    routes::glob_can_match_a_request(&candidate).then_some(candidate)
}

fn fulfil_action(words: &Words, cwd: &std::path::Path) -> Result<RouteAction, CommandError> {
    let status = match words.value("--status") {
        None => 200,
        Some(raw) => raw
            .parse::<u16>()
            .ok()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| {
                CommandError::failed(format!(
                    "route: --status must be an HTTP status code (100-599), not {raw:?}"
                ))
            })?,
    };
    if words.has("--body") && words.has("--body-file") {
        return Err(CommandError::failed(
            "route: use --body or --body-file, not both",
        ));
    }
    let (body, guessed_type) = match (words.value("--body"), words.value("--body-file")) {
        (Some(text), _) => (text.as_bytes().to_vec(), "text/plain; charset=utf-8"),
        (None, Some(file)) => {
            let path = confine::input(cwd, file)?;
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if size > MAX_BODY as u64 {
                return Err(CommandError::failed(format!(
                    "route: {file} is {size} bytes; a route body is at most {MAX_BODY} bytes"
                )));
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| CommandError::failed(format!("route: cannot read {file}: {e}")))?;
            (bytes, content_type_for(file))
        }
        (None, None) => (Vec::new(), "text/plain; charset=utf-8"),
    };
    let content_type = words
        .value("--content-type")
        .unwrap_or(guessed_type)
        .to_owned();
    if content_type.contains(['\r', '\n']) {
        return Err(CommandError::failed(
            "route: --content-type must be one line",
        ));
    }
    Ok(RouteAction::Fulfill {
        status,
        body,
        content_type,
    })
}

/// A content type from a file name's extension; `application/octet-stream` when unknown.
fn content_type_for(file: &str) -> &'static str {
    let extension = file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("xml") => "application/xml",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// `abort`, or `<status> <type> (<n> bytes)`.
fn describe(action: &RouteAction) -> String {
    match action {
        RouteAction::Abort => "abort".into(),
        RouteAction::Fulfill {
            status,
            body,
            content_type,
        } => format!("{status} {content_type} ({} bytes)", body.len()),
    }
}

/// `unroute [pattern]`: removes one route, or all of them.
pub fn unroute(session: &Session, args: &[String]) -> CommandResult {
    let pattern = args.first().map(String::as_str);
    let removed = session
        .routes
        .remove(pattern)
        .map_err(|e| CommandError::failed(format!("unroute: {e:#}")))?;
    match pattern {
        Some(p) if removed == 0 => Err(CommandError::failed_with_hint(
            format!("No route for {p}"),
            "Run 'browse routes' for the patterns as they were given.",
        )),
        Some(p) => Ok(format!("Route removed: {p}")),
        None => Ok(format!(
            "Removed {removed} route{}",
            if removed == 1 { "" } else { "s" }
        )),
    }
}

/// `routes`: one `<pattern> → <action> [<n> hits]` line per route, oldest first.
pub fn routes(session: &Session, _args: &[String]) -> CommandResult {
    let routes = session.routes.list();
    if routes.is_empty() {
        return Ok("(no routes)".into());
    }
    Ok(routes
        .iter()
        .map(|r| {
            let hits = r.hits();
            format!(
                "{} → {} [{hits} hit{}]",
                r.pattern,
                describe(&r.action),
                if hits == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// `downloads [--wait [ms]] [--clear]`: what the pages downloaded into the workspace's
/// downloads folder. `--wait` first waits, unless a download began since the last listing
/// or one is running, for one to begin, then for downloads in progress to end (default
/// 30000 ms for both).
pub fn downloads(session: &Session, args: &[String]) -> CommandResult {
    let store = &session.downloads;
    if let Some(why) = store.off() {
        // Said here, not only in the daemon log: a wait would otherwise time out as if the
        // page had started nothing.
        return Err(CommandError::failed_with_hint(
            format!("Downloads are not kept in the workspace: {why}"),
            "Fix that, then 'browse restart' (downloads are set up when the daemon starts).",
        ));
    }
    if args.iter().any(|a| a == "--clear") {
        let n = store.clear();
        store.mark_listed();
        return Ok(format!(
            "Cleared {n} download record{} (the files stay)",
            if n == 1 { "" } else { "s" }
        ));
    }
    if args.iter().any(|a| a == "--wait") {
        let ms = args
            .iter()
            .find(|a| !a.starts_with("--"))
            .map(|raw| {
                raw.parse::<u64>().map_err(|_| {
                    CommandError::failed(format!(
                        "downloads: --wait takes milliseconds, not {raw:?}"
                    ))
                })
            })
            .transpose()?
            .unwrap_or(DOWNLOAD_WAIT_MS);
        let deadline = Instant::now() + Duration::from_millis(ms);
        // A click may return before its download has begun: unless one began since the
        // record was last listed (or one is still running), give it the same time to begin.
        if !store.wait_new_or_busy(deadline) {
            return Err(CommandError::failed_with_hint(
                format!("No download began within {ms}ms"),
                "Check that the click or navigation starts a download ('browse network' shows the request).",
            ));
        }
        if !store.wait_idle(deadline) {
            return Err(CommandError::failed(format!(
                "Downloads still in progress after {ms}ms:\n{}",
                download_lines(&store.list())
            )));
        }
    }
    let list = store.list();
    store.mark_listed();
    if list.is_empty() {
        let dir = store
            .dir()
            .map_or_else(|| "(none)".into(), |d| d.display().to_string());
        return Ok(format!("(no downloads; they land in {dir})"));
    }
    Ok(download_lines(&list))
}

/// One line per download: `[n] <path> (<KB>KB) ← <url>` when saved, else its state.
pub fn download_lines(list: &[Download]) -> String {
    list.iter()
        .map(|d| {
            let what = match &d.state {
                DownloadState::Completed(path, size) => {
                    format!("{} ({}KB)", path.display(), kb(*size))
                }
                DownloadState::Starting => format!(
                    "{} (starting: its headers arrived; Chromium reports it after the first bytes)",
                    d.suggested_name
                ),
                DownloadState::InProgress => format!(
                    "{} (in progress, {}KB so far)",
                    d.suggested_name,
                    kb(d.received)
                ),
                DownloadState::Canceled => format!("{} (canceled)", d.suggested_name),
                DownloadState::Failed(why) => format!("{} (failed: {why})", d.suggested_name),
            };
            // A download still starting has no number yet.
            let number = match d.state {
                DownloadState::Starting => "-".to_owned(),
                _ => d.seq.to_string(),
            };
            format!("[{number}] {what} ← {}", d.url)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn kb(bytes: u64) -> u64 {
    (bytes as f64 / 1024.0).round() as u64
}

/// `download <url|@ref> [path] [--base64]` (gstack `write-commands.ts`): fetches the URL with
/// the page's cookies (`Network.loadNetworkResource` in the page's frame; a `blob:` URL inside
/// the page) and writes it (0600) to `path`, or a fresh name in the temp dir.
/// Output `Downloaded: <path> (<KB>KB, <mime>)`, or a `data:` URL with `--base64`.
pub fn download(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let words = Words::parse("download", args, &[])?;
    if let Some((flag, _)) = words
        .flags
        .iter()
        .find(|(n, _)| n != "--base64" && n != "--navigate")
    {
        return Err(CommandError::failed(format!(
            "Unknown download flag: {flag}"
        )));
    }
    let (target, output) = match words.positional.as_slice() {
        [target] => (target.clone(), None),
        [target, path] => (target.clone(), Some(path.clone())),
        _ => return Err(CommandError::usage("download")),
    };
    if words.has("--navigate") {
        return download_by_navigating(ctx, &target, output, words.has("--base64"));
    }
    let url = if target.starts_with('@') {
        source_of(ctx, &target)?
    } else {
        target.clone()
    };
    if url.contains(".m3u8") || url.contains(".mpd") {
        return Err(CommandError::failed(
            "This is an HLS/DASH stream. Use yt-dlp or ffmpeg for adaptive stream downloads.",
        ));
    }
    let (bytes, content_type) = if url.starts_with("blob:") {
        fetch_blob(ctx, &url)?
    } else {
        let url = url_policy::validate(&url, &ctx.session.cwd)?;
        fetch_with_cookies(ctx, &url)?
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    if words.has("--base64") {
        return base64_data_url(&mime, &bytes);
    }
    let shown = output.unwrap_or_else(|| {
        confine::default_output("browse-download", extension_for(&mime), &ctx.session.cwd)
    });
    let path = confine::output(&ctx.cwd, &shown)?;
    confine::create_parents(&path)?;
    write_atomic(&path, &bytes, 0o600)
        .map_err(|e| CommandError::failed(format!("cannot write {shown}: {e}")))?;
    Ok(format!(
        "Downloaded: {shown} ({}KB, {mime})",
        kb(bytes.len() as u64)
    ))
}

/// How long `download --navigate` waits for the download to begin, and then to end (gstack:
/// 60 s for the download event).
const NAVIGATE_WAIT: Duration = Duration::from_secs(60);

/// `download --navigate <url> [path]`: loads the URL in the tab as a navigation, so
/// redirects, `Content-Disposition` and anti-bot chains run as in a browser, and takes the
/// download that starts (it lands in the downloads folder first, see `browser::downloads`).
/// gstack's output, with `[<suggested name>]` when no path was given.
fn download_by_navigating(
    ctx: &mut Ctx,
    target: &str,
    output: Option<String>,
    base64: bool,
) -> CommandResult {
    let url = url_policy::validate(target, &ctx.session.cwd)?;
    // A path refused later would leave the download behind: check it first.
    let destination = match &output {
        Some(path) => Some(confine::output(&ctx.cwd, path)?),
        None => None,
    };
    let store = &ctx.session.downloads;
    if let Some(why) = store.off() {
        return Err(CommandError::failed(format!(
            "download --navigate needs the downloads folder: {why}"
        )));
    }
    if store.dir().is_none() {
        return Err(CommandError::failed(
            "download --navigate needs the downloads folder, which this daemon does not have (a --cdp-url browser writes to its own disk)",
        ));
    }
    let seq = store.next_seq();
    // The navigation itself "fails" (net::ERR_ABORTED) when the answer is a download.
    let _ = ctx.tab.cdp.call_raw("Page.navigate", json!({ "url": url }));
    let deadline = Instant::now() + NAVIGATE_WAIT;
    if !store.wait_begun(seq, deadline) {
        return Err(CommandError::failed_with_hint(
            format!(
                "Download failed: no download began within {}s of loading {url}",
                NAVIGATE_WAIT.as_secs()
            ),
            "The URL loaded as a page (or an error page), not a file: 'browse text' shows what \
             loaded; 'browse download <url>' without --navigate fetches the URL's body itself.",
        ));
    }
    let Some(done) = store.wait_ended(seq, deadline) else {
        return Err(CommandError::failed_with_hint(
            "Download failed: still in progress",
            "'browse downloads --wait' waits for it to finish.",
        ));
    };
    // What to do after the browser ended a download unfinished, whoever ended it.
    const RETRY: &str = "'browse downloads' lists what was saved; try again, or 'browse \
                         download <url>' without --navigate.";
    let (saved, size) = match &done.state {
        DownloadState::Completed(path, size) => (path.clone(), *size),
        DownloadState::Canceled => {
            return Err(CommandError::failed_with_hint(
                "Download failed: canceled",
                format!("The browser canceled it (the page or the server ended it): {RETRY}"),
            ))
        }
        DownloadState::Failed(why) => {
            return Err(CommandError::failed_with_hint(
                format!("Download failed: {why}"),
                format!("The browser could not finish it: {RETRY}"),
            ))
        }
        DownloadState::InProgress | DownloadState::Starting => {
            return Err(CommandError::failed("Download failed: still in progress"))
        }
    };
    let mime = mime_for_name(&done.suggested_name);
    if base64 || destination.is_some() {
        let bytes = std::fs::read(&saved)
            .map_err(|e| CommandError::failed(format!("cannot read {}: {e}", saved.display())))?;
        if base64 {
            return base64_data_url(mime, &bytes);
        }
        if let (Some(path), Some(shown)) = (destination, output) {
            confine::create_parents(&path)?;
            write_atomic(&path, &bytes, 0o600)
                .map_err(|e| CommandError::failed(format!("cannot write {shown}: {e}")))?;
            return Ok(format!("Downloaded: {shown} ({}KB, {mime})", kb(size)));
        }
    }
    Ok(format!(
        "Downloaded: {} ({}KB, {mime}) [{}]",
        saved.display(),
        kb(size),
        done.suggested_name
    ))
}

/// gstack's MIME type for a downloaded file's extension (`--navigate`); else octet-stream.
fn mime_for_name(name: &str) -> &'static str {
    let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("epub") => "application/epub+zip",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("mp3") => "audio/mpeg",
        Some("mp4") => "video/mp4",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("txt") => "text/plain",
        Some("html") => "text/html",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// gstack's extension for a MIME type (`mimeToExt`), without the dot; `bin` when unknown.
fn extension_for(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "image/avif" => "avif",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "video/quicktime" => "mov",
        "audio/mpeg" => "mp3",
        "audio/wav" => "wav",
        "audio/ogg" => "ogg",
        "application/pdf" => "pdf",
        "application/json" => "json",
        "text/html" => "html",
        "text/plain" => "txt",
        _ => "bin",
    }
}

/// The URL an element's ref points at: `currentSrc`/`src` of media, else its `src`, else the
/// `href` of a link.
fn source_of(ctx: &Ctx, target: &str) -> Result<String, CommandError> {
    let element = selector::find_one(ctx, target, Duration::from_secs(5))?;
    let found = selector::call_function(
        element.session(),
        &element.object_id,
        "function() { const t = this.tagName.toLowerCase(); \
         const url = t === 'img' ? this.currentSrc || this.src || this.getAttribute('data-src') || '' \
         : t === 'video' || t === 'audio' ? this.currentSrc || this.src || '' \
         : this.getAttribute('src') ? this.src || this.getAttribute('src') : (this.href || ''); \
         return [t, typeof url === 'string' ? url : String(url)]; }",
    )?;
    let tag = found[0].as_str().unwrap_or("element");
    match found[1].as_str() {
        Some(url) if !url.is_empty() => Ok(url.to_owned()),
        // gstack's words, then what the command needs.
        _ => Err(CommandError::failed_with_hint(
            format!("Could not extract URL from {target} ({tag})"),
            format!(
                "download needs an element that names a resource: a link (<a href>), an image, \
                 video or audio, or an element with a src attribute. For a button that starts a \
                 download, run 'browse click {target}' and then 'browse downloads --wait'."
            ),
        )),
    }
}

/// Loads `url` as the tab's main frame would, cookies included, and reads the whole body.
fn fetch_with_cookies(ctx: &Ctx, url: &str) -> Result<(Vec<u8>, String), CommandError> {
    let tab = &ctx.tab.cdp;
    let failed = |e: anyhow::Error| CommandError::failed(format!("Download failed: {e:#}"));
    let loaded = tab
        .call_raw(
            "Network.loadNetworkResource",
            json!({
                "frameId": tab.get_target_id(),
                "url": url,
                "options": { "disableCache": false, "includeCredentials": true },
            }),
        )
        .map_err(failed)?;
    let resource = loaded.get("resource").cloned().unwrap_or(Value::Null);
    let status = resource.get("httpStatusCode").and_then(Value::as_u64);
    // An HTTP error is also `success: false`; its status says more than the net error.
    if let Some(status) = status.filter(|s| *s >= 400) {
        return Err(http_error(url, status));
    }
    if resource.get("success").and_then(Value::as_bool) != Some(true) {
        let why = resource
            .get("netErrorName")
            .and_then(Value::as_str)
            .unwrap_or("the request failed");
        return Err(CommandError::failed_with_hint(
            format!("Download failed: {why}"),
            format!(
                "No answer came from {url}: check the URL and that its server is up \
                 ('browse goto {url}' shows the same error as a page would)."
            ),
        ));
    }
    let content_type = resource
        .get("headers")
        .and_then(Value::as_object)
        .and_then(|h| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .and_then(|(_, v)| v.as_str())
        })
        .unwrap_or("application/octet-stream")
        .to_owned();
    let Some(stream) = resource.get("stream").and_then(Value::as_str) else {
        return Ok((Vec::new(), content_type));
    };
    let mut bytes = Vec::new();
    let result = read_stream(tab, stream, &mut bytes);
    let _ = tab.call_raw("IO.close", json!({ "handle": stream }));
    result?;
    Ok((bytes, content_type))
}

/// gstack's `Download failed: HTTP <status> <reason>` (`write-commands.ts`, from Playwright's
/// `response.statusText()`; `Network.loadNetworkResource` gives no reason phrase, so the
/// standard one for the code, RFC 9110), with a hint for what the status means.
fn http_error(url: &str, status: u64) -> CommandError {
    let reason = match status {
        400 => " Bad Request",
        401 => " Unauthorized",
        403 => " Forbidden",
        404 => " Not Found",
        405 => " Method Not Allowed",
        406 => " Not Acceptable",
        407 => " Proxy Authentication Required",
        408 => " Request Timeout",
        410 => " Gone",
        429 => " Too Many Requests",
        451 => " Unavailable For Legal Reasons",
        500 => " Internal Server Error",
        501 => " Not Implemented",
        502 => " Bad Gateway",
        503 => " Service Unavailable",
        504 => " Gateway Timeout",
        _ => "",
    };
    let hint = match status {
        401 | 403 | 407 => format!(
            "The server refused {url} to this browser: sign in first (log in on the site with \
             'browse goto', or bring cookies with 'browse cookie-import' or 'browse state load'), \
             then download again."
        ),
        404 | 410 => format!(
            "Nothing is at {url}: check the URL ('browse links' lists the page's links). If a \
             button starts the download, run 'browse click <sel>' then 'browse downloads --wait'."
        ),
        408 | 429 | 500.. => format!(
            "The server of {url} failed or is busy (HTTP {status}): try again later, or \
             'browse download --navigate {url}' to load it as the page would."
        ),
        _ => format!(
            "The server refused the request for {url} (HTTP {status}): 'browse download \
             --navigate {url}' loads it as a click on a link would (redirects, the page's \
             headers), or 'browse goto {url}' shows what the server answers."
        ),
    };
    CommandError::failed_with_hint(format!("Download failed: HTTP {status}{reason}"), hint)
}

/// Reads a CDP `IO` stream to its end into `out`, refusing more than gstack's 200 MB.
fn read_stream(tab: &crate::cdp::Tab, handle: &str, out: &mut Vec<u8>) -> Result<(), CommandError> {
    loop {
        let chunk = tab
            .call_raw("IO.read", json!({ "handle": handle, "size": 1 << 20 }))
            .map_err(|e| CommandError::failed(format!("Download failed: {e:#}")))?;
        let data = chunk.get("data").and_then(Value::as_str).unwrap_or("");
        if chunk.get("base64Encoded").and_then(Value::as_bool) == Some(true) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| CommandError::failed(format!("Download failed: {e}")))?;
            out.extend_from_slice(&decoded);
        } else {
            out.extend_from_slice(data.as_bytes());
        }
        if out.len() > MAX_DOWNLOAD {
            return Err(CommandError::failed("File too large (>200MB)."));
        }
        if chunk.get("eof").and_then(Value::as_bool) != Some(false) {
            return Ok(());
        }
    }
}

/// A `blob:` URL can only be read inside the page that made it.
fn fetch_blob(ctx: &Ctx, url: &str) -> Result<(Vec<u8>, String), CommandError> {
    let script = format!(
        "(async () => {{ const r = await fetch({}); const b = await r.blob(); \
         if (b.size > 100 * 1024 * 1024) return {{ tooLarge: true }}; \
         const u = await new Promise((ok, no) => {{ const f = new FileReader(); \
         f.onloadend = () => ok(f.result); f.onerror = () => no(new Error('Failed to read blob')); \
         f.readAsDataURL(b); }}); return {{ url: u, type: b.type }}; }})()",
        Value::String(url.to_owned())
    );
    let value = evaluate(&ctx.tab.cdp, &script, true).map_err(|e| {
        CommandError::failed(format!(
            "Blob URL expired or inaccessible: {}",
            e.body.error
        ))
    })?;
    if value.get("tooLarge").is_some() {
        return Err(CommandError::failed(
            "Blob too large (>100MB). Use a different approach.",
        ));
    }
    let data_url = value.get("url").and_then(Value::as_str).unwrap_or("");
    let encoded = data_url.split_once(";base64,").map_or("", |(_, d)| d);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| CommandError::failed("Failed to decode blob data"))?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("application/octet-stream");
    Ok((bytes, kind.to_owned()))
}

/// `download --base64`'s answer: a `data:` URL of `bytes`, refused above [`MAX_BASE64`] bytes
/// (gstack's limit and wording).
fn base64_data_url(mime: &str, bytes: &[u8]) -> CommandResult {
    if bytes.len() > MAX_BASE64 {
        return Err(CommandError::failed(
            "File too large for --base64 (>10MB). Use disk download instead.",
        ));
    }
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(args: &[&str]) -> Words {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Words::parse("route", &args, &["--status", "--body"]).expect("parses")
    }

    #[test]
    fn flags_take_values_inline_or_next_and_the_last_wins() {
        let w = words(&[
            "**/x",
            "--status=404",
            "--body",
            "a b",
            "--abort",
            "--status",
            "500",
        ]);
        assert_eq!(w.positional, ["**/x"]);
        assert_eq!(w.value("--status"), Some("500"));
        assert_eq!(w.value("--body"), Some("a b"));
        assert!(w.has("--abort"));
        let args = vec!["--body".to_string()];
        assert!(Words::parse("route", &args, &["--body"]).is_err());
    }

    #[test]
    fn an_unmatchable_glob_gets_one_that_matches() {
        for (glob, better) in [
            ("/api/*", Some("**/api/*")),
            ("./api", Some("**/api")),
            ("api/*", Some("**/api/*")),
            ("*", Some("**/*")),
            ("*.png", Some("**/*.png")),
            ("localhost:3000/api/*", Some("*://localhost:3000/api/*")),
            ("example.com/**", Some("*://example.com/**")),
            ("HTTP://x/**", Some("http://x/**")),
            ("ftp://x/**", None),
        ] {
            assert_eq!(suggest_glob(glob).as_deref(), better, "{glob}");
            assert!(refuse_unmatchable_glob(glob).is_err(), "{glob}");
        }
        assert!(refuse_unmatchable_glob("**/api/*").is_ok());
    }

    #[test]
    fn types_and_extensions_follow_the_names() {
        assert_eq!(content_type_for("a.JSON"), "application/json");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
        assert_eq!(extension_for("image/png"), "png");
        assert_eq!(extension_for("text/csv"), "bin");
        assert_eq!(mime_for_name("export.PDF"), "application/pdf");
    }
}
