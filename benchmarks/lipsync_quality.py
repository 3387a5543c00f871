"""Lip-sync quality measured on the rendered MP4, not on the pipeline's own curves.

    python benchmarks/lipsync_quality.py
    python benchmarks/lipsync_quality.py --scripts 2 --json out/lipsync.json

Method, per script:

1. Render the script with the normal pipeline (Sofia on the sample portrait).
2. Decode every video frame and run the MediaPipe face mesh on it. Mouth openness of a
   frame = inner-lip gap at the centre (points 13-14) / distance between the outer eye
   corners (33-263), so it does not depend on the frame size or the head's scale. A
   frame where no face is found is NaN and counted as a detection failure.
3. Decode the delivered audio (AAC 48 kHz), resample to 16 kHz mono and force-align it
   to the script text with PocketSphinx, giving ARPAbet phones with start and end
   times. This is independent of Piper's own timeline, which drives the animation: a
   timeline that is wrong about when a sound is heard shows up here as lag or low r.
4. Expected openness of frame i = jaw_open of the viseme (personacast's own table) of
   the phone heard at the frame's centre, (i + 0.5) / fps; 0 in silence and for p/b/m.
   Frame i is shown from i / fps to (i + 1) / fps, so its centre is the fair time.
5. Metrics:
   - Pearson r between measured and expected openness at lags -5..+5 frames.
     Sign: lag L pairs measured[t + L] with expected[t]. A POSITIVE lag means the
     VIDEO IS BEHIND the audio (the mouth moves L frames after the sound); a negative
     lag means the mouth leads. Lags are never wrapped round the ends, and the pooled
     r pairs frames within each script only, then correlates all pairs together.
   - Closure share: a p/b/m phone counts as closed when the smallest openness over the
     frames it overlaps, widened by one frame each side (the alignment is only good to
     about a frame), is at most CLOSED_MAX_OPENNESS. See that constant for why 0.03.

Targets: r >= 0.6 at the best lag, best lag within +-1 frame, >= 90 % of p/b/m closed.

Reading the numbers: a lag of about -1 is by design. The performer
(personacast.stages.perform.performer) shows in frame i the mouth for the sound at
i / fps + ANTICIPATION_S (60 ms), which is about 1.3 frames ahead of the frame centre
used here. r cannot reach 1 either: the expectation is a step per phone, while the
rendered mouth is smoothed (coarticulation) and follows Piper's own timeline and IPA
phones, not this aligner's.

It is a measurement, not a test: it exits 0 whether or not the targets are met.
"""

from __future__ import annotations

import os

# Read by MediaPipe's native logging when it loads; the package silences the rest.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import math
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

LAGS = tuple(range(-5, 6))
ALIGN_RATE_HZ = 16_000

# Measured on the four scripts below (square/preview, 1288 frames), grouped by the
# performer's own controls: frames it closes for p/b/m read 0.016 median, 0.028 at the
# 95th percentile (the mesh puts a small gap even on pressed lips); rest frames read
# 0.018 median, because the warp's target gap at jaw 0 is zero, so rest is closed too;
# f/v-like jaw 0.08-0.15 reads 0.046 median and jaw 0.15-0.25 (t, d, s, w...) never less
# than 0.052. The sample portrait's own smiling gap is about 0.11. 0.03 sits between
# pressed and slightly parted lips, and tests/backends/test_landmark_animator.py
# asserts the same bound for one rendered p/b/m frame. The margin is thin (the worst
# p/b/m phone's least openness was 0.027), so a change that leaves a one-pixel seam
# between the lips will show up here first.
CLOSED_MAX_OPENNESS = 0.03

TARGET_R = 0.6
TARGET_MAX_ABS_LAG = 1
TARGET_CLOSED_SHARE = 0.9

# PocketSphinx's silence and filler phones; they mean "mouth at rest".
SILENCE_PHONES = frozenset({"SIL", "SP", "NSN", "SPN", "+NSN+", "+SPN+", "+BREATH+", "+COUGH+", "+UM+", "+UH+"})
CLOSING_PHONES = frozenset({"P", "B", "M"})

