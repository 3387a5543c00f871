"""The espeak engine against the real system library (scripts/system-deps.sh installs it)."""

import numpy as np
import pytest

from personacast.errors import BackendError, TextError, VoiceError
from personacast.models import VoiceProfile
from personacast.settings import Settings
from personacast.stages.perform.visemes import viseme_for
from personacast.stages.voice import espeak
from personacast.stages.voice.espeak import EspeakVoiceEngine, Mark, timings
from personacast.stages.voice.timeline import spoken_words
from personacast.stages.voice.utterance import SpeechRequest

TEXT = "Hello there, it's five o'clock. The quick brown fox jumps over the lazy dog; a lot of a cup!"
PROFILE = VoiceProfile(engine="espeak")
FRAME_S = 0.005


@pytest.fixture(scope="module")
def engine() -> EspeakVoiceEngine:
    return EspeakVoiceEngine(Settings())


@pytest.fixture(scope="module")
def utterance(engine):
    return engine.speak(SpeechRequest(TEXT), PROFILE)


def speech_onsets(samples: np.ndarray, rate: int, min_silence_s: float = 0.1) -> list[float]:
    """Times where sound starts after at least ``min_silence_s`` of quiet (or at the start)."""
    hop = int(rate * FRAME_S)
    frames = samples[: samples.size // hop * hop].reshape(-1, hop)
    level_db = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    loud = level_db > level_db.max() - 35
    onsets, quiet = [], min_silence_s
    for index, is_loud in enumerate(loud):
        if is_loud and quiet >= min_silence_s:
            onsets.append(index * FRAME_S)
        quiet = 0.0 if is_loud else quiet + FRAME_S
    return onsets


def test_audio_is_speech_of_a_plausible_length(utterance):
    assert utterance.sample_rate_hz == 22050
    assert utterance.samples.dtype == np.float32
    assert np.abs(utterance.samples).max() <= 1.0
    assert np.sqrt(np.mean(utterance.samples**2)) > 0.02
    words = len(spoken_words(TEXT))
    assert 0.2 * words < utterance.duration_s < 0.6 * words


def test_one_word_per_spoken_word_in_order_inside_the_audio(utterance):
    assert [w.text for w in utterance.words] == spoken_words(TEXT)
    times = [t for w in utterance.words for t in (w.start_s, w.end_s)]
    assert times == sorted(times)
    assert 0.0 <= times[0] and times[-1] <= utterance.duration_s
    assert all(w.end_s > w.start_s for w in utterance.words)


def test_phones_are_ipa_sounds_in_order_that_all_move_the_mouth(utterance):
    phones = utterance.phones
    assert len(phones) > 40
    times = [t for p in phones for t in (p.start_s, p.end_s)]
    assert times == sorted(times) and 0.0 <= times[0] and times[-1] <= utterance.duration_s
    assert all(p.end_s > p.start_s for p in phones)
    assert all(p.symbol and not set(p.symbol) & set("ˈˌː_ ") for p in phones)
    assert {"aɪ", "oʊ", "ð", "ɛɹ"} <= {p.symbol for p in phones}  # multi-character IPA kept whole
    assert not [p.symbol for p in phones if viseme_for(p.symbol).name == "rest"]


def test_words_start_where_the_sound_starts(utterance):
    onsets = speech_onsets(utterance.samples, utterance.sample_rate_hz)
    starts = [w.start_s for w in utterance.words]
    assert abs(starts[0] - onsets[0]) < 0.06
    # After each pause ("there," "o'clock." "dog;") a word starts with the sound.
    assert len(onsets) >= 4
    assert all(min(abs(s - onset) for s in starts) < 0.06 for onset in onsets)


def test_faster_speaking_rate_gives_shorter_audio(engine, utterance):
    fast = engine.speak(SpeechRequest(TEXT), PROFILE.model_copy(update={"speaking_rate": 1.5}))
    assert fast.duration_s < 0.8 * utterance.duration_s
    assert [w.text for w in fast.words] == spoken_words(TEXT)
    assert not fast.notes


def test_rates_beyond_espeak_are_clamped_with_a_note(engine):
    fastest = engine.speak(SpeechRequest("One two three."), PROFILE.model_copy(update={"speaking_rate": 3.0}))
    assert "2.57" in fastest.notes[0]


def test_voices_by_name_variant_or_language(engine):
    for voice in ("en-gb", "en-us+f3"):
        result = engine.speak(SpeechRequest("Hello there."), PROFILE.model_copy(update={"voice": voice}))
        assert [w.text for w in result.words] == ["Hello", "there"]
    identity = engine.cache_identity(PROFILE.model_copy(update={"voice": "en-gb"}))
    assert "en-gb" in identity and espeak._espeak().version in identity


@pytest.mark.parametrize("voice", ["no-such-voice", "xx"])  # "no" is Norwegian: no nearest match
def test_unknown_voice_is_named(engine, voice):
    with pytest.raises(VoiceError, match=f"'{voice}'"):
        engine.speak(SpeechRequest("Hello."), PROFILE.model_copy(update={"voice": voice}))


def test_text_without_words_is_refused(engine):
    with pytest.raises(TextError):
        engine.speak(SpeechRequest(" ... "), PROFILE)


def test_missing_library_says_which_package_to_install(monkeypatch):
    monkeypatch.setattr(espeak, "_INSTANCE", None)
    monkeypatch.setattr(espeak.ctypes.util, "find_library", lambda name: "libespeak-ng-missing.so.0")
    with pytest.raises(VoiceError, match="apt-get install libespeak-ng1"):
        EspeakVoiceEngine(Settings()).cache_identity(PROFILE)


def word(position: int, sample: int) -> Mark:
    return Mark("word", position, sample)


def phone(position: int, sample: int, name: str) -> Mark:
    return Mark("phoneme", position, sample, name)


def test_words_under_one_event_share_its_time_by_text_position():
    # "of a cup": espeak says "of a" as one word; a stale event (position 1) follows.
    marks = [word(1, 0), phone(1, 0, "ə"), phone(1, 10, "v"), phone(1, 20, "ə"), word(6, 30),
             phone(6, 30, "k"), phone(6, 40, "ˈʌ"), word(1, 50), phone(6, 50, "p"), phone(9, 60, "")]
    words, phones = timings("of a cup.", marks, total_samples=80, rate=100)
    assert [(w.text, w.start_s, w.end_s) for w in words] == [
        ("of", 0.0, pytest.approx(0.15)), ("a", pytest.approx(0.225), 0.3), ("cup", 0.3, 0.6)]
    assert [(p.symbol, p.start_s, p.end_s) for p in phones] == [
        ("ə", 0.0, 0.1), ("v", 0.1, 0.2), ("ə", 0.2, 0.3), ("k", 0.3, 0.4), ("ʌ", 0.4, 0.5), ("p", 0.5, 0.6)]


def test_no_phoneme_events_is_a_backend_error():
    with pytest.raises(BackendError, match="no phonemes"):
        timings("Hello.", [word(1, 0), phone(6, 0, "")], total_samples=100, rate=100)
