"""The seam between the API and whatever runs jobs.

The API writes a render to the job store (status queued) and then hands its id to a
``Dispatcher``. Two implementations exist:

- ``EmbeddedDispatcher`` (service/embedded.py): wakes this process's worker threads
  (``personacast serve --embedded``: SQLite, local storage, no Redis);
- the Celery dispatcher (service/worker/): sends the id to the broker.

Either way the job store stays the truth: a dispatcher that loses an id only delays
the job, because workers claim through the store and the reconciler re-sends jobs that
stay queued for too long (``JobStore.stale_jobs``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from uuid import UUID


@runtime_checkable
class Dispatcher(Protocol):
    """Hands queued renders to workers. Implementations must be thread-safe: the API
    calls them from its worker threads."""

    name: str  # shown by /readyz: "embedded", "celery", ...

    def enqueue(self, render_id: UUID) -> None:
        """Tell the workers that ``render_id`` is queued. Called after the store's
        transaction has committed; may raise ``TransientBackendError`` when the broker
        cannot be reached (the job stays queued and the reconciler re-sends it)."""
        ...

    def check(self) -> None:
        """Raise ``BackendError`` (or ``TransientBackendError``) when jobs cannot be
        dispatched now (broker unreachable, worker threads stopped); used by /readyz."""
        ...
