"""The service's HTTP API (FastAPI; extra "service").

    app.py          create_app(settings, embedded=...): routers, errors, middleware, lifespan
    deps.py         the service's parts and the calling tenant (API key, rate limit)
    schemas.py      response bodies (request bodies: service/jobspec.py)
    renders.py      /v1/renders: create (JSON or multipart), list, get, cancel, artefacts, SSE
    characters.py   /v1/characters      batches.py  /v1/batches (JSON or CSV)
    account.py      /v1/usage, /v1/webhook
    health.py       /healthz, /readyz, /metrics
    errors.py       error bodies and status codes    middleware.py  body size cap, request metrics
"""

from __future__ import annotations

from ...errors import MissingDependencyError

try:
    import fastapi  # noqa: F401
    import python_multipart  # noqa: F401  (forms and uploads)
    import prometheus_client  # noqa: F401
except ImportError as exc:
    raise MissingDependencyError("api", "service", exc.name or "fastapi") from None

from .app import create_app  # noqa: E402

__all__ = ["create_app"]
