"""Offline grapheme-to-phoneme for English: espeak-ng IPA (Piper bundles espeak-ng and
its data) and a conversion to ARPAbet for PocketSphinx's dictionary.

Used where an engine gives no phones (ElevenLabs gives character times) and to teach
the forced aligner words its dictionary lacks (names, brands, slang).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
import unicodedata
from functools import lru_cache

from ...models import Phone
from .timeline import STRESS_MARKS, TRAILING_MODIFIERS

_LOCK = threading.Lock()  # espeak-ng keeps global state
_READY = False

# Longest IPA sequences first so diphthongs and affricates become one ARPAbet phone.
_IPA_TO_ARPABET: dict[str, str] = {
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "ɔɪ": "OY", "əʊ": "OW", "tʃ": "CH", "dʒ": "JH",
    "ɜ": "ER", "ɝ": "ER", "ɚ": "ER", "ɑ": "AA", "ɒ": "AA", "a": "AE", "æ": "AE", "ʌ": "AH",
    "ə": "AH", "ɐ": "AH", "ɔ": "AO", "ɛ": "EH", "e": "EH", "ɪ": "IH", "ᵻ": "IH", "i": "IY",
    "ʊ": "UH", "u": "UW", "o": "OW", "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G",
    "g": "G", "h": "HH", "j": "Y", "k": "K", "l": "L", "m": "M", "n": "N", "ŋ": "NG",
    "p": "P", "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "θ": "TH", "v": "V",
    "w": "W", "z": "Z", "ʒ": "ZH", "ɾ": "D", "ʔ": "T", "x": "K", "ɬ": "L", "n̩": "N",
}
_LONGEST = max(len(k) for k in _IPA_TO_ARPABET)


@contextmanager
def espeak_bridge():
    """Piper's espeak-ng bridge, held under the one lock for its global state; set to
    en-us. A caller that switches voice must switch back before leaving."""
    with _LOCK:
        yield _espeak()


def _espeak():
    global _READY
    from piper import espeakbridge
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    if not _READY:
        espeakbridge.initialize(str(ESPEAK_DATA_DIR))
        espeakbridge.set_voice("en-us")
        _READY = True
    return espeakbridge


@lru_cache(maxsize=4096)
def ipa_symbols(text: str) -> tuple[str, ...]:
    """espeak-ng IPA of ``text`` as single code points, without stress/length marks,
    spaces or punctuation (the symbols Piper's phone stream uses)."""
    with espeak_bridge() as bridge:
        clauses = bridge.get_phonemes(text)
    symbols: list[str] = []
    for phonemes, _terminator, _end in clauses:
        for ch in unicodedata.normalize("NFD", phonemes):
            if ch in STRESS_MARKS or ch in TRAILING_MODIFIERS or not ch.strip() or ch in "()":
                continue
            symbols.append(ch)
    return tuple(symbols)


def ipa_to_arpabet(symbols: tuple[str, ...] | list[str]) -> list[str]:
    """Greedy longest-match conversion; unknown symbols (language flags) are dropped."""
    text = "".join(symbols)
    phones: list[str] = []
    i = 0
    while i < len(text):
        for width in range(min(_LONGEST, len(text) - i), 0, -1):
            phone = _IPA_TO_ARPABET.get(text[i : i + width])
            if phone:
                phones.append(phone)
                i += width
                break
        else:
            i += 1
    return phones


def arpabet_for(word: str) -> list[str]:
    return ipa_to_arpabet(ipa_symbols(word))


def spread_phones(word: str, start_s: float, end_s: float) -> list[Phone]:
    """The word's ARPAbet phones laid evenly over its span, for timings that only know
    where words are (character times, estimated spans)."""
    symbols = arpabet_for(word)
    if not symbols or end_s <= start_s:
        return []
    step = (end_s - start_s) / len(symbols)
    return [
        Phone(symbol=s, start_s=round(start_s + i * step, 4), end_s=round(start_s + (i + 1) * step, 4))
        for i, s in enumerate(symbols)
    ]
