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
from .errors import ApiError, rate_limited, unauthorized


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


# The web studio signs in once (POST /studio/session) and the key then travels in this
# HttpOnly, SameSite=Strict cookie, so <video>, downloads and EventSource work without
# the page's script ever holding the key.
SESSION_COOKIE = "personacast_session"
STUDIO_HEADER = "X-Personacast-Studio"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _authenticated(request: Request, parts: Service, bearer, header) -> tuple[TenantRecord, str]:
    """The tenant of the request's API key and the key's prefix; 401 or 403 otherwise."""
    key = header or (bearer.credentials if bearer is not None else None)
    if not key and (cookie := request.cookies.get(SESSION_COOKIE)):
        # A cookie rides along on requests other sites make; SameSite stops most, and a
        # custom header (which no other origin can send without our CORS consent) stops
        # the rest for anything that changes state.
        if request.method not in _SAFE_METHODS and request.headers.get(STUDIO_HEADER) != "1":
            raise ApiError(403, f"a signed-in studio request that changes something must send '{STUDIO_HEADER}: 1'")
        key = cookie
    if not key:
        raise unauthorized("missing API key")
    found = parts.store.resolve_api_key(key)
    prefix = apikeys.key_prefix(key)
    if found is None or prefix is None:
        raise unauthorized("invalid or revoked API key")
    return found, prefix


def tenant(
    request: Request,
    parts: Annotated[Service, Depends(service)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> TenantRecord:
    """The tenant of the request's API key, after its rate limit; 401 or 429 otherwise."""
    found, prefix = _authenticated(request, parts, bearer, header)
    decision = parts.limiter.take(prefix)
    if not decision.allowed:
        raise rate_limited(decision.retry_after_s)
    return found


def file_reader(
    request: Request,
    parts: Annotated[Service, Depends(service)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    header: Annotated[str | None, Security(_header)],
) -> TenantRecord:
    """The tenant, for downloads of stored files (portraits, artefacts), which skip the
    rate limit: a library page shows a poster and a video per render, and those reads
    must not use up the budget of the calls that make work."""
    return _authenticated(request, parts, bearer, header)[0]


ServiceDep = Annotated[Service, Depends(service)]
TenantDep = Annotated[TenantRecord, Depends(tenant)]
FileReaderDep = Annotated[TenantRecord, Depends(file_reader)]
