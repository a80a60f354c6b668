"""The private-endpoint notebook as a person uses it: JupyterLab (`seclab jupyter`) in headless Chromium.

Opens the lab's notebook, runs its first cells (set-up, the look-around cell, task 1) and task 1's "check my
progress" cell, and asserts the grader's findings render as `.seclab-check` elements. A screenshot lands in
tests/artifacts/ (gitignored). Debian's /usr/bin/chromium is driven by Playwright's Python API; no browser is ever
downloaded: without it the test is skipped.

JupyterLab autosaves, so it is served from a copy of the lab folder (SECLAB_HOME pointing at a temporary content
root whose graders/ and env/ link to the real ones): the source notebook in the checkout is never written.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
LAB = "private-endpoint"
NOTEBOOK = "private-endpoint.ipynb"
CELLS_THROUGH_FIRST_CHECK = 8  # intro, set-up (md + code), look around (md + code), task 1 (md + code), check

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("private-endpoint-browser")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _content_root(tmp: Path) -> Path:
    root = tmp / "content"
    (root / "labs").mkdir(parents=True)
    shutil.copytree(ROOT / "labs" / LAB, root / "labs" / LAB,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for name in ("graders", "env"):
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    return root


def _wait_for_url(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "http://127.0.0.1:" in line:
            return line[line.index("http://"):].strip()
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"seclab jupyter printed no URL (exit {proc.poll()})")


def _drain(proc: subprocess.Popen[str], lines: list[str]) -> None:
    """Keep reading JupyterLab's log so it never blocks on a full pipe; the tail explains a failure."""
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        del lines[:-40]


def _wait_until_serving(url: str, timeout: float = 90.0) -> None:
    status = url.replace("/lab?", "/api/status?")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(status, timeout=2) as resp:  # noqa: S310 - loopback only
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("JupyterLab did not answer in time")


def test_notebook_runs_in_jupyterlab_and_shows_findings(sim: Any, learner: Any, tmp_path: Path) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")

    env = dict(os.environ, SECLAB_HOME=str(_content_root(tmp_path)), SECLAB_LEARNER=learner.name,
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"), PYTHONUNBUFFERED="1")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root; Jupyter refuses that by default
        config_dir = tmp_path / "jupyter-config"
        config_dir.mkdir()
        # jupyter_config.* is read even when a --config file is given (seclab jupyter passes one)
        (config_dir / "jupyter_config.json").write_text('{"ServerApp": {"allow_root": true}}')
    port = _free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "seclab"), "jupyter", "--port", str(port),
                             "--no-browser", "--learner", learner.name],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    artifacts = ROOT / "tests" / "artifacts"
    artifacts.mkdir(exist_ok=True)
    try:
        url = _wait_for_url(proc)
        log: list[str] = []
        threading.Thread(target=_drain, args=(proc, log), daemon=True).start()
        try:
            _wait_until_serving(url)
        except AssertionError:
            raise AssertionError("JupyterLab did not answer in time:\n" + "".join(log)) from None
        notebook_url = url.replace("/lab?", f"/lab/tree/{LAB}/{NOTEBOOK}?")
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(notebook_url, wait_until="domcontentloaded", timeout=120_000)
                first = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first
                first.wait_for(timeout=120_000)
                page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                                       ".jp-Toolbar-kernelStatus, .jp-KernelStatus", timeout=120_000)
                first.click()
                page.keyboard.press("Escape")
                for _ in range(CELLS_THROUGH_FIRST_CHECK):
                    page.keyboard.press("Shift+Enter")
                    page.wait_for_timeout(300)
                findings = page.locator(".seclab-check")
                findings.first.wait_for(timeout=240_000)
                page.wait_for_timeout(1000)
                findings.first.scroll_into_view_if_needed()
                page.screenshot(path=str(artifacts / "private_endpoint_jupyterlab.png"), full_page=False)
                statuses = [findings.nth(i).get_attribute("data-status") for i in range(findings.count())]
                texts = " ".join(findings.all_inner_texts())
                setup_table = page.locator("text=Your scenario (private-endpoint").count()
            finally:
                browser.close()
        assert setup_table >= 1, "the set-up cell did not render the scenario facts"
        assert len(statuses) == 7, statuses  # task 1 has seven checks
        assert set(statuses) <= {"PASS", "FAIL"} and "PASS" in statuses, statuses
        assert "sagemaker.amazonaws.com" in texts
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
