"""The Celery app: a Redis broker that carries job ids, and two tasks.

    render_job(render_id)   runs one render through runner.execute
    reconcile()             re-sends stale jobs (reconcile.py); on Celery beat's schedule

The job store is the source of truth, so Celery keeps no results and the tasks stay thin:
a delivery is only a hint that a job may be waiting. Messages are acknowledged after the
task ends (a worker that dies mid-render leaves its message to be delivered again), and a
second delivery of a job that another worker holds does nothing (JobStore.claim).
"""

from __future__ import annotations

import logging
import os
import random
import socket
from dataclasses import dataclass
from uuid import UUID

from celery import Celery, Task
from kombu import Queue as KombuQueue

from ...errors import ConfigError
from ...settings import Settings
from ..storage import Storage, open_storage
from ..store import JobStore
from .queues import QUEUES

RENDER_TASK = "personacast.render_job"
RECONCILE_TASK = "personacast.reconcile"

# Retry n (from 0) of a transient failure waits RETRY_BASE_DELAY_S * 2**n, capped, with
# jitter so that the jobs one provider outage failed do not all come back at once.
RETRY_BASE_DELAY_S = 15.0
MAX_RETRY_DELAY_S = 600.0

log = logging.getLogger(__name__)


def worker_id() -> str:
    """This process's name in the job store: one per pool process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def retry_delay(retries: int) -> float:
    """Seconds before transient retry number ``retries + 1``."""
    delay = min(RETRY_BASE_DELAY_S * 2**retries, MAX_RETRY_DELAY_S)
    return delay * random.uniform(0.8, 1.2)


@dataclass(frozen=True)
class _Resources:
    pid: int
    store: JobStore
    storage: Storage
    worker_id: str


class _ProcessResources:
    """The store and storage of the current worker process, made on its first task: a
    forked pool process must not reuse its parent's database connections."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._current: _Resources | None = None

    def get(self) -> _Resources:
        if self._current is None or self._current.pid != os.getpid():
            self._current = _Resources(
                os.getpid(), JobStore.from_settings(self._settings), open_storage(self._settings), worker_id()
            )
        return self._current


def celery_app(settings: Settings) -> Celery:
    """The Celery app for ``settings``, with the render_job and reconcile tasks."""
    if settings.render_time_limit_s <= settings.render_soft_time_limit_s:
        raise ConfigError(
            "PERSONACAST_RENDER_TIME_LIMIT_S must be longer than PERSONACAST_RENDER_SOFT_TIME_LIMIT_S",
            hint="the hard limit only kills renders that ignored the soft one",
        )
    app = Celery("personacast", set_as_current=False)
    app.conf.update(
        broker_url=settings.redis_url.get_secret_value(),
        # Redis hands an unacknowledged message to another worker after this long; it
        # must outlast the longest render and a held retry, or live renders get a twin
        # (harmless, since claims are atomic, but wasted broker traffic).
        broker_transport_options={"visibility_timeout": int(settings.render_time_limit_s + MAX_RETRY_DELAY_S * 1.2) + 60},
        broker_connection_retry_on_startup=True,
        # A broker restart must not kill renders in progress: the store tracks them.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.render_soft_time_limit_s,
        task_time_limit=settings.render_time_limit_s,
        task_queues=[KombuQueue(name) for name in QUEUES],
        task_default_queue="cpu",
        beat_schedule={
            "reconcile": {
                "task": RECONCILE_TASK,
                "schedule": settings.reconcile_interval_s,
                # A reconcile that waited a whole interval behind renders is superseded.
                "options": {"queue": "cpu", "expires": settings.reconcile_interval_s},
            }
        },
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
    )
    resources = _ProcessResources(settings)

    # The runner fails a job at its last attempt instead of releasing it, so Celery's
    # own limit is only a backstop.
    @app.task(name=RENDER_TASK, bind=True, max_retries=settings.job_max_attempts - 1, shared=False)
    def render_job(task: Task, render_id: str) -> None:
        from ..runner import RetryableJobError, execute

        process = resources.get()
        try:
            execute(process.store, process.storage, settings, UUID(render_id), process.worker_id,
                    max_attempts=settings.job_max_attempts)
        except RetryableJobError as released:
            raise task.retry(exc=released, countdown=retry_delay(task.request.retries)) from released

    @app.task(name=RECONCILE_TASK, soft_time_limit=max(settings.reconcile_interval_s, 30.0), shared=False)
    def reconcile_stale() -> None:
        from .dispatch import CeleryDispatcher
        from .reconcile import reconcile

        store = resources.get().store
        reconcile(store, CeleryDispatcher(app, store, settings), settings)

    return app
