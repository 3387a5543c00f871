"""/v1/renders: create (JSON or multipart), read, list, cancel, artefacts, events."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from tempfile import NamedTemporaryFile
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from ...errors import InputError, NotFoundError, PersonacastError
from ..jobspec import RenderInput, RenderJobRequest, RenderOptions, ScriptRequest, check_script
from ..records import JobStatus, RenderRecord, TenantRecord
from ..storage.local import LocalStorage
from ..uploads import check_audio, check_image
from .deps import FileReaderDep, Service, ServiceDep, TenantDep
from .errors import ApiError
from .schemas import ERRORS, RenderCreated, RenderOut, RenderPage, Status
from .views import render_out

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/renders", tags=["renders"])

SSE_POLL_S = 0.5
SSE_KEEPALIVE_S = 15.0
SSE_MAX_S = 3600.0  # a client reconnects (EventSource does so by itself) after this
SSE_RETRY_MS = 2000  # how long a disconnected EventSource waits before reconnecting
_IDEMPOTENCY_KEY = r"^[\x21-\x7e]{1,255}$"
_FORM_FIELDS = {"image", "audio", "character_id", "text", "script", "format", "voice", "quality", "fps", "seed", "ai_label",
                "webhook_url"}

_MULTIPART = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "the portrait (JPEG, PNG, WEBP, ...); or character_id"},
        "character_id": {"type": "string", "format": "uuid"},
        "audio": {"type": "string", "format": "binary", "description": "a recording of the text, instead of a voice"},
        "text": {"type": "string", "description": "what the character says (or script: a JSON script)"},
        "script": {"type": "string", "description": "a ScriptRequest as JSON, instead of text"},
        "format": {"type": "string", "description": "format presets, comma-separated", "example": "tiktok"},
        "voice": {"type": "string", "description": "a built-in profile name, or a profile as JSON"},
        "quality": {"type": "string", "enum": ["final", "preview"]},
        "fps": {"type": "integer", "minimum": 12, "maximum": 60},
        "seed": {"type": "integer", "minimum": 0},
        "ai_label": {"type": "string", "maxLength": 60},
        "webhook_url": {"type": "string", "format": "uri"},
    },
}
_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/RenderInput"}},
            "multipart/form-data": {"schema": _MULTIPART},
        },
    }
}


@router.post(
    "", status_code=202, response_model=RenderCreated, openapi_extra=_CREATE_BODY, responses=ERRORS,
    summary="Queue a render: JSON with a character and a script, or a form with a portrait and text",
)
async def create_render(
    request: Request, response: Response, parts: ServiceDep, tenant: TenantDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=_IDEMPOTENCY_KEY)] = None,
) -> RenderCreated:
    """Answers 202 with the job's id and ``Location``. With an ``Idempotency-Key`` used
    before, the same request returns the first job and a different one answers 409."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/json":
        job = await run_in_threadpool(_json_job, parts, tenant, await _json_body(request))
    elif kind == "multipart/form-data":
        form = await request.form(max_files=2, max_fields=len(_FORM_FIELDS))
        try:
            job = await run_in_threadpool(_form_job, parts, tenant, form)
        finally:
            await form.close()
    else:
        raise ApiError(415, "send application/json or multipart/form-data")
    body = job.model_dump(mode="json")
    created = await run_in_threadpool(parts.store.create_render, tenant.id, body, idempotency_key=idempotency_key)
    if created.created:
        await run_in_threadpool(dispatch, parts, created.record.id)
    response.headers["Location"] = f"/v1/renders/{created.record.id}"
    return RenderCreated(id=created.record.id, status=created.record.status.value)


def dispatch(parts: Service, render_id: UUID) -> None:
    """Hand a stored job to the workers; a broker outage only delays it (the
    reconciler re-sends jobs that wait too long)."""
    try:
        parts.dispatcher.enqueue(render_id)
    except PersonacastError as exc:
        log.warning("render %s queued but not dispatched (%s); the reconciler will send it", render_id, exc.message)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON") from None


