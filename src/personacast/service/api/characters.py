"""/v1/characters: portraits and a profile, reused by renders."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import NamedTemporaryFile, TemporaryDirectory
from typing import Annotated

from fastapi import APIRouter, File, Form, Path as PathParam, Query, Response, UploadFile

from ...errors import InputError, NotFoundError
from ..jobspec import CharacterProfile
from ..storage.base import content_type
from ..uploads import check_image
from .deps import FileReaderDep, Service, ServiceDep, TenantDep
from .faces import FACE_ERRORS, FacesDep, locate
from .schemas import ERRORS, CharacterOut, CharacterPage, CharacterPatch, FaceOut
from .views import character_out

router = APIRouter(prefix="/v1/characters", tags=["characters"])

MAX_PORTRAITS = 20
PortraitIndex = Annotated[int, PathParam(ge=0, description="which portrait (first: 0)")]


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


@router.patch("/{character_id}", response_model=CharacterOut, responses=ERRORS,
              summary="Rename a character and/or replace its profile (queued renders use the new one)")
def update_character(character_id: uuid.UUID, body: CharacterPatch, parts: ServiceDep, tenant: TenantDep) -> CharacterOut:
    profile = None if body.profile is None else body.profile.model_dump(mode="json")
    return character_out(parts.store.update_character(tenant.id, character_id, name=body.name, profile=profile))


@router.get("/{character_id}/images/{index}", response_class=Response, summary="A portrait of the character",
            responses={**ERRORS, 200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}})
def get_portrait(character_id: uuid.UUID, index: PortraitIndex, parts: ServiceDep, tenant: FileReaderDep) -> Response:
    with _portrait(parts, tenant.id, character_id, index) as path:
        # A portrait's key never changes (a new picture makes a new character), so it
        # may be cached; privately, since it needs the API key.
        return Response(path.read_bytes(), media_type=content_type(path), headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{character_id}/images/{index}/face", response_model=FaceOut, responses=FACE_ERRORS,
            summary="The face in a portrait of the character, as POST /v1/faces finds it")
def get_portrait_face(
    character_id: uuid.UUID, index: PortraitIndex, parts: ServiceDep, tenant: TenantDep, finder: FacesDep
) -> FaceOut:
    with _portrait(parts, tenant.id, character_id, index) as path:
        return locate(finder, path, f"portrait {index}")


@contextmanager
def _portrait(parts: Service, tenant_id: uuid.UUID, character_id: uuid.UUID, index: int) -> Iterator[Path]:
    """A local copy of the portrait (storage may be S3), named with its own extension."""
    keys = parts.store.get_character(tenant_id, character_id).image_keys
    if index >= len(keys):
        raise NotFoundError(f"character {character_id} has no portrait {index}",
                            hint=f"it has {len(keys)}, numbered from 0")
    with TemporaryDirectory(prefix="personacast-portrait-") as folder:
        path = Path(folder) / f"portrait{Path(keys[index]).suffix}"
        parts.storage.get_file(keys[index], path)
        yield path


@router.delete("/{character_id}", status_code=204, response_class=Response, responses=ERRORS,
               summary="Delete a character and its portraits (queued renders using it will fail)")
def delete_character(character_id: uuid.UUID, parts: ServiceDep, tenant: TenantDep) -> Response:
    record = parts.store.delete_character(tenant.id, character_id)
    for key in record.image_keys:
        parts.storage.delete(key)
    return Response(status_code=204)
