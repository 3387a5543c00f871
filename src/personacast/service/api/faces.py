"""/v1/faces: where the face, eyes and mouth of a picture are (the studio draws them
over the portrait before anything is rendered)."""

from __future__ import annotations

import shutil
from pathlib import Path
from tempfile import NamedTemporaryFile
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile

from ...errors import FaceError
from ..faces import FaceFinder, FacesBusy, is_no_face
from ..uploads import check_image
from .deps import ServiceDep, TenantDep
from .errors import ApiError
from .schemas import ERRORS, ErrorOut, FaceOut

router = APIRouter(prefix="/v1/faces", tags=["faces"])

BUSY_RETRY_S = 1
# The face routes may also answer 503 busy (see service/faces.py).
FACE_ERRORS = {**ERRORS, 503: {"model": ErrorOut}}


def face_finder(request: Request) -> FaceFinder:
    return request.app.state.faces  # type: ignore[no-any-return]


FacesDep = Annotated[FaceFinder, Depends(face_finder)]


@router.post("", response_model=FaceOut, responses=FACE_ERRORS,
             summary="Find the largest face in a picture: its box, 478 landmarks, eyes and mouth")
def find_face(
    parts: ServiceDep, tenant: TenantDep, finder: FacesDep,
    image: Annotated[UploadFile, File(description="a portrait (JPEG, PNG, WEBP, ...)")],
) -> FaceOut:
    """No face answers 422 with code no_face; a face too small to animate, face_too_small."""
    check_image(image.file, parts.settings.max_upload_bytes, "the image")
    with NamedTemporaryFile(prefix="personacast-face-") as copy:
        shutil.copyfileobj(image.file, copy)
        copy.flush()
        return locate(finder, Path(copy.name), "the image")


def locate(finder: FaceFinder, image: Path, name: str) -> FaceOut:
    """The face in ``image`` (a checked picture), or the 422 that says why there is none."""
    try:
        return FaceOut.model_validate(finder.find(image, name))
    except FaceError as error:
        code = "no_face" if is_no_face(error.message) else "face_too_small"
        raise ApiError(422, error.message, hint=error.hint, code=code) from None
    except FacesBusy:
        raise ApiError(503, "the face detector is busy with other pictures", hint=f"retry in {BUSY_RETRY_S} s",
                       code="busy", headers={"Retry-After": str(BUSY_RETRY_S)}) from None
