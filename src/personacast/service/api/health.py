"""/healthz, /readyz and /metrics: for load balancers and Prometheus, without a key.

/metrics shows service-wide counts (no tenant's data); keep it off the public
internet as usual (scrape it on the internal network).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from .. import metrics
from .deps import Service, ServiceDep
from .schemas import Health

router = APIRouter(tags=["operations"])

_PROBE_KEY = "readyz/probe"


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}},
            summary="The database, the storage and the job dispatcher answer")
def readyz(parts: ServiceDep) -> Response:
    checks: dict[str, str] = {}
    for name, probe in (("database", lambda: _database(parts)), ("storage", lambda: parts.storage.exists(_PROBE_KEY)),
                        (f"dispatcher:{parts.dispatcher.name}", parts.dispatcher.check)):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; only its class is shown (no URLs)
            checks[name] = f"failed ({type(exc).__name__})"
    ready = all(value == "ok" for value in checks.values())
    body = Health(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
            summary="Prometheus metrics: queue depth, stage durations, failures, usage and cost")
def get_metrics(parts: ServiceDep) -> Response:
    return Response(metrics.exposition(parts.store), media_type=CONTENT_TYPE_LATEST)


def _database(parts: Service) -> None:
    with parts.store.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
