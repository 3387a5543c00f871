"""Voice auditions for the studio: a profile speaking a short line through the same
narrator as a render (its pauses, pitch and formant effects), as WAV bytes.

The API process keeps one engine per engine name (a Piper voice takes a second to
load) and one aligner. At most ``at_once`` auditions speak at a time, so that they
cannot take the CPU from the renders that embedded workers run in the same process;
the rest wait in the event loop, holding no thread, and give up after ``WAIT_S``.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ..errors import ConfigError, MissingDependencyError, PersonacastError, VoiceError
from ..models import VoiceProfile
from ..registry import load_backend
from ..settings import Settings
from ..stages.base import VoiceEngine
from ..stages.voice.align import ForcedAligner
from ..stages.voice.narrate import narrate
from .records import UsageItem

log = logging.getLogger(__name__)

AT_ONCE = 2
WAIT_S = 30.0


class AuditionsBusy(Exception):
    """Every audition slot stayed taken for ``WAIT_S``."""


class Auditions:
    """The API process's voices for auditions (see the module docstring)."""

    def __init__(self, settings: Settings, at_once: int = AT_ONCE) -> None:
        self._settings = settings
        self._engines: dict[str, VoiceEngine] = {}
        self._lock = threading.Lock()
        self._aligner = ForcedAligner()
        self._slots = asyncio.Semaphore(at_once)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the ``at_once`` slots; ``AuditionsBusy`` after waiting ``WAIT_S``."""
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=WAIT_S)
        # asyncio.TimeoutError: wait_for raises it on 3.10, where it is not yet the
        # builtin TimeoutError (it is an alias of it from 3.11 on).
        except asyncio.TimeoutError:
            raise AuditionsBusy() from None
        try:
            yield
        finally:
            self._slots.release()

    def speak(self, text: str, profile: VoiceProfile) -> tuple[bytes, list[UsageItem]]:
        """The WAV of ``profile`` saying ``text``, and what a paid engine billed for it."""
        try:
            engine = self._engine(profile.engine)
            with tempfile.TemporaryDirectory(prefix="personacast-audition-") as folder:
                track = narrate(engine, text, profile, Path(folder) / "audition.wav", self._aligner)
                audio = track.audio_path.read_bytes()
        except (ConfigError, MissingDependencyError) as error:
            log.warning("voice engine %s is not available: %s", profile.engine, error)
            raise VoiceError(public_reason(profile.engine, error),
                             hint="choose a voice that GET /v1/voices lists as available") from None
        usage = []
        if track.billed_characters:
            usage.append(UsageItem(kind="provider", name="tts_characters", quantity=track.billed_characters,
                                   unit="characters", provider=track.engine))
        return audio, usage

    def _engine(self, name: str) -> VoiceEngine:
        with self._lock:
            if name not in self._engines:
                self._engines[name] = load_backend("voice", name)(self._settings)
            return self._engines[name]


def public_reason(engine: str, error: PersonacastError) -> str:
    """Why a voice cannot speak, as a client may read it: an engine that is not set up
    (no API key, a missing extra or model files) is named without the operator's details
    (they may name paths and settings); other problems (an unknown voice) say what they say."""
    if isinstance(error, (ConfigError, MissingDependencyError)):
        return f"the {engine} voice engine is not set up on this server"
    return error.message