def _json_job(parts: Service, tenant: TenantRecord, body: Any) -> RenderJobRequest:
    data = RenderInput.model_validate(body)
    character = parts.store.get_character(tenant.id, data.character_id)
    check_script(data.script, parts.settings.max_script_chars, len(character.image_keys))
    return RenderJobRequest.model_validate(data.model_dump())


def _form_job(parts: Service, tenant: TenantRecord, form: FormData) -> RenderJobRequest:
    unknown = sorted(set(form.keys()) - _FORM_FIELDS)
    if unknown:
        raise InputError(f"unknown form field '{unknown[0]}'", hint=f"fields: {', '.join(sorted(_FORM_FIELDS))}")
    image, audio = _file(form, "image"), _file(form, "audio")
    fields = {name: _text(form, name) for name in _FORM_FIELDS - {"image", "audio"}}
    # Everything cheap is validated before any upload is read or stored.
    text, script = fields.pop("text"), fields.pop("script")
    if (text is None) == (script is None):
        raise InputError("give either text or script")
    script_request = ScriptRequest(text=text) if text is not None else ScriptRequest.model_validate_json(script or "")
    options = RenderOptions.model_validate({
        "formats": None if fields["format"] is None else [name for name in fields["format"].split(",") if name.strip()],
        "voice": _voice_field(fields["voice"]),
        **{name: fields[name] for name in ("quality", "fps", "seed", "ai_label", "webhook_url") if fields[name] is not None},
    })
    character_id = fields["character_id"]
    if (image is None) == (character_id is None):
        raise InputError("give either an image file or a character_id")
    portraits = 1 if character_id is None else len(parts.store.get_character(tenant.id, _uuid(character_id)).image_keys)
    check_script(script_request, parts.settings.max_script_chars, portraits)
    keys: dict[str, str] = {}
    if image is not None:
        checked = check_image(image.file, parts.settings.max_upload_bytes, "the image")
        keys["image_key"] = _store_upload(parts, tenant, image, checked.sha256 + checked.extension)
    if audio is not None:
        checked = check_audio(audio.file, parts.settings.max_audio_upload_bytes, "the audio")
        keys["audio_key"] = _store_upload(parts, tenant, audio, checked.sha256 + checked.extension)
    return RenderJobRequest.model_validate(
        {**options.model_dump(), "script": script_request.model_dump(), "character_id": character_id, **keys}
    )


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InputError(f"character_id '{value[:40]}' is not an id") from None


def _file(form: FormData, name: str) -> UploadFile | None:
    values = form.getlist(name)
    if len(values) > 1:
        raise InputError(f"give one {name} file, not {len(values)}")
    if values and not isinstance(values[0], UploadFile):
        raise InputError(f"{name} must be a file upload")
    return values[0] if values else None  # type: ignore[return-value]


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{name} must be a text field, not a file")
    return value


def _voice_field(value: str | None) -> Any:
    """A profile name, or a profile given as a JSON object."""
    if value is None or not value.lstrip().startswith("{"):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise InputError("voice is neither a profile name nor a JSON profile") from None


def _store_upload(parts: Service, tenant: TenantRecord, upload: UploadFile, name: str) -> str:
    """Content-addressed, so a retried request names the same key (and matches its
    idempotency key) and a picture sent twice is stored once."""
    key = f"uploads/{tenant.id}/{name}"
    if not parts.storage.exists(key):
        with NamedTemporaryFile(prefix="personacast-upload-") as copy:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, copy)
            copy.flush()
            parts.storage.put_file(Path(copy.name), key)
    return key


