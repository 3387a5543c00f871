"""The web studio: static pages served by the API itself (no Node at run time), and
the sign-in that turns an API key into a session cookie for them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from .. import apikeys
from .deps import SESSION_COOKIE, ServiceDep, TenantDep
from .errors import unauthorized
from .schemas import ERRORS, StudioSession

STATIC = Path(__file__).parent / "static" / "studio"
SESSION_MAX_AGE_S = 12 * 3600

router = APIRouter(tags=["studio"])


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/studio/", status_code=307)


@router.get("/studio", include_in_schema=False)
@router.get("/studio/", include_in_schema=False)
def studio_page() -> FileResponse:
    # Always revalidated, like the assets (StaticFiles answers ETags), so an upgraded
    # server never runs a cached old script.
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.post("/studio/session", response_model=StudioSession, responses=ERRORS, summary="Sign the studio in with an API key (sets a cookie)")
def sign_in(
    request: Request, response: Response, parts: ServiceDep,
    key: Annotated[str, Body(embed=True, min_length=1, max_length=200)],
) -> StudioSession:
    key = key.strip()
    found = parts.store.resolve_api_key(key) if apikeys.key_prefix(key) else None
    if found is None:
        raise unauthorized("that API key is not valid (or was revoked)")
    response.set_cookie(
        SESSION_COOKIE, key, max_age=SESSION_MAX_AGE_S, httponly=True, samesite="strict",
        secure=request.url.scheme == "https", path="/",
    )
    return StudioSession(tenant=found.name)


@router.get("/studio/session", response_model=StudioSession, responses=ERRORS, summary="Who the studio is signed in as")
def whoami(tenant: TenantDep) -> StudioSession:
    return StudioSession(tenant=tenant.name)


@router.delete("/studio/session", status_code=204, response_class=Response, summary="Sign the studio out")
def sign_out() -> Response:
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/studio/static", StaticFiles(directory=STATIC), name="studio-static")
