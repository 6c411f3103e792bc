"""The notebooks and the presenter view driven in headless Chromium, as a lecturer uses them.

For each notebook: open it in JupyterLab, run all cells, wait until the kernel is idle,
check that no cell produced an error, move a dashboard slider with the keyboard and check
that a new figure arrives. The presenter view (Voila, 1280 x 720): every tab fits the
screen (screenshots), a drag moves the figure while it lasts and ends on the final value,
a problem switch keeps the tab. Time bounds are generous (CI machines are busy); the
measured numbers are printed, and ``benchmarks/widgets.py`` measures them properly.
Screenshots go to a temporary folder (printed).
"""
import json
import re
import time
from pathlib import Path

import pytest

from . import live

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
PROJECTOR = {"width": 1280, "height": 720}
SMALLEST_TEXT = """() => {   // the smallest font of any visible text on the page (hidden frame records aside)
    let best = {px: 1e9, text: ""};
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.textContent.trim() || !el.offsetParent || el.closest(".cpteach-frame")) continue;
        const style = getComputedStyle(el);
        if (style.visibility === "hidden") continue;
        const px = parseFloat(style.fontSize);
        if (px < best.px) best = {px, text: node.textContent.trim().slice(0, 40)};
    }
    return best;
}"""


def run_all_and_save(page, saved, shots, timeout=300):
    """Run all cells, wait until no cell is queued or running, save once; return the saved code cells."""
    live.run_all(page, timeout)
    for attempt in range(6):  # a menu click can get lost: save again every 5 s, at most 6 times
        fail_on_dialog(page, shots / f"{saved.name}-dialog.png")
        page.keyboard.press("Escape")  # close any menu left open
        page.locator("li.lm-MenuBar-item", has_text="File").first.click()
        page.locator("li.lm-Menu-item[data-command='docmanager:save']").click()
        for _ in range(10):
            time.sleep(0.5)
            try:
                cells = [c for c in json.loads(saved.read_text())["cells"] if c["cell_type"] == "code"]
            except json.JSONDecodeError:  # caught mid-write
                continue
            if any(c.get("execution_count") for c in cells):
                return cells
    page.screenshot(path=str(shots / f"{saved.name}-unsaved.png"))
    pytest.fail(f"{saved.name}: the saved notebook shows no executed cell after 6 save attempts "
                f"(screenshot in {shots})")


