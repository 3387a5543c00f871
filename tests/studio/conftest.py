"""The web studio in real headless Chromium (Debian's, never a downloaded browser)
against a real `personacast serve --embedded` process. Screenshots of every step go
to test-results/studio/ beside the other test results."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from studio_browser import SCREENSHOTS

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The console script installed beside this interpreter: the command users run.
PERSONACAST = str(Path(sys.executable).with_name("personacast"))


def _personacast(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([PERSONACAST, *args], env=env, capture_output=True, text=True, check=True)


@pytest.fixture(scope="session")
def studio(tmp_path_factory):
    """(base URL, API key) of a fresh embedded server with its own data folder."""
    data = tmp_path_factory.mktemp("studio-data")
    env = {**os.environ, "PERSONACAST_DATA_DIR": str(data), "PERSONACAST_TTS_THREADS": "1", "PERSONACAST_USE_CACHE": "true"}
    env.pop("PERSONACAST_DATABASE_URL", None)
    env.pop("PERSONACAST_STORAGE_URL", None)
    key = _personacast("keys", "create", "--tenant", "studio-test", env=env).stdout.strip().splitlines()[-1]
    port = _free_port()
    log = open(data / "server.log", "w")
    server = subprocess.Popen(
        [PERSONACAST, "serve", "--embedded", "--workers", "1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"the server did not start:\n{(data / 'server.log').read_text()}")
            time.sleep(0.3)
    yield base, key
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (Debian packages chromium and chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def _screenshot_folder():
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)


@pytest.fixture
def page(browser, studio):
    base, _ = studio
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.console_problems = problems
    yield page
    context.close()
