"""Fixtures for the browser tests: a JupyterLab (and Voila) server on loopback and headless Chromium.

The tests skip locally when Chromium or Playwright is missing; with
CPTEACH_REQUIRE_BROWSER=1 (set by .ci/run) they fail instead, so CI cannot pass silently.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing():
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (install it with: apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CPTEACH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(command, url, log_path, timeout=90):
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


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    """A copy of notebooks/ (JupyterLab saves outputs; the repository stays clean)."""
    path = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "notebooks", path / "notebooks")
    (path / "screenshots").mkdir()
    return path


def _lab_settings(path):
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


@pytest.fixture(scope="session")
def jupyterlab(workdir):
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
               f"--port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={workdir / 'notebooks'}",
               f"--LabApp.user_settings_dir={_lab_settings(workdir / 'lab-settings')}",
               f"--LabApp.workspaces_dir={workdir / 'lab-workspaces'}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    base = f"http://127.0.0.1:{port}"
    proc = _start(command, f"{base}/api/status?token={token}", workdir / "jupyterlab.log")
    yield base, token
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="session")
def voila_server(workdir):
    port = _free_port()
    command = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               "--ServerApp.allow_root=True", str(workdir / "notebooks")]
    base = f"http://127.0.0.1:{port}"
    proc = _start(command, base, workdir / "voila.log")
    yield base
    proc.terminate()
    proc.wait(timeout=30)
