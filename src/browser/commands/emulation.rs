//! What the browser tells and shows pages about itself, for every tab: `header`,
//! `useragent` (gstack's), and `set device|geo|timezone|locale|media|offline` (agent-browser's
//! names; gstack has none). Each setting is kept in the session's
//! [`Emulation`](crate::browser::session::Emulation), applied to every open tab at once and
//! to every tab opened later, before its first navigation.

use std::sync::MutexGuard;

use crate::browser::events::lock;
use crate::browser::frames::session_gone;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::session::{DeviceBaseline, Emulation, DEFAULT_VIEWPORT};

/// Header names whose values `header` prints as `****` (gstack's list, `write-commands.ts`).
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
];

/// `header <Name>:<value>` → `Header set: <Name>: <value>` (the value `****` for credentials,
/// as gstack). Cumulative: each call adds one header to every later request of every tab; a
/// name set again (in any letter case) replaces its value.
pub fn header(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    // The words are one header (`header Authorization: Bearer x` unquoted, too).
    let joined = args.join(" ");
    let Some((name, value)) = joined.split_once(':') else {
        return Err(CommandError::usage("header"));
    };
    let (name, value) = (name.trim(), value.trim());
    // RFC 9110 token characters, and no line breaks in the value: Chromium would refuse
    // them anyway, with a less clear error, after the header had been recorded.
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(CommandError::failed_with_hint(
            format!("Invalid header name: {name:?}"),
            "A header name is letters, digits and -_. (e.g. X-Request-Id:abc).",
        ));
    }
    if value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        return Err(CommandError::failed(format!(
            "Invalid value for header {name}: it contains a line break or NUL"
        )));
    }
    let mut emulation = lock(&ctx.session.emulation);
    emulation
        .extra_headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    emulation
        .extra_headers
        .push((name.to_owned(), value.to_owned()));
    apply_to_every_session(ctx, emulation, Emulation::apply_headers)?;
    let shown = if SENSITIVE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        "****"
    } else {
        value
    };
    Ok(format!("Header set: {name}: {shown}"))
}

/// `useragent <ua…>` → `User agent set: <ua>` (gstack's template; gstack rebuilds its
/// context, we override it on every tab: `Emulation.setUserAgentOverride`). Pages see it in
/// the `User-Agent` header of later requests and in `navigator.userAgent`.
pub fn useragent(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let ua = args.join(" ");
    if ua.is_empty() {
        return Err(CommandError::usage("useragent"));
    }
    if ua.chars().any(char::is_control) {
        return Err(CommandError::failed(
            "Invalid user agent: it contains a control character",
        ));
    }
    let mut emulation = lock(&ctx.session.emulation);
    emulation.user_agent = Some(ua.clone());
    // Set under a device preset: still the user's agent once the preset is turned off.
    if let Some(baseline) = emulation.before_device.as_mut() {
        baseline.user_agent = Some(ua.clone());
    }
    match apply_to_every_session(ctx, emulation, Emulation::apply_user_agent) {
        Ok(()) => Ok(format!("User agent set: {ua}")),
        Err(e) => Ok(format!("User agent set to \"{ua}\" but: {}", e.body.error)),
    }
}

/// One aspect of the emulation settings, sent to one CDP session.
type Aspect = fn(&Emulation, &crate::cdp::Tab) -> anyhow::Result<()>;

/// Applies one aspect of the (just changed) settings to every open tab's own session only:
/// the viewport and touch, which belong to the main frame. See [`apply_everywhere`].
pub(super) fn apply_to_every_tab(
    ctx: &Ctx,
    emulation: MutexGuard<'_, Emulation>,
    aspect: Aspect,
) -> Result<(), CommandError> {
    apply_everywhere(ctx, emulation, aspect, None)
}

/// Applies one aspect of the (just changed) settings to every session of every open tab:
/// its own and its out-of-process iframes' (`session_setup.rs`), which hold their own user
/// agent, headers, geolocation, time zone, locale, media and network conditions.
pub(super) fn apply_to_every_session(
    ctx: &Ctx,
    emulation: MutexGuard<'_, Emulation>,
    aspect: Aspect,
) -> Result<(), CommandError> {
    apply_everywhere(ctx, emulation, aspect, Some(aspect))
}

