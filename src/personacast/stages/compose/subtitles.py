"""SRT and WebVTT caption files that match the burned-in caption pages.

Cues come from :func:`captions.paginate`, so a subtitle file shows exactly the
pages the video draws, with the same start and end times.

Choices:

* A disabled :class:`CaptionStyle` still yields cues: it only turns off the
  burned-in overlay, and a sidecar subtitle file is useful precisely when the
  picture carries no text.
* Cues are sorted by start and never overlap: a cue's end is clamped to the next
  cue's start. Every cue lasts at least :data:`MIN_CUE_S`; a cue that would be
  shorter is lengthened and the next one starts when it ends. Cues with no text
  are dropped.
* Times are written in whole milliseconds, rounded half-up on the seconds value
  as written in decimal (3661.2345 s -> 01:01:01.235), and an end never comes
  out before its start. Hours take as many digits as they need.
"""

from __future__ import annotations

import math
import os
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from ...models import CaptionStyle, Word
from .captions import paginate

# 2 ms rather than 1 ms, so that a cue still spans at least one whole millisecond
# after both of its ends are rounded to the millisecond.
MIN_CUE_S = 0.002

_MS = Decimal("0.001")


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


def _clean(text: str) -> str:
    """One line of text: runs of whitespace (newlines included) become one space."""
    return " ".join(text.split())


def subtitle_cues(words: list[Word], style: CaptionStyle) -> list[Cue]:
    """One cue per caption page, timed like the page; made even if ``style.enabled`` is False."""
    raw: list[tuple[float, float, str]] = []
    for page in paginate(list(words), style.max_words):
        texts = [_clean(w.text) for w in page.words]
        text = " ".join(t for t in texts if t)
        if style.uppercase:
            text = text.upper()
        if not text or not (math.isfinite(page.start_s) and math.isfinite(page.end_s)):
            continue
        raw.append((page.start_s, page.end_s, text))
    raw.sort(key=lambda item: item[0])  # stable: pages with equal starts keep their order

    cues: list[Cue] = []
    prev_end = 0.0
    for i, (start, end, text) in enumerate(raw):
        start = max(start, prev_end)
        if i + 1 < len(raw):
            end = min(end, raw[i + 1][0])
        if end - start < MIN_CUE_S:
            end = start + MIN_CUE_S
        cues.append(Cue(start, end, text))
        prev_end = end
    return cues


def _to_ms(seconds: float) -> int:
    """Whole milliseconds, half-up on the shortest decimal form of ``seconds``; never negative."""
    if not math.isfinite(seconds) or seconds <= 0:
        return 0
    return int(Decimal(repr(float(seconds))).quantize(_MS, rounding=ROUND_HALF_UP) * 1000)


def _stamp(ms: int, sep: str) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{sep}{millis:03d}"


def _span(cue: Cue, sep: str) -> str:
    start = _to_ms(cue.start_s)
    end = max(_to_ms(cue.end_s), start)
    return f"{_stamp(start, sep)} --> {_stamp(end, sep)}"


def to_srt(cues: list[Cue]) -> str:
    """SubRip text: index, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, text, blank line."""
    blocks = [f"{n}\n{_span(cue, ',')}\n{_clean(cue.text)}\n\n" for n, cue in enumerate(cues, 1)]
    return "".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(cues: list[Cue]) -> str:
    """WebVTT text: header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` and escaped text per cue."""
    blocks = [f"{_span(cue, '.')}\n{_vtt_escape(_clean(cue.text))}\n\n" for cue in cues]
    return "WEBVTT\n\n" + "".join(blocks)


def _write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_subtitles(words: list[Word], style: CaptionStyle, video_path: Path) -> tuple[Path, Path]:
    """Write ``<video>.srt`` and ``<video>.vtt`` beside the video; returns (srt, vtt)."""
    video_path = Path(video_path)
    cues = subtitle_cues(words, style)
    srt_path = video_path.with_suffix(".srt")
    vtt_path = video_path.with_suffix(".vtt")
    _write_atomic(srt_path, to_srt(cues))
    _write_atomic(vtt_path, to_webvtt(cues))
    return srt_path, vtt_path
