"""Script text -> voice track + timeline, with any engine.

1. Normalise: each written word gets a spoken form ("$5" -> "five dollars"); [pause]
   and *emphasis* markup is read (``text/normalize.py``).
2. Plan: one request per sentence (long sentences are cut at clauses), with the
   profile's pauses between sentences and paragraphs and the script's [pause]s.
3. Speak each request, force-align it when the engine gives no timings, apply the
   profile's effects, and append it to the WAV on disk, so a ten-minute script only
   ever holds one sentence in memory.
4. Map the spoken words back to the written words: captions show what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import BackendError, TextError
from ...media.audio import resample
from ...media.wav import WavWriter
from ...models import Phone, Timeline, VoiceProfile, VoiceTrack, Word
from ...text.normalize import SpokenToken, normalize_for_speech, spoken_pieces
from ..base import VoiceEngine
from .align import ForcedAligner
from .effects import apply_profile
from .timeline import spoken_words
from .utterance import SpeechRequest, Utterance

_PARAGRAPH_RE = re.compile(r"\n\s*\n")
_SENTENCE_END = ".!?"
_CLAUSE_END = ",;:"


@dataclass
class Chunk:
    """One request: written tokens (silent ones included) with their spoken pieces,
    and the silence after it. ``explicit`` pauses come from [pause] markup."""

    entries: list[tuple[SpokenToken, str]] = field(default_factory=list)
    pause_after_s: float = 0.0
    explicit: bool = False

    @property
    def text(self) -> str:
        return " ".join(piece for _, piece in self.entries if piece)


def plan_speech(text: str, profile: VoiceProfile, max_chunk_chars: int, whole_text: bool = False) -> list[Chunk]:
    """Requests in order; a chunk with no text is a silence (a [pause] before any speech).

    With ``whole_text`` (a recording) everything is one request and markup pauses are
    ignored: the recording has its own pauses.
    """
    chunks: list[Chunk] = []
    for paragraph in (p for p in _PARAGRAPH_RE.split(text.strip()) if p.strip()):
        tokens = _normalized(paragraph, profile)
        pieces = dict(spoken_pieces(tokens))
        current = Chunk()
        for index, token in enumerate(tokens):
            if token.written and not pieces.get(index) and not current.entries and chunks and chunks[-1].entries:
                chunks[-1].entries.append((token, ""))  # "cats 🔥." : the emoji stays with its sentence
            elif token.written:
                current.entries.append((token, pieces.get(index, "")))
                if current.entries[-1][1].endswith(tuple(_SENTENCE_END)) and not whole_text:
                    chunks.append(Chunk(current.entries, profile.sentence_pause_s))
                    current = Chunk()
            elif token.pause_after_s > 0 and not whole_text:
                if current.entries:
                    chunks.append(Chunk(current.entries, token.pause_after_s, explicit=True))
                    current = Chunk()
                elif chunks and chunks[-1].explicit:  # pauses in a row add up
                    chunks[-1].pause_after_s += token.pause_after_s
                elif chunks:  # a [pause] right after a sentence replaces the sentence pause
                    chunks[-1].pause_after_s, chunks[-1].explicit = token.pause_after_s, True
                else:
                    chunks.append(Chunk(pause_after_s=token.pause_after_s, explicit=True))
        if current.entries:
            chunks.append(Chunk(current.entries))
        if chunks and not chunks[-1].explicit:
            chunks[-1].pause_after_s = profile.paragraph_pause_s
    if chunks and not chunks[-1].explicit:
        chunks[-1].pause_after_s = 0.0 if whole_text else profile.sentence_pause_s
    return [part for chunk in chunks for part in _split_long(chunk, max_chunk_chars)]


def _normalized(paragraph: str, profile: VoiceProfile) -> list[SpokenToken]:
    options = profile.text
    return normalize_for_speech(
        paragraph, hashtags=options.hashtags, handles=options.handles, urls=options.urls,
        date_order=options.date_order, default_pause_s=options.default_pause_s, acronyms=options.acronyms,
    )


def _split_long(chunk: Chunk, limit: int) -> list[Chunk]:
    """Cut a sentence longer than the engine takes, after a clause if there is one."""
    if len(chunk.text) <= limit:
        return [chunk]
    parts: list[Chunk] = []
    current = Chunk()
    last_clause = -1
    for token, piece in chunk.entries:
        if current.entries and piece and len(current.text) + 1 + len(piece) > limit:
            cut = last_clause + 1 if last_clause >= 0 else len(current.entries)
            parts.append(Chunk(entries=current.entries[:cut]))
            current = Chunk(entries=current.entries[cut:])
            last_clause = -1
        current.entries.append((token, piece))
        if piece.endswith(tuple(_CLAUSE_END)):
            last_clause = len(current.entries) - 1
    parts.append(current)
    parts[-1].pause_after_s, parts[-1].explicit = chunk.pause_after_s, chunk.explicit
    return [part for part in parts if part.entries]


def narrate(
    engine: VoiceEngine,
    text: str,
    profile: VoiceProfile,
    out_wav: Path,
    aligner: ForcedAligner | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> VoiceTrack:
    """Speak ``text`` into ``out_wav``; the timeline's words are the written words.
    ``on_progress`` gets the number of spoken characters done after each request."""
    whole_text = bool(getattr(engine, "whole_text", False))
    chunks = plan_speech(text, profile, engine.max_chunk_chars, whole_text)
    if not any(chunk.text for chunk in chunks):
        raise TextError("the script has nothing to say out loud", hint="give it words, not only emojis or markup")
    aligner = aligner or ForcedAligner()
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    writer: WavWriter | None = None
    pending_silence = 0.0
    words: list[Word] = []
    phones: list[Phone] = []
    warnings: list[str] = []
    billed = 0
    texts = [chunk.text for chunk in chunks]
    try:
        for index, chunk in enumerate(chunks):
            if chunk.text:
                request = SpeechRequest(
                    text=chunk.text,
                    previous_text=next((t for t in reversed(texts[:index]) if t), ""),
                    next_text=next((t for t in texts[index + 1 :] if t), ""),
                )
                utterance = engine.speak(request, profile)
                samples = _checked_samples(utterance, engine.name, chunk.text)
                if writer is None:
                    writer = WavWriter(out_wav, utterance.sample_rate_hz)
                    writer.write_silence(pending_silence)
                spoken, chunk_phones, notes = _timings(utterance, samples, request.text, aligner)
                warnings += notes + utterance.notes
                if utterance.sample_rate_hz != writer.rate_hz:
                    samples = resample(samples, utterance.sample_rate_hz, writer.rate_hz)
                offset = writer.samples_written / writer.rate_hz
                words += _written_words(chunk, spoken, offset)
                phones += [_shift(p, offset) for p in chunk_phones]
                writer.write(apply_profile(samples, writer.rate_hz, profile))
                billed += utterance.billed_characters
            if writer is None:
                pending_silence += chunk.pause_after_s
            else:
                writer.write_silence(chunk.pause_after_s)
            if on_progress:
                on_progress(sum(len(t) for t in texts[: index + 1]))
    finally:
        if writer is not None:
            writer.close()
    assert writer is not None  # some chunk had text, so the writer was opened
    duration = writer.samples_written / writer.rate_hz
    timeline = Timeline(words=_monotonic(words, duration), phonemes=_monotonic(phones, duration), duration_s=duration)
    return VoiceTrack(
        audio_path=out_wav, sample_rate_hz=writer.rate_hz, duration_s=duration, timeline=timeline,
        engine=engine.name, billed_characters=billed, warnings=list(dict.fromkeys(warnings)),
    )


def _checked_samples(utterance: Utterance, engine: str, text: str) -> np.ndarray:
    samples = np.asarray(utterance.samples, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        raise BackendError(f"the {engine} voice returned no audio for: {text[:60]!r}")
    if not np.all(np.isfinite(samples)):
        raise BackendError(f"the {engine} voice returned invalid audio (NaN or infinite samples)")
    return samples


def _timings(utterance: Utterance, samples: np.ndarray, text: str, aligner: ForcedAligner):
    """The engine's own word and phone times, or forced alignment when it has none
    (or gave a word list that does not match the text)."""
    expected = spoken_words(text)
    if utterance.words is not None and utterance.phones is not None and len(utterance.words) == len(expected):
        return utterance.words, utterance.phones, []
    return aligner.align(samples, utterance.sample_rate_hz, expected)


def _written_words(chunk: Chunk, spoken: list[Word], offset_s: float) -> list[Word]:
    """Each written token spans the spoken words it became; a silent one (an emoji)
    is a zero-length word where it stands."""
    result: list[Word] = []
    cursor = 0
    previous_end = spoken[0].start_s if spoken else 0.0
    for token, piece in chunk.entries:
        count = len(spoken_words(piece))
        mine = spoken[cursor : cursor + count]
        cursor += count
        start, end = (mine[0].start_s, mine[-1].end_s) if mine else (previous_end, previous_end)
        previous_end = end
        result.append(Word(
            text=token.written, start_s=round(start + offset_s, 4), end_s=round(end + offset_s, 4),
            emphasis=token.emphasis,
        ))
    return result


def _shift(phone: Phone, offset_s: float) -> Phone:
    return phone.model_copy(update={"start_s": round(phone.start_s + offset_s, 4), "end_s": round(phone.end_s + offset_s, 4)})


def _monotonic(items: list, duration_s: float) -> list:
    """Clamp into the audio and make every item start where the previous one ended at
    the earliest; engines and aligners can overlap by a frame at their joins."""
    result = []
    previous_end = 0.0
    for item in items:
        start = min(max(item.start_s, previous_end), duration_s)
        end = min(max(item.end_s, start), duration_s)
        result.append(item.model_copy(update={"start_s": start, "end_s": end}))
        previous_end = end
    return result
