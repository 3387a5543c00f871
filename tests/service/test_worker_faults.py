"""Faults with the real parts: Celery workers as separate processes (``personacast
worker``), the real Redis and PostgreSQL, artefacts in a local folder, and real renders
at the fastest settings (espeak voice, preview quality, square, one or two sentences).

What is shown: a job sent through CeleryDispatcher completes; a worker killed with
SIGKILL mid-render loses nothing (the reconciler requeues the job once its 3-second lease
runs out, a new worker renders it, one set of artefacts results); jobs whose broker
messages vanish with a Redis restart all complete; a permanent error fails the job once,
with its message, and is not retried; a transient error releases the job, which Celery
retries.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from PIL import Image

from personacast.errors import TransientBackendError
from personacast.samples import sample_image
from personacast.service.records import JobStatus, RenderRecord
from personacast.service.storage.local import LocalStorage
from personacast.service.store import JobStore
from personacast.service.worker.app import celery_app
from personacast.service.worker.dispatch import CeleryDispatcher
from personacast.settings import Settings

PERSONACAST = Path(sys.executable).with_name("personacast")
LEASE_S = 3.0
ONE_LINE = "Hello from the queue."
TWO_LINES = "Hello from the queue. This one takes a little longer to say."

pytestmark = pytest.mark.timeout(150)


@pytest.fixture(scope="module")
def postgres_url(postgres) -> str:
    from personacast.service.migrate import upgrade_database

    url = postgres.create_database()
    upgrade_database(Settings(database_url=url))
    return url


def _wait(predicate: Callable[[], Any], timeout_s: float, what: str, logs: Callable[[], str] = str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}\n{logs()}")


@dataclass
class Cluster:
    """One deployment under test: its settings, the test's own view of the store and the
    storage, and the processes it started (all killed at the end)."""

    settings: Settings
    folder: Path
    store: JobStore
    storage: LocalStorage
    dispatcher: CeleryDispatcher
    tenant_id: uuid.UUID
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("PERSONACAST_")}
        values = {
            "DATA_DIR": str(self.settings.data_dir), "DATABASE_URL": self.settings.resolved_database_url,
            "REDIS_URL": self.settings.redis_url.get_secret_value(), "STORAGE_URL": self.settings.resolved_storage_url,
            "JOB_LEASE_S": self.settings.job_lease_s, "USE_CACHE": "false", "TTS_THREADS": 1,
            "RECONCILE_INTERVAL_S": self.settings.reconcile_interval_s,
            "REQUEUE_QUEUED_AFTER_S": self.settings.requeue_queued_after_s,
        }
        return env | {f"PERSONACAST_{name}": str(value) for name, value in values.items()}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """``personacast ARGS...`` in its own process group, logging to NAME.log."""
        with (self.folder / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [str(PERSONACAST), *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes[name] = process
        return process

    def start_worker(self, name: str, *args: str) -> subprocess.Popen:
        return self.start(name, "worker", "--queues=cpu,gpu", "--loglevel=INFO", *args)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to the process and its pool processes, and wait for it."""
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name} ---\n{log.read_text(errors='replace')[-4000:]}" for log in sorted(self.folder.glob("*.log"))
        )

    def upload_portrait(self, image: Path | None = None) -> str:
        key = f"uploads/{uuid.uuid4().hex}.png"
        self.storage.put_file(image or sample_image("astronaut"), key)
        return key

    def create(self, text: str = ONE_LINE, image_key: str | None = None) -> uuid.UUID:
        """A queued render, as the API stores it (not yet sent to the broker)."""
        request = {
            "image_key": image_key or self.upload_portrait(), "script": {"text": text}, "voice": "sofia-espeak",
            "quality": "preview", "formats": ["square"],
        }
        return self.store.create_render(self.tenant_id, request).record.id

    def submit(self, text: str = ONE_LINE, image_key: str | None = None) -> uuid.UUID:
        render_id = self.create(text, image_key)
        self.dispatcher.enqueue(render_id)
        return render_id

    def record(self, render_id: uuid.UUID) -> RenderRecord:
        return self.store.get_render(self.tenant_id, render_id)

    def wait_finished(self, render_ids: list[uuid.UUID], timeout_s: float = 60) -> list[RenderRecord]:
        def finished() -> list[RenderRecord] | None:
            records = [self.record(render_id) for render_id in render_ids]
            return records if all(record.status.finished for record in records) else None

        return _wait(finished, timeout_s, f"{len(render_ids)} render(s) to finish", self.logs)

    def videos(self, render_id: uuid.UUID) -> list[Path]:
        return sorted((self.storage.root / "renders" / str(render_id)).glob("*.mp4"))

    def close(self) -> None:
        for name in list(self.processes):
            self.kill(name)
        self.store.close()


