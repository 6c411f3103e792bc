"""The course site (book/) as a student on a closed network reads it, in headless Chromium at 1366x768.

The site is built once per session by ``bash book/build.sh`` (or, with CPTEACH_SITE=path, an
existing build is read), served on 127.0.0.1, and every page is opened with every request to
another host aborted. Checks: no page error, no console error except the blocked external badge
images, no failed local request or broken image, every math source typeset by MathJax without
error, no horizontal page scroll, each notebook page's dashboards as a static figure at least
600 px wide with their caption and all its other figures, every local link and #fragment
resolves (the notebooks' equation citations link to the theory's displays), search finds "Moreau",
each notebook's Binder link, the site's size.
"""
import functools
import html.parser
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
PAGES = ["README.html", "docs/theory.html", "docs/problem_sheet.html", *(f"notebooks/{name}.html" for name in NOTEBOOKS)]
VIEWPORT = {"width": 1366, "height": 768}
BINDER = "https://mybinder.org/v2/gh/cpteach/cpteach/HEAD?urlpath=lab/tree/notebooks/{}.ipynb"
CAPTION = "opening frame, at "  # the caption of a static dashboard (widgets/_dashboard.py)
DASHBOARD_CALL = re.compile(r"^\s*(?:\w+\s*=\s*)?\w+_dashboard\(", re.M)

# After MathJax has typeset the page: each math source of Sphinx (span/div.math) must hold an
# mjx-container and no MathJax error; TeX left as text outside code is a source it never saw.
MATH = r"""async () => {
    await MathJax.startup.promise;
    const sources = [...document.querySelectorAll('.math')];
    const untypeset = sources.filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 80));
    const errors = [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
        .map(el => el.getAttribute('data-mjx-error') || el.textContent).slice(0, 5);
    const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
    const raw = [];
    for (let node; (node = walker.nextNode());) {
        if (node.parentElement.closest('pre, code, mjx-container, script, style, .math')) continue;
        if (/\$\$|\\(begin|frac|tag)\b/.test(node.textContent)) raw.push(node.textContent.slice(0, 80));
    }
    // a display wider than its box must scroll in it (the theme centred it and hid the overflow:
    // its left part and its tag were cut off, out of reach)
    const boxes = [...document.querySelectorAll('div.math')];
    const clipped = boxes.filter(el => {
        const box = el.getBoundingClientRect();
        const reach = getComputedStyle(el).overflowX === 'hidden' ? el.clientWidth : el.scrollWidth;
        return [...el.querySelectorAll('mjx-container > mjx-math')].some(m => {
            const r = m.getBoundingClientRect();
            return r.left < box.left - 1 || r.right - box.left > reach + 1;
        });
    }).map(el => el.textContent.slice(0, 80));
    const wide = boxes.filter(el => el.scrollWidth > el.clientWidth + 1).length;
    return {count: sources.length, untypeset, errors, raw, clipped, wide};
}"""

IMAGES = r"""() => [...document.images].map(img => ({
    src: img.currentSrc || img.src, ok: img.complete && img.naturalWidth > 0, natural: img.naturalWidth,
    width: img.getBoundingClientRect().width, output: !!img.closest('.cell_output'),
    caption: ((img.closest('a') || img).nextElementSibling?.textContent || '').trim()}))"""

# A code line of 88 characters (the notebooks' limit) in a copy of a code cell's box: (needed, shown) width;
# and how many code cells scroll sideways now.
CODE_WIDTH = r"""() => {
    const pre = document.querySelector('.cell_input pre'), copy = pre.cloneNode(false);
    copy.textContent = 'x'.repeat(88);
    pre.parentElement.appendChild(copy);
    const widths = [copy.scrollWidth, copy.clientWidth];
    copy.remove();
    return [...widths, [...document.querySelectorAll('.cell_input pre')].filter(p => p.scrollWidth > p.clientWidth + 1).length];
}"""

LINKS = r"""() => [...document.querySelectorAll('a[href], img[src], link[href], script[src]')]
    .map(el => el.href || el.src)"""


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        self.ids.update(value for name, value in attrs if name in ("id", "name") and value)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


_BUILD_FAILURE = []   # a failed build is reported once per test, not rebuilt for each (a session fixture's
                      # failure is not cached by pytest)


