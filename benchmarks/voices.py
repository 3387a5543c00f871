"""Voice quality and speed for every offline engine and built-in profile.

    python benchmarks/voices.py
    python benchmarks/voices.py --profiles sofia,joe --json out/voices.json

For each profile (and each script below), measured in one run:

- RTF: wall time of the voice stage (normalisation, synthesis, effects, timeline) /
  seconds of speech produced. Lower is faster; 1.0 is real time.
- WER: PocketSphinx *recognises* the produced audio (its default US-English n-gram
  model, no knowledge of the script) and the words it hears are compared with the
  spoken form of the script (Levenshtein distance over words / words in the script).
  As in usual ASR scoring, both sides are normalised first: contractions expanded
  ("we're" = "we are") and words compared by pronunciation (espeak-ng), so spelling
  variants of the same sound ("Sofia"/"Sophia", the letter "eh"/"a") are not errors.
  It measures intelligibility to a small 2010s recogniser, so it over-states the
  errors a person would make; it is a relative yardstick between engines and profiles.
  Target: <= 0.25 for the default female profile (sofia).
- Boundary: median |start of a word in the engine's timeline - start of the same word
  from PocketSphinx forced alignment of the same audio|, in ms. Target: <= 50 ms.

Kokoro is measured when PERSONACAST_KOKORO_MODEL_PATH / _VOICES_PATH / _CONFIG_PATH
point at its files; paid engines are never called here.
It is a measurement, not a test: it exits 0 whether or not targets are met.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from personacast.media.wav import read_wav
from personacast.models import VoiceProfile
from personacast.registry import load_backend
from personacast.settings import Settings
from personacast.stages.voice.align import ForcedAligner, _to_16k_pcm
from personacast.stages.voice.narrate import narrate, plan_speech
from personacast.stages.voice.phonemes import arpabet_for
from personacast.stages.voice.profiles import BUILTIN_PROFILES
from personacast.stages.voice.timeline import spoken_words

SCRIPTS = {
    "intro": "Hi, I'm Sofia! Today I'm sharing three simple habits that changed my mornings. "
    "First, I drink a big glass of water before coffee.",
    "numbers": "I paid $25 for this serum in 2024, and after 6 weeks my skin looks better. "
    "It ships on March 5th, so set a reminder for 9am.",
    "story": "My grandmother always said that the best meals are the ones you share. "
    "So tonight we are cooking her famous lemon pasta, and you are invited.",
}
TARGET_WER = 0.25
TARGET_BOUNDARY_MS = 50.0


def recognise(samples: np.ndarray, rate_hz: int) -> list[str]:
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000, loglevel="ERROR")
    decoder.start_utt()
    decoder.process_raw(_to_16k_pcm(samples, rate_hz), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr.split() if hypothesis else []


_CONTRACTIONS = {"'re": " are", "'m": " am", "'ve": " have", "'ll": " will", "'d": " would", "n't": " not"}
_WHOLE = {"it's": "it is", "that's": "that is", "what's": "what is", "let's": "let us", "won't": "will not", "can't": "can not"}


def _scoring_keys(words: list[str]) -> list[str]:
    """Words as pronunciations, contractions expanded: what an ASR score should compare."""
    expanded: list[str] = []
    for word in (w.lower().strip("'") for w in words):
        word = _WHOLE.get(word, word)
        for ending, full in _CONTRACTIONS.items():
            if word.endswith(ending):
                word = word[: -len(ending)] + full
                break
        expanded += word.split()
    return [" ".join(arpabet_for(w)) or w for w in expanded]


def word_error_rate(reference: list[str], heard: list[str]) -> float:
    ref, hyp = _scoring_keys(reference), _scoring_keys(heard)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / max(1, len(ref))


def boundary_errors_ms(track, text: str, profile: VoiceProfile, aligner: ForcedAligner) -> list[float]:
    """Per written word that is spoken: |timeline start - aligned start of its first spoken word|."""
    samples, rate = read_wav(track.audio_path)
    entries = [entry for chunk in plan_speech(text, profile, 10**9) for entry in chunk.entries]
    spoken = [w for _, piece in entries for w in spoken_words(piece)]
    aligned, _, warnings = aligner.align(samples, rate, spoken)
    if warnings:
        return []
    errors, cursor = [], 0
    for word, (_, piece) in zip(track.timeline.words, entries):
        count = len(spoken_words(piece))
        if count:
            errors.append(abs(word.start_s - aligned[cursor].start_s) * 1000)
        cursor += count
    return errors


def measure(name: str, profile: VoiceProfile, settings: Settings, folder: Path, aligner: ForcedAligner) -> dict:
    engine = load_backend("voice", profile.engine)(settings)
    narrate(engine, "Warm up.", profile, folder / "warm.wav", aligner)  # model loading is not speech time
    synth_s = speech_s = 0.0
    errors: list[float] = []
    reference: list[str] = []
    heard: list[str] = []
    for script, text in SCRIPTS.items():
        started = time.perf_counter()
        track = narrate(engine, text, profile, folder / f"{name}-{script}.wav", aligner)
        synth_s += time.perf_counter() - started
        speech_s += track.duration_s
        samples, rate = read_wav(track.audio_path)
        reference += [w for chunk in plan_speech(text, profile, 10**9) for w in spoken_words(chunk.text)]
        heard += recognise(samples, rate)
        errors += boundary_errors_ms(track, text, profile, aligner)
    return {
        "profile": name,
        "engine": profile.engine,
        "speech_s": round(speech_s, 2),
        "rtf": round(synth_s / speech_s, 4),
        "wer": round(word_error_rate(reference, heard), 3),
        "boundary_median_ms": round(float(np.median(errors)), 1) if errors else None,
        "boundary_p90_ms": round(float(np.percentile(errors, 90)), 1) if errors else None,
        "words_compared": len(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default=",".join(BUILTIN_PROFILES), help="comma-separated built-in profiles")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    settings = Settings(tts_threads=1)
    profiles = {name: BUILTIN_PROFILES[name] for name in args.profiles.split(",") if name}
    if settings.kokoro_model_path and settings.kokoro_voices_path:
        profiles["kokoro"] = VoiceProfile(name="kokoro", engine="kokoro")
    aligner = ForcedAligner()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, profile in profiles.items():
            rows.append(measure(name, profile, settings, Path(tmp), aligner))
    print(f"{'profile':<14}{'engine':<9}{'speech s':>9}{'RTF':>8}{'WER':>7}{'|Δ| med ms':>12}{'p90 ms':>8}")
    for row in rows:
        print(f"{row['profile']:<14}{row['engine']:<9}{row['speech_s']:>9}{row['rtf']:>8}{row['wer']:>7}"
              f"{row['boundary_median_ms']!s:>12}{row['boundary_p90_ms']!s:>8}")
    print(f"targets: WER <= {TARGET_WER} for sofia; median boundary difference <= {TARGET_BOUNDARY_MS:g} ms; "
          "RTF on one thread")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
