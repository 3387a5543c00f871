"""Forced alignment with PocketSphinx: audio + its words -> word and ARPAbet phone times.

For engines that return audio without timings (OpenAI, Kokoro, a user's recording).
Words the dictionary lacks get a pronunciation from espeak-ng (``phonemes.py``), so
names and brands align too. If the search fails (noise, a text that does not match the
audio), words are spread over the voiced part of the audio instead and the track says
so in its warnings: a slightly loose mouth beats a failed render.
"""

from __future__ import annotations

import re
import threading

import numpy as np

from ...errors import MissingDependencyError
from ...media.audio import resample
from ...models import Phone, Word
from .phonemes import arpabet_for, spread_phones

ALIGN_RATE_HZ = 16000
FRAMES_PER_S = 100  # PocketSphinx's 10 ms frames
_NON_WORDS = frozenset({"<s>", "</s>", "<sil>", "(NULL)", "[NOISE]"})


class AlignmentFailed(Exception):
    pass


class ForcedAligner:
    def __init__(self) -> None:
        self._decoder = None
        self._lock = threading.Lock()

    def _get_decoder(self):
        if self._decoder is None:
            try:
                from pocketsphinx import Decoder
            except ModuleNotFoundError as exc:
                raise MissingDependencyError("forced alignment", "align", "pocketsphinx") from exc
            # lm=None: alignment builds its own search. bestpath=False: 5.1.1's lattice
            # best path can leave a phone fewer frames than its states, and the phone
            # pass then fails ("Alignment failed in frame N").
            self._decoder = Decoder(samprate=ALIGN_RATE_HZ, lm=None, bestpath=False, loglevel="ERROR")
        return self._decoder

    def align(self, samples: np.ndarray, rate_hz: int, words: list[str]) -> tuple[list[Word], list[Phone], list[str]]:
        """Times for each of ``words`` (in order) and their phones; the third item
        holds warnings (empty when the aligner found every word)."""
        if not words:
            return [], [], []
        duration = samples.size / rate_hz
        with self._lock:
            decoder = self._get_decoder()
            keys = [self._dictionary_key(decoder, word, i) for i, word in enumerate(words)]
            try:
                aligned = self._search(decoder, _to_16k_pcm(samples, rate_hz), [k for k in keys if k])
            except AlignmentFailed as exc:
                estimated = spread_words(words, samples, rate_hz)
                phones = [p for w in estimated for p in spread_phones(w.text, w.start_s, w.end_s)]
                return estimated, phones, [f"forced alignment failed ({exc}); word times estimated from the audio"]
        timed: list[Word] = []
        phones: list[Phone] = []
        found = iter(aligned)
        previous_end = 0.0
        for word, key in zip(words, keys):
            if not key:  # nothing to pronounce: a zero-length word where we are
                timed.append(Word(text=word, start_s=previous_end, end_s=previous_end))
                continue
            start, end, word_phones = next(found)
            start, end = min(max(start, previous_end), duration), min(max(end, start), duration)
            timed.append(Word(text=word, start_s=round(start, 4), end_s=round(end, 4)))
            phones.extend(word_phones)
            previous_end = end
        return timed, phones, []

    @staticmethod
    def _dictionary_key(decoder, word: str, index: int) -> str:
        key = re.sub(r"[^a-z']", "", word.lower()).strip("'")
        if key and decoder.lookup_word(key) is not None:
            return key
        pronunciation = arpabet_for(word)
        if not pronunciation:
            return ""
        key = key or f"w{index}x"
        decoder.add_word(key, " ".join(pronunciation), True)
        return key

    @staticmethod
    def _search(decoder, pcm: bytes, keys: list[str]) -> list[tuple[float, float, list[Phone]]]:
        try:
            decoder.set_align_text(" ".join(keys))
            for phone_pass in (False, True):
                if phone_pass:
                    decoder.set_alignment()
                decoder.start_utt()
                decoder.process_raw(pcm, full_utt=True)
                decoder.end_utt()
            alignment = decoder.get_alignment()
        except RuntimeError as exc:
            raise AlignmentFailed(str(exc).splitlines()[0] if str(exc) else "search failed") from None
        if alignment is None:
            raise AlignmentFailed("no alignment found")
        result = []
        for entry in alignment:
            name = re.sub(r"\(\d+\)$", "", entry.name)
            if name in _NON_WORDS:
                continue
            word_phones = [
                Phone(
                    symbol=re.sub(r"\d", "", phone.name),
                    start_s=round(phone.start / FRAMES_PER_S, 4),
                    end_s=round((phone.start + phone.duration) / FRAMES_PER_S, 4),
                )
                for phone in entry
                if phone.name != "SIL"
            ]
            result.append((entry.start / FRAMES_PER_S, (entry.start + entry.duration) / FRAMES_PER_S, word_phones))
        if len(result) != len(keys):
            raise AlignmentFailed(f"aligned {len(result)} of {len(keys)} words")
        return result


def _to_16k_pcm(samples: np.ndarray, rate_hz: int) -> bytes:
    samples = resample(samples, rate_hz, ALIGN_RATE_HZ)
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def spread_words(words: list[str], samples: np.ndarray, rate_hz: int) -> list[Word]:
    """Words laid over the voiced span of the audio in proportion to their letters."""
    duration = samples.size / rate_hz
    start, end = _voiced_span(samples, rate_hz)
    weights = np.array([max(1, len(w)) for w in words], dtype=float)
    edges = start + (end - start) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return [
        Word(text=w, start_s=round(float(min(a, duration)), 4), end_s=round(float(min(b, duration)), 4))
        for w, a, b in zip(words, edges[:-1], edges[1:])
    ]


def _voiced_span(samples: np.ndarray, rate_hz: int) -> tuple[float, float]:
    hop = max(1, rate_hz // 100)
    frames = samples[: samples.size // hop * hop].reshape(-1, hop)
    if frames.size == 0:
        return 0.0, samples.size / rate_hz
    level = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    voiced = np.flatnonzero(level > max(1e-4, 0.1 * level.max()))
    if voiced.size == 0:
        return 0.0, samples.size / rate_hz
    return voiced[0] * hop / rate_hz, (voiced[-1] + 1) * hop / rate_hz