# 8-15 s each with the sofia voice. Dense in p/b/m (in onsets, codas, clusters and
# doubled as in "bubble", "mom"), with open vowels (father, car, laughed) and rounded
# ones (moon, boats, who) so the openness swings over its whole range. Every word must
# be in PocketSphinx's CMU dictionary: no digits, no rare names.
SCRIPTS: tuple[tuple[str, str], ...] = (
    ("pbm-dense",
     "Maybe people make a big problem out of a small bubble, but my mom simply smiles. "
     "She bakes apple pie, buys maple syrup, and pops a bottle of bubbly by the pool "
     "before the members come home."),
    ("open-vowels",
     "Bob's father parked the car by the barn. Far across the lawn, the calm crowd laughed "
     "and clapped as the band played a march, and Pam passed around hot pumpkin soup in "
     "paper cups."),
    ("rounded",
     "Who knew the moon could move so slowly over the blue ocean? Two old boats rode home "
     "through the cool gloom, and the crew sang a soothing tune while Bruce pulled the ropes."),
    ("everyday",
     "Good morning, everybody! Today I want to show you a simple way to plan your week. "
     "Pick one important task for each day, put it on paper, and protect that time from "
     "meetings and messages."),
)


class AlignedPhone(NamedTuple):
    symbol: str  # ARPAbet without stress digits, or a silence/filler symbol
    start_s: float
    end_s: float
    word: str = ""


# --- pure metrics (unit-tested in tests/unit/test_lipsync_metrics.py) ----------------


def phone_openness(symbol: str) -> float:
    """Expected jaw opening while this phone is heard: 0 for silence and p/b/m."""
    from personacast.stages.perform.visemes import viseme_for

    name = symbol.upper().rstrip("012")
    if not name or name in SILENCE_PHONES:
        return 0.0
    viseme = viseme_for(name)
    return 0.0 if viseme.lip_close >= 1.0 else float(viseme.jaw_open)


def frame_centres(n_frames: int, fps: float) -> np.ndarray:
    return (np.arange(n_frames) + 0.5) / fps


def phone_index_at_frames(phones: Sequence[Sequence], n_frames: int, fps: float) -> np.ndarray:
    """Index into ``phones`` of the phone heard at each frame's centre, -1 for none."""
    centres = frame_centres(n_frames, fps)
    index = np.full(n_frames, -1, dtype=int)
    for k, (_, start, end, *_) in enumerate(phones):
        # Half-open [start, end): a centre on a boundary belongs to the later phone.
        first, stop = np.searchsorted(centres, [start, end], side="left")
        index[first:stop] = k
    return index


def expected_openness(phones: Sequence[Sequence], n_frames: int, fps: float) -> np.ndarray:
    """Viseme jaw opening of the phone at each frame's centre (0 where none is heard)."""
    per_phone = np.array([phone_openness(p[0]) for p in phones] + [0.0])
    # index -1 picks the trailing 0.0: frames outside every phone are silence.
    return per_phone[phone_index_at_frames(phones, n_frames, fps)]


