"""Named voice profiles shipped with personacast, and lookup by name or YAML file."""

from __future__ import annotations

from pathlib import Path

import yaml

from ...errors import PersonacastError, VoiceError
from ...models import VoiceProfile
from ...settings import Settings

BUILTIN_PROFILES: dict[str, VoiceProfile] = {
    # The bundled male Piper voice shifted to a plausible female voice:
    # formants x1.18 and a ~210 Hz median pitch keep it intelligible.
    "sofia": VoiceProfile(name="sofia", formant_shift=1.18, pitch_median_hz=210.0, pitch_range=1.1),
    "joe": VoiceProfile(name="joe"),
    # espeak-ng's female variant: robotic but ~500x faster than real time, for drafts.
    "sofia-espeak": VoiceProfile(name="sofia-espeak", engine="espeak", voice="en-us+f3", speaking_rate=0.95),
}
# One line each, for people choosing a voice (the studio's list).
BUILTIN_DESCRIPTIONS: dict[str, str] = {
    "sofia": "Female, warm and clear: the bundled Piper voice with a higher pitch and formants. The default.",
    "joe": "Male, natural: the bundled Piper voice as recorded.",
    "sofia-espeak": "Female, robotic but very fast (espeak-ng): for drafts and previews.",
}


def profile_problem(profile: VoiceProfile, settings: Settings) -> PersonacastError | None:
    """Why ``profile`` cannot speak on this machine (an unknown engine, a missing voice
    model, library or extra), or None when it can. Resolving what decides the audio (the
    engine's cache identity) finds those without speaking; a paid engine's API key is
    only needed, and so only checked, when it speaks."""
    from ...registry import load_backend

    try:
        load_backend("voice", profile.engine)(settings).cache_identity(profile)
    except PersonacastError as error:
        return error
    return None


def resolve_profile(name_or_path: str) -> VoiceProfile:
    if name_or_path in BUILTIN_PROFILES:
        return BUILTIN_PROFILES[name_or_path]
    path = Path(name_or_path).expanduser()
    if path.suffix in (".yaml", ".yml") and path.is_file():
        try:
            return VoiceProfile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        except Exception as exc:
            raise VoiceError(f"invalid voice profile {path}: {exc}".splitlines()[0]) from None
    raise VoiceError(
        f"unknown voice profile '{name_or_path}'",
        hint=f"use one of {', '.join(BUILTIN_PROFILES)} or a profile .yaml file",
    )
