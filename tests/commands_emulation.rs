//! End-to-end with a real Chromium: `set device|geo|timezone|locale|media|offline`. The page
//! itself reports what it sees (sizes, user agent, touch, position, time zone, language,
//! media queries, connectivity), in the tab that set it and in a tab opened afterwards.

mod common;

use common::*;

/// A mobile-ready page: without the meta viewport a mobile browser lays out 980 px wide.
const PAGE: &str = "<!DOCTYPE html><meta name=viewport content='width=device-width'>\
    <title>emulation</title><p>emulation</p>";

fn js(ws: &Workspace, expr: &str) -> String {
    ws.ok(&["js", expr]).trim_end().to_owned()
}

#[test]
fn devices_position_time_zone_locale_media_and_offline() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/", PAGE), ("/two", PAGE)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/")]);
    let desktop_ua = js(&ws, "navigator.userAgent");

    // A device preset: size, scale, mobile user agent and touch, all seen by the page.
    assert_eq!(
        ws.ok(&["set", "device", "iPhone 15"]),
        "Device set: iPhone 15 (393x852 @3x, mobile, touch)\n"
    );
    assert_eq!(
        js(
            &ws,
            "[innerWidth, devicePixelRatio, navigator.maxTouchPoints > 0].join()"
        ),
        "393,3,true"
    );
    // Touch event handlers exist from the next document on, as on a real device.
    ws.ok(&["reload"]);
    assert_eq!(js(&ws, "'ontouchstart' in window"), "true");
    assert!(js(&ws, "navigator.userAgent").contains("iPhone"));
    let err = ws.fails(&["set", "device", "Nokia 3310"]);
    assert!(
        err.starts_with("Unknown device: \"Nokia 3310\"\nKnown devices: iPhone SE, iPhone 15,"),
        "{err}"
    );
    // viewport --device is the same preset.
    assert_eq!(
        ws.ok(&["viewport", "--device", "Pixel 8"]),
        "Device set: Pixel 8 (412x915 @2.625x, mobile, touch)\n"
    );
    assert_eq!(
        js(&ws, "[innerWidth, devicePixelRatio].join()"),
        "412,2.625"
    );
    assert!(ws
        .fails(&["viewport", "--device", "Pixel 8", "375x812"])
        .starts_with("Usage: browse viewport --device <name>"));
    // Back to the desktop: Chromium's own user agent again, no touch.
    assert_eq!(
        ws.ok(&["set", "device", "desktop"]),
        "Device set: Desktop (1280x720 @1x)\n"
    );
    assert_eq!(js(&ws, "navigator.userAgent"), desktop_ua);
    assert_eq!(
        js(&ws, "[innerWidth, navigator.maxTouchPoints].join()"),
        "1280,0"
    );
    // `set device off` puts back what was there before the preset, a user's agent included
    // (even one set while the preset was on).
    ws.ok(&["useragent", "MyAgent/1.0"]);
    ws.ok(&["set", "device", "iPhone SE"]);
    assert!(js(&ws, "navigator.userAgent").contains("iPhone"));
    ws.ok(&["set", "device", "Pixel 8"]);
    assert_eq!(
        ws.ok(&["set", "device", "off"]),
        "Device emulation off (1280x720 @1x)\n"
    );
    assert_eq!(
        js(
            &ws,
            "[innerWidth, devicePixelRatio, navigator.maxTouchPoints, navigator.userAgent].join()"
        ),
        "1280,1,0,MyAgent/1.0"
    );
    ws.ok(&["set", "device", "iPad Mini"]);
    ws.ok(&["useragent", "Later/2.0"]);
    ws.ok(&["set", "device", "off"]);
    assert_eq!(
        js(&ws, "[innerWidth, navigator.userAgent].join()"),
        "1280,Later/2.0"
    );

    // Geolocation, with the permission granted.
    assert_eq!(
        ws.ok(&["set", "geo", "59.91", "10.75"]),
        "Geolocation set: 59.91, 10.75 (accuracy 0 m)\n"
    );
    assert_eq!(
        js(&ws, "await new Promise((ok, no) => navigator.geolocation.getCurrentPosition((p) => ok(p.coords.latitude + ',' + p.coords.longitude), (e) => no(e.message)))"),
        "59.91,10.75"
    );
    assert!(ws
        .fails(&["set", "geo", "91", "0"])
        .starts_with("set geo: latitude must be a number from -90 to 90, got '91'"));

    // Time zone and locale.
    assert_eq!(
        ws.ok(&["set", "timezone", "Asia/Tokyo"]),
        "Timezone set: Asia/Tokyo\n"
    );
    assert_eq!(
        js(&ws, "Intl.DateTimeFormat().resolvedOptions().timeZone"),
        "Asia/Tokyo"
    );
    let err = ws.fails(&["set", "timezone", "Mars/Olympus"]);
    assert!(err.starts_with("Invalid timezone: Mars/Olympus"), "{err}");
    assert_eq!(
        js(&ws, "Intl.DateTimeFormat().resolvedOptions().timeZone"),
        "Asia/Tokyo"
    );
    assert_eq!(ws.ok(&["set", "locale", "de-DE"]), "Locale set: de-DE\n");
    assert_eq!(js(&ws, "navigator.language"), "de-DE");
    assert_eq!(js(&ws, "(1234.5).toLocaleString()"), "1.234,5");
    assert!(ws
        .fails(&["set", "locale", "not a tag!"])
        .starts_with("Invalid locale: not a tag!"));

    // Color scheme and reduced motion.
    assert_eq!(
        ws.ok(&["set", "media", "dark", "reduced-motion"]),
        "Media set: prefers-color-scheme: dark, prefers-reduced-motion: reduce\n"
    );
    assert_eq!(
        js(&ws, "[matchMedia('(prefers-color-scheme: dark)').matches, matchMedia('(prefers-reduced-motion: reduce)').matches].join()"),
        "true,true"
    );

    // A tab opened now gets every override before its page runs.
    ws.ok(&["newtab", &pages.url("/two")]);
    assert_eq!(
        js(&ws, "[Intl.DateTimeFormat().resolvedOptions().timeZone, navigator.language, matchMedia('(prefers-color-scheme: dark)').matches].join()"),
        "Asia/Tokyo,de-DE,true"
    );

    // Offline: requests fail and the page knows it; then back online.
    assert_eq!(ws.ok(&["set", "offline"]), "Offline: on\n");
    assert_eq!(js(&ws, "navigator.onLine"), "false");
    assert_eq!(
        js(
            &ws,
            "await fetch('/two').then(() => 'loaded', () => 'failed')"
        ),
        "failed"
    );
    assert_eq!(ws.ok(&["set", "offline", "off"]), "Offline: off\n");
    assert_eq!(
        js(
            &ws,
            "await fetch('/two').then(() => 'loaded', () => 'failed')"
        ),
        "loaded"
    );

    // Resets.
    assert_eq!(ws.ok(&["set", "media", "off"]), "Media overrides removed\n");
    assert_eq!(
        js(&ws, "matchMedia('(prefers-color-scheme: dark)').matches"),
        "false"
    );
    assert_eq!(
        ws.ok(&["set", "timezone", "off"]),
        "Timezone override removed\n"
    );
    assert!(ws
        .fails(&["set", "colour", "x"])
        .starts_with("Unknown setting: colour\n"));
}