def _lagged(measured: np.ndarray, expected: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """(measured[t + lag], expected[t]) for every t where both exist; no wrapping."""
    n = min(measured.size, expected.size)
    if abs(lag) >= n:
        return np.empty(0), np.empty(0)
    if lag >= 0:
        return measured[lag:n], expected[: n - lag]
    return measured[: n + lag], expected[-lag:n]


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r over the pairs where both are finite; NaN if undefined."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 3:
        return math.nan
    a, b = a - a.mean(), b - b.mean()
    denominator = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / denominator if denominator > 0 else math.nan


def lagged_pearson(
    segments: Iterable[tuple[np.ndarray, np.ndarray]], lags: Iterable[int] = LAGS
) -> dict[int, float]:
    """r(lag) between measured and expected openness; lag > 0 = video behind audio.

    ``segments`` are (measured, expected) pairs, one per video. Frames are paired
    within each segment and the pairs of all segments are correlated together, so a
    shift never pairs the end of one video with the start of the next.
    """
    segments = [(np.asarray(m, float), np.asarray(e, float)) for m, e in segments]
    result = {}
    for lag in lags:
        pairs = [_lagged(m, e, lag) for m, e in segments]
        result[lag] = pearson(np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
    return result


def best_lag(r_by_lag: dict[int, float]) -> tuple[int | None, float]:
    """The lag with the highest r; on a tie the smaller shift. (None, NaN) if none."""
    finite = [(lag, r) for lag, r in r_by_lag.items() if math.isfinite(r)]
    if not finite:
        return None, math.nan
    lag, r = max(finite, key=lambda item: (item[1], -abs(item[0]), item[0]))
    return lag, r


def overlapping_frames(start_s: float, end_s: float, fps: float, n_frames: int, widen: int = 1) -> range:
    """Frames i whose display interval [i/fps, (i+1)/fps) overlaps [start, end), +-widen."""
    eps = 1e-9  # so a phone ending exactly on a frame boundary does not touch the next
    first = math.floor(start_s * fps + eps)
    last = max(first, math.ceil(end_s * fps - eps) - 1)
    return range(max(0, first - widen), min(n_frames, last + 1 + widen))


def closure_checks(
    measured: np.ndarray,
    phones: Sequence[Sequence],
    fps: float,
    threshold: float = CLOSED_MAX_OPENNESS,
    widen: int = 1,
) -> list[dict]:
    """One entry per p/b/m phone: the least openness near it and whether that is closed.

    ``closed`` is None when no frame near the phone had a face: unmeasured, so it is
    left out of the share rather than counted as a miss.
    """
    measured = np.asarray(measured, float)
    checks = []
    for phone in phones:
        symbol, start, end = phone[0], phone[1], phone[2]
        if symbol.upper().rstrip("012") not in CLOSING_PHONES:
            continue
        frames = overlapping_frames(start, end, fps, measured.size, widen)
        values = measured[frames.start : frames.stop]
        values = values[np.isfinite(values)]
        least = float(values.min()) if values.size else math.nan
        checks.append({
            "phone": symbol,
            "word": phone[3] if len(phone) > 3 else "",
            "start_s": round(float(start), 3),
            "end_s": round(float(end), 3),
            "min_openness": round(least, 4) if values.size else None,
            "closed": bool(least <= threshold) if values.size else None,
        })
    return checks


def closure_share(checks: Sequence[dict]) -> tuple[int, int]:
    """(closed, measured) over closure checks; unmeasured ones are not counted."""
    measured = [c for c in checks if c["closed"] is not None]
    return sum(1 for c in measured if c["closed"]), len(measured)


def openness_by_class(measured: np.ndarray, phones: Sequence[Sequence], fps: float) -> dict[str, float | None]:
    """Median measured openness on silence, p/b/m and wide-open-vowel frames (lag 0).

    A check on the closure threshold: silence and p/b/m should sit well under it and
    open vowels well over it.
    """
    measured = np.asarray(measured, float)
    index = phone_index_at_frames(phones, measured.size, fps)
    symbols = np.array([p[0].upper().rstrip("012") for p in phones] + ["SIL"])[index]
    openness = np.array([phone_openness(p[0]) for p in phones] + [0.0])[index]
    classes = {
        "silence": np.isin(symbols, list(SILENCE_PHONES)),
        "pbm": np.isin(symbols, list(CLOSING_PHONES)),
        "open_vowel": openness >= 0.9,
    }
    result: dict[str, float | None] = {}
    for name, mask in classes.items():
        values = measured[mask & np.isfinite(measured)]
        result[name] = round(float(np.median(values)), 4) if values.size else None
        result[f"{name}_frames"] = int(values.size)
    return result


# --- rendering, decoding, alignment --------------------------------------------------


def render_script(text: str, fmt: str, quality: str, data_dir: Path, out_path: Path):
    from personacast.models import Character, RenderSpec, Script
    from personacast.pipeline import RenderJob, render
    from personacast.samples import sample_image
    from personacast.settings import Settings
    from personacast.stages.voice.profiles import BUILTIN_PROFILES

    settings = Settings(data_dir=data_dir, max_script_chars=max(5000, len(text) + 100))
    character = Character(name="Sofia", images=[sample_image("astronaut")], voice=BUILTIN_PROFILES["sofia"], seed=7)
    job = RenderJob(character=character, script=Script.from_text(text), spec=RenderSpec(format=fmt, quality=quality), out_path=out_path)
    return render(job, settings)


def measure_openness(video: Path, detector) -> tuple[np.ndarray, float, int]:
    """(openness per frame, fps, frames without a face) from the decoded video."""
    import av

    from personacast.errors import FaceError
    from personacast.face.landmarks import EYE_OUTER_CORNERS, inner_lip_gap

    values = []
    failures = 0
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        for index, frame in enumerate(container.decode(stream)):
            # The metrics index frames as i / fps; a file that does not start at 0 or has
            # variable timing would shift every lag, so refuse to guess.
            if frame.time is not None and abs(frame.time - index / fps) > 0.25 / fps:
                raise SystemExit(f"{video}: frame {index} is at {frame.time:.4f} s, not {index / fps:.4f} s")
            try:
                points = detector.detect(frame.to_ndarray(format="rgb24")).points
            except FaceError:
                values.append(math.nan)
                failures += 1
                continue
            eyes = float(np.linalg.norm(points[EYE_OUTER_CORNERS[0]] - points[EYE_OUTER_CORNERS[1]]))
            values.append(inner_lip_gap(points) / eyes if eyes > 0 else math.nan)
    return np.array(values, dtype=float), fps, failures


def decode_audio_16k(video: Path) -> np.ndarray:
    """The delivered soundtrack as 16 kHz mono int16, starting at t = 0."""
    import av

    resampler = av.AudioResampler(format="s16", layout="mono", rate=ALIGN_RATE_HZ)
    chunks = []
    start = None
    with av.open(str(video)) as container:
        for frame in container.decode(audio=0):
            if start is None:
                start = frame.time or 0.0
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
        chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]  # flush
    pcm = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)
    # Keep phone times on the video's clock should the audio track ever not start at 0.
    offset = int(round((start or 0.0) * ALIGN_RATE_HZ))
    if offset > 0:
        pcm = np.concatenate([np.zeros(offset, np.int16), pcm])
    elif offset < 0:
        pcm = pcm[-offset:]
    return pcm


