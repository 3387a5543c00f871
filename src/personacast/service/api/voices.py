"""/v1/voices: the built-in voice profiles, and auditions of a profile speaking a line."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from ...models import VoiceProfile
from ...stages.voice.profiles import BUILTIN_DESCRIPTIONS, BUILTIN_PROFILES, profile_problem
from ..auditions import Auditions, AuditionsBusy, public_reason
from ..jobspec import voice_profile
from .deps import ServiceDep, TenantDep
from .errors import ApiError
from .schemas import ERRORS, AuditionRequest, ErrorOut, VoiceList, VoiceOut

router = APIRouter(prefix="/v1/voices", tags=["voices"])

BUSY_RETRY_S = 5


@router.get("", response_model=VoiceList, responses=ERRORS, summary="The built-in voice profiles and whether each can speak here")
def list_voices(parts: ServiceDep, tenant: TenantDep) -> VoiceList:
    items = []
    for name, profile in BUILTIN_PROFILES.items():
        problem = profile_problem(profile, parts.settings)
        items.append(VoiceOut(
            name=name, engine=profile.engine, description=_description(name, profile), available=problem is None,
            reason=None if problem is None else public_reason(profile.engine, problem),
            profile=profile.model_dump(mode="json"),
        ))
    return VoiceList(items=items)


def _description(name: str, profile: VoiceProfile) -> str:
    """The profile's line for people choosing a voice; one added without a line still
    lists (made from its engine and voice) rather than failing the whole list."""
    if name in BUILTIN_DESCRIPTIONS:
        return BUILTIN_DESCRIPTIONS[name]
    return f"{profile.engine} voice {profile.voice}" if profile.voice else f"{profile.engine}'s default voice"


@router.post(
    "/audition", response_class=Response, summary="Hear a voice: a profile speaking a line, as a WAV file",
    responses={**ERRORS, 200: {"content": {"audio/wav": {}}, "description": "the spoken line"}, 503: {"model": ErrorOut}},
)
async def audition(body: AuditionRequest, request: Request, parts: ServiceDep, tenant: TenantDep) -> Response:
    """Spoken by the renders' own narrator, so the profile's pauses, pitch and formant
    changes are heard. A few auditions run at once; the rest wait, then answer 503."""
    auditions: Auditions = request.app.state.auditions
    try:
        async with auditions.slot():
            audio, usage = await run_in_threadpool(auditions.speak, body.text, voice_profile(body.voice))
    except AuditionsBusy:
        raise ApiError(503, "every audition slot stayed busy", hint=f"retry in {BUSY_RETRY_S} s", code="busy",
                       headers={"Retry-After": str(BUSY_RETRY_S)}) from None
    if usage:  # a paid voice: the tenant's usage shows what the line cost
        await run_in_threadpool(parts.store.record_tenant_usage, tenant.id, usage)
    return Response(audio, media_type="audio/wav")
