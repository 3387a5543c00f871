"""/v1/characters: portraits and a profile, reused by renders."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from tempfile import NamedTemporaryFile
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from ...errors import InputError
from ..jobspec import CharacterProfile
from ..uploads import check_image
from .deps import ServiceDep, TenantDep
from .schemas import ERRORS, CharacterOut, CharacterPage
from .views import character_out

router = APIRouter(prefix="/v1/characters", tags=["characters"])

MAX_PORTRAITS = 20


@router.post("", status_code=201, response_model=CharacterOut, responses=ERRORS, summary="Create a character")
def create_character(
    response: Response, parts: ServiceDep, tenant: TenantDep,
    name: Annotated[str, Form(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")],
    images: Annotated[list[UploadFile], File(description="portraits; scenes pick one by index (first: 0)")],
    profile: Annotated[str | None, Form(max_length=100_000, description="a CharacterProfile as JSON")] = None,
) -> CharacterOut:
    if not 1 <= len(images) <= MAX_PORTRAITS:
        raise InputError(f"give 1 to {MAX_PORTRAITS} portraits, not {len(images)}")
    settings = CharacterProfile.model_validate_json(profile) if profile else CharacterProfile()
    checked = [check_image(image.file, parts.settings.max_upload_bytes, f"image {n + 1}") for n, image in enumerate(images)]
    folder = f"characters/{tenant.id}/{uuid.uuid4()}"
    keys = []
    try:
        for number, (image, facts) in enumerate(zip(images, checked)):
            key = f"{folder}/{number}{facts.extension}"
            with NamedTemporaryFile(prefix="personacast-upload-") as copy:
                shutil.copyfileobj(image.file, copy)
                copy.flush()
                parts.storage.put_file(Path(copy.name), key)
            keys.append(key)
        record = parts.store.create_character(tenant.id, name, keys, settings.model_dump(mode="json"))
    except BaseException:
        parts.storage.delete_prefix(folder)
        raise
    response.headers["Location"] = f"/v1/characters/{record.id}"
    return character_out(record)


@router.get("", response_model=CharacterPage, responses=ERRORS, summary="The tenant's characters, newest first")
def list_characters(
    parts: ServiceDep, tenant: TenantDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CharacterPage:
    page = parts.store.list_characters(tenant.id, limit=limit, cursor=cursor)
    return CharacterPage(items=[character_out(record) for record in page.items], next_cursor=page.next_cursor)


@router.get("/{character_id}", response_model=CharacterOut, responses=ERRORS, summary="A character")
def get_character(character_id: uuid.UUID, parts: ServiceDep, tenant: TenantDep) -> CharacterOut:
    return character_out(parts.store.get_character(tenant.id, character_id))


@router.delete("/{character_id}", status_code=204, response_class=Response, responses=ERRORS,
               summary="Delete a character and its portraits (queued renders using it will fail)")
def delete_character(character_id: uuid.UUID, parts: ServiceDep, tenant: TenantDep) -> Response:
    record = parts.store.delete_character(tenant.id, character_id)
    for key in record.image_keys:
        parts.storage.delete(key)
    return Response(status_code=204)
