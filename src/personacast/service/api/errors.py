"""Every error answers ``{"error": {"code", "message", "hint"}}`` with a fitting status.

Input problems say exactly what was wrong (they are the client's to fix); server-side
problems answer a generic message and are logged here, so nothing internal (paths,
URLs with credentials, stack traces) reaches a client.
"""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...errors import (
    ConfigError,
    ConflictError,
    InputError,
    MissingDependencyError,
    NotFoundError,
    PersonacastError,
    TransientBackendError,
)
from ..uploads import UploadTooLarge

log = logging.getLogger(__name__)

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 406: "not_acceptable",
               409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited"}


class ApiError(Exception):
    """An answer decided by the API itself (401, 413, 415, 429, 400). ``code`` replaces
    the status's own code where clients act on the difference (no_face)."""

    def __init__(self, status: int, message: str, *, hint: str | None = None, headers: dict[str, str] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint, self.headers, self.code = status, message, hint, headers or {}, code


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, hint="send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                    headers={"WWW-Authenticate": 'Bearer realm="personacast"'})


def rate_limited(retry_after_s: float) -> ApiError:
    seconds = max(1, math.ceil(retry_after_s))
    return ApiError(429, "too many requests for this API key", hint=f"retry in {seconds} s",
                    headers={"Retry-After": str(seconds)})


def error_response(
    status: int, message: str, hint: str | None = None, headers: dict[str, str] | None = None, code: str | None = None
) -> JSONResponse:
    code = code or _HTTP_CODES.get(status, "server_error" if status >= 500 else "error")
    body = {"error": {"code": code, "message": message, "hint": hint}}
    return JSONResponse(body, status_code=status, headers=headers)


def validation_message(errors: list) -> str:
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header"))
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else message + more


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.hint, exc.headers, exc.code)

    @app.exception_handler(PersonacastError)
    async def _personacast(request: Request, exc: PersonacastError) -> JSONResponse:
        return personacast_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, validation_message(list(exc.errors())))

    @app.exception_handler(ValidationError)
    async def _model(request: Request, exc: ValidationError) -> JSONResponse:
        return error_response(422, validation_message(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return error_response(500, "internal error", "the problem was logged; try again later")


def personacast_response(exc: PersonacastError) -> JSONResponse:
    if isinstance(exc, UploadTooLarge):
        return error_response(413, exc.message, exc.hint)
    if isinstance(exc, NotFoundError):
        return error_response(404, exc.message, exc.hint)
    if isinstance(exc, ConflictError):
        return error_response(409, exc.message, exc.hint)
    if isinstance(exc, (ConfigError, MissingDependencyError)):
        log.error("service configuration problem: %s", exc)
        return error_response(500, "the service is not configured correctly", "the problem was logged")
    if isinstance(exc, InputError):
        return error_response(422, exc.message, exc.hint)
    log.warning("backend problem: %s", exc)
    if isinstance(exc, TransientBackendError):
        return error_response(503, "a backend is unavailable right now", "retry shortly", {"Retry-After": "5"})
    return error_response(500, "internal error", "the problem was logged; try again later")