@pytest.fixture
def make_cluster(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    """Clusters on the tests' PostgreSQL database (emptied first) and, unless told
    otherwise, the tests' Redis database; ``overrides`` are Settings fields."""
    from personacast.service.db import Base, make_engine

    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {', '.join(table.name for table in Base.metadata.sorted_tables)}")
    engine.dispose()
    clusters: list[Cluster] = []

    def make(**overrides: Any) -> Cluster:
        folder = tmp_path / f"cluster{len(clusters)}"
        (folder / "data").mkdir(parents=True)
        settings = Settings(**{
            "data_dir": folder / "data", "database_url": postgres_url, "redis_url": redis_url,
            "storage_url": (folder / "artefacts").as_uri(), "job_lease_s": LEASE_S, "use_cache": False,
            "reconcile_interval_s": 0.5, **overrides,
        })
        store = JobStore.from_settings(settings)
        cluster = Cluster(
            settings, folder, store, LocalStorage(folder / "artefacts"),
            CeleryDispatcher(celery_app(settings), store, settings), store.create_tenant(f"t-{uuid.uuid4().hex[:8]}").id,
        )
        clusters.append(cluster)
        return cluster

    yield make
    for cluster in clusters:
        cluster.close()


def _assert_published(cluster: Cluster, record: RenderRecord) -> None:
    assert record.status is JobStatus.SUCCEEDED, f"{record.error}\n{cluster.logs()}"
    assert {"video.mp4", "video.json", "video.srt", "video.vtt", "video.jpg", "video.txt"} <= set(record.artefacts)
    assert all(cluster.storage.exists(key) for key in record.artefacts.values())
    assert [path.name for path in cluster.videos(record.id)] == ["video.mp4"]


@pytest.mark.slow
def test_a_job_sent_through_the_dispatcher_is_rendered_and_published(make_cluster) -> None:
    cluster = make_cluster()
    cluster.start_worker("worker", "--concurrency=1")
    render_id = cluster.submit()

    [record] = cluster.wait_finished([render_id])

    _assert_published(cluster, record)
    assert record.attempts == 1 and record.error is None
    usage = cluster.store.render_usage(cluster.tenant_id, render_id)
    assert {item.name for item in usage} >= {"voice", "render"}


@pytest.mark.slow
def test_a_worker_killed_mid_render_loses_nothing(make_cluster) -> None:
    cluster = make_cluster()
    cluster.start_worker("first", "--concurrency=1")
    render_id = cluster.submit(TWO_LINES)

    def rendering() -> bool:
        record = cluster.record(render_id)
        assert not record.status.finished, "the render finished before it could be interrupted"
        return record.status is JobStatus.RUNNING and any(
            stage.startswith("render") and fraction > 0 for stage, fraction in record.progress.items()
        )

    _wait(rendering, 60, "the render to be under way", cluster.logs)
    cluster.kill("first")  # SIGKILL to the worker and its pool process: a machine gone
    dead = cluster.record(render_id)
    assert dead.status is JobStatus.RUNNING and dead.attempts == 1

    # The new worker also runs Celery beat, whose reconcile task takes the job back once
    # the dead worker's lease expires and sends it again.
    cluster.start_worker("second", "--concurrency=1", "--beat")
    [record] = cluster.wait_finished([render_id], timeout_s=90)

    _assert_published(cluster, record)
    assert record.attempts == 2
    assert record.worker_id is None and record.started_at is not None and record.started_at > dead.started_at


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A Redis server of the test's own, without persistence, so a restart loses every
    message, as a broker without AOF does."""

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        _wait(up, 10, "redis-server to start")
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def queued(self, queue: str = "cpu") -> int:
        client = redis.Redis.from_url(self.url)
        try:
            return int(client.llen(queue))
        finally:
            client.close()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_jobs_survive_a_broker_that_restarts_empty(make_cluster, redis_server) -> None:
    # A lease long enough that two renders sharing a loaded 2-core machine never miss
    # it: this test is about lost broker messages, and a lapsed lease would (rightly)
    # give a job a second attempt.
    cluster = make_cluster(redis_url=redis_server.url, requeue_queued_after_s=1.0, job_lease_s=30.0)
    cluster.start("reconciler", "reconcile")
    waiting = [cluster.submit() for _ in range(3)]  # no worker is running
    # The reconciler is connected to the broker too: it has sent the waiting jobs again.
    reconciler_log = cluster.folder / "reconciler.log"
    _wait(lambda: "sending it again" in reconciler_log.read_text(), 30, "the reconciler's first pass", cluster.logs)
    assert redis_server.queued() >= 3

    redis_server.stop()
    redis_server.start()  # empty: every message is gone
    # The API's producer had a connection to the old server: sending may fail (the job
    # stays queued for the reconciler) or reconnect; either way the job must not be lost.
    waiting.append(cluster.create())
    with contextlib.suppress(TransientBackendError):
        cluster.dispatcher.enqueue(waiting[-1])

    cluster.start_worker("worker", "--concurrency=2")
    records = cluster.wait_finished(waiting, timeout_s=100)

    for record in records:
        _assert_published(cluster, record)
        # Sent more than once by the reconciler while waiting, claimed once.
        assert record.attempts == 1


@pytest.mark.slow
def test_a_permanent_error_fails_the_job_once_without_retries(make_cluster, redis_url, tmp_path) -> None:
    cluster = make_cluster()
    blank = tmp_path / "wall.png"
    Image.new("RGB", (640, 640), (180, 190, 200)).save(blank)
    cluster.start_worker("worker", "--concurrency=1")
    render_id = cluster.submit(image_key=cluster.upload_portrait(blank))

    [record] = cluster.wait_finished([render_id])

    assert record.status is JobStatus.FAILED, cluster.logs()
    assert record.error is not None and "no face found" in record.error
    assert record.attempts == 1 and record.artefacts == {} and cluster.videos(render_id) == []
    # Nothing is waiting to try it again: not in the queue, not held by a worker.
    time.sleep(LEASE_S / 2)
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.llen("cpu") == 0 and client.hlen("unacked") == 0
    finally:
        client.close()
    assert cluster.record(render_id).attempts == 1


@pytest.mark.slow
def test_a_transient_error_releases_the_job_and_celery_retries_it(make_cluster, monkeypatch) -> None:
    from celery.contrib.testing.worker import start_worker

    from personacast.service.worker import app as worker_app
    from personacast.stages.voice.espeak import EspeakVoiceEngine

    cluster = make_cluster()
    speak = EspeakVoiceEngine.speak
    calls: list[int] = []

    def flaky_speak(self, request, profile):
        calls.append(1)
        if len(calls) == 1:
            raise TransientBackendError("the voice engine is overloaded (simulated)")
        return speak(self, request, profile)

    released: list[tuple[uuid.UUID, str | None]] = []
    release = JobStore.release

    def recording_release(self, render_id, worker_id, error=None):
        released.append((render_id, error))
        return release(self, render_id, worker_id, error)

    monkeypatch.setattr(EspeakVoiceEngine, "speak", flaky_speak)
    monkeypatch.setattr(JobStore, "release", recording_release)
    monkeypatch.setattr(worker_app, "RETRY_BASE_DELAY_S", 0.5)

    app = celery_app(cluster.settings)
    render_id = cluster.submit()
    # A worker in this process (a thread), so that the patches above apply to it.
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="INFO"):
        [record] = cluster.wait_finished([render_id])

    _assert_published(cluster, record)
    assert released == [(render_id, "the voice engine is overloaded (simulated)")]
    assert record.attempts == 2 and len(calls) >= 2
