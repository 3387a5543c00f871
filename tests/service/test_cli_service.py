"""personacast keys / db upgrade, and serve --embedded as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from personacast.cli import app
from personacast.service.store import JobStore
from personacast.settings import Settings


def test_keys_create_list_revoke(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--tenant", "acme", "--name", "ci"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    store = JobStore.from_settings(Settings(data_dir=tmp_path))
    try:
        tenant = store.resolve_api_key(key)
        assert tenant is not None and tenant.name == "acme"
        second = runner.invoke(app, ["keys", "create", "--tenant", "acme"]).output.strip().splitlines()[-1]
        assert store.resolve_api_key(second) == tenant  # the same tenant, a new key
        prefix = key.split("_")[1]
        listed = runner.invoke(app, ["keys", "list", "--tenant", "acme"])
        assert prefix in listed.output and key not in listed.output
        assert runner.invoke(app, ["keys", "revoke", prefix, "--tenant", "acme"]).exit_code == 0
        assert store.resolve_api_key(key) is None and store.resolve_api_key(second) == tenant
    finally:
        store.close()
    missing = runner.invoke(app, ["keys", "list", "--tenant", "nobody"])
    assert missing.exit_code == 2 and "no tenant named 'nobody'" in missing.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0


def test_serve_embedded_answers_on_its_port(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PERSONACAST_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [Path(sys.executable).with_name("personacast"), "serve", "--embedded", "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stdout.read().decode(errors="replace")
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/renders")
        try:
            urllib.request.urlopen(request, timeout=5)
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
        assert (tmp_path / "personacast.db").is_file()  # migrated before serving
    finally:
        process.terminate()
        process.wait(timeout=30)