def alignment_words(text: str) -> list[str]:
    """The script as PocketSphinx dictionary words: lower case, no punctuation."""
    return re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower())


def align_phones(pcm: np.ndarray, text: str) -> list[AlignedPhone]:
    """Force-align 16 kHz int16 speech to ``text`` with personacast's PocketSphinx aligner
    (the one that times engines without timings): ARPAbet phones, each with its word."""
    from personacast.stages.voice.align import ForcedAligner

    words = alignment_words(text)
    timed, phones, warnings = ForcedAligner().align(pcm.astype(np.float32) / 32768.0, ALIGN_RATE_HZ, words)
    if warnings:
        raise RuntimeError(warnings[0])
    return [
        AlignedPhone(p.symbol, p.start_s, p.end_s, next((w.text for w in timed if w.start_s <= p.start_s < w.end_s), ""))
        for p in phones
    ]


# --- one script, the table ------------------------------------------------------------


def evaluate(name: str, text: str, args: argparse.Namespace, data_dir: Path, detector) -> dict:
    video = args.out_dir / f"{name}.mp4"
    started = time.perf_counter()
    result = render_script(text, args.format, args.quality, data_dir, video)
    render_s = time.perf_counter() - started

    started = time.perf_counter()
    measured, fps, failures = measure_openness(video, detector)
    detect_s = time.perf_counter() - started

    started = time.perf_counter()
    phones = align_phones(decode_audio_16k(video), text)
    align_s = time.perf_counter() - started

    expected = expected_openness(phones, measured.size, fps)
    r_by_lag = lagged_pearson([(measured, expected)])
    checks = closure_checks(measured, phones, fps, args.closed_below)
    closed, counted = closure_share(checks)
    return {
        "name": name,
        "text": text,
        "video": str(video),
        "speech_s": round(result.duration_s, 3),
        "fps": fps,
        "frames": int(measured.size),
        "detection_failures": failures,
        **_lag_summary(r_by_lag),
        "closures_closed": closed,
        "closures_measured": counted,
        "closures_unmeasured": len(checks) - counted,
        "missed_closures": [c for c in checks if c["closed"] is False],
        "openness_medians": openness_by_class(measured, phones, fps),
        "seconds": {"render": round(render_s, 2), "landmarks": round(detect_s, 2), "align": round(align_s, 2)},
        # Per-frame series and the alignment, so a run can be re-scored or plotted later.
        "measured_openness": [_round(v, 4) for v in measured],
        "expected_openness": [round(float(v), 3) for v in expected],
        "phones": [p._asdict() for p in phones],
        "closures": checks,
        "_series": (measured, expected),  # dropped before writing JSON
    }