@pytest.fixture(scope="session")
def site(browser):
    """The built site's folder (built here unless CPTEACH_SITE names one), with its build time."""
    if os.environ.get("CPTEACH_SITE"):
        return Path(os.environ["CPTEACH_SITE"]), None
    if _BUILD_FAILURE:
        pytest.fail(_BUILD_FAILURE[0])
    start = time.monotonic()
    env = dict(os.environ, PYTHON=sys.executable)
    result = subprocess.run(["bash", str(ROOT / "book" / "build.sh")], env=env, capture_output=True, text=True,
                            timeout=900)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        _BUILD_FAILURE.append(f"book/build.sh failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        pytest.fail(_BUILD_FAILURE[0])
    print(f"site built in {seconds:.0f} s")
    return ROOT / "book" / "_build" / "html", seconds


@pytest.fixture(scope="session")
def server(site):
    folder, _ = site
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()


@pytest.fixture(scope="session")
def offline(browser, server):
    """A browser context at 1366x768 in which every request to another host is aborted."""
    context = browser.new_context(viewport=VIEWPORT)
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort())
    yield context
    context.close()


def open_page(context, url):
    """The page at ``url`` once loaded and typeset, with its page errors, console errors and failed requests."""
    page = context.new_page()
    local = urllib.parse.urljoin(url, "/")
    log = {"pageerror": [], "console": [], "failed": [], "external": []}
    page.on("request", lambda req: None if req.url.startswith(local) else log["external"].append(req.url))
    page.on("pageerror", lambda err: log["pageerror"].append(str(err)))
    page.on("console", lambda msg: log["console"].append((msg.text, msg.location.get("url", "")))
            if msg.type == "error" else None)
    page.on("requestfailed", lambda req: log["failed"].append(req.url))
    page.on("response", lambda resp: log["failed"].append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)
    page.goto(url, wait_until="load", timeout=60_000)
    return page, log


def expected_figures(folder, name):
    """(dashboards, other figures) of the executed notebook: its image outputs, those followed by the caption."""
    executed = json.loads((folder.parent / "jupyter_execute" / "notebooks" / f"{name}.ipynb").read_text())
    dashboards = figures = 0
    for cell in executed["cells"]:
        outputs = cell.get("outputs", [])
        for i, out in enumerate(outputs):
            if "image/png" in out.get("data", {}):
                following = outputs[i + 1]["data"].get("text/markdown", "") if i + 1 < len(outputs) else ""
                if CAPTION in "".join(following):
                    dashboards += 1
                else:
                    figures += 1
    return dashboards, figures


