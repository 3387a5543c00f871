"""Stage -> backend name -> "module:Class", imported only when chosen.

A backend whose optional extra is missing fails only when it is picked, with an
error that names the extra to install.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .errors import ConfigError, MissingDependencyError


@dataclass(frozen=True)
class BackendRef:
    target: str  # "package.module:Class"
    extra: str | None = None  # pip extra that provides its dependencies


BACKENDS: dict[str, dict[str, BackendRef]] = {
    "voice": {
        "piper": BackendRef("personacast.stages.voice.piper:PiperVoiceEngine"),
        "espeak": BackendRef("personacast.stages.voice.espeak:EspeakVoiceEngine"),
        "elevenlabs": BackendRef("personacast.stages.voice.elevenlabs:ElevenLabsVoiceEngine", extra="voices-api"),
        "openai": BackendRef("personacast.stages.voice.openai_tts:OpenAIVoiceEngine", extra="voices-api"),
        "recorded": BackendRef("personacast.stages.voice.recorded:RecordedVoiceEngine"),
        "kokoro": BackendRef("personacast.stages.voice.kokoro:KokoroVoiceEngine", extra="kokoro"),
    },
    "performer": {
        "default": BackendRef("personacast.stages.perform.performer:DefaultPerformer"),
    },
    "animator": {
        "landmark_warp": BackendRef("personacast.stages.animate.landmark_warp:LandmarkWarpAnimator"),
        "neural": BackendRef("personacast.stages.animate.neural:NeuralAnimator", extra="gpu"),
    },
    # GPU stages (extra "gpu"): new character pictures, image-to-video under the neural
    # animator, and its lip sync.
    "images": {
        "stable_diffusion": BackendRef("personacast.stages.images.stable_diffusion:StableDiffusionImages", extra="gpu"),
    },
    "motion": {
        "svd": BackendRef("personacast.stages.motion.svd:SVDMotion", extra="gpu"),
        "animatediff": BackendRef("personacast.stages.motion.animatediff:AnimateDiffMotion", extra="gpu"),
    },
    "lipsync": {
        "musetalk": BackendRef("personacast.stages.lipsync.musetalk:MuseTalkModel", extra="gpu"),
        "wav2lip": BackendRef("personacast.stages.lipsync.wav2lip:Wav2LipModel", extra="gpu"),
    },
    "composer": {
        "standard": BackendRef("personacast.stages.compose.composer:StandardComposer"),
    },
    "writer": {
        "template": BackendRef("personacast.stages.write.template:TemplateWriter"),
        "openai": BackendRef("personacast.stages.write.openai_chat:OpenAIWriter", extra="llm"),
        "anthropic": BackendRef("personacast.stages.write.anthropic_messages:AnthropicWriter", extra="llm"),
        "openai_compatible": BackendRef("personacast.stages.write.openai_compatible:OpenAICompatibleWriter", extra="llm"),
    },
}


def backend_names(stage: str) -> list[str]:
    return sorted(BACKENDS.get(stage, {}))


def load_backend(stage: str, name: str) -> type:
    """Import and return the class registered for ``stage``/``name``."""
    try:
        ref = BACKENDS[stage][name]
    except KeyError:
        known = ", ".join(backend_names(stage)) or "none"
        raise ConfigError(f"unknown {stage} backend '{name}'", hint=f"choose one of: {known}") from None
    module_name, class_name = ref.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if ref.extra and exc.name and not exc.name.startswith("personacast"):
            raise MissingDependencyError(name, ref.extra, exc.name) from exc
        raise
    return getattr(module, class_name)
