"""/v1/scripts: how long a script runs (as the user types), and writing one about a topic."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

from fastapi import APIRouter

from ...errors import ConfigError, InputError, MissingDependencyError
from ...models import Persona, VoiceProfile
from ...registry import backend_names, load_backend
from ...stages.compose.formats import get_preset
from ...stages.voice.timeline import written_words
from ...stages.write.fitting import estimate_seconds, words_per_second
from ...stages.write.written import WriteResult, WritingBrief
from ..jobspec import DEFAULT_VOICE, CharacterProfile, voice_profile
from ..records import TenantRecord, UsageItem
from .deps import Service, ServiceDep, TenantDep
from .schemas import ERRORS, EstimateOut, EstimateRequest, WriteRequest, WrittenOut

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/scripts", tags=["scripts"])

# The narrator's own estimate (normalised text, planned pauses) costs about 2.5 ms per
# 1,000 characters; past this, far beyond any short video, words are counted instead,
# so the answer stays fast while the user types.
EXACT_ESTIMATE_CHARS = 4000
_SENTENCE_END_RE = re.compile(r"[.!?…]+(?=\s|$)")
DEFAULT_WRITER = "template"
DEFAULT_NAME = "Sofia"  # who speaks when no character is given: the default voice


@router.post("/estimate", response_model=EstimateOut, responses=ERRORS,
             summary="How long a script runs when spoken, and whether a render takes it")
def estimate_script(body: EstimateRequest, parts: ServiceDep, tenant: TenantDep) -> EstimateOut:
    profile = voice_profile(body.voice if body.voice is not None else DEFAULT_VOICE)
    max_chars = parts.settings.max_script_chars
    characters = len(body.text)  # counted as a render's check counts them
    return EstimateOut(
        characters=characters, words=len(written_words(body.text)), estimated_s=round(spoken_seconds(body.text, profile), 1),
        max_chars=max_chars, over_limit=characters > max_chars,
    )


def spoken_seconds(text: str, profile: VoiceProfile) -> float:
    if len(text) <= EXACT_ESTIMATE_CHARS:
        return estimate_seconds([text], profile)
    sentences = len(_SENTENCE_END_RE.findall(text))
    return len(written_words(text)) / words_per_second(profile) + sentences * profile.sentence_pause_s


@router.post("/write", response_model=WrittenOut, responses=ERRORS,
             summary="Write a script about a topic (the offline template writer unless another is named)")
def write_script(body: WriteRequest, parts: ServiceDep, tenant: TenantDep) -> WrittenOut:
    """With a character, its name, voice (for the pace), first format (its longest video)
    and seed are used. A topic or script that breaks a content rule answers 422 naming
    each rule and the words that broke it."""
    name = body.writer or DEFAULT_WRITER
    if name not in backend_names("writer"):
        raise InputError(f"unknown writer '{name}'", hint=f"choose one of: {', '.join(backend_names('writer'))}")
    brief = _brief(parts, tenant, body)
    try:
        result = load_backend("writer", name)(parts.settings, None).write(brief)
    except (ConfigError, MissingDependencyError) as error:
        log.warning("script writer %s is not available: %s", name, error)
        raise InputError(f"the {name} writer is not set up on this server", hint=f"use the {DEFAULT_WRITER} writer") from None
    _meter(parts, tenant, result)
    written = result.written
    # One paragraph per spoken part: the narrator pauses between them as between scenes.
    text = "\n\n".join(written.spoken_parts)
    return WrittenOut(
        text=text, title=written.title, caption=written.caption, hashtags=written.hashtags, writer=result.writer,
        estimated_s=round(spoken_seconds(text, brief.voice), 1), warnings=result.warnings,
    )


def _brief(parts: Service, tenant: TenantRecord, body: WriteRequest) -> WritingBrief:
    if body.character_id is None:
        name, profile = DEFAULT_NAME, CharacterProfile()
    else:
        stored = parts.store.get_character(tenant.id, body.character_id)
        name, profile = stored.name, CharacterProfile.model_validate(stored.profile)
    preset = get_preset(profile.formats[0])
    return WritingBrief(
        # A stored character has no persona: the writer gets the default one (friendly,
        # English, no bans of its own; the risky-claim rules still apply).
        topic=" ".join(body.topic.split()), character_name=name, persona=Persona(), voice=voice_profile(profile.voice),
        target_s=min(body.duration_s, preset.max_duration_s), max_s=preset.max_duration_s, format=preset.name,
        seed=profile.seed,
    )


def _meter(parts: Service, tenant: TenantRecord, result: WriteResult) -> None:
    """A language model's tokens go on the tenant's usage, like a paid voice's characters."""
    usage = result.usage
    if not usage.requests:
        return
    cost = None if usage.cost_usd is None else Decimal(str(usage.cost_usd))
    parts.store.record_tenant_usage(tenant.id, [UsageItem(
        kind="provider", name="llm_tokens", quantity=usage.input_tokens + usage.output_tokens, unit="tokens",
        provider=result.writer, cost_usd=cost,
    )])
