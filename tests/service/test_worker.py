"""The Celery side of the service without rendering: the app's settings, the dispatcher
on a real Redis, the reconciler on both databases, and render_job's retry rule.
Workers killed mid-render and a broker that loses its messages: test_worker_faults.py."""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from personacast.errors import ConfigError, TransientBackendError
from personacast.service.dispatch import Dispatcher
from personacast.service.records import JobStatus
from personacast.service.worker.app import RECONCILE_TASK, RENDER_TASK, celery_app, retry_delay, worker_id
from personacast.service.worker.dispatch import CeleryDispatcher
from personacast.registry import backend_names
from personacast.service.worker.queues import GPU_ANIMATORS, queue_for
from personacast.service.worker.reconcile import reconcile
from personacast.settings import Settings

REQUEST = {"image_key": "uploads/face.png", "script": {"text": "Hello."}}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _messages(url: str, queue: str) -> list[dict[str, Any]]:
    """The task messages waiting in a Redis queue: headers, and the decoded arguments."""
    client = redis.Redis.from_url(url)
    try:
        raw = client.lrange(queue, 0, -1)
    finally:
        client.close()
    messages = []
    for item in raw:
        envelope = json.loads(item)
        args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        messages.append({"task": envelope["headers"]["task"], "args": args})
    return messages


@dataclass
class RecordingDispatcher:
    """Notes what it was given, and the time in the store, as every dispatcher does."""

    store: Any
    name: str = "recording"
    sent: list[uuid.UUID] = field(default_factory=list)

    def enqueue(self, render_id: uuid.UUID) -> None:
        self.sent.append(render_id)
        self.store.mark_enqueued(render_id)

    def check(self) -> None:
        pass


def test_app_acknowledges_late_keeps_no_results_and_outwaits_renders() -> None:
    settings = Settings(render_soft_time_limit_s=600, render_time_limit_s=660)
    conf = celery_app(settings).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.result_backend is None and conf.task_ignore_result
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (600, 660)
    assert conf.broker_transport_options["visibility_timeout"] > 660
    assert sorted(queue.name for queue in conf.task_queues) == ["cpu", "gpu"]
    assert conf.beat_schedule["reconcile"]["task"] == RECONCILE_TASK


def test_hard_time_limit_must_exceed_the_soft_one() -> None:
    with pytest.raises(ConfigError, match="TIME_LIMIT"):
        celery_app(Settings(render_soft_time_limit_s=600, render_time_limit_s=600))


def test_importing_personacast_does_not_import_celery() -> None:
    import subprocess
    import sys

    code = "import sys, personacast, personacast.cli; print('celery' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_gpu_animators_go_to_the_gpu_queue() -> None:
    assert queue_for("landmark_warp") == "cpu"
    assert queue_for("neural") == "gpu"
    assert set(GPU_ANIMATORS) <= set(backend_names("animator"))  # only registered names


def test_worker_id_names_host_and_process() -> None:
    assert worker_id() == f"{socket.gethostname()}:{os.getpid()}"


def test_retry_delay_grows_and_is_capped() -> None:
    assert 10 <= retry_delay(0) <= 20
    assert retry_delay(3) > retry_delay(0)
    assert retry_delay(30) <= 600 * 1.2


@pytest.mark.parametrize(("animator", "queue"), [("landmark_warp", "cpu"), ("neural", "gpu")])
def test_dispatcher_sends_the_id_to_its_queue_and_notes_it(store, clock, redis_url, animator, queue) -> None:
    tenant = store.create_tenant("t")
    job = store.create_render(tenant.id, REQUEST).record
    clock.advance(30)
    settings = Settings(redis_url=redis_url, animator_backend=animator)
    dispatcher = CeleryDispatcher(celery_app(settings), store, settings)
    assert isinstance(dispatcher, Dispatcher)
    dispatcher.enqueue(job.id)
    assert _messages(redis_url, queue) == [{"task": RENDER_TASK, "args": [str(job.id)]}]
    assert _messages(redis_url, "gpu" if queue == "cpu" else "cpu") == []
    assert store.get_render(tenant.id, job.id).enqueued_at == clock.now
    dispatcher.check()


