"""espeak-ng voices through the system library (Debian ``libespeak-ng1``), with word and
phone timings from the synthesizer's own events.

Robotic next to Piper, but needs no model download, runs far faster than real time and
speaks every language espeak-ng knows. The bindings are ``ctypes`` declarations written
from ``speak_lib.h`` (ESPEAK_API_REVISION 12), so no Python package is needed.
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ...errors import BackendError, TextError, VoiceError
from ...models import Phone, VoiceProfile, Word
from ...settings import Settings
from .timeline import STRESS_MARKS, TRAILING_MODIFIERS, spoken_words
from .utterance import SpeechRequest, Utterance

DEFAULT_VOICE = "en-us"
NORMAL_WPM = 175  # espeakRATE_NORMAL: what speaking_rate 1.0 means
# espeak-ng clamps slower rates to 80 itself. From 450 up it speeds the audio up with
# libsonic, which is slower than 449 (sic) and puts the events up to 30 ms late.
MIN_WPM, MAX_WPM = 80, 449
LIBRARY_HINT = "install the Debian package libespeak-ng1 (apt-get install libespeak-ng1)"

# speak_lib.h values.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_PHONEME_IPA = 0x0002
_INITIALIZE_DONT_EXIT = 0x8000  # a missing data folder must raise here, not exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_PHONEME = 7
_EVENT_KINDS: dict[int, Literal["word", "phoneme"]] = {_EVENT_WORD: "word", _EVENT_PHONEME: "phoneme"}
_PARAMETER_RATE = 1
_EE_OK = 0


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """espeak_EVENT; 40 bytes on 64-bit (the union is pointer-aligned at offset 32)."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # characters, 1-based
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # samples from the start of this message
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),  # .string: the IPA name of a phoneme, NUL-terminated unless 8 bytes long
    ]


