"""A recording the user brings (their own voice, or a clone made elsewhere) plus its
text. The voice is the file named by the profile's ``voice``; a scene's ``audio``
sets it for that scene. The whole recording is one request, timed by forced alignment,
and its sound is left as recorded."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ...errors import ConfigError
from ...media.audio import decode_audio
from ...models import VoiceProfile
from ...settings import Settings
from .utterance import SpeechRequest, Utterance


class RecordedVoiceEngine:
    name = "recorded"
    max_chunk_chars = 10**9
    whole_text = True  # the recording has its own pauses: never split it

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @staticmethod
    def _path(profile: VoiceProfile) -> Path:
        if not profile.voice:
            raise ConfigError("the recorded voice needs an audio file", hint="set voice: path/to/recording.wav")
        return Path(profile.voice).expanduser()

    def cache_identity(self, profile: VoiceProfile) -> str:
        digest = hashlib.sha256()
        path = self._path(profile)
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise ConfigError(f"cannot read the recording {path}: {exc.strerror}", hint="check the path") from None
        return f"recorded:{digest.hexdigest()[:16]}"

    def speak(self, request: SpeechRequest, profile: VoiceProfile) -> Utterance:
        samples, rate = decode_audio(self._path(profile))
        return Utterance(samples=samples, sample_rate_hz=rate)
