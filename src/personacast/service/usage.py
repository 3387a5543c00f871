"""What a job used, read off the pipeline's results, for ``JobStore.record_usage``."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import RenderResult
from .records import UsageItem

# render_formats() speaks and performs once and then renders and publishes every format:
# each result repeats the shared stages' seconds, while these two are its own.
_PER_FORMAT_STAGES = frozenset({"render", "publish"})


def usage_from_results(results: Sequence[RenderResult]) -> list[UsageItem]:
    """Compute seconds per stage (shared stages counted once, per-format ones summed)
    and the characters a paid voice billed. Provider costs are left unpriced (None)."""
    if not results:
        return []
    seconds: dict[str, float] = {}
    for index, result in enumerate(results):
        for stage, value in result.stage_seconds.items():
            if index == 0 or stage in _PER_FORMAT_STAGES:
                seconds[stage] = seconds.get(stage, 0.0) + value
    items = [UsageItem(kind="compute", name=stage, quantity=round(value, 3), unit="s") for stage, value in seconds.items()]
    first = results[0]
    if first.billed_characters:
        items.append(
            UsageItem(kind="provider", name="tts_characters", quantity=first.billed_characters, unit="characters",
                      provider=first.voice_engine)
        )
    return items
