"""create_app(): the HTTP API (FastAPI), documented at /docs and /openapi.json."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ...settings import Settings
from ..auditions import Auditions
from ..dispatch import Dispatcher
from ..embedded import EmbeddedDispatcher, EmbeddedWorkers
from ..faces import FaceFinder
from ..ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from ..storage import open_storage
from ..store import JobStore
from . import account, batches, characters, errors, faces, formats, health, renders, scripts, studio, voices
from .deps import Service
from .middleware import BodyLimit, RequestMetrics

DESCRIPTION = """Lip-synced, captioned social-media videos from a portrait and a script.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>` (`personacast keys
create --tenant NAME`). Renders are queued (202) and run by workers; follow them with
`GET /v1/renders/{id}`, its Server-Sent Events, or a webhook signed with HMAC-SHA256
(see `GET /v1/webhook`). Errors answer `{"error": {"code", "message", "hint"}}`.
"""
_BODY_SLACK = 1024 * 1024  # form fields and multipart framing beside the largest file


def create_app(
    settings: Settings, *, embedded: bool, worker_threads: int = 2,
    dispatcher: Dispatcher | None = None, limiter: RateLimiter | None = None,
) -> FastAPI:
    """The API on the store and storage that ``settings`` name (migrate the database
    first: ``upgrade_database``). ``embedded`` runs jobs on ``worker_threads`` threads
    of this process and uses no Redis; otherwise jobs go to Celery through Redis.
    ``dispatcher`` and ``limiter`` replace the defaults (tests)."""
    store = JobStore.from_settings(settings)
    storage = open_storage(settings)
    rate, burst = settings.rate_limit_per_minute / 60.0, settings.rate_limit_burst
    workers = None
    if embedded:
        workers = EmbeddedWorkers(store, storage, settings, threads=worker_threads)
        dispatcher = dispatcher or EmbeddedDispatcher(workers)
        limiter = limiter or LocalRateLimiter(rate, burst)
    else:
        dispatcher = dispatcher or _celery_dispatcher(settings, store)
        limiter = limiter or RedisRateLimiter.from_url(settings.redis_url.get_secret_value(), rate, burst)
    parts = Service(settings=settings, store=store, storage=storage, dispatcher=dispatcher, limiter=limiter, workers=workers)
    # The studio's face detector and audition voices: one of each per process, made on first use.
    finder, auditions = FaceFinder(settings.min_face_width_px), Auditions(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if workers is not None:
            workers.start()
        try:
            yield
        finally:
            if workers is not None:
                workers.stop()
            finder.close()
            store.close()

    from personacast import __version__

    app = FastAPI(title="personacast", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.service = parts
    app.state.faces, app.state.auditions = finder, auditions
    errors.install(app)
    for module in (renders, characters, batches, account, voices, formats, scripts, faces, health):
        app.include_router(module.router)
    studio.mount(app)
    largest = max(settings.max_upload_bytes * characters.MAX_PORTRAITS, settings.max_audio_upload_bytes)
    app.add_middleware(BodyLimit, limit_bytes=largest + _BODY_SLACK)
    app.add_middleware(RequestMetrics)
    return app


def _celery_dispatcher(settings: Settings, store: JobStore) -> Dispatcher:
    from ..worker.app import celery_app
    from ..worker.dispatch import CeleryDispatcher

    return CeleryDispatcher(celery_app(settings), store, settings)
