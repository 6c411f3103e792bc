"""Drive live dashboards in headless Chromium: servers, slider steps, drags, and what reaches the screen.

Shared by the browser tests and ``benchmarks/widgets.py``. The page records, in the page's own
clock, every time a dashboard's figure (the ``img`` of a ``.cpteach-dashboard``) gets a new ``src`` or is inserted
with one (a dashboard swapped in), and every key press or pointer move; latencies are measured there, so
Python's overhead does not count.
The dashboards write a hidden record of each frame (``span.cpteach-frame``: the update counter
and the slider values it shows), which tells whether the last frame shows the final values.
"""
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Installed once per page: timestamps (performance.now(), ms) of figure changes and of input.
RECORDER = r"""() => {
    if (window.__cpteach) return;
    const rec = window.__cpteach = {frames: [], keys: [], moves: []};
    const watch = img => new MutationObserver(() => rec.frames.push(performance.now()))
        .observe(img, {attributes: true, attributeFilter: ['src']});
    const seen = new WeakSet();
    // a figure inserted later with its src already set (a dashboard swapped in) is a new figure, too
    const scan = later => document.querySelectorAll('.cpteach-dashboard img').forEach(img => {
        if (!seen.has(img)) { seen.add(img); watch(img); if (later && img.src) rec.frames.push(performance.now()); }
    });
    scan(false);
    new MutationObserver(() => scan(true)).observe(document.body, {childList: true, subtree: true});
    document.addEventListener('keydown', () => rec.keys.push(performance.now()), true);
    document.addEventListener('pointermove', e => { if (e.buttons) rec.moves.push(performance.now()); }, true);
}"""


# Installed before a page loads: the time (performance.now(), ms after the navigation started) when the
# first dashboard figure appears, as the viewer sees it (no harness overhead).
FIRST_FIGURE = r"""(() => {
    const seen = () => document.querySelector('.cpteach-dashboard img[src]');
    const watch = new MutationObserver(() => {
        if (seen() && window.__cpteach_first === undefined) { window.__cpteach_first = performance.now(); watch.disconnect(); }
    });
    watch.observe(document, {childList: true, subtree: true, attributes: true, attributeFilter: ['src']});
})()"""


def first_figure_s(page, url, timeout=180_000):
    """Open ``url`` and return the seconds from the start of the navigation to the first dashboard figure,
    in the page's own clock, and the dashboard (:func:`wait_for_dashboard`)."""
    page.add_init_script(FIRST_FIGURE)
    page.goto(url, timeout=timeout)
    dashboard = wait_for_dashboard(page)
    return page.evaluate("() => window.__cpteach_first") / 1e3, dashboard


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(command, url, log_path, timeout=90):
    """Start a server process and wait until ``url`` answers."""
    log = open(log_path, "w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early; see {log_path}:\n{Path(log_path).read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"server did not answer within {timeout} s; see {log_path}")


# The options of the README's presenter command (a test keeps the two the same): a preheated kernel
# runs the notebook before the page is requested; idle kernels of closed pages are shut down.
PRESENTER_OPTIONS = ("--preheat_kernel=True", "--MappingKernelManager.cull_interval=60",
                     "--MappingKernelManager.cull_idle_timeout=600")


def start_voila(notebooks, log_path, options=()):
    """A Voila server on loopback serving the folder ``notebooks`` (with Voila ``options``); returns
    (process, base URL)."""
    port = free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               "--ServerApp.allow_root=True", *options, str(notebooks)]
    base = f"http://127.0.0.1:{port}"
    return start_server(command, base, log_path), base


def frame_record(dashboard):
    """The hidden record of the frame on screen: {"update": n, "values": {...}} (None if there is none)."""
    record = dashboard.locator(".cpteach-frame")
    return json.loads(record.first.text_content()) if record.count() else None


def wait_for_dashboard(page, root=".cpteach-dashboard", timeout=120_000):
    page.wait_for_selector(f"{root} img[src]", timeout=timeout)
    page.wait_for_selector(f"{root} .cpteach-status", state="attached", timeout=timeout)
    page.evaluate(RECORDER)
    return page.locator(root).first


def _now(page):
    return page.evaluate("() => performance.now()")


def _to_start(page, dashboard, slider, room, settle=1.0):
    """Focus a slider's handle; if less than ``room`` (a fraction of the track) is left to its right,
    move it to the start of the track (the Home key). Return the handle."""
    handle = dashboard.locator(".noUi-handle").nth(slider)
    handle.scroll_into_view_if_needed()
    handle.focus()
    low, high, now = (float(handle.get_attribute(f"aria-value{k}")) for k in ("min", "max", "now"))
    if high - now < room * (high - low):
        page.keyboard.press("Home")
        time.sleep(settle)
    return handle


