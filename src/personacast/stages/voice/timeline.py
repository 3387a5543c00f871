"""Turn an engine's phone stream into a word + phone timeline.

Engines give phones with sample counts; captions need the written words. Each written
word is phonemized on its own and the word streams are matched against the sentence's
phone stream with difflib, which survives espeak's rewrites ("$25" -> "twenty five
dollars") and dropped or merged sounds.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...models import Phone, Word

# Marks that modify a neighbouring sound rather than being one.
STRESS_MARKS = frozenset("ˈˌ")
TRAILING_MODIFIERS = frozenset("ːˑʲʰ̃")
SILENCE_SYMBOLS = frozenset(".,;:!?¡¿—–-…\"'()[]^$_")
SENTENCE_PUNCT = ".,!?;:"
_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class TimedSymbol:
    symbol: str
    start_s: float
    end_s: float


def written_words(text: str) -> list[str]:
    """Tokens a viewer would read; pure punctuation is not a word."""
    return [tok for tok in _WORD_RE.findall(text) if any(ch.isalnum() for ch in tok)]


def spoken_words(text: str) -> list[str]:
    """The words of normalised spoken text ("doctor Lee, hi.") without sentence
    punctuation: what an engine's ``Utterance.words`` must list, in order."""
    return [word for word in (raw.strip(SENTENCE_PUNCT) for raw in text.split()) if word]


def merge_symbols(symbols: Sequence[TimedSymbol]) -> list[TimedSymbol]:
    """Fold stress/length marks into their sounds and word gaps into their neighbours.

    Piper gives every id (and its trailing pad) a duration, so a stress mark owns the
    first part of the vowel after it, and a space owns the joint of two words. Silence
    from punctuation is kept (as "_") because the mouth should rest there.
    """
    merged: list[list] = []
    pending_start: float | None = None
    for item in symbols:
        sym = item.symbol
        if sym in STRESS_MARKS:
            pending_start = item.start_s if pending_start is None else pending_start
            continue
        if sym in TRAILING_MODIFIERS and merged and merged[-1][0] != "_":
            merged[-1][2] = item.end_s
            continue
        if sym == " ":
            # Half to the previous sound, half to the next.
            mid = (item.start_s + item.end_s) / 2
            if merged:
                merged[-1][2] = mid
            pending_start = mid if pending_start is None else pending_start
            continue
        start = pending_start if pending_start is not None else item.start_s
        pending_start = None
        sym = "_" if sym in SILENCE_SYMBOLS else sym
        if sym == "_" and merged and merged[-1][0] == "_":
            merged[-1][2] = item.end_s
            continue
        merged.append([sym, start, item.end_s])
    if pending_start is not None and merged:
        merged[-1][2] = max(merged[-1][2], symbols[-1].end_s)
    return [TimedSymbol(s, a, b) for s, a, b in merged]


def align_words(
    words: Sequence[str],
    sounds: Sequence[TimedSymbol],
    phonemize_word: Callable[[str], list[str]],
) -> list[Word]:
    """Give each written word the time span of the sounds that belong to it."""
    spoken = [i for i, s in enumerate(sounds) if s.symbol != "_"]
    stream = [sounds[i].symbol for i in spoken]
    word_of_symbol: list[int] = []
    word_stream: list[str] = []
    for index, word in enumerate(words):
        symbols = [s for s in phonemize_word(word) if s not in STRESS_MARKS and s not in TRAILING_MODIFIERS]
        symbols = [s for s in symbols if s != " " and s not in SILENCE_SYMBOLS]
        word_stream.extend(symbols)
        word_of_symbol.extend([index] * len(symbols))

    spans: list[list[float]] = [[] for _ in words]
    matcher = difflib.SequenceMatcher(a=word_stream, b=stream, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "insert":
            continue
        if tag in ("equal", "replace") and b1 > b0:
            # Spread the matched sounds over the word symbols of this block in order.
            for k in range(a0, a1):
                j = b0 + min(b1 - b0 - 1, (k - a0) * (b1 - b0) // max(1, a1 - a0))
                sound = sounds[spoken[j]]
                spans[word_of_symbol[k]].extend((sound.start_s, sound.end_s))
    return _fill_gaps(words, spans, sounds)


def _fill_gaps(words: Sequence[str], spans: list[list[float]], sounds: Sequence[TimedSymbol]) -> list[Word]:
    """Words that matched no sound sit between their neighbours; times stay monotonic."""
    start_all = sounds[0].start_s if sounds else 0.0
    end_all = sounds[-1].end_s if sounds else 0.0
    bounds: list[tuple[float, float] | None] = [(min(s), max(s)) if s else None for s in spans]
    result: list[Word] = []
    previous_end = start_all
    for i, word in enumerate(words):
        bound = bounds[i]
        if bound is None:
            next_start = next((b[0] for b in bounds[i + 1 :] if b is not None), end_all)
            bound = (previous_end, max(previous_end, next_start))
        start = max(bound[0], previous_end)
        end = max(bound[1], start)
        result.append(Word(text=word, start_s=round(start, 4), end_s=round(end, 4)))
        previous_end = end
    return result


def to_phones(sounds: Sequence[TimedSymbol]) -> list[Phone]:
    return [Phone(symbol=s.symbol, start_s=round(s.start_s, 4), end_s=round(s.end_s, 4)) for s in sounds if s.symbol != "_"]