def _lag_summary(r_by_lag: dict[int, float]) -> dict:
    lag, r_best = best_lag(r_by_lag)
    return {
        "r_by_lag": {str(k): _round(v) for k, v in r_by_lag.items()},
        "r_lag0": _round(r_by_lag[0]),
        "best_lag": lag,
        "r_best": _round(r_best),
    }


def _round(value: float, digits: int = 3) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def _closures(closed: int, counted: int) -> str:
    return f"{closed}/{counted} ({closed / counted:.0%})" if counted else "0/0 (n/a)"


def pooled(rows: list[dict]) -> dict:
    r_by_lag = lagged_pearson([row["_series"] for row in rows])
    closed = sum(row["closures_closed"] for row in rows)
    counted = sum(row["closures_measured"] for row in rows)
    return {
        "frames": sum(row["frames"] for row in rows),
        "detection_failures": sum(row["detection_failures"] for row in rows),
        **_lag_summary(r_by_lag),
        "closures_closed": closed,
        "closures_measured": counted,
        "closed_share": round(closed / counted, 4) if counted else None,
    }


def targets(total: dict) -> list[dict]:
    share = total["closed_share"]
    lag = total["best_lag"]
    r = total["r_best"]
    return [
        {"target": f"r at best lag >= {TARGET_R}", "value": _fmt(r),
         "met": r is not None and r >= TARGET_R},
        {"target": f"best lag within +-{TARGET_MAX_ABS_LAG} frame", "value": "n/a" if lag is None else f"{lag:+d}",
         "met": lag is not None and abs(lag) <= TARGET_MAX_ABS_LAG},
        {"target": f"p/b/m closed >= {TARGET_CLOSED_SHARE:.0%}", "value": "n/a" if share is None else f"{share:.1%}",
         "met": share is not None and share >= TARGET_CLOSED_SHARE},
    ]


