"""`scripts/bench --peers`: browse against agent-browser (npm) and, when GSTACK_BROWSE names a
build, gstack's browse, measured side by side in one run and printed as one Markdown table.

Every sample is a fresh CLI process timed from the outside (`time.perf_counter` around
`subprocess.run`). The tools take turns inside every iteration (A B C A B C …), so a drift in
the machine's speed hits all of them alike; the table gives each tool's median and minimum and
the ratio of each peer's median to browse's.

Rows: cold start to the first `goto` answered, `stop`, warm url/text/snapshot -i/click,
cold stampedes of 8/16/32 CLIs on one fresh workspace (with the daemons and Chromiums left
afterwards: 1 and 1 is right), `snapshot -i` on 5,000- and 20,000-row tables, the daemon's RSS
and the Chromium tree's PSS after one `goto`.

Environment: AGENT_BROWSER_VERSION (default 0.41), GSTACK_BROWSE, BENCH_ITERATIONS (default 7),
BENCH_BIG_TIMEOUT (seconds, default 60), BENCH_BIG_ROWS (default 5000,20000),
BENCH_BIG_ITERATIONS (how many of the iterations also time the big tables, default 2: a peer
that fails there costs BENCH_BIG_TIMEOUT each time).
"""

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "7"))
BIG_TIMEOUT = float(os.environ.get("BENCH_BIG_TIMEOUT", "60"))
BIG_ROWS = [int(n) for n in os.environ.get("BENCH_BIG_ROWS", "5000,20000").split(",") if n]
BIG_ITERATIONS = int(os.environ.get("BENCH_BIG_ITERATIONS", "2"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

BIG_ROW = ("<tr><td>{i}</td><td><input type=checkbox aria-label='pick {i}'></td>"
           "<td><input aria-label='qty {i}' value='{q}'></td><td><button>Edit {i}</button></td></tr>")


def log(msg):
    print(f"[bench --peers] {msg}", file=sys.stderr, flush=True)


def big_page(rows):
    """A table of `rows` rows with three controls each (checkbox, textbox, button)."""
    body = "".join(BIG_ROW.format(i=i, q=i % 7) for i in range(rows))
    return f"<!DOCTYPE html><html><head><title>big {rows}</title></head><body><h1>Rows</h1><table>{body}</table></body></html>"


class Tool:
    """One CLI under test: how to run a command in a workspace of its own."""

    def __init__(self, name, argv, env, workspace_kind):
        self.name = name
        self.argv = argv
        self.env = env
        self.kind = workspace_kind  # "git" (a git workspace) or "session" (agent-browser)
        self.count = 0

    def workspace(self):
        """A fresh workspace: a directory with `.git` for browse and gstack, a session name for
        agent-browser. Returns (cwd, env)."""
        self.count += 1
        cwd = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-"))
        (cwd / ".git").mkdir()
        env = dict(os.environ, **self.env)
        # Every process this workspace starts inherits the mark, which tells them apart from
        # the other browsers and daemons on a shared machine.
        env["BENCH_PEERS_MARK"] = f"{os.getpid()}-{self.name}-{self.count}"
        if self.kind == "session":
            env["AGENT_BROWSER_SESSION"] = f"bench{os.getpid()}x{self.count}"
        return cwd, env

    def cmd(self, verb, *args):
        if self.kind == "session":
            verb = {"goto": "open", "stop": "close", "url": "get url", "text": "get text body"}.get(verb, verb)
        return self.argv + verb.split() + list(args)

    def run(self, ws, verb, *args, timeout=120):
        cwd, env = ws
        began = time.perf_counter()
        try:
            out = subprocess.run(self.cmd(verb, *args), cwd=cwd, env=env, capture_output=True,
                                 text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, ""
        took = time.perf_counter() - began
        return (took if out.returncode == 0 else None), out.stdout


def tools():
    """browse, agent-browser (installed from npm into a scratch folder) and, with GSTACK_BROWSE,
    gstack."""
    root = Path(__file__).resolve().parent.parent
    target = Path(os.environ.get("CARGO_TARGET_DIR", root / "target"))
    browse = Path(os.environ.get("BROWSE_BIN", target / "release/browse"))
    out = [Tool("browse", [str(browse)], {}, "git")]
    scratch = Path(tempfile.mkdtemp(prefix="bench-agent-browser-"))
    version = os.environ.get("AGENT_BROWSER_VERSION", "0.41")
    log(f"installing agent-browser@{version} from npm into {scratch}")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", f"agent-browser@{version}"],
                   cwd=scratch, check=True, stdout=subprocess.DEVNULL)
    native = scratch / "node_modules/agent-browser/bin/agent-browser-linux-x64"
    native.chmod(0o755)
    out.append(Tool("agent-browser", [str(native)],
                    {"AGENT_BROWSER_EXECUTABLE_PATH": CHROMIUM, "AGENT_BROWSER_NO_VERSION_CHECK": "1"},
                    "session"))
    gstack = os.environ.get("GSTACK_BROWSE")
    if gstack:
        out.append(Tool("gstack", [gstack], {}, "git"))
    else:
        log("GSTACK_BROWSE not set: gstack left out")
    return out


def marked(mark):
    """pid -> argv of every live process whose environment carries `mark`."""
    procs = {}
    needle = f"BENCH_PEERS_MARK={mark}".encode()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if needle not in (d / "environ").read_bytes().split(b"\0"):
                continue
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                continue
            procs[int(d.name)] = [a.decode(errors="replace") for a in (d / "cmdline").read_bytes().split(b"\0") if a]
        except (OSError, IndexError):
            continue
    return procs


def is_chromium(argv):
    return bool(argv) and ("chrom" in Path(argv[0]).name or "headless_shell" in argv[0] or "chrome-headless" in argv[0])


def processes_of(ws):
    """The processes a workspace's CLIs left running: (daemons, Chromium mains, Chromium tree)."""
    procs = marked(ws[1]["BENCH_PEERS_MARK"])
    mains = [p for p, argv in procs.items() if is_chromium(argv) and "crashpad" not in argv[0]
             and not any(a.startswith("--type=") for a in argv)]
    daemons = [p for p, argv in procs.items() if not is_chromium(argv)]
    # The whole tree under each Chromium: renderers fork from the zygote and need not carry
    # the mark.
    children = {}
    for d in Path("/proc").iterdir():
        try:
            parent = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(d.name))
        except (OSError, IndexError, ValueError):
            continue
    tree, stack = [], list(mains)
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return daemons, mains, tree


def reap(ws):
    """Ends whatever a workspace's CLIs left running (a peer's extra daemons after a stampede):
    only processes carrying this workspace's mark, which only this run hands out, and their
    Chromium trees."""
    _, _, tree = processes_of(ws)
    doomed = set(marked(ws[1]["BENCH_PEERS_MARK"])) | set(tree)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in doomed:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while sig == signal.SIGTERM and time.monotonic() < deadline and marked(ws[1]["BENCH_PEERS_MARK"]):
            time.sleep(0.1)


def kib(pid, field):
    try:
        with open(f"/proc/{pid}/{'smaps_rollup' if field == 'Pss' else 'status'}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stampede(tool, n, url):
    """n CLIs at once on one fresh workspace: wall time until all have exited, and the daemons
    and Chromium main processes left."""
    ws = tool.workspace()
    cwd, env = ws
    began = time.perf_counter()
    procs = [subprocess.Popen(tool.cmd("goto", url), cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(n)]
    codes = [p.wait() for p in procs]
    took = time.perf_counter() - began
    time.sleep(1.0)  # let a losing daemon give up before counting (a benchmark, not a test)
    daemons, mains, _ = processes_of(ws)
    tool.run(ws, "stop")
    reap(ws)
    return (took if all(c == 0 for c in codes) else None), len(daemons), len(mains)


def fmt(values, scale=1000.0, digits=0):
    good = [v for v in values if v is not None]
    if not good:
        return "failed", "failed", None
    med = statistics.median(good)
    failed = len(values) - len(good)
    note = f" ({failed} failed)" if failed else ""
    return f"{med * scale:.{digits}f}{note}", f"{min(good) * scale:.{digits}f}", med


def main(serve):
    site = Path(tempfile.mkdtemp(prefix="bench-peers-site."))
    (site / "index.html").write_text(
        "<!DOCTYPE html><html><head><title>bench</title></head><body><h1>Benchmark page</h1>"
        "<p>Some text to read back.</p><button id=b onclick=\"this.dataset.n=(+this.dataset.n||0)+1\">Count</button>"
        + "".join(f"<li><a href='#i{i}'>Item {i}</a></li>" for i in range(50)) + "</body></html>")
    (site / "big5000.html").write_text(big_page(5000))
    (site / "big20000.html").write_text(big_page(20000))
    server = serve(str(site))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    url = f"{base}/index.html"
    peers = tools()
    samples = {}  # (row, tool) -> [seconds or None]
    counts = {}   # (row, tool) -> [(daemons, chromiums)]
    memory = {}   # tool -> [(daemon RSS KiB, Chromium PSS KiB)]

    def add(row, tool, value):
        samples.setdefault((row, tool.name), []).append(value)

    load_before = os.getloadavg()
    log(f"{ITERATIONS} iterations, tools alternating: {', '.join(t.name for t in peers)}")
    for it in range(ITERATIONS):
        log(f"iteration {it + 1}/{ITERATIONS}")
        for tool in peers:
            ws = tool.workspace()
            took, _ = tool.run(ws, "goto", url)
            add("cold start to first `goto`", tool, took)
            time.sleep(0.5)  # the first page settles before memory is read
            daemons, _, chrome = processes_of(ws)
            memory.setdefault(tool.name, []).append(
                (sum(kib(p, "VmRSS") for p in daemons), sum(kib(p, "Pss") for p in chrome)))
            for verb in ("url", "text"):
                add(f"warm `{verb}`", tool, tool.run(ws, verb)[0])
            took, snap = tool.run(ws, "snapshot", "-i")
            add("warm `snapshot -i`", tool, took)
            ref = next((w.strip("[]").replace("ref=", "@") for line in snap.splitlines() if "Count" in line
                        for w in line.split() if w.startswith("@e") or w.startswith("[ref=")), None)
            add("warm `click @ref`", tool, tool.run(ws, "click", ref)[0] if ref else None)
            add("`stop`", tool, tool.run(ws, "stop")[0])
            reap(ws)
            shutil.rmtree(ws[0], ignore_errors=True)
        for n in (8, 16, 32):
            for tool in peers:
                took, daemons, mains = stampede(tool, n, url)
                add(f"{n}-way cold stampede", tool, took)
                counts.setdefault((f"{n}-way cold stampede", tool.name), []).append((daemons, mains))
        if it < BIG_ITERATIONS:
            for rows in BIG_ROWS:
                for tool in peers:
                    ws = tool.workspace()
                    tool.run(ws, "goto", f"{base}/big{rows}.html")
                    took, _ = tool.run(ws, "snapshot", "-i", timeout=BIG_TIMEOUT)
                    add(f"`snapshot -i`, {rows:,}-row table", tool, took)
                    tool.run(ws, "stop", timeout=BIG_TIMEOUT)
                    reap(ws)
    load_after = os.getloadavg()
    server.shutdown()

    names = [t.name for t in peers]
    head = "| measure | " + " | ".join(f"{n} median | {n} min" for n in names)
    head += "".join(f" | {n} / browse" for n in names[1:]) + " |"
    print(f"\nLoad average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
          f"{ITERATIONS} iterations; times in ms (medians, minima), ratio = peer median / browse median.\n")
    print(head)
    print("|---|" + "---:|" * (2 * len(names) + len(names) - 1))
    rows = ["cold start to first `goto`", "`stop`", "warm `url`", "warm `text`", "warm `snapshot -i`",
            "warm `click @ref`", "8-way cold stampede", "16-way cold stampede", "32-way cold stampede",
            ] + [f"`snapshot -i`, {n:,}-row table" for n in BIG_ROWS]
    for row in rows:
        cells, meds = [], []
        for n in names:
            med, low, raw = fmt(samples.get((row, n), []))
            left = counts.get((row, n))
            if left:
                d = max(x[0] for x in left)
                c = max(x[1] for x in left)
                med += f" ({d}d/{c}c)"
            cells += [med, low]
            meds.append(raw)
        ratios = [f"{m / meds[0]:.2f}x" if m and meds[0] else "–" for m in meds[1:]]
        print(f"| {row} | " + " | ".join(cells + ratios) + " |")
    for label, idx in (("daemon RSS (MB)", 0), ("Chromium tree PSS (MB)", 1)):
        cells, meds = [], []
        for n in names:
            vals = [m[idx] / 1024 for m in memory.get(n, [])]
            med = statistics.median(vals) if vals else None
            cells += [f"{med:.0f}" if med else "–", f"{min(vals):.0f}" if vals else "–"]
            meds.append(med)
        ratios = [f"{m / meds[0]:.2f}x" if m and meds[0] else "–" for m in meds[1:]]
        print(f"| {label} | " + " | ".join(cells + ratios) + " |")
    print("\n(Nd/Mc) after a stampede: the most daemons and Chromium main processes left in any "
          "iteration; 1d/1c is right.")
    shutil.rmtree(site, ignore_errors=True)