def test_dispatcher_without_a_broker_raises_transient_errors(store, clock) -> None:
    tenant = store.create_tenant("t")
    job = store.create_render(tenant.id, REQUEST).record
    clock.advance(30)
    settings = Settings(redis_url=f"redis://127.0.0.1:{_closed_port()}/0")
    dispatcher = CeleryDispatcher(celery_app(settings), store, settings)
    with pytest.raises(TransientBackendError, match="broker"):
        dispatcher.enqueue(job.id)
    with pytest.raises(TransientBackendError, match="broker"):
        dispatcher.check()
    # Not noted as sent, so the reconciler sends it once the broker is back.
    assert store.get_render(tenant.id, job.id).enqueued_at == job.enqueued_at


def test_reconcile_requeues_dead_workers_jobs_and_resends_lost_ones(store, clock) -> None:
    settings = Settings(job_max_attempts=2, requeue_queued_after_s=100)
    tenant = store.create_tenant("t")
    dead, exhausted, canceled, alive, lost, waiting = (store.create_render(tenant.id, REQUEST).record for _ in range(6))
    for job in (dead, exhausted, canceled, alive):
        assert store.claim(job.id, "w1") is not None
    # exhausted: claimed once more after an earlier expiry, so it is on its last attempt
    clock.advance(store.lease_s + 1)
    assert store.recover_expired(exhausted.id, max_attempts=2) is not None
    assert store.claim(exhausted.id, "w2") is not None
    store.request_cancel(tenant.id, canceled.id)
    clock.advance(store.lease_s + 1)
    store.heartbeat(alive.id, "w1")
    store.mark_enqueued(waiting.id)  # sent again just now: not stale
    dispatcher = RecordingDispatcher(store)

    report = reconcile(store, dispatcher, settings)

    assert sorted(report.requeued) == sorted([dead.id, lost.id])
    assert sorted(dispatcher.sent) == sorted([dead.id, lost.id])
    assert report.failed == [exhausted.id] and report.canceled == [canceled.id]
    status = {job.id: store.get_render(tenant.id, job.id).status for job in (dead, exhausted, canceled, alive, lost, waiting)}
    assert status == {
        dead.id: JobStatus.QUEUED, exhausted.id: JobStatus.FAILED, canceled.id: JobStatus.CANCELED,
        alive.id: JobStatus.RUNNING, lost.id: JobStatus.QUEUED, waiting.id: JobStatus.QUEUED,
    }
    assert "giving up" in (store.get_render(tenant.id, exhausted.id).error or "")
    # Nothing is stale right after a pass.
    assert reconcile(store, RecordingDispatcher(store), settings).requeued == []


def test_reconcile_task_resends_a_lost_job(database_url, redis_url) -> None:
    from personacast.service.store import JobStore

    settings = Settings(database_url=database_url, redis_url=redis_url, requeue_queued_after_s=0.001)
    store = JobStore.from_settings(settings)
    try:
        tenant = store.create_tenant(f"t-{uuid.uuid4().hex[:8]}")
        job = store.create_render(tenant.id, REQUEST).record
        celery_app(settings).tasks[RECONCILE_TASK].apply().get()
        assert {"task": RENDER_TASK, "args": [str(job.id)]} in _messages(redis_url, "cpu")
    finally:
        store.close()


def test_render_job_retries_only_when_the_runner_released_the_job(monkeypatch) -> None:
    from personacast.service import runner

    render_id = uuid.uuid4()
    outcomes: list[BaseException | None] = []
    calls: list[tuple[uuid.UUID, str, int]] = []

    def fake_execute(store, storage, settings, job_id, worker, *, max_attempts):
        calls.append((job_id, worker, max_attempts))
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return None

    monkeypatch.setattr(runner, "execute", fake_execute)
    monkeypatch.setattr("personacast.service.worker.app.open_storage", lambda settings: None)
    monkeypatch.setattr("personacast.service.worker.app.JobStore.from_settings", classmethod(lambda cls, settings: None))
    task = celery_app(Settings(job_max_attempts=3)).tasks[RENDER_TASK]
    released = runner.RetryableJobError(render_id, 1, "provider busy")

    outcomes[:] = [released, released, None]
    assert task.apply(args=[str(render_id)]).successful()
    assert calls == [(render_id, worker_id(), 3)] * 3

    calls.clear()
    outcomes[:] = [ValueError("a bug")]
    result = task.apply(args=[str(render_id)])
    assert result.failed() and isinstance(result.result, ValueError)
    assert len(calls) == 1  # anything but the runner's marker is not retried here

    calls.clear()
    outcomes[:] = [released] * 5
    assert task.apply(args=[str(render_id)]).failed()
    assert len(calls) == 3  # the backstop: job_max_attempts in all
