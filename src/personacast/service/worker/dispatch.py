"""CeleryDispatcher: the API's and the reconciler's way to hand a job to the workers."""

from __future__ import annotations

import threading
from uuid import UUID

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from ...errors import TransientBackendError
from ...settings import Settings
from ..store import JobStore
from .app import RENDER_TASK
from .queues import queue_for


class CeleryDispatcher:
    """Sends a render's id to its queue, then notes the time in the store (the
    reconciler counts a queued job's wait from there). A crash between the two only
    makes the reconciler send the job again sooner, which is harmless."""

    name = "celery"

    def __init__(self, app: Celery, store: JobStore, settings: Settings) -> None:
        self._app = app
        self._store = store
        self._queue = queue_for(settings.animator_backend)
        self._redis_url = settings.redis_url
        # The API publishes from many threads; one at a time keeps kombu's Redis
        # channels out of each other's way, and a publish takes well under a millisecond.
        self._lock = threading.Lock()

    def enqueue(self, render_id: UUID) -> None:
        try:
            with self._lock:
                self._app.send_task(RENDER_TASK, args=[str(render_id)], queue=self._queue)
        except (OperationalError, redis.RedisError) as exc:
            raise TransientBackendError(f"the job broker (Redis) cannot be reached: {exc}") from exc
        self._store.mark_enqueued(render_id)

    def check(self) -> None:
        client = redis.Redis.from_url(self._redis_url.get_secret_value(), socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise TransientBackendError(f"the job broker (Redis) cannot be reached: {exc}") from exc
        finally:
            client.close()
