"""The reconciler: makes the broker agree with the job store again.

Two things go stale. A running job whose worker died stops heart-beating; once its lease
expires it is taken back (requeued, or failed after ``job_max_attempts`` claims) and sent
again. A queued job whose message the broker lost (a Redis restart without persistence, a
crash between the API's insert and its send) just waits; after ``requeue_queued_after_s``
it is sent again. A job sent twice is harmless: only one worker can claim it.

``reconcile`` is one pass, for Celery beat (app.py), ``personacast reconcile`` and the
embedded loop; ``run_reconciler`` repeats it until stopped.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from ...settings import Settings
from .. import webhooks
from ..dispatch import Dispatcher
from ..records import JobStatus
from ..store import JobStore

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    requeued: list[UUID] = field(default_factory=list)  # sent to the broker again
    failed: list[UUID] = field(default_factory=list)  # out of attempts
    canceled: list[UUID] = field(default_factory=list)  # their cancel was pending when the worker died

    def __str__(self) -> str:
        return f"{len(self.requeued)} requeued, {len(self.failed)} failed, {len(self.canceled)} canceled"


def reconcile(store: JobStore, dispatcher: Dispatcher, settings: Settings, *, limit: int = 100) -> ReconcileReport:
    """One pass over up to ``limit`` jobs of each kind, oldest first."""
    report = ReconcileReport()
    stale = store.stale_jobs(queued_older_than=timedelta(seconds=settings.requeue_queued_after_s), limit=limit)
    for job in stale.expired_leases:
        recovered = store.recover_expired(job.id, max_attempts=settings.job_max_attempts)
        if recovered is None:  # its worker heart-beat in the meantime
            continue
        if recovered.status is JobStatus.QUEUED:
            log.warning("render %s: %s; sending it again", job.id, recovered.error)
            dispatcher.enqueue(job.id)
            report.requeued.append(job.id)
        elif recovered.status is JobStatus.FAILED:
            log.error("render %s failed: %s", job.id, recovered.error)
            webhooks.notify(settings, recovered, store.get_tenant(recovered.tenant_id).webhook_url)
            report.failed.append(job.id)
        else:
            report.canceled.append(job.id)
    for job in stale.lost_queued:
        log.warning("render %s has been queued since %s; sending it again", job.id, job.enqueued_at.isoformat())
        dispatcher.enqueue(job.id)
        report.requeued.append(job.id)
    return report


def run_reconciler(store: JobStore, dispatcher: Dispatcher, settings: Settings, stop: threading.Event) -> None:
    """``reconcile`` every ``reconcile_interval_s`` until ``stop`` is set. A failed pass
    (database or broker down) is logged and tried again next time."""
    while not stop.is_set():
        try:
            report = reconcile(store, dispatcher, settings)
            if report.requeued or report.failed or report.canceled:
                log.info("reconciled: %s", report)
        except Exception:
            log.exception("reconcile pass failed; trying again in %.0f s", settings.reconcile_interval_s)
        stop.wait(settings.reconcile_interval_s)
