"""The composer prepares the audio beside the first frames: a slow preparation must
neither hold the picture up from the start nor leave the file badly interleaved."""

import threading
import time

import numpy as np

from personacast.media.canvas import FramePatch
from personacast.media.encode import AUDIO_RATE_HZ, encode_aac
from personacast.media.probe import probe
from personacast.models import CaptionStyle, RenderSpec, Timeline, VoiceTrack
from personacast.settings import Settings
from personacast.stages.compose import composer
from personacast.stages.compose.formats import get_preset

FRAMES = 180  # 6 s at 30 fps, past MAX_AUDIO_LAG_FRAMES


def _frames(size):
    width, height = size
    background = np.full((height, width, 3), 90, np.uint8)
    for i in range(FRAMES):
        yield FramePatch(background, np.full((64, 64, 3), (i * 7) % 256, np.uint8), 200 + i, 400)


def test_slow_audio_preparation_waits_at_the_lag_limit_and_the_file_stays_interleaved(tmp_path, monkeypatch):
    preset = get_preset("tiktok")
    tone = (0.2 * np.sin(np.arange(FRAMES * AUDIO_RATE_HZ // 30) * 2 * np.pi * 220 / AUDIO_RATE_HZ)).astype(np.float32)
    encoded: list[int] = []
    ready_after = {}
    release = threading.Event()

    def slow_prepare(voice, preset, music=None, seed=0):
        # Held until the picture has gone as far as the composer lets it run ahead.
        release.wait(timeout=20)
        time.sleep(0.3)  # had the composer not stopped at the limit, it would run on now
        ready_after["frames"] = len(encoded)
        return composer.PreparedAudio(tone, encode_aac(tone), None)

    def on_frame(count):
        encoded.append(count)
        if count == composer.MAX_AUDIO_LAG_FRAMES:
            release.set()

    monkeypatch.setattr(composer, "prepare_audio", slow_prepare)
    voice = VoiceTrack(
        audio_path=tmp_path / "unused.wav", sample_rate_hz=AUDIO_RATE_HZ, duration_s=FRAMES / 30,
        timeline=Timeline(words=[], phonemes=[], duration_s=FRAMES / 30), engine="test",
    )
    out = tmp_path / "clip.mp4"
    composer.StandardComposer(Settings()).compose(
        _frames(preset.size), FRAMES, voice, CaptionStyle(), preset, RenderSpec(format="tiktok", quality="preview"), out,
        on_frame=on_frame,
    )

    # The picture ran ahead while the audio was prepared, and stopped at the limit.
    assert ready_after["frames"] == composer.MAX_AUDIO_LAG_FRAMES
    props = probe(out)
    assert props.frame_count == FRAMES
    assert props.audio_codec == "aac"

    import av

    with av.open(str(out)) as container:
        order = [packet.stream.type for packet in container.demux() if packet.size]
    with av.open(str(out)) as container:
        heard = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(audio=0)])
    # All of the audio, at its level (AAC adds or trims at most a frame of priming).
    assert abs(heard.size - tone.size) <= 2048
    assert abs(np.sqrt(np.mean(heard**2)) - np.sqrt(np.mean(tone**2))) < 0.01
    # Interleaved from the start: the first audio lies within the first seconds of video.
    assert order.index("audio") < 90
    assert "audio" in order[-60:]