@router.get("", response_model=RenderPage, responses=ERRORS, summary="The tenant's renders, newest first")
def list_renders(
    request: Request, parts: ServiceDep, tenant: TenantDep,
    status: Annotated[list[Status] | None, Query(description="one or more statuses")] = None,
    batch_id: UUID | None = None,
    created_from: Annotated[datetime | None, Query(description="inclusive, ISO 8601 with a time zone")] = None,
    created_before: Annotated[datetime | None, Query(description="exclusive, ISO 8601 with a time zone")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> RenderPage:
    for moment in (created_from, created_before):
        if moment is not None and moment.tzinfo is None:
            raise InputError("created_from and created_before need a time zone", hint="e.g. 2026-01-31T00:00:00Z")
    page = parts.store.list_renders(
        tenant.id, status=None if not status else [JobStatus(s) for s in status], batch_id=batch_id,
        created_from=created_from, created_before=created_before, limit=limit, cursor=cursor,
    )
    return RenderPage(items=[render_out(request, parts, record) for record in page.items], next_cursor=page.next_cursor)


@router.get("/{render_id}", response_model=RenderOut, responses=ERRORS, summary="A render's status, progress and artefacts")
def get_render(request: Request, render_id: UUID, parts: ServiceDep, tenant: TenantDep) -> RenderOut:
    return render_out(request, parts, parts.store.get_render(tenant.id, render_id))


@router.delete(
    "/{render_id}", response_model=RenderOut, summary="Cancel a render, or (purge=true) delete a finished one",
    responses={**ERRORS, 204: {"description": "purged: the render's artefacts and record are gone"}},
)
def cancel_render(
    request: Request, render_id: UUID, parts: ServiceDep, tenant: TenantDep,
    purge: Annotated[bool, Query(description="delete a finished render's artefacts and record (409 until it has "
                                             "finished); its usage stays on the tenant's account")] = False,
) -> Any:
    """Without purge: cancel, at once when queued, at its next heartbeat when running."""
    if not purge:
        return render_out(request, parts, parts.store.request_cancel(tenant.id, render_id))
    record = parts.store.get_render(tenant.id, render_id)
    if record.status.finished:
        # Files first: if deleting them fails, the record is still there to purge again.
        # Uploaded portraits and recordings stay: they are shared by content with other renders.
        parts.storage.delete_prefix(f"renders/{record.id}")
    parts.store.delete_render(tenant.id, render_id)  # a queued or running render: 409
    return Response(status_code=204)


@router.get(
    "/{render_id}/artefacts/{name}", name="get_render_artefact", responses={**ERRORS, 200: {"content": {"video/mp4": {}}}},
    response_class=Response, summary="Download an artefact (redirects to a signed URL when storage is S3)",
)
def get_render_artefact(render_id: UUID, name: str, parts: ServiceDep, tenant: FileReaderDep) -> Response:
    key = parts.store.get_render(tenant.id, render_id).artefacts.get(name)
    if key is None:
        raise NotFoundError(f"render {render_id} has no artefact '{name}'")
    if isinstance(parts.storage, LocalStorage):
        path = parts.storage.path(key)
        if not path.is_file():
            raise NotFoundError(f"artefact '{name}' of render {render_id} is gone from storage")
        return FileResponse(path, filename=name)
    return RedirectResponse(parts.storage.url(key), status_code=307)


@router.get(
    "/{render_id}/events", responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}}, response_class=StreamingResponse,
    summary="Server-Sent Events: 'progress' on every change, then one 'finished' event",
)
def render_events(request: Request, render_id: UUID, parts: ServiceDep, tenant: TenantDep) -> StreamingResponse:
    first = parts.store.get_render(tenant.id, render_id)  # 404 before the stream starts
    return StreamingResponse(
        _events(request, parts, tenant, first), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, parts: Service, tenant: TenantRecord, record: RenderRecord) -> AsyncIterator[str]:
    yield f"retry: {SSE_RETRY_MS}\n\n"
    started = last_sent = time.monotonic()
    last: str | None = None
    number = 0
    while True:
        body = render_out(request, parts, record).model_dump_json()
        if body != last:
            number += 1
            kind = "finished" if record.status.finished else "progress"
            yield f"id: {number}\nevent: {kind}\ndata: {body}\n\n"
            last, last_sent = body, time.monotonic()
            if record.status.finished:
                return
        elif time.monotonic() - last_sent >= SSE_KEEPALIVE_S:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        if time.monotonic() - started > SSE_MAX_S or await request.is_disconnected():
            return
        await asyncio.sleep(SSE_POLL_S)
        record = await run_in_threadpool(parts.store.get_render, tenant.id, record.id)