def fail_on_dialog(page, shot):
    """A modal dialog means something unexpected happened: fail with its text and a screenshot."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        page.screenshot(path=str(shot))
        pytest.fail(f"unexpected dialog: {dialog.first.inner_text()[:500]!r} (screenshot {shot})")


def step_and_check(page, dashboard, shots, name):
    """Press ArrowRight on the first slider; a new figure and a new frame record must arrive within 5 s."""
    before = live.frame_record(dashboard)
    page.screenshot(path=str(shots / f"{name}-before.png"))
    latencies = live.step_latencies(page, dashboard, presses=3, pause=3.0)
    after = live.frame_record(dashboard)
    page.screenshot(path=str(shots / f"{name}-after.png"))
    assert after["update"] > before["update"], "no new frame after the slider moved"
    assert all(t is not None for t in latencies), f"a key press brought no new figure within 3 s: {latencies}"
    return latencies


def check_drag(page, dashboard, name):
    """A 1.2 s drag shows new figures while it lasts and ends on a frame with the final slider value."""
    result = live.drag(page, dashboard, seconds=1.2, settle=1.0)
    values = result["record"]["values"].values()
    assert result["frames"] >= 2, f"{name}: only {result['frames']} new figures during a 1.2 s drag"
    assert any(str(v) == result["readout"] for v in values), \
        f"{name}: the last frame shows {result['record']['values']}, the slider {result['readout']}"
    assert result["latency_after_release"] < 1000, f"{name}: last figure {result['latency_after_release']:.0f} ms " \
                                                    "after the release"
    return result


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_jupyterlab(name, browser, jupyterlab, workdir):
    base, token = jupyterlab
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    t0 = time.perf_counter()
    # a workspace of its own, reset: only this notebook is open
    page.goto(f"{base}/lab/workspaces/{name.split('_')[0]}/tree/{name}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    cells = run_all_and_save(page, workdir / "notebooks" / name, workdir / "screenshots")
    run_time = time.perf_counter() - t0
    errors = [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"{name}: error output {errors[0]['ename']}: {errors[0]['evalue']}"
    assert all(c.get("execution_count") for c in cells), f"{name}: some cells did not run"

    dashboard = live.wait_for_dashboard(page)
    latencies = step_and_check(page, dashboard, workdir / "screenshots", name)
    print(f"\n{name}: ran in {run_time:.1f} s; key press -> new figure {[round(t) for t in latencies]} ms "
          f"(screenshots in {workdir / 'screenshots'})")
    page.close()
    live.shutdown_kernels(base, token)


def test_presenter_in_voila(browser, voila_server, workdir):
    shots = workdir / "screenshots"
    page = browser.new_page(viewport=PROJECTOR)
    t0 = time.perf_counter()
    page.goto(f"{voila_server}/voila/render/presenter.ipynb", timeout=120_000)
    dashboard = live.wait_for_dashboard(page, ".cpteach-dashboard")
    load_time = time.perf_counter() - t0
    assert page.locator(".jp-InputArea-editor").count() == 0, "the presenter view shows code"
    tabs = page.locator(".cpteach-presenter .lm-TabBar-tab")
    assert tabs.count() >= 3, "expected one tab per dashboard"
    visible = page.locator(".cpteach-dashboard:visible").first
    assert "update" not in page.locator(".cpteach-status:visible").first.inner_text(), "a debug counter is visible"
    # every tab title dark on its light background (lecturer review: the inactive ones were grey on grey)
    colours = tabs.evaluate_all("tabs => tabs.map(t => getComputedStyle(t).color)")
    assert all(max(int(v) for v in re.findall(r"\d+", c)[:3]) <= 0x40 for c in colours), colours

    for i in range(tabs.count()):                        # every tab fits the projector, sliders and figure
        tabs.nth(i).click()
        page.wait_for_selector(".cpteach-dashboard:visible img[src]", timeout=60_000)
        time.sleep(0.5)
        page.screenshot(path=str(shots / f"presenter-tab{i}.png"))
        visible = page.locator(".cpteach-dashboard:visible").first
        smallest = page.evaluate(SMALLEST_TEXT)
        assert smallest["px"] >= 20, f"tab {i}: text of {smallest['px']} px: {smallest['text']!r}"
        record = live.frame_record(visible)
        # the figure keeps its aspect inside its box (object-fit: contain): the width it is drawn at
        drawn = visible.locator("img").first.evaluate(
            "img => Math.min(img.clientWidth, img.clientHeight * img.naturalWidth / img.naturalHeight)")
        shown = drawn / record["figure_css_width"]
        assert record["min_text_px"] * shown >= 18 - 0.5, (
            f"tab {i}: the figure's smallest text is {record['min_text_px'] * shown:.1f} px on screen")
        figure = visible.locator("img").first.bounding_box()
        handles = [visible.locator(".noUi-handle").nth(j).bounding_box()
                   for j in range(visible.locator(".noUi-handle").count())]
        assert handles, f"tab {i} has no slider"
        for box in [figure] + handles:
            assert box["x"] >= 0 and box["y"] >= 0, f"tab {i}: {box} starts off screen"
            assert box["x"] + box["width"] <= PROJECTOR["width"] + 1, f"tab {i}: {box} wider than 1280 px"
            assert box["y"] + box["height"] <= PROJECTOR["height"] + 1, f"tab {i}: {box} below 720 px"

    tabs.nth(0).click()
    dashboard = live.wait_for_dashboard(page, ".cpteach-dashboard:visible")
    drag = check_drag(page, dashboard, "presenter")

    fixed_point = next(i for i in range(tabs.count()) if "Fixed point" in tabs.nth(i).inner_text())
    tabs.nth(fixed_point).click()                         # a problem switch keeps the tab on screen
    page.wait_for_selector(".cpteach-dashboard:visible img[src]", timeout=60_000)
    frames = page.evaluate("() => window.__cpteach.frames.length")
    t_switch = time.perf_counter()
    page.locator(".cpteach-presenter select").first.select_option(index=1)
    page.wait_for_function("n => window.__cpteach.frames.length > n", arg=frames, timeout=60_000)
    switch_time = time.perf_counter() - t_switch
    assert "lm-mod-current" in (tabs.nth(fixed_point).get_attribute("class") or ""), "the problem switch changed the tab"
    print(f"\npresenter (Voila, 1280x720): first figure {load_time:.1f} s after load; drag showed "
          f"{drag['frames']} figures in 1.2 s; problem switch {switch_time:.2f} s (screenshots in {shots})")
    assert switch_time < 10
    page.close()
