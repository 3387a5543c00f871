"""What a voice engine is asked for and what it gives back.

Engines only ever see normalised spoken text ("doctor Lee saw three cats."), one chunk
of whole sentences at a time; the narrator (``narrate.py``) does the rest: chunking,
pauses, profile effects, forced alignment of engines without timings, and mapping the
spoken words back to the written words that captions show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...models import Phone, Word


@dataclass(frozen=True)
class SpeechRequest:
    """One chunk to say, with its neighbours for engines that keep prosody across chunks."""

    text: str
    previous_text: str = ""
    next_text: str = ""


@dataclass
class Utterance:
    """Audio for one ``SpeechRequest`` and, where the engine knows them, its timings.

    ``words``: one entry per word of ``spoken_words(request.text)``, in order, times in
    seconds from the start of ``samples``. ``phones``: the engine's alphabet (IPA or
    ARPAbet). Either left ``None`` means the narrator force-aligns the audio instead.
    """

    samples: np.ndarray  # float32, mono, [-1, 1]
    sample_rate_hz: int
    words: list[Word] | None = None
    phones: list[Phone] | None = None
    billed_characters: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate_hz