def print_report(rows: list[dict], total: dict, goals: list[dict], args: argparse.Namespace, runtime_s: float) -> None:
    scripts = f"{len(rows)} script" + ("s" if len(rows) != 1 else "")
    print(f"personacast lip-sync quality: {args.format}/{args.quality}, {scripts}, videos in {args.out_dir}")
    print(f"lag > 0: video behind audio (mouth moves after the sound); closed: min openness <= {args.closed_below} "
          "(inner-lip gap / eye-corner distance) within the phone +-1 frame")
    header = f"  {'script':<13}{'speech s':>9}{'frames':>8}{'no face':>9}{'r@0':>8}{'best lag':>10}{'r@best':>8}   closures"
    print(header)
    for row in rows:
        lag = "n/a" if row["best_lag"] is None else f"{row['best_lag']:+d}"
        print(f"  {row['name']:<13}{row['speech_s']:>9.2f}{row['frames']:>8}{row['detection_failures']:>9}"
              f"{_fmt(row['r_lag0']):>8}{lag:>10}{_fmt(row['r_best']):>8}   "
              f"{_closures(row['closures_closed'], row['closures_measured'])}")
    lag = "n/a" if total["best_lag"] is None else f"{total['best_lag']:+d}"
    print(f"  {'pooled':<13}{sum(r['speech_s'] for r in rows):>9.2f}{total['frames']:>8}{total['detection_failures']:>9}"
          f"{_fmt(total['r_lag0']):>8}{lag:>10}{_fmt(total['r_best']):>8}   "
          f"{_closures(total['closures_closed'], total['closures_measured'])}")
    print("  pooled r by lag: " + "  ".join(f"{k}:{_fmt(v, '.2f')}" for k, v in total["r_by_lag"].items()))
    medians = {}
    for key in ("silence", "pbm", "open_vowel"):
        values = [row["openness_medians"][key] for row in rows if row["openness_medians"][key] is not None]
        medians[key] = _fmt(float(np.median(values)) if values else None)
    print(f"  median openness by frame (median over scripts): silence {medians['silence']}, "
          f"p/b/m {medians['pbm']}, open vowels {medians['open_vowel']}")
    for row in rows:
        if row["missed_closures"]:
            missed = ", ".join(f"{c['word']}/{c['phone']}@{c['start_s']:.2f}s ({c['min_openness']:.3f})" for c in row["missed_closures"])
            print(f"  missed closures in {row['name']}: {missed}")
    print("targets (pooled):")
    for goal in goals:
        print(f"  {goal['target']:<30}{goal['value']:>8}   {'met' if goal['met'] else 'NOT MET'}")
    print(f"runtime {runtime_s:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", default="square", help="format preset (default square, 1080x1080)")
    parser.add_argument("--quality", default="preview", choices=["preview", "final"])
    parser.add_argument("--scripts", type=int, default=len(SCRIPTS), help=f"how many of the {len(SCRIPTS)} scripts to run")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write every number (and per-frame series) here")
    parser.add_argument("--out-dir", type=Path, default=None, help="where the videos go (default: a new temp dir)")
    parser.add_argument("--closed-below", type=float, default=CLOSED_MAX_OPENNESS,
                        help=f"openness at or under which lips count as closed (default {CLOSED_MAX_OPENNESS})")
    args = parser.parse_args()
    if not 1 <= args.scripts <= len(SCRIPTS):
        parser.error(f"--scripts must be between 1 and {len(SCRIPTS)}")

    from personacast.face.landmarks import FaceMeshDetector

    started = time.perf_counter()
    args.out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="personacast-lipsync-"))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    # One data dir: the scripts differ, so each still voices from scratch.
    data_dir = Path(tempfile.mkdtemp(prefix="data-", dir=args.out_dir))
    rows = []
    # static_image_mode: every frame is measured on its own, with no tracking carried over.
    with FaceMeshDetector(max_faces=1) as detector:
        for name, text in SCRIPTS[: args.scripts]:
            print(f"... {name}", file=sys.stderr, flush=True)
            rows.append(evaluate(name, text, args, data_dir, detector))
    total = pooled(rows)
    goals = targets(total)
    runtime = time.perf_counter() - started
    print_report(rows, total, goals, args, runtime)

    if args.json:
        for row in rows:
            row.pop("_series")
        report = {
            "format": args.format, "quality": args.quality, "cpus": os.cpu_count(),
            "lag_sign": "positive lag = video behind audio: measured[t + lag] is paired with expected[t]",
            "openness": "inner-lip gap (mesh 13-14) / outer eye-corner distance (mesh 33-263)",
            "closed_below": args.closed_below, "lags": list(LAGS),
            "scripts": rows, "pooled": total, "targets": goals, "runtime_s": round(runtime, 1),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