class _VoiceSpec(ctypes.Structure):
    """espeak_VOICE: an entry of the voice list, or what to select a voice by."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, name, NUL) repeated, then NUL
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Mark:
    """A word or phoneme event: where in the text (1-based character) and in the audio."""

    kind: Literal["word", "phoneme"]
    text_position: int
    sample: int
    phoneme: str = ""  # IPA; "" is a pause


class _Espeak:
    """The process's one espeak-ng synthesizer; callers hold ``_LOCK``."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            raise VoiceError(
                "the espeak voice engine needs the espeak-ng library (libespeak-ng.so.1), which is not installed",
                hint=LIBRARY_HINT,
            ) from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSpec)]
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_VoiceSpec)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceSpec))
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int

        options = _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_PHONEME_IPA | _INITIALIZE_DONT_EXIT
        self.sample_rate_hz = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, options)
        data_dir = ctypes.c_char_p()
        self.version = (lib.espeak_Info(ctypes.byref(data_dir)) or b"?").decode()
        data_path = (data_dir.value or b"").decode(errors="replace")
        if self.sample_rate_hz <= 0 or not Path(data_path, "phontab").is_file():
            raise VoiceError(
                f"espeak-ng {self.version} cannot find its data in '{data_path}'",
                hint="install the Debian package espeak-ng-data (apt-get install espeak-ng-data)",
            )
        self._lib = lib
        self._callback = _SynthCallback(self._collect)  # referenced here so it outlives every call
        lib.espeak_SetSynthCallback(self._callback)
        self._chunks: list[bytes] = []
        self._marks: list[Mark] = []
        self._languages: set[str] | None = None

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: ctypes._Pointer[_Event]) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        index = 0
        while events and events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            kind = _EVENT_KINDS.get(event.type)
            if kind:
                name = event.id.string.decode("utf-8", errors="ignore") if kind == "phoneme" else ""
                self._marks.append(Mark(kind, event.text_position, event.sample, name))
            index += 1
        return 0  # 0 = go on

    def set_voice(self, voice: str) -> None:
        """A voice name or file ("en-us", "en-us+f3", "gmw/en") or a language ("en-gb")."""
        encoded = voice.encode()
        if self._lib.espeak_SetVoiceByName(encoded) == _EE_OK:
            return
        # Selecting by language takes the nearest match ("no-such-voice" -> Norwegian),
        # so only languages that some voice lists exactly are accepted.
        if self._languages is None:
            self._languages = self._list_languages()
        language = ctypes.create_string_buffer(voice.lower().encode())
        spec = _VoiceSpec(languages=ctypes.addressof(language))
        if voice.lower() not in self._languages or self._lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != _EE_OK:
            raise VoiceError(
                f"unknown espeak voice '{voice}'",
                hint="use an espeak-ng voice or language such as en-us, en-gb, en-us+f3 or de",
            )

    def _list_languages(self) -> set[str]:
        languages: set[str] = set()
        voices = self._lib.espeak_ListVoices(None)
        index = 0
        while voices[index]:
            address = voices[index].contents.languages
            while address and ctypes.string_at(address, 1) != b"\0":
                name = ctypes.string_at(address + 1)
                languages.add(name.decode(errors="replace").lower())
                address += len(name) + 2
            index += 1
        return languages

    def synthesize(self, text: str, wpm: int) -> tuple[np.ndarray, list[Mark]]:
        self._lib.espeak_SetParameter(_PARAMETER_RATE, wpm, 0)
        self._chunks, self._marks = [], []
        encoded = text.encode()
        status = self._lib.espeak_Synth(encoded, len(encoded) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != _EE_OK:
            raise BackendError(f"espeak-ng failed to synthesize the text (error {status})")
        samples = np.frombuffer(b"".join(self._chunks), dtype=np.int16)
        return samples, self._marks


_LOCK = threading.Lock()  # espeak-ng keeps one global synthesizer per process
_INSTANCE: _Espeak | None = None


def _espeak() -> _Espeak:
    global _INSTANCE
    if _INSTANCE is None:
        _INSTANCE = _Espeak()
    return _INSTANCE


class EspeakVoiceEngine:
    name = "espeak"
    max_chunk_chars = 600

    def __init__(self, settings: Settings) -> None:
        """Nothing to set: espeak-ng is one in-process synthesizer, loaded on first use."""

    def cache_identity(self, profile: VoiceProfile) -> str:
        with _LOCK:
            version = _espeak().version
        return f"espeak-ng-{version}:{profile.voice or DEFAULT_VOICE}"

    def speak(self, request: SpeechRequest, profile: VoiceProfile) -> Utterance:
        if not spoken_words(request.text):
            raise TextError(f"no words to speak in {request.text[:60]!r}")
        voice = profile.voice or DEFAULT_VOICE
        wpm = min(max(round(NORMAL_WPM * profile.speaking_rate), MIN_WPM), MAX_WPM)
        notes = []
        if wpm != round(NORMAL_WPM * profile.speaking_rate):
            notes.append(
                f"the espeak engine speaks at {MIN_WPM}-{MAX_WPM} words a minute: speaking_rate "
                f"{profile.speaking_rate:g} became {wpm / NORMAL_WPM:.2f}"
            )
        with _LOCK:
            engine = _espeak()
            engine.set_voice(voice)
            samples, marks = engine.synthesize(request.text, wpm)
            rate = engine.sample_rate_hz
        if samples.size == 0:
            raise BackendError(f"espeak-ng produced no audio for: {request.text[:60]!r}")
        words, phones = timings(request.text, marks, samples.size, rate)
        return Utterance(
            samples=samples.astype(np.float32) / 32768.0,
            sample_rate_hz=rate,
            words=words,
            phones=phones,
            notes=notes,
        )


def _clean_phoneme(name: str) -> str:
    """IPA without stress and length marks ("ˈɑːɹ" -> "ɑɹ"); "" for a pause."""
    return "".join(ch for ch in name if ch not in STRESS_MARKS and ch not in TRAILING_MODIFIERS and not ch.isspace())


def timings(text: str, marks: Sequence[Mark], total_samples: int, rate: int) -> tuple[list[Word], list[Phone]]:
    """Words of ``spoken_words(text)`` and phones, in seconds, from espeak's events.

    A phone lasts until the next phoneme event (pauses are phoneme events without a
    name). Phones belong to the word of the latest word event, found by its character
    position. espeak sometimes says two words under one event ("of a") and repeats a
    stale position after a sentence, so a word event never moves back, and words without
    phones of their own share their neighbour's time by text position.
    """
    words = spoken_words(text)
    starts: list[int] = []
    cursor = 0
    for word in words:
        starts.append(text.index(word, cursor))
        cursor = starts[-1] + len(word)

    owned: list[tuple[int, Mark]] = []
    current = 0
    for mark in marks:
        if mark.kind == "word":
            current = max(current, bisect.bisect_right(starts, mark.text_position - 1) - 1)
        else:
            owned.append((current, mark))

    phones: list[Phone] = []
    spans: list[tuple[float, float] | None] = [None] * len(words)
    previous_end = 0
    for k, (word, mark) in enumerate(owned):
        start = min(max(mark.sample, previous_end), total_samples)
        end = min(max(owned[k + 1][1].sample, start), total_samples) if k + 1 < len(owned) else total_samples
        previous_end = end
        symbol = _clean_phoneme(mark.phoneme)
        if not symbol or end == start:
            continue
        phones.append(Phone(symbol=symbol, start_s=start / rate, end_s=end / rate))
        span = spans[word]
        spans[word] = (span[0] if span else start / rate, end / rate)
    if not phones:
        raise BackendError(f"espeak-ng reported no phonemes for: {text[:60]!r}")
    return _share_spans(words, starts, spans), phones


def _share_spans(words: list[str], starts: list[int], spans: list[tuple[float, float] | None]) -> list[Word]:
    """Split the time of each word with phones among it and the following words without
    (words before the first word with phones go with it), by character offset."""
    owners = [i for i, span in enumerate(spans) if span]
    result: list[Word] = []
    for k, owner in enumerate(owners):
        group = range(0 if k == 0 else owner, owners[k + 1] if k + 1 < len(owners) else len(words))
        start_s, end_s = spans[owner]
        first = starts[group[0]]
        chars = starts[group[-1]] + len(words[group[-1]]) - first
        for i in group:
            a = (starts[i] - first) / chars
            b = (starts[i] + len(words[i]) - first) / chars
            # Weighted, not start + (end - start) * b, so the group's ends stay exact.
            result.append(Word(text=words[i], start_s=start_s * (1 - a) + end_s * a, end_s=start_s * (1 - b) + end_s * b))
    return result
