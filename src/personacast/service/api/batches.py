"""/v1/batches: many renders at once, as JSON or CSV, all or none."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from ...errors import InputError, PersonacastError
from ..jobspec import RenderInput, RenderJobRequest, check_script
from ..records import BatchRecord, TenantRecord
from .deps import Service, ServiceDep, TenantDep
from .errors import ApiError, validation_message
from .renders import dispatch
from .schemas import ERRORS, BatchCreated, BatchOut, BatchPage, BatchRequest

router = APIRouter(prefix="/v1/batches", tags=["batches"])

MAX_ITEMS = 500
CSV_COLUMNS = ("character_id", "text", "format", "voice", "quality", "fps", "seed", "ai_label", "webhook_url", "title",
               "caption", "hashtags", "music")
_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}},
            "text/csv": {"schema": {"type": "string", "description": f"a header row naming columns of {', '.join(CSV_COLUMNS)}"
                                    " (character_id and text required; format: presets separated by spaces; hashtags:"
                                    " separated by spaces), then one render per row"}},
        },
    }
}


@router.post("", status_code=201, response_model=BatchCreated, openapi_extra=_CREATE_BODY,
             responses={**ERRORS, 201: {"model": BatchCreated}}, summary="Queue many renders: all or none")
async def create_batch(request: Request, response: Response, parts: ServiceDep, tenant: TenantDep) -> BatchCreated:
    """Every item is checked first; any problem answers 422 naming its item (JSON,
    counted from 1) or row (CSV, the header being row 1) and nothing is queued."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw = await request.body()
    if kind == "application/json":
        try:
            items = _json_items(json.loads(raw))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "the body is not valid JSON") from None
        where = "render"
    elif kind == "text/csv":
        items, where = _csv_items(raw), "row"
    else:
        raise ApiError(415, "send application/json or text/csv")
    batch, renders = await run_in_threadpool(_create, parts, tenant, items, where)
    response.headers["Location"] = f"/v1/batches/{batch}"
    return BatchCreated(id=batch, item_count=len(renders), render_ids=renders)


@router.get("", response_model=BatchPage, responses=ERRORS, summary="The tenant's batches, newest first, with their progress")
def list_batches(
    parts: ServiceDep, tenant: TenantDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> BatchPage:
    page = parts.store.list_batches(tenant.id, limit=limit, cursor=cursor)
    return BatchPage(items=[_batch_out(batch) for batch in page.items], next_cursor=page.next_cursor)


@router.get("/{batch_id}", response_model=BatchOut, responses=ERRORS, summary="A batch's progress: renders per status")
def get_batch(batch_id: UUID, parts: ServiceDep, tenant: TenantDep) -> BatchOut:
    return _batch_out(parts.store.get_batch(tenant.id, batch_id))


def _batch_out(batch: BatchRecord) -> BatchOut:
    """Purged renders count in ``item_count`` but in no status."""
    return BatchOut(id=batch.id, item_count=batch.item_count, created_at=batch.created_at,
                    status_counts={status.value: count for status, count in batch.status_counts.items()})


def _json_items(body: Any) -> list[tuple[int, Any]]:
    if not isinstance(body, dict) or set(body) != {"renders"} or not isinstance(body["renders"], list):
        BatchRequest.model_validate(body)  # raises the precise problem
        raise InputError("the body must be {\"renders\": [...]}")
    return list(enumerate(body["renders"], start=1))


def _csv_items(raw: bytes) -> list[tuple[int, Any]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the CSV is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    unknown = [name for name in reader.fieldnames or [] if name not in CSV_COLUMNS]
    if not reader.fieldnames or unknown:
        raise InputError(f"unknown CSV column '{unknown[0]}'" if unknown else "the CSV has no header row",
                         hint=f"columns: {', '.join(CSV_COLUMNS)}")
    try:
        return [(reader.line_num, _csv_render(row)) for row in reader]
    except csv.Error as exc:
        raise InputError(f"row {reader.line_num}: {exc}") from None


def _csv_render(row: dict[str, str | None]) -> dict[str, Any]:
    if None in row:
        raise InputError("a row has more cells than the header has columns")
    cell = {name: (value or "").strip() for name, value in row.items() if value and value.strip()}
    script: dict[str, Any] = {"text": cell.pop("text", "")}
    for name in ("title", "caption", "music"):
        if name in cell:
            script[name] = cell.pop(name)
    if "hashtags" in cell:
        script["hashtags"] = cell.pop("hashtags").split()
    render: dict[str, Any] = {**cell, "script": script}
    if "format" in render:
        render["formats"] = render.pop("format").replace(",", " ").split()
    if isinstance(render.get("voice"), str) and render["voice"].startswith("{"):
        try:
            render["voice"] = json.loads(render["voice"])
        except ValueError:
            pass  # validation names the bad voice
    return render


def _create(parts: Service, tenant: TenantRecord, items: list[tuple[int, Any]], where: str) -> tuple[UUID, list[UUID]]:
    if not items:
        raise InputError("a batch needs at least one render")
    if len(items) > MAX_ITEMS:
        raise InputError(f"a batch holds at most {MAX_ITEMS} renders, not {len(items)}", hint="split it")
    requests = []
    portraits: dict[UUID, int] = {}
    for number, item in items:
        try:
            data = RenderInput.model_validate(item)
            if data.character_id not in portraits:
                portraits[data.character_id] = len(parts.store.get_character(tenant.id, data.character_id).image_keys)
            check_script(data.script, parts.settings.max_script_chars, portraits[data.character_id])
        except ValidationError as exc:
            raise InputError(f"{where} {number}: {validation_message(exc.errors())}") from None
        except PersonacastError as exc:
            raise InputError(f"{where} {number}: {exc.message}", hint=exc.hint) from None
        requests.append(RenderJobRequest.model_validate(data.model_dump()).model_dump(mode="json"))
    batch, renders = parts.store.create_batch(tenant.id, requests)
    for render in renders:
        dispatch(parts, render.id)
    return batch.id, [render.id for render in renders]
