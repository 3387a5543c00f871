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
import uuid
from pathlib import Path

import pytest
from studio_browser import SCREENSHOTS, open_page

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The local servers scripts/ensure-services.sh starts (as in tests/service).
POSTGRES_ADMIN_URL = os.environ.get("PERSONACAST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("PERSONACAST_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")

# The console script installed beside this interpreter: the command users run.
PERSONACAST = str(Path(sys.executable).with_name("personacast"))


def _personacast(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([PERSONACAST, *args], env=env, capture_output=True, text=True, check=True)


def _wait_until_up(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"the server did not start:\n{log_path.read_text()}")
            time.sleep(0.3)


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _environment(data: Path, **extra: str) -> dict:
    # The pages make a burst of calls per view; these tests are not about rate limits.
    env = {**os.environ, "PERSONACAST_DATA_DIR": str(data), "PERSONACAST_TTS_THREADS": "1",
           "PERSONACAST_RATE_LIMIT_PER_MINUTE": "6000", "PERSONACAST_RATE_LIMIT_BURST": "500", **extra}
    for name in ("PERSONACAST_DATABASE_URL", "PERSONACAST_STORAGE_URL", "PERSONACAST_REDIS_URL", "PERSONACAST_CONFIG_FILE"):
        if name not in extra:
            env.pop(name, None)
    return env


@pytest.fixture(scope="session")
def studio(tmp_path_factory):
    """(base URL, API key) of `personacast serve --embedded` on its own data folder."""
    data = tmp_path_factory.mktemp("studio-data")
    env = _environment(data)
    key = _personacast("keys", "create", "--tenant", "studio-test", env=env).stdout.strip().splitlines()[-1]
    port = _free_port()
    with open(data / "server.log", "w") as log:
        server = subprocess.Popen(
            [PERSONACAST, "serve", "--embedded", "--workers", "1", "--port", str(port), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, server, data / "server.log")
        yield base, key
        _stop(server)


@pytest.fixture(scope="session")
def full_service(tmp_path_factory):
    """(base URL, API key) of the production layout: `personacast serve` on a fresh
    PostgreSQL database, a `personacast worker` taking renders from Redis."""
    import sqlalchemy

    data = tmp_path_factory.mktemp("studio-service")
    database = f"personacast_studio_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
    env = _environment(
        data, PERSONACAST_DATABASE_URL=POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}",
        PERSONACAST_REDIS_URL=REDIS_URL,
    )
    try:
        key = _personacast("keys", "create", "--tenant", "studio-service", env=env).stdout.strip().splitlines()[-1]
        port = _free_port()
        with open(data / "server.log", "w") as log, open(data / "worker.log", "w") as worker_log:
            server = subprocess.Popen([PERSONACAST, "serve", "--port", str(port), "--log-level", "warning"],
                                      env=env, stdout=log, stderr=subprocess.STDOUT)
            worker = subprocess.Popen([PERSONACAST, "worker", "--queues", "cpu", "--concurrency", "1", "--loglevel", "WARNING"],
                                      env=env, stdout=worker_log, stderr=subprocess.STDOUT)
            base = f"http://127.0.0.1:{port}"
            try:
                _wait_until_up(base, server, data / "server.log")
                yield base, key
            finally:
                _stop(server, worker)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


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
    context, page = open_page(browser, studio[0])
    yield page
    context.close()
