"""/v1/formats: the delivery presets a render can be made in."""

from __future__ import annotations

from math import gcd

from fastapi import APIRouter

from ...stages.compose.formats import PRESETS, FormatPreset
from .deps import TenantDep
from .schemas import ERRORS, FormatList, FormatOut, SafeZoneOut

router = APIRouter(prefix="/v1/formats", tags=["formats"])

# For people choosing a format; a preset without one shows its name.
TITLES = {"tiktok": "TikTok", "reels": "Instagram Reels", "shorts": "YouTube Shorts", "square": "Square",
          "portrait": "Portrait (feed)", "landscape": "Landscape"}


@router.get("", response_model=FormatList, responses=ERRORS, summary="The format presets: size, longest video, safe zone")
def list_formats(tenant: TenantDep) -> FormatList:
    return FormatList(items=[format_out(preset) for preset in PRESETS.values()])


def format_out(preset: FormatPreset) -> FormatOut:
    divisor = gcd(preset.width, preset.height)
    safe = preset.safe
    return FormatOut(
        name=preset.name, title=TITLES.get(preset.name, preset.name), width=preset.width, height=preset.height,
        aspect=f"{preset.width // divisor}:{preset.height // divisor}", max_duration_s=preset.max_duration_s,
        fps_allowed=list(preset.fps_allowed), caption_max_chars=preset.caption_max_chars,
        safe_zone=SafeZoneOut(top=safe.top, bottom=safe.bottom, left=safe.left, right=safe.right),
    )