def step_latencies(page, dashboard, presses=15, pause=0.35, slider=0):
    """Press ArrowRight on a slider ``presses`` times (from the start of the track if there is no room),
    ``pause`` s apart; return the latencies (ms) from each key press to the next new figure (None
    where no figure came within the pause)."""
    handle = dashboard.locator(".noUi-handle").nth(slider)
    low, high = float(handle.get_attribute("aria-valuemin")), float(handle.get_attribute("aria-valuemax"))
    handle = _to_start(page, dashboard, slider, min(1.0, presses / max(high - low, 1)))
    room = high - float(handle.get_attribute("aria-valuenow"))
    out = []
    for _ in range(min(presses, int(room))):     # a press at the end of the track changes nothing
        page.keyboard.press("ArrowRight")
        time.sleep(pause)
        times = page.evaluate("() => ({key: window.__cpteach.keys.at(-1), frames: window.__cpteach.frames})")
        after = [t for t in times["frames"] if t >= times["key"]]
        out.append(after[0] - times["key"] if after else None)
    return out


def drag(page, dashboard, seconds=1.2, fraction=0.5, slider=0, settle=1.0):
    """Drag a slider's handle to the right over ``fraction`` of its track for ``seconds`` (from the
    start of the track if there is no room).

    Returns a dict: ``frames`` (new figures shown while the pointer moved), ``values`` (how many
    positions the handle passed, for a slider with few options, which shows at most that many; else None), ``moves`` (pointer
    events), ``latency_after_release`` (ms from the release to the last new figure), ``record``
    (the hidden record of the frame on screen ``settle`` s after the release), ``readout`` (the
    slider's displayed value then).
    """
    handle = _to_start(page, dashboard, slider, fraction)
    before = float(handle.get_attribute("aria-valuenow"))
    track = dashboard.locator(".noUi-target").nth(slider)
    box, track_box = handle.bounding_box(), track.bounding_box()
    x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    distance = fraction * track_box["width"]
    page.mouse.move(x0, y)
    page.mouse.down()
    t_down = _now(page)
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        page.mouse.move(x0 + distance * elapsed / seconds, y)
        time.sleep(0.016)
    page.mouse.move(x0 + distance, y)
    t_up = _now(page)
    page.mouse.up()
    time.sleep(settle)
    rec = page.evaluate("() => window.__cpteach")
    during = [t for t in rec["frames"] if t_down <= t <= t_up]
    after = [t for t in rec["frames"] if t > t_up]
    readout = dashboard.locator(".widget-readout").nth(slider).inner_text().strip()
    now = float(handle.get_attribute("aria-valuenow"))
    low, high = (float(handle.get_attribute(f"aria-value{k}")) for k in ("min", "max"))
    # a slider of a few options (its positions are 0, 1, ..., a selection slider's) shows at most that many
    passed = round(abs(now - before)) if high - low < 100 and all(v == int(v) for v in (low, high, now)) else None
    return {"frames": len(during), "values": passed, "moves": len([t for t in rec["moves"] if t_down <= t <= t_up]),
            "latency_after_release": (after[-1] - t_up) if after else 0.0,
            "record": frame_record(dashboard), "readout": readout}


def summary(latencies):
    """(median, worst, missing) of step latencies in ms."""
    seen = [t for t in latencies if t is not None]
    return (statistics.median(seen) if seen else float("nan"), max(seen) if seen else float("nan"),
            len(latencies) - len(seen))


def chromium_missing():
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (install it with: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    return None


def environment():
    """What the numbers were measured on (printed by the benchmark)."""
    return f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"


def lab_settings(path):
    """User settings: render every cell (no windowing, so all outputs are in the DOM), no news."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
    }
    for name, value in settings.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    return path


def start_lab(notebooks, workdir):
    """A JupyterLab server on loopback with root ``notebooks``; returns (process, base URL, token)."""
    import secrets

    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}",
               f"--LabApp.user_settings_dir={lab_settings(Path(workdir) / 'lab-settings')}",
               f"--LabApp.workspaces_dir={Path(workdir) / 'lab-workspaces'}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    base = f"http://127.0.0.1:{port}"
    proc = start_server(command, f"{base}/api/status?token={token}", Path(workdir) / "jupyterlab.log")
    return proc, base, token


ALL_DONE = r"""() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
    const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
    return prompts.some(t => /\d/.test(t)) && !prompts.some(t => t.includes('*'))
        && indicator !== null && indicator.dataset.status === 'idle';
}"""
STARTED = r"""() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .some(p => /\d|\*/.test(p.textContent))"""
KERNEL_IDLE = r"() => /\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')"


def run_all(page, timeout=300):
    """In JupyterLab: wait for the kernel, Run All, wait until no cell is queued or running."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=250)  # kernel connected, not just started
    for _ in range(3):  # a run-all sent while the kernel is still connecting is lost: send it again
        page.locator("li.lm-MenuBar-item", has_text="Run").first.click()
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
        try:
            page.wait_for_function(STARTED, timeout=20_000, polling=250)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_function(ALL_DONE, timeout=timeout * 1000, polling=500)


def shutdown_kernels(base, token):
    """Stop the running kernels so that the next notebook gets the CPU to itself."""
    sessions = json.loads(urllib.request.urlopen(f"{base}/api/sessions?token={token}").read())
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request)
