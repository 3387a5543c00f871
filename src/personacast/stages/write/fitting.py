"""How long a script will run when spoken, and cutting it to fit.

The estimate follows the narrator: spoken words (after normalisation, so "$2.5k" is
five words) at the engine's pace, plus the sentence and paragraph pauses that
``narrate.plan_speech`` puts in, plus the gap between scenes.
"""

from __future__ import annotations

import re

from ...models import VoiceProfile
from ...pipeline import SCENE_GAP_S
from ..voice.narrate import plan_speech
from .written import WrittenScene, WrittenScript

# Words per second at speaking_rate 1.0 without the sentence pauses, and how the pace
# follows speaking_rate (pace = words_per_s * rate ** exponent). Measured with narrate()
# on two ~85-word paragraphs: Piper (joe/sofia) 3.3-3.6 words/s, speeding up only
# ~0.65 as much as the rate says (1.3 -> x1.19, 0.8 -> x0.86); espeak-ng 3.4, linear.
ENGINE_PACE: dict[str, tuple[float, float]] = {"piper": (3.4, 0.65), "espeak": (3.4, 1.0)}
# Engines not measured here: a typical human speaking pace (about 150 words a minute).
DEFAULT_PACE = (2.5, 1.0)
# Scripts may run this much over the target before they count as too long, and are
# flagged as short under this share of it.
LONG_TOLERANCE = 1.15
SHORT_SHARE = 0.6
_WORDS_PER_SENTENCE = 11  # typical of spoken short-video scripts, for planning word counts
_EXPECTED_SCENES = 5
_NO_SPLIT = 10**9
_SENTENCE_END_RE = re.compile(r"(?<=[.!?…])\s+")


def words_per_second(profile: VoiceProfile) -> float:
    pace, exponent = ENGINE_PACE.get(profile.engine, DEFAULT_PACE)
    return pace * profile.speaking_rate**exponent


def estimate_seconds(parts: list[str], profile: VoiceProfile) -> float:
    """Seconds that ``parts`` (one per scene) take when narrated with ``profile``."""
    pace = words_per_second(profile)
    total = SCENE_GAP_S * max(0, len(parts) - 1)
    for part in parts:
        if not part.strip():
            continue
        chunks = plan_speech(part, profile, _NO_SPLIT)
        total += sum(len(chunk.text.split()) for chunk in chunks) / pace
        total += sum(chunk.pause_after_s for chunk in chunks)
    return total


def script_seconds(written: WrittenScript, profile: VoiceProfile) -> float:
    return estimate_seconds(written.spoken_parts, profile)


def words_for(seconds: float, profile: VoiceProfile) -> int:
    """About how many spoken words fill ``seconds``, for prompts and the template writer."""
    speaking_s = max(1.0, seconds - SCENE_GAP_S * (_EXPECTED_SCENES - 1))
    per_word_s = 1.0 / words_per_second(profile) + profile.sentence_pause_s / _WORDS_PER_SENTENCE
    return max(5, round(speaking_s / per_word_s))


def length_limit(target_s: float, max_s: float) -> float:
    return min(target_s * LONG_TOLERANCE, max_s)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END_RE.split(text.strip()) if s]


def trim_to_fit(written: WrittenScript, profile: VoiceProfile, limit_s: float) -> WrittenScript:
    """Drop whole sentences until the script fits: the body's from its end (one body
    sentence always stays), then the call to action, then the hook's after its first."""
    scenes = [list(sentences(scene.text)) for scene in written.scenes]
    overlays = [scene.on_screen_text for scene in written.scenes]
    hook, cta = sentences(written.hook), written.call_to_action

    def build() -> WrittenScript:
        body = [WrittenScene(text=" ".join(s), on_screen_text=o) for s, o in zip(scenes, overlays) if s]
        return written.model_copy(update={"hook": " ".join(hook), "scenes": body, "call_to_action": cta})

    current = build()
    while script_seconds(current, profile) > limit_s:
        if sum(len(s) for s in scenes) > 1:
            last = max(i for i, s in enumerate(scenes) if s)
            scenes[last].pop()
        elif cta:
            cta = ""
        elif len(hook) > 1:
            hook.pop()
        else:
            break
        current = build()
    return current
