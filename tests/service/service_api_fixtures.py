"""Fixtures for the API's tests (imported by test_api*.py): an app on a fresh SQLite
database (a copy of one migrated template) with local storage, with or without its
embedded worker threads running, and tenants with keys."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from personacast.settings import Settings

# Generous limits: tests that are about limits set their own.
BASE = {"webhook_allow_private": True, "rate_limit_per_minute": 600_000.0, "rate_limit_burst": 100_000,
        "webhook_attempts": 2, "webhook_timeout_s": 2.0, "max_upload_bytes": 4 * 1024 * 1024}


@dataclass
class Api:
    client: TestClient
    settings: Settings

    @property
    def store(self):
        return self.client.app.state.service.store

    def tenant(self, name: str) -> tuple[object, dict[str, str]]:
        """A tenant and the headers that authenticate as it."""
        record = self.store.create_tenant(name)
        key = self.store.create_api_key(record.id).plaintext
        return record, {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from personacast.service.migrate import upgrade_database

    folder = tmp_path_factory.mktemp("api-template")
    upgrade_database(Settings(data_dir=folder))
    return folder / "personacast.db"


@pytest.fixture
def api_settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(migrated_sqlite, data / "personacast.db")
    return Settings(data_dir=data, **BASE)


@contextmanager
def running_api(settings: Settings, *, live: bool, **options) -> Iterator[Api]:
    """The app; ``live`` runs its lifespan (worker threads), otherwise jobs stay queued."""
    from personacast.service.api import create_app

    app = create_app(settings, embedded=True, **options)
    client = TestClient(app)
    if live:
        with client:
            yield Api(client, settings)
    else:
        try:
            yield Api(client, settings)
        finally:
            app.state.service.store.close()


@pytest.fixture
def api(api_settings: Settings) -> Iterator[Api]:
    with running_api(api_settings, live=False) as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def api_on_both(request: pytest.FixtureRequest, api_settings: Settings) -> Iterator[Api]:
    """``api`` on SQLite, then on a fresh PostgreSQL database."""
    from personacast.service.migrate import upgrade_database

    settings = api_settings
    if request.param == "postgresql":
        url = SecretStr(request.getfixturevalue("postgres").create_database())
        settings = api_settings.model_copy(update={"database_url": url})
        upgrade_database(settings)
    with running_api(settings, live=False) as running:
        yield running


@pytest.fixture
def live_api(api_settings: Settings) -> Iterator[Api]:
    with running_api(api_settings, live=True, worker_threads=2) as running:
        yield running


@dataclass
class Receiver:
    """A local HTTP server that records what is POSTed to it."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def webhook_receiver() -> Iterator[Receiver]:
    received: list[tuple[dict[str, str], bytes]] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((dict(self.headers.items()), body))
            arrived.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/personacast?token=abc", received, arrived)
    finally:
        server.shutdown()
        server.server_close()
