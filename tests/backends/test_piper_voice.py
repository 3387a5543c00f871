import numpy as np
import pytest

from personacast.errors import VoiceError
from personacast.media.wav import read_wav
from personacast.models import VoiceProfile
from personacast.stages.voice.narrate import narrate
from personacast.stages.voice.profiles import BUILTIN_PROFILES, resolve_profile
from personacast.stages.voice.timeline import written_words

TEXT = "Hi, I'm Sofia! Today I spent $25 on coffee. Bob bought a map, maybe."


@pytest.fixture(scope="module")
def tracks(voice_engine, tmp_path_factory):
    folder = tmp_path_factory.mktemp("voice")
    return {
        name: narrate(voice_engine, TEXT, BUILTIN_PROFILES[name], folder / f"{name}.wav")
        for name in ("joe", "sofia")
    }


def test_timeline_invariants(tracks):
    track = tracks["sofia"]
    samples, rate = read_wav(track.audio_path)
    assert rate == track.sample_rate_hz == 22050
    assert abs(samples.size / rate - track.duration_s) < 1e-6
    timeline = track.timeline
    assert [w.text for w in timeline.words] == written_words(TEXT)
    for items in (timeline.words, timeline.phonemes):
        starts = [i.start_s for i in items]
        assert starts == sorted(starts)
        assert all(0 <= i.start_s <= i.end_s <= track.duration_s for i in items)
    assert sum(p.symbol in "pbm" for p in timeline.phonemes) >= 5  # Bob, bought, map, maybe, m of I'm
    # The number is spoken as words, so its span is the longest of the short words.
    spans = {w.text: w.end_s - w.start_s for w in timeline.words}
    assert spans["$25"] > 2 * spans["on"]


def test_words_line_up_with_the_sound(tracks):
    """Each word's span carries energy; the pause after a sentence is quiet."""
    track = tracks["joe"]
    samples, rate = read_wav(track.audio_path)

    def rms(a, b):
        chunk = samples[int(a * rate) : int(b * rate)]
        return float(np.sqrt(np.mean(chunk**2))) if chunk.size else 0.0

    words = track.timeline.words
    loud = [rms(w.start_s, w.end_s) for w in words]
    assert min(loud) > 0.02
    sofia_end = next(w for w in words if w.text == "Sofia!").end_s
    today_start = next(w for w in words if w.text == "Today").start_s
    assert today_start - sofia_end > 0.25
    assert rms(sofia_end + 0.08, today_start - 0.08) < 0.2 * np.median(loud)


def test_female_profile_raises_pitch_and_keeps_duration(tracks):
    import parselmouth

    def median_pitch(track):
        samples, rate = read_wav(track.audio_path)
        pitch = parselmouth.Sound(samples.astype(np.float64), rate).to_pitch(pitch_floor=60, pitch_ceiling=500)
        f0 = pitch.selected_array["frequency"]
        return float(np.median(f0[f0 > 0]))

    male, female = median_pitch(tracks["joe"]), median_pitch(tracks["sofia"])
    assert male < 150 and 180 < female < 240
    assert tracks["joe"].timeline.phonemes[0].symbol == tracks["sofia"].timeline.phonemes[0].symbol


def test_speaking_rate_changes_duration(voice_engine, tmp_path):
    slow = narrate(voice_engine, "Hello there, friend.", VoiceProfile(speaking_rate=0.8), tmp_path / "s.wav")
    fast = narrate(voice_engine, "Hello there, friend.", VoiceProfile(speaking_rate=1.4), tmp_path / "f.wav")
    assert slow.duration_s > 1.3 * fast.duration_s


def test_unknown_voice_and_profile(voice_engine, tmp_path):
    with pytest.raises(VoiceError, match="unknown Piper voice 'nobody'"):
        narrate(voice_engine, "Hi.", VoiceProfile(voice="nobody"), tmp_path / "x.wav")
    with pytest.raises(VoiceError, match="not found"):
        narrate(voice_engine, "Hi.", VoiceProfile(voice=str(tmp_path / "missing.onnx")), tmp_path / "x.wav")
    with pytest.raises(VoiceError, match="unknown voice profile 'alto'"):
        resolve_profile("alto")
