"""What route handlers depend on: the service's parts, and the calling tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ...settings import Settings
from .. import apikeys
from ..dispatch import Dispatcher
from ..embedded import EmbeddedWorkers
from ..ratelimit import RateLimiter
from ..records import TenantRecord
from ..storage import Storage
from ..store import JobStore
from .errors import rate_limited, unauthorized


@dataclass
class Service:
    """One API process's parts (``app.state.service``)."""

    settings: Settings
    store: JobStore
    storage: Storage
    dispatcher: Dispatcher
    limiter: RateLimiter
    workers: EmbeddedWorkers | None = None


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")


def tenant(
    parts: Annotated[Service, Depends(service)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> TenantRecord:
    """The tenant of the request's API key, after its rate limit; 401 or 429 otherwise."""
    key = header or (bearer.credentials if bearer is not None else None)
    if not key:
        raise unauthorized("missing API key")
    found = parts.store.resolve_api_key(key)
    prefix = apikeys.key_prefix(key)
    if found is None or prefix is None:
        raise unauthorized("invalid or revoked API key")
    decision = parts.limiter.take(prefix)
    if not decision.allowed:
        raise rate_limited(decision.retry_after_s)
    return found


ServiceDep = Annotated[Service, Depends(service)]
TenantDep = Annotated[TenantRecord, Depends(tenant)]