@pytest.mark.parametrize("path", PAGES)
def test_page_reads_offline(offline, server, site, path):
    page, log = open_page(offline, server + path)
    try:
        math = page.evaluate(MATH)
        page.evaluate("() => Promise.all([...document.images].map(img => img.decode().catch(() => null)))")
        images = page.evaluate(IMAGES)
        scroll = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        inline = page.evaluate("() => [...document.scripts].filter(s => !s.src).map(s => s.textContent.trim())")
        hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
        code = page.evaluate(CODE_WIDTH) if path.startswith("notebooks/") else None
        binder = page.evaluate("() => [...document.querySelectorAll('.bd-header-article a[href*=\"mybinder.org/v2/\"]')].map(a => a.href)")
    finally:
        page.close()
    assert not log["pageerror"], log["pageerror"]
    # the only requests for another host: the README's badge images (blocked); no CDN, no fonts, no thebe
    assert all(re.match(r"https://(mybinder\.org/badge_logo\.svg|img\.shields\.io/)", u) for u in log["external"]), \
        log["external"]
    external = [(text, url) for text, url in log["console"] if url and not url.startswith(server)]
    assert all(url.endswith((".svg", ".png")) or "shields.io" in url for _, url in external), external
    assert len(external) == len(log["console"]), f"console errors: {log['console']}"
    assert not [url for url in log["failed"] if server in url], log["failed"]
    broken = [img["src"] for img in images if img["src"].startswith(server) and not img["ok"]]
    assert not broken, f"broken images: {broken}"
    print(f"{path}: {math['count']} math sources, {math['wide']} displays scroll inside their box")
    assert math["wide"] == 0, f"{math['wide']} display equations are wider than the column: split their rows"
    assert not math["untypeset"] and not math["errors"] and not math["raw"] and not math["clipped"], math
    assert scroll[0] <= scroll[1], f"horizontal page scroll: {scroll[0]} px wide at {scroll[1]} px"
    assert len(inline) == len(set(inline)), "an inline script appears twice"
    assert not any("thebe" in script or "widget-state" in script for script in inline)
    # no file name made into a web link (linkify: "theory.md" -> http://theory.md)
    assert not [h for h in hrefs if re.match(r"https?://[^/]*\.(md|py|ipynb|yml)\b", h)], hrefs
    if path.startswith("notebooks/"):
        name = Path(path).stem
        assert BINDER.format(name) in binder, binder
        assert any(re.search(r"/docs/theory\.html#eq-\d+-\d+$", h) for h in hrefs), "no link to a theory equation"
        needed, shown, scrolling = code
        print(f"{path}: {scrolling} code cells scroll sideways (lines over 88 characters)")
        assert scrolling == 0, f"{scrolling} code cells scroll sideways at 1366 px"
        assert needed <= shown, f"a code line of 88 characters needs {needed} px, the cell shows {shown} px"
        dashboards, figures = expected_figures(site[0], name)
        source = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
        calls = sum(bool(DASHBOARD_CALL.search("".join(c["source"]))) for c in source["cells"]
                    if c["cell_type"] == "code")
        assert dashboards >= max(calls, 1), f"{dashboards} dashboard frames for {calls} dashboard cells"
        shown = [img for img in images if img["output"] and img["ok"]]
        frames = [img for img in shown if CAPTION in img["caption"]]
        assert len(frames) == dashboards and len(shown) == dashboards + figures, (len(frames), len(shown))
        assert all(img["width"] >= 600 and img["natural"] >= 600 for img in frames), frames
        assert all(re.search(r"\w+ = ", img["caption"]) and "Binder" in img["caption"] for img in frames)
    else:
        assert not binder, binder  # a launch button only on notebook pages


def test_local_links_and_fragments_resolve(offline, server, site):
    folder, _ = site
    targets = {}
    for path in PAGES:
        page, _ = open_page(offline, server + path)
        try:
            for url in page.evaluate(LINKS):
                if url.startswith(server):
                    targets.setdefault(url, path)
        finally:
            page.close()
    ids, missing = {}, []
    for url, where in sorted(targets.items()):
        parts = urllib.parse.urlsplit(url)
        rel = urllib.parse.unquote(parts.path[1:]) or "index.html"
        file = folder / rel
        if file.is_dir():
            file = file / "index.html"
        if not file.is_file():
            missing.append(f"{where}: {url}")
            continue
        if parts.fragment and file.suffix == ".html":
            if file not in ids:
                parser = _Ids()
                parser.feed(file.read_text(encoding="utf-8"))
                ids[file] = parser.ids
            if urllib.parse.unquote(parts.fragment) not in ids[file]:
                missing.append(f"{where}: {url} (no such id)")
    assert not missing, "\n".join(missing)


def test_search_finds_moreau_offline(offline, server):
    page, log = open_page(offline, server + "search.html?q=Moreau")
    try:
        page.wait_for_selector("#search-results .search-summary", timeout=60_000)
        found = page.evaluate("() => [...document.querySelectorAll('#search-results ul.search li a')]"
                              ".map(a => a.getAttribute('href'))")
    finally:
        page.close()
    assert not log["pageerror"], log["pageerror"]
    pages = {href.split("#")[0].split("?")[0] for href in found}
    assert len(pages) >= 3, found


def test_site_size(site):
    folder, seconds = site
    files = [f for f in folder.rglob("*") if f.is_file()]
    total = sum(f.stat().st_size for f in files)
    pages = {str(f.relative_to(folder)): f.stat().st_size for f in files if f.suffix == ".html"}
    print(f"site: {total / 1e6:.1f} MB, {len(files)} files, largest page {max(pages.values()) / 1e6:.2f} MB"
          + (f", built in {seconds:.0f} s" if seconds else ""))
    assert total <= 25e6, f"site is {total / 1e6:.1f} MB"
    assert not {p: s for p, s in pages.items() if s > 1e6}
    assert not [f for f in files if f.suffix == ".js" and "cdn" in f.name.lower()]
