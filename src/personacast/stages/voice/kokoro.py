"""Kokoro-82M voices (ONNX), offline on the CPU, from files the user downloaded.

Why not the ``kokoro-onnx`` package: 0.6.1 needs numpy>=2 (we pin numpy<2 for
mediapipe) and brings phonemizer (joblib, dlinfo, ...) plus espeakng-loader, a second
espeak-ng next to the one Piper bundles. What it does for us is small: text to IPA,
IPA to token ids, one style row from the voices file, one onnxruntime call. So this
module does that itself with onnxruntime and Piper's espeak-ng, both core dependencies.

Files (nothing here downloads anything; settings point at them):

- ``kokoro_model_path``: the graph, e.g. ``kokoro-v1.0.onnx``. Two input layouts
  exist: ``tokens``/``style``/``speed`` (kokoro-onnx releases) and
  ``input_ids``/``style``/``speed`` (onnx-community export); some take an integer speed.
- ``kokoro_voices_path``: ``voices-v1.0.bin``, an .npz of one (510, 1, 256) array per
  voice: a style vector for each token count (the older voices.json is not read).
- ``kokoro_config_path``: Kokoro-82M's ``config.json``, whose ``vocab`` maps phoneme
  characters to token ids. The graph does not carry it (unless its exporter stored it
  as ``kokoro_config`` metadata), and it is not ours to copy into this package.

Kokoro gives no timings, so utterances leave ``words``/``phones`` to the aligner.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError, TextError, VoiceError
from ...models import VoiceProfile
from ...settings import Settings
from .phonemes import espeak_bridge
from .utterance import SpeechRequest, Utterance

SAMPLE_RATE_HZ = 24000
DEFAULT_VOICE = "af_heart"
CONTEXT_TOKENS = 510  # 512 positions less the pad token at each end
# Bump when the text -> phoneme mapping changes: cached audio depends on it.
_G2P_VERSION = 1
_CLAUSE_MARKS = ".!?;:,—…"
# Silence kept at each end: the narrator adds the pauses between requests.
_EDGE_MARGIN_S = 0.05
_SILENCE_RATIO = 0.005  # of the peak, about -46 dB

_FILES_HINT = (
    "download kokoro-v1.0.onnx and voices-v1.0.bin from the kokoro-onnx project's GitHub releases "
    "(github.com/thewh1teagle/kokoro-onnx/releases) and set PERSONACAST_KOKORO_MODEL_PATH and "
    "PERSONACAST_KOKORO_VOICES_PATH to them; the Kokoro-82M weights are Apache-2.0"
)
_CONFIG_HINT = (
    "download config.json of Kokoro-82M (huggingface.co/hexgrad/Kokoro-82M, Apache-2.0) and set "
    "PERSONACAST_KOKORO_CONFIG_PATH to it; it holds the phoneme vocabulary"
)

# espeak-ng spells a diphthong or affricate with two letters; Kokoro's English voices
# were trained on one symbol for each (misaki's inventory) and on "ɹ" for every r.
# Longer spellings first; the regional tables run after this one ("faɪə" -> "fIə").
_KOKORO_COMMON = (
    ("aɪ", "I"), ("aʊ", "W"), ("eɪ", "A"), ("ɔɪ", "Y"), ("dʒ", "ʤ"), ("tʃ", "ʧ"),
    ("ɚ", "əɹ"), ("ɐ", "ə"), ("r", "ɹ"), ("x", "k"), ("ç", "k"), ("ɬ", "l"), ("ʔ", "t"), ("ʲ", ""),
)
# American voices: no length marks, an r-coloured "ɜ".
_KOKORO_US = (("oʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""))
_KOKORO_GB = (("əʊ", "Q"), ("eə", "ɛː"), ("iə", "ɪə"))
_LANGUAGE_FLAG_RE = re.compile(r"\([^)]*\)")  # "(fr)" around words espeak reads as foreign
_SYLLABIC_RE = re.compile("(\\S)\u0329")  # "n̩" -> "ᵊn"

_NUMPY_TYPES = {
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
}


def kokoro_phonemes(text: str, british: bool = False) -> str:
    """Spoken text as Kokoro's English phoneme string: stress marks, spaces between
    words and clause punctuation kept, as the model was trained."""
    with espeak_bridge() as bridge:
        if british:
            bridge.set_voice("en")
        try:
            clauses = bridge.get_phonemes(text)
        finally:
            if british:
                bridge.set_voice("en-us")  # phonemes.py expects en-us between calls
    phonemes = " ".join(_LANGUAGE_FLAG_RE.sub("", ipa) + terminator for ipa, terminator, _end in clauses)
    for old, new in _KOKORO_COMMON + (_KOKORO_GB if british else _KOKORO_US):
        phonemes = phonemes.replace(old, new)
    phonemes = _SYLLABIC_RE.sub("ᵊ\\1", phonemes)
    return " ".join(phonemes.split())


def split_for_context(phonemes: str, limit: int = CONTEXT_TOKENS) -> list[str]:
    """Pieces of at most ``limit`` symbols, cut after the last clause mark that fits,
    else at the last space: the model cannot see past its context."""
    pieces: list[str] = []
    rest = phonemes
    while len(rest) > limit:
        head = rest[:limit]
        cut = max(head.rfind(mark) for mark in _CLAUSE_MARKS) + 1
        if cut <= 0:
            cut = head.rfind(" ")
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def _trim_silence(audio: np.ndarray) -> np.ndarray:
    peak = float(np.abs(audio).max(initial=0.0))
    if peak == 0.0:
        return audio
    loud = np.flatnonzero(np.abs(audio) > peak * _SILENCE_RATIO)
    margin = int(_EDGE_MARGIN_S * SAMPLE_RATE_HZ)
    return audio[max(0, loud[0] - margin) : loud[-1] + 1 + margin]


@dataclass(frozen=True)
class _Files:
    model: Path
    voices: Path
    config: Path | None

    @classmethod
    def from_settings(cls, settings: Settings) -> "_Files":
        model, voices = settings.kokoro_model_path, settings.kokoro_voices_path
        if model is None or voices is None:
            raise ConfigError("the Kokoro voice engine needs its model and voices files", hint=_FILES_HINT)
        for path in (model, voices):
            if not path.expanduser().is_file():
                raise ConfigError(f"Kokoro file not found: {path}", hint=_FILES_HINT)
        config = settings.kokoro_config_path
        if config is not None and not config.expanduser().is_file():
            raise ConfigError(f"Kokoro config not found: {config}", hint=_CONFIG_HINT)
        return cls(model.expanduser(), voices.expanduser(), config.expanduser() if config else None)

    def identity(self) -> str:
        parts = [f"{p.name}:{p.stat().st_size}" for p in (self.model, self.voices, self.config) if p]
        return f"kokoro-g2p{_G2P_VERSION}:" + ":".join(parts)


@dataclass(frozen=True)
class _Kokoro:
    session: object  # onnxruntime.InferenceSession
    token_input: str
    dtypes: dict[str, type]
    vocab: dict[str, int]
    voices: dict[str, np.ndarray]  # name -> (token counts, style width)
    voices_file: str

    def style_pack(self, name: str) -> np.ndarray:
        pack = self.voices.get(name)
        if pack is None:
            # American and British voices first: the text is English.
            english = [v for v in sorted(self.voices) if v[:1] in ("a", "b")] or sorted(self.voices)
            raise VoiceError(
                f"unknown Kokoro voice '{name}'",
                hint=f"{self.voices_file} has {len(self.voices)} voices, e.g. {', '.join(english[:8])}",
            )
        return pack

    def speed(self, rate: float) -> tuple[float, list[str]]:
        """Integer-speed exports cannot take fractions: round, and say so."""
        if not np.issubdtype(self.dtypes["speed"], np.integer):
            return rate, []
        whole = max(1, round(rate))
        if whole == rate:
            return whole, []
        return whole, [f"this Kokoro model takes a whole-number speed; speaking rate {rate} ran as {whole}"]

    def run(self, phonemes: str, pack: np.ndarray, speed: float) -> np.ndarray:
        ids = [self.vocab[symbol] for symbol in phonemes]
        # The voices file holds one style per token count: the model was trained that way.
        style = pack[min(len(ids), len(pack)) - 1][None, :]
        feeds = {
            self.token_input: np.array([[0, *ids, 0]], dtype=self.dtypes[self.token_input]),
            "style": style.astype(self.dtypes["style"]),
            "speed": np.array([speed], dtype=self.dtypes["speed"]),
        }
        audio = self.session.run(None, feeds)[0]  # exports with durations list them after the audio
        return np.clip(np.asarray(audio, dtype=np.float32).ravel(), -1.0, 1.0)


class KokoroVoiceEngine:
    name = "kokoro"
    # About 400 characters of English stay under the 510-token context; longer
    # phoneme strings are still cut at clauses (``split_for_context``).
    max_chunk_chars = 400

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._model: _Kokoro | None = None
        self._lock = threading.Lock()

    def cache_identity(self, profile: VoiceProfile) -> str:
        return _Files.from_settings(self._settings).identity()

    def speak(self, request: SpeechRequest, profile: VoiceProfile) -> Utterance:
        model = self._load()
        voice = profile.voice or DEFAULT_VOICE
        pack = model.style_pack(voice)
        phonemes = kokoro_phonemes(request.text, british=voice.startswith("b"))
        known = " ".join("".join(symbol for symbol in phonemes if symbol in model.vocab).split())
        if not any(symbol.isalpha() for symbol in known):
            raise TextError(f"Kokoro has nothing to say for {request.text!r}")
        speed, notes = model.speed(profile.speaking_rate)
        pieces = [_trim_silence(model.run(piece, pack, speed)) for piece in split_for_context(known)]
        return Utterance(samples=np.concatenate(pieces), sample_rate_hz=SAMPLE_RATE_HZ, notes=notes)

    def _load(self) -> _Kokoro:
        with self._lock:
            if self._model is None:
                self._model = self._build(_Files.from_settings(self._settings))
            return self._model

    def _build(self, files: _Files) -> _Kokoro:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self._settings.tts_threads
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(
                str(files.model), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # corrupt or not an ONNX file: say which
            raise ConfigError(f"cannot load the Kokoro model {files.model}: {exc}", hint=_FILES_HINT) from None
        dtypes = {i.name: _NUMPY_TYPES.get(i.type, np.float32) for i in session.get_inputs()}
        token_input = "input_ids" if "input_ids" in dtypes else "tokens"
        if not {token_input, "style", "speed"} <= dtypes.keys():
            raise ConfigError(
                f"{files.model} is not a Kokoro model: its inputs are {', '.join(dtypes)}",
                hint="expected tokens (or input_ids), style and speed",
            )
        return _Kokoro(
            session, token_input, dtypes, _vocabulary(files, session), _voices(files.voices), files.voices.name
        )


def _vocabulary(files: _Files, session) -> dict[str, int]:
    if files.config is not None:
        source, text = str(files.config), files.config.read_text(encoding="utf-8")
    else:
        source, text = f"{files.model} metadata", session.get_modelmeta().custom_metadata_map.get("kokoro_config")
        if not text:
            raise ConfigError("the Kokoro model carries no phoneme vocabulary", hint=_CONFIG_HINT)
    try:
        vocab = json.loads(text)["vocab"]
        return {str(symbol): int(index) for symbol, index in vocab.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(f"no Kokoro phoneme vocabulary in {source}", hint=_CONFIG_HINT) from None


def _voices(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            voices = {name: np.asarray(data[name], dtype=np.float32) for name in data.files}
    except (OSError, ValueError, AttributeError, TypeError):
        # A bare .npy array or any other file: np.load gives no NpzFile or fails.
        raise ConfigError(f"{path} is not a Kokoro voices file (.npz of style vectors)", hint=_FILES_HINT) from None
    if not voices:
        raise ConfigError(f"{path} holds no Kokoro voices", hint=_FILES_HINT)
    return {name: pack.reshape(-1, pack.shape[-1]) for name, pack in voices.items()}
