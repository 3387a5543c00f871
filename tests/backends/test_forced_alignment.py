"""PocketSphinx forced alignment on real speech, checked against Piper's own timings."""

import numpy as np
import pytest

from personacast.errors import MediaError
from personacast.media.audio import decode_audio
from personacast.media.wav import read_wav
from personacast.models import VoiceProfile
from personacast.settings import Settings
from personacast.stages.voice.align import ForcedAligner
from personacast.stages.voice.narrate import narrate
from personacast.stages.voice.recorded import RecordedVoiceEngine
from personacast.stages.voice.timeline import spoken_words

# "Kubernetes" and "Sofia's" test pronunciations that come from espeak, not the dictionary.
TEXT = "Sofia's new Kubernetes cluster is ready, and the dashboards look great today."


@pytest.fixture(scope="module")
def piper_track(voice_engine, tmp_path_factory):
    return narrate(voice_engine, TEXT, VoiceProfile(), tmp_path_factory.mktemp("align") / "joe.wav")


def test_alignment_agrees_with_piper_within_50_ms(piper_track):
    samples, rate = read_wav(piper_track.audio_path)
    words = spoken_words(TEXT)
    timed, phones, warnings = ForcedAligner().align(samples, rate, words)
    assert warnings == []
    assert [w.text for w in timed] == words
    starts = np.array([w.start_s for w in timed])
    reference = np.array([w.start_s for w in piper_track.timeline.words])
    assert float(np.median(np.abs(starts - reference))) < 0.05
    assert {"K", "UW", "B"} <= {p.symbol for p in phones}  # espeak's pronunciation of Kubernetes
    assert all(a.end_s <= b.start_s + 1e-6 for a, b in zip(phones, phones[1:]))


def test_a_text_that_does_not_match_falls_back_to_estimates(piper_track):
    samples, rate = read_wav(piper_track.audio_path)
    words = ["completely"] * 3
    timed, phones, warnings = ForcedAligner().align(samples[: rate // 2], rate, words)
    assert len(timed) == 3 and warnings and "estimated" in warnings[0]
    assert all(0 <= w.start_s <= w.end_s <= 0.5 for w in timed)
    assert phones  # the mouth still moves


def test_recorded_voice_round_trip(piper_track, tmp_path):
    """A recording in another format is decoded, aligned and mapped to the written words.
    (FLAC: the AAC PyAV writes has no edit list, so its 1024 priming samples would
    shift every time here; real recorders write one.)"""
    import av

    samples, rate = read_wav(piper_track.audio_path)
    recording = tmp_path / "take.flac"
    with av.open(str(recording), "w") as container:
        stream = container.add_stream("flac", rate=rate)
        stream.layout = "mono"
        pcm = (samples * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)

    profile = VoiceProfile(engine="recorded", voice=str(recording))
    engine = RecordedVoiceEngine(Settings())
    track = narrate(engine, TEXT, profile, tmp_path / "rec.wav")
    assert track.engine == "recorded" and track.warnings == []
    assert [w.text for w in track.timeline.words] == TEXT.split()
    # The recording already ends in the tail pause; nothing is added to it.
    assert track.duration_s == pytest.approx(piper_track.duration_s, abs=1e-3)
    starts = np.array([w.start_s for w in track.timeline.words])
    reference = np.array([w.start_s for w in piper_track.timeline.words])
    assert float(np.median(np.abs(starts - reference))) < 0.06
    assert engine.cache_identity(profile) != engine.cache_identity(profile.model_copy(update={"voice": str(piper_track.audio_path)}))


def test_unreadable_recordings_fail_clearly(tmp_path):
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3 this is not audio" * 20)
    with pytest.raises(MediaError, match="cannot read audio file"):
        decode_audio(broken)
    with pytest.raises(MediaError, match="not found"):
        decode_audio(tmp_path / "missing.wav")
