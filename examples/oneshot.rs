//! Benchmark baseline: what a command costs without a daemon. Launches Chromium through
//! headless_chrome, opens a URL, prints the page text, and exits — once per call.
//!
//! Usage: oneshot <url>   (Chromium from BROWSE_CHROME, else headless_chrome's search)

use std::ffi::OsStr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use headless_chrome::{Browser, LaunchOptions};

fn main() -> Result<()> {
    let url = std::env::args().nth(1).context("usage: oneshot <url>")?;
    let path = std::env::var_os("BROWSE_CHROME").map(PathBuf::from);
    let options = LaunchOptions::default_builder()
        .path(path)
        .sandbox(false)
        .args(vec![
            OsStr::new("--disable-gpu"),
            OsStr::new("--disable-background-networking"),
            OsStr::new("--disable-component-update"),
            OsStr::new("--disable-sync"),
        ])
        .build()
        .context("launch options")?;
    let browser = Browser::new(options)?;
    let tab = browser.new_tab()?;
    tab.navigate_to(&url)?.wait_until_navigated()?;
    let text = tab.evaluate("document.body.innerText", false)?;
    println!(
        "{}",
        text.value
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    );
    Ok(())
}
