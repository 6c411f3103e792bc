"""Fixtures for the browser tests: a JupyterLab (and Voila) server on loopback and headless Chromium.

The tests skip locally when Chromium or Playwright is missing; with
CPTEACH_REQUIRE_BROWSER=1 (set by .ci/run) they fail instead, so CI cannot pass silently.
"""
import os
import shutil
from pathlib import Path

import pytest

from . import live

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def browser():
    reason = live.chromium_missing()
    if reason:
        if os.environ.get("CPTEACH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=live.CHROMIUM, args=live.CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    """A copy of notebooks/ (JupyterLab saves outputs; the repository stays clean)."""
    path = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "notebooks", path / "notebooks")
    (path / "screenshots").mkdir()
    return path


@pytest.fixture(scope="session")
def jupyterlab(workdir):
    proc, base, token = live.start_lab(workdir / "notebooks", workdir)
    yield base, token
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def voila_server(workdir):
    proc, base = live.start_voila(workdir / "notebooks", workdir / "voila.log")
    yield base
    proc.terminate()
    proc.wait(timeout=30)
