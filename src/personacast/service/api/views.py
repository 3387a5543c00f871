"""Records as API bodies."""

from __future__ import annotations

from fastapi import Request

from ..records import CharacterRecord, RenderRecord
from ..storage.local import LocalStorage
from .deps import Service
from .schemas import CharacterOut, RenderOut


def artefact_urls(request: Request, parts: Service, record: RenderRecord) -> dict[str, str]:
    """Signed storage URLs; local files are served by the API's artefact route, behind
    the same API key."""
    if isinstance(parts.storage, LocalStorage):
        return {
            name: str(request.url_for("get_render_artefact", render_id=str(record.id), name=name))
            for name in record.artefacts
        }
    return {name: parts.storage.url(key) for name, key in record.artefacts.items()}


def render_out(request: Request, parts: Service, record: RenderRecord) -> RenderOut:
    return RenderOut(
        id=record.id, status=record.status.value, batch_id=record.batch_id, created_at=record.created_at,
        started_at=record.started_at, finished_at=record.finished_at, attempts=record.attempts,
        progress=record.progress, error=record.error, cancel_requested=record.cancel_requested,
        artefacts=artefact_urls(request, parts, record),
    )


def character_out(record: CharacterRecord) -> CharacterOut:
    return CharacterOut(
        id=record.id, name=record.name, image_count=len(record.image_keys), profile=record.profile, created_at=record.created_at
    )