/// Applies `on_tab` to each tab's own session and `on_frame` (if any) to each of its
/// out-of-process iframes' and running dedicated workers' sessions, the lock released first
/// so a tab or frame being set up meanwhile is not held up (one that read the old settings
/// finished sending them before the change was made, so this sends it the new ones after).
/// The first failure is returned after every session was tried; a session that is gone
/// (`frames::session_gone`) needs nothing and is no failure.
fn apply_everywhere(
    ctx: &Ctx,
    emulation: MutexGuard<'_, Emulation>,
    on_tab: Aspect,
    on_frame: Option<Aspect>,
) -> Result<(), CommandError> {
    let settings = emulation.clone();
    drop(emulation);
    let (_, tabs) = ctx.session.tab_list();
    let mut failure = None;
    for tab in &tabs {
        match on_tab(&settings, &tab.cdp) {
            // A tab closed meanwhile needs nothing.
            Err(e) if !session_gone(&e) => {
                failure.get_or_insert_with(|| CommandError::failed(format!("{e:#}")));
            }
            _ => {}
        }
        let Some(on_frame) = on_frame else { continue };
        for frame in tab.frames.sessions().iter().skip(1) {
            match on_frame(&settings, frame) {
                // A frame that went away meanwhile needs nothing: drop it from the tab's list
                // now (its `Target.detachedFromTarget` may still be on its way).
                Err(e) if session_gone(&e) => tab.frames.forget_session(frame.session_id()),
                Err(e) => tracing::warn!("cannot change emulation in a cross-site iframe: {e:#}"),
                Ok(()) => {}
            }
        }
        // A running dedicated worker takes the user agent, headers, time zone and locale
        // (`Emulation::apply_to_worker`); it has no geolocation, media or network conditions
        // of its own, and says so.
        for worker in tab.frames.worker_sessions() {
            if let Err(e) = on_frame(&settings, &worker) {
                tracing::debug!("a worker did not take an emulation change: {e:#}");
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

/// Chromium's own user agent (before any override), read once from the page and kept: the
/// base `Accept-Language` overrides need when no `useragent` was set.
pub(super) fn ensure_default_user_agent(ctx: &Ctx) -> Result<(), CommandError> {
    if lock(&ctx.session.emulation).default_user_agent.is_some() {
        return Ok(());
    }
    let ua = evaluate(&ctx.tab.cdp, "navigator.userAgent", false)?;
    let ua = ua.as_str().unwrap_or_default().to_owned();
    let mut emulation = lock(&ctx.session.emulation);
    if emulation.user_agent.is_none() && emulation.locale.is_none() {
        emulation.default_user_agent.get_or_insert(ua);
    }
    Ok(())
}

/// One device preset: what `set device` applies (CSS px viewport, scale, mobile, touch, UA).
/// The sizes are the devices' CSS screen sizes as DevTools lists them; `user_agent` `None`
/// means Chromium's own.
struct Device {
    name: &'static str,
    width: u32,
    height: u32,
    scale: f64,
    mobile: bool,
    user_agent: Option<&'static str>,
}

const IOS_17: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const IPAD_17: &str = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const ANDROID_14: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36";

/// The presets `set device` knows (matched without regard to case).
const DEVICES: &[Device] = &[
    Device {
        name: "iPhone SE",
        width: 375,
        height: 667,
        scale: 2.0,
        mobile: true,
        user_agent: Some(IOS_17),
    },
    Device {
        name: "iPhone 15",
        width: 393,
        height: 852,
        scale: 3.0,
        mobile: true,
        user_agent: Some(IOS_17),
    },
    Device {
        name: "iPhone 15 Pro Max",
        width: 430,
        height: 932,
        scale: 3.0,
        mobile: true,
        user_agent: Some(IOS_17),
    },
    Device {
        name: "Pixel 8",
        width: 412,
        height: 915,
        scale: 2.625,
        mobile: true,
        user_agent: Some(ANDROID_14),
    },
    Device {
        name: "Galaxy S24",
        width: 360,
        height: 780,
        scale: 3.0,
        mobile: true,
        user_agent: Some(ANDROID_14),
    },
    Device {
        name: "iPad Mini",
        width: 768,
        height: 1024,
        scale: 2.0,
        mobile: true,
        user_agent: Some(IPAD_17),
    },
    Device {
        name: "iPad Pro 11",
        width: 834,
        height: 1194,
        scale: 2.0,
        mobile: true,
        user_agent: Some(IPAD_17),
    },
    Device {
        name: "Desktop",
        width: 1280,
        height: 720,
        scale: 1.0,
        mobile: false,
        user_agent: None,
    },
    Device {
        name: "Desktop HD",
        width: 1920,
        height: 1080,
        scale: 1.0,
        mobile: false,
        user_agent: None,
    },
];

/// `set device <name> | geo <lat> <lng> [accuracy] | timezone <id> | locale <tag> |
/// media [dark|light|no-preference] [reduced-motion] | offline [on|off]`: agent-browser's
/// `set` family (gstack has none), each applied to every tab now and to later ones.
pub fn set(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let (Some(what), rest) = (args.first(), args.get(1..).unwrap_or_default()) else {
        return Err(CommandError::usage("set"));
    };
    match what.as_str() {
        "device" => set_device(ctx, &rest.join(" ")),
        "geo" => set_geo(ctx, rest),
        "timezone" => set_timezone(ctx, rest),
        "locale" => set_locale(ctx, rest),
        "media" => set_media(ctx, rest),
        "offline" => set_offline(ctx, rest),
        other => Err(CommandError::failed_with_hint(
            format!("Unknown setting: {other}"),
            "browse set device|geo|timezone|locale|media|offline … (browse help set)",
        )),
    }
}

/// `set device "iPhone 15"` (and `viewport --device "iPhone 15"`) →
/// `Device set: iPhone 15 (393x852 @3x, mobile, touch)`; `set device off` →
/// `Device emulation off (1280x720 @1x)`: the size, scale and user agent from before the
/// first preset (a `useragent` the user set is kept), no mobile, no touch.
pub(super) fn set_device(ctx: &Ctx, name: &str) -> CommandResult {
    if name.trim() == "off" {
        return device_off(ctx);
    }
    let Some(device) = DEVICES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name.trim()))
    else {
        let names: Vec<&str> = DEVICES.iter().map(|d| d.name).collect();
        return Err(CommandError::failed_with_hint(
            format!("Unknown device: {name:?}"),
            format!("Known devices: {}", names.join(", ")),
        ));
    };
    ensure_default_user_agent(ctx)?;
    let mut emulation = lock(&ctx.session.emulation);
    if emulation.before_device.is_none() {
        emulation.before_device = Some(DeviceBaseline {
            viewport: emulation.viewport,
            user_agent: emulation.user_agent.clone(),
        });
    }
    emulation.viewport = Some((device.width, device.height, device.scale));
    emulation.mobile = device.mobile;
    emulation.touch = device.mobile;
    emulation.user_agent = device.user_agent.map(str::to_owned);
    apply_everywhere(
        ctx,
        emulation,
        Emulation::apply_device,
        Some(Emulation::apply_user_agent),
    )?;
    let scale = if device.scale.fract() == 0.0 {
        format!("{}", device.scale as u32)
    } else {
        device.scale.to_string()
    };
    Ok(format!(
        "Device set: {} ({}x{} @{scale}x{})",
        device.name,
        device.width,
        device.height,
        if device.mobile { ", mobile, touch" } else { "" }
    ))
}

/// `set device off`: see [`set_device`]. Without a preset on, it still makes sure mobile and
/// touch are off.
fn device_off(ctx: &Ctx) -> CommandResult {
    let mut emulation = lock(&ctx.session.emulation);
    let baseline = emulation.before_device.take();
    emulation.mobile = false;
    emulation.touch = false;
    let restore_agent = baseline.is_some();
    if let Some(baseline) = baseline {
        emulation.viewport = baseline.viewport;
        emulation.user_agent = baseline.user_agent;
    }
    let (width, height, scale) = *emulation.viewport.get_or_insert(DEFAULT_VIEWPORT);
    if restore_agent {
        apply_everywhere(
            ctx,
            emulation,
            Emulation::apply_device,
            Some(Emulation::apply_user_agent),
        )?;
    } else {
        apply_to_every_tab(ctx, emulation, |e, tab| {
            e.apply_metrics(tab)?;
            e.apply_touch(tab)
        })?;
    }
    Ok(format!("Device emulation off ({width}x{height} @{scale}x)"))
}

/// `set geo <lat> <lng> [accuracy m]` (granting the geolocation permission to every origin,
/// as Playwright's `geolocation` needs `permissions: ['geolocation']`), or `set geo off`.
fn set_geo(ctx: &Ctx, rest: &[String]) -> CommandResult {
    use headless_chrome::protocol::cdp::Browser;
    let position = match rest {
        [off] if off == "off" => None,
        [lat, lng] | [lat, lng, _] => {
            let number = |what: &str, word: &str, limit: f64| {
                word.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && n.abs() <= limit)
                    .ok_or_else(|| {
                        CommandError::failed(format!(
                            "set geo: {what} must be a number from -{limit} to {limit}, got '{word}'"
                        ))
                    })
            };
            let accuracy = match rest.get(2) {
                Some(a) => number("accuracy", a, 1e7)?.abs(),
                None => 0.0,
            };
            Some((
                number("latitude", lat, 90.0)?,
                number("longitude", lng, 180.0)?,
                accuracy,
            ))
        }
        _ => return Err(CommandError::usage("set")),
    };
    if position.is_some() {
        ctx.tab
            .cdp
            .call_method(Browser::GrantPermissions {
                permissions: vec![Browser::PermissionType::Geolocation],
                origin: None,
                browser_context_id: None,
            })
            .map_err(|e| CommandError::failed(format!("Cannot grant geolocation: {e:#}")))?;
    }
    let mut emulation = lock(&ctx.session.emulation);
    emulation.geolocation = position;
    apply_to_every_session(ctx, emulation, Emulation::apply_geolocation)?;
    Ok(match position {
        Some((lat, lng, acc)) => format!("Geolocation set: {lat}, {lng} (accuracy {acc} m)"),
        None => "Geolocation override removed".into(),
    })
}

/// `set timezone <IANA id>` (`Europe/Oslo`), or `off` for the host's.
fn set_timezone(ctx: &Ctx, rest: &[String]) -> CommandResult {
    let [id] = rest else {
        return Err(CommandError::usage("set"));
    };
    // Chromium takes an unknown id without complaint; its own ICU tells (RangeError).
    if id != "off" {
        let check = format!(
            "(() => {{ try {{ new Intl.DateTimeFormat('en', {{ timeZone: {} }}); return true; }} catch (e) {{ return false; }} }})()",
            serde_json::Value::String(id.clone())
        );
        if evaluate(&ctx.tab.cdp, &check, false)? != serde_json::Value::Bool(true) {
            return Err(CommandError::failed_with_hint(
                format!("Invalid timezone: {id}"),
                "Use an IANA time zone id such as Europe/Oslo, America/New_York or UTC.",
            ));
        }
    }
    let mut emulation = lock(&ctx.session.emulation);
    emulation.timezone = (id != "off").then(|| id.clone());
    apply_to_every_session(ctx, emulation, Emulation::apply_timezone)?;
    Ok(match id.as_str() {
        "off" => "Timezone override removed".into(),
        _ => format!("Timezone set: {id}"),
    })
}

/// `set locale <BCP 47 tag>` (`de-DE`): `Intl`, `navigator.language` and `Accept-Language`;
/// `off` for Chromium's own.
fn set_locale(ctx: &Ctx, rest: &[String]) -> CommandResult {
    let [tag] = rest else {
        return Err(CommandError::usage("set"));
    };
    let valid = |t: &str| {
        !t.is_empty()
            && t.len() <= 35
            && t.split('-').all(|part| {
                (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
            })
    };
    if tag != "off" && !valid(tag) {
        return Err(CommandError::failed_with_hint(
            format!("Invalid locale: {tag}"),
            "Use a BCP 47 language tag such as en-US, de-DE or ja.",
        ));
    }
    ensure_default_user_agent(ctx)?;
    let mut emulation = lock(&ctx.session.emulation);
    emulation.locale = (tag != "off").then(|| tag.clone());
    apply_to_every_session(ctx, emulation, |e, tab| {
        e.apply_user_agent(tab)?;
        e.apply_locale(tab)
    })?;
    Ok(match tag.as_str() {
        "off" => "Locale override removed".into(),
        _ => format!("Locale set: {tag}"),
    })
}

/// `set media [dark|light|no-preference] [reduced-motion]`, or `set media off`: the CSS
/// `prefers-color-scheme` and `prefers-reduced-motion` pages see.
fn set_media(ctx: &Ctx, rest: &[String]) -> CommandResult {
    let mut features: Vec<(String, String)> = Vec::new();
    for word in rest {
        let feature = match word.as_str() {
            "dark" | "light" | "no-preference" => ("prefers-color-scheme", word.as_str()),
            "reduced-motion" => ("prefers-reduced-motion", "reduce"),
            "off" if rest.len() == 1 => continue,
            other => {
                return Err(CommandError::failed_with_hint(
                    format!("Unknown media feature: {other}"),
                    "Use dark, light or no-preference, and/or reduced-motion; 'off' removes the overrides.",
                ))
            }
        };
        features.retain(|(name, _)| name != feature.0);
        features.push((feature.0.to_owned(), feature.1.to_owned()));
    }
    if rest.is_empty() {
        return Err(CommandError::usage("set"));
    }
    let described = features
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut emulation = lock(&ctx.session.emulation);
    emulation.media_features = features;
    apply_to_every_session(ctx, emulation, Emulation::apply_media)?;
    Ok(if described.is_empty() {
        "Media overrides removed".into()
    } else {
        format!("Media set: {described}")
    })
}

/// `set offline [on|off]` (on by default): every request of every tab fails while on.
fn set_offline(ctx: &Ctx, rest: &[String]) -> CommandResult {
    let offline = match rest {
        [] => true,
        [w] if w == "on" => true,
        [w] if w == "off" => false,
        _ => return Err(CommandError::usage("set")),
    };
    let mut emulation = lock(&ctx.session.emulation);
    emulation.offline = offline;
    apply_to_every_session(ctx, emulation, Emulation::apply_offline)?;
    Ok(format!("Offline: {}", if offline { "on" } else { "off" }))
}
