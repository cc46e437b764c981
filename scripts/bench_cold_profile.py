#!/usr/bin/env python3
"""Chromium's own share of a cold start, fresh profile against reused (issue 14).

Launches Chromium as the daemon does (the same switches, headless, over
`--remote-debugging-pipe` so no WebSocket client is needed), then times from the spawn:
the first CDP answer (`Target.getTargets`: Chromium's UI thread is serving DevTools), the
attach to the first tab, its `Page.enable` (its renderer is up), and a `Page.navigate` to a
local page up to `Page.loadEventFired`. `cpu` is the user + system time of the whole Chromium
tree until it exits after `Browser.close` (a steadier measure than wall time on a shared
machine). Variants take turns within each iteration (A B C, then C B A).

    scripts/bench_cold_profile.py N LABEL=MODE[|ARG;ARG...] ...

MODE: `fresh` (a new, empty profile every run), `reused` (one profile, made once before the
timed runs), or `seed:DIR` (a new profile that starts as a copy of DIR, the copy timed and
counted as part of the start). ARGs are extra
Chromium switches for that variant (`;`-separated; a `--disable-features=` given here
replaces the daemon's list, so repeat its entries). BROWSE_CHROME names the binary (default
/usr/lib/chromium/chromium: Debian's /usr/bin/chromium is a shell script).
"""

import functools
import http.server
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# The daemon's switches (src/daemon/chromium.rs), DevTools over the pipe instead of a port.
SWITCHES = [
    "--headless=new", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
    "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
    "--disable-breakpad", "--disable-back-forward-cache",
    "--disable-features=Translate,MediaRouter,OptimizationHints,BackForwardCache,"
    "SpareRendererForSitePerProcess,WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup",
    "--enable-features=NetworkServiceInProcess2", "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows", "--disable-renderer-backgrounding",
    "--disable-popup-blocking", "--enable-aggressive-domstorage-flushing", "--metrics-recording-only",
    "--mute-audio", "--hide-scrollbars", "--password-store=basic", "--use-mock-keychain",
    "--window-size=1280,720", "--no-sandbox",
]
CHROME = os.environ.get("BROWSE_CHROME", "/usr/lib/chromium/chromium")


class Pipe:
    """CDP over Chromium's pipe: JSON messages ended by NUL, we write fd 3, it writes fd 4."""

    def __init__(self, to_chrome, from_chrome):
        self.w, self.r, self.buf, self.last_id = to_chrome, from_chrome, b"", 0

    def send(self, method, params=None, session=None):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.w, json.dumps(message).encode() + b"\0")
        return self.last_id

    def next(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self.buf += chunk
        message, self.buf = self.buf.split(b"\0", 1)
        return json.loads(message)

    def until(self, wanted):
        while True:
            message = self.next()
            if wanted(message):
                return message

    def call(self, method, params=None, session=None):
        sent = self.send(method, params, session)
        return self.until(lambda m: m.get("id") == sent)


def one_start(profile, extra, url, seed=None):
    """Phases in seconds from the start, and the CPU seconds of the Chromium tree (and of the
    profile copy, when `seed` names a profile to start from: the copy is part of the start)."""
    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()
    os.set_inheritable(to_r, True)
    os.set_inheritable(from_w, True)

    def fds_3_and_4():
        os.dup2(to_r, 3)
        os.dup2(from_w, 4)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    copy_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    copy_cpu = 0.0
    if seed:
        shutil.rmtree(profile)
        shutil.copytree(seed, profile, symlinks=True)
        copy_after = resource.getrusage(resource.RUSAGE_SELF)
        copy_cpu = (copy_after.ru_utime + copy_after.ru_stime) - (copy_before.ru_utime + copy_before.ru_stime)
    chrome = subprocess.Popen([CHROME] + SWITCHES + extra + [f"--user-data-dir={profile}", "about:blank"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, preexec_fn=fds_3_and_4, close_fds=False)
    os.close(to_r)
    os.close(from_w)
    pipe = Pipe(to_w, from_r)
    marks = {}
    try:
        targets = pipe.call("Target.getTargets")["result"]["targetInfos"]
        marks["first_answer"] = time.perf_counter() - began
        page = next(t["targetId"] for t in targets if t["type"] == "page")
        session = pipe.call("Target.attachToTarget", {"targetId": page, "flatten": True})["result"]["sessionId"]
        marks["attached"] = time.perf_counter() - began
        pipe.call("Page.enable", session=session)
        marks["page_enable"] = time.perf_counter() - began
        pipe.call("Page.navigate", {"url": url}, session=session)
        pipe.until(lambda m: m.get("method") == "Page.loadEventFired")
        marks["loaded"] = time.perf_counter() - began
        pipe.send("Browser.close")
        chrome.wait(timeout=20)
    finally:
        if chrome.poll() is None:
            chrome.kill()
            chrome.wait()
        os.close(to_w)
        os.close(from_r)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    marks["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) + copy_cpu
    return marks


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    iterations = int(sys.argv[1])
    variants = []
    for spec in sys.argv[2:]:
        label, rest = spec.split("=", 1)
        mode, _, args = rest.partition("|")
        variants.append((label, mode, [a for a in args.split(";") if a]))
    site = tempfile.mkdtemp(prefix="bench-cold-site.")
    with open(os.path.join(site, "index.html"), "w") as page:
        page.write("<!DOCTYPE html><title>bench</title><h1>Benchmark page</h1><p>Some text.</p>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    reused = {}
    for label, mode, extra in variants:
        if mode == "reused":
            reused[label] = tempfile.mkdtemp(prefix="bench-cold-profile.")
            one_start(reused[label], extra, url)
    results = {label: [] for label, _, _ in variants}
    loads = [os.getloadavg()[0]]
    for i in range(iterations):
        for label, mode, extra in (variants if i % 2 == 0 else variants[::-1]):
            if mode == "reused":
                profile = reused[label]
            else:
                profile = tempfile.mkdtemp(prefix="bench-cold-profile.")
            seed = mode[5:] if mode.startswith("seed:") else None
            marks = one_start(profile, extra, url, seed)
            if mode != "reused":
                shutil.rmtree(profile, ignore_errors=True)
            results[label].append(marks)
            print(i, label, {k: round(v * 1000) for k, v in marks.items()}, file=sys.stderr, flush=True)
        loads.append(os.getloadavg()[0])
    for profile in reused.values():
        shutil.rmtree(profile, ignore_errors=True)
    shutil.rmtree(site, ignore_errors=True)
    print(f"load average (1 min) during the run: {min(loads):.1f}-{max(loads):.1f}, median {statistics.median(loads):.1f}")
    base = variants[0][0]
    for label, _, _ in variants:
        runs = results[label]
        line = f"{label:10s} " + "  ".join(
            f"{k} {statistics.median(r[k] for r in runs) * 1000:.0f} ms" for k in runs[0])
        if label != base:
            for key in ("loaded", "cpu"):
                ratios = [b[key] / a[key] for a, b in zip(results[base], runs)]
                line += f" | {key} {label}/{base} {statistics.median(ratios):.2f} ({sum(r < 1 for r in ratios)}/{len(ratios)} lower)"
        print(line)


if __name__ == "__main__":
    main()
