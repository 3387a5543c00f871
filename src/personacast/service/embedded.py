"""Embedded mode: jobs run on threads inside the API process (``serve --embedded``).

``EmbeddedWorkers`` runs N threads that claim the oldest queued render from the store
(``claim_next``) and run it with ``runner.run_claimed``, plus one reconciler thread
that takes jobs back from expired leases (a previous process that died mid-job). The
store is the queue, so jobs queued by other processes sharing the database are picked
up too; ``EmbeddedDispatcher`` only wakes idle threads early.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta
from uuid import UUID

from ..errors import BackendError
from ..settings import Settings
from . import webhooks
from .records import JobStatus
from .runner import RetryableJobError, run_claimed
from .storage import Storage
from .store import JobStore

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 2.0  # idle threads look at the store this often, even when not woken
MAX_RETRY_PAUSE_S = 30.0


class EmbeddedWorkers:
    """Worker threads and a reconciler on one store; ``start`` and ``stop`` them with
    the process (the API's lifespan)."""

    def __init__(self, store: JobStore, storage: Storage, settings: Settings, threads: int = 2) -> None:
        if threads < 1:
            raise ValueError("embedded mode needs at least one worker thread")
        self.store, self.storage, self.settings = store, storage, settings
        self._count = threads
        self._wake = threading.Condition()
        self._pending = 0  # wake-ups not yet taken by a thread
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        base = f"embedded-{socket.gethostname()}-{os.getpid()}"
        self._threads = [
            threading.Thread(target=self._work, args=(f"{base}-{n}",), name=f"personacast-worker-{n}", daemon=True)
            for n in range(self._count)
        ]
        self._threads.append(threading.Thread(target=self._reconcile, name="personacast-reconciler", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop taking jobs and wait up to ``timeout_s`` for running ones. A job still
        running after that keeps going until the process exits; its lease then expires
        and the next reconciler run puts it back in the queue."""
        self._stopping.set()
        self.wake(len(self._threads))
        for thread in self._threads:
            thread.join(timeout_s / max(len(self._threads), 1))

    @property
    def alive(self) -> bool:
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads) and not self._stopping.is_set()

    def wake(self, count: int = 1) -> None:
        with self._wake:
            self._pending += count
            self._wake.notify(count)

    def _wait(self, timeout_s: float) -> None:
        with self._wake:
            if self._pending == 0:
                self._wake.wait(timeout_s)
            self._pending = max(self._pending - 1, 0)

    def _work(self, worker_id: str) -> None:
        while not self._stopping.is_set():
            try:
                record = self.store.claim_next(worker_id)
            except Exception:  # noqa: BLE001 - the database may be back on the next poll
                log.warning("worker %s: could not claim a job", worker_id, exc_info=True)
                record = None
            if record is None:
                self._wait(POLL_INTERVAL_S)
                continue
            try:
                run_claimed(self.store, self.storage, self.settings, record, worker_id)
            except RetryableJobError as retry:
                # The job is queued again; pausing this thread keeps a flaky backend from
                # being hammered (another thread may still take it sooner).
                log.info("%s; retrying", retry)
                self._stopping.wait(min(2.0 ** retry.attempts, MAX_RETRY_PAUSE_S))
            except Exception:  # noqa: BLE001 - a job's failure must never end the thread
                log.exception("worker %s: render %s failed outside the runner", worker_id, record.id)

    def _reconcile(self) -> None:
        interval = min(self.settings.reconcile_interval_s, self.store.lease_s)
        while not self._stopping.wait(interval):
            try:
                self.reconcile_once()
            except Exception:  # noqa: BLE001
                log.warning("reconciler: pass failed", exc_info=True)

    def reconcile_once(self) -> int:
        """Take back the jobs of workers that stopped heart-beating; returns how many."""
        stale = self.store.stale_jobs(queued_older_than=timedelta(seconds=self.settings.requeue_queued_after_s))
        recovered = 0
        for job in stale.expired_leases:
            record = self.store.recover_expired(job.id, max_attempts=self.settings.job_max_attempts)
            if record is None:
                continue
            recovered += 1
            if record.status is JobStatus.FAILED:
                tenant = self.store.get_tenant(record.tenant_id)
                webhooks.notify(self.settings, record, tenant.webhook_url)
        if recovered or stale.lost_queued:
            self.wake(self._count)
        return recovered


class EmbeddedDispatcher:
    """The Dispatcher of embedded mode: wakes an idle worker thread."""

    name = "embedded"

    def __init__(self, workers: EmbeddedWorkers) -> None:
        self._workers = workers

    def enqueue(self, render_id: UUID) -> None:
        self._workers.wake()

    def check(self) -> None:
        if not self._workers.alive:
            raise BackendError("the embedded worker threads are not running")
