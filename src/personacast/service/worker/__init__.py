"""Celery workers for the service (extra "service"): the database is the source of truth,
the broker only carries job ids.

    queues.py      which queue a job goes to (cpu or gpu, by its animator)
    app.py         celery_app(settings): the Celery app, the render_job and reconcile tasks
    dispatch.py    CeleryDispatcher: sends a job to its queue and notes it in the store
    reconcile.py   reconcile(): re-sends jobs whose worker died or whose message was lost

A job is never lost: every job the broker drops, or whose worker dies, is still queued or
running in the store, and the reconciler sends it again. A job delivered twice renders
once, because only one worker can claim it (JobStore.claim is atomic).
"""

from __future__ import annotations

from ...errors import MissingDependencyError

try:
    import celery  # noqa: F401
except ImportError as exc:
    raise MissingDependencyError("worker", "service", exc.name or "celery") from None
