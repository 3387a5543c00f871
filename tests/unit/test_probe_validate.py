import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from personacast.errors import MediaError
from personacast.media.loudness import measure, normalize
from personacast.media.probe import frame_times, probe
from personacast.media.validate import validate
from personacast.stages.compose.formats import get_preset

RATE = 48_000
TIKTOK = get_preset("tiktok")
SMALL = (64, 64)
# Encoder ticks per second when frames get their own timestamps (variable frame rate).
TICKS = 3000


def voice(seconds: float, target_lufs: float | None = -14.0) -> np.ndarray:
    """Speech-band noise in syllable-like bursts, optionally normalised for delivery.

    Band-limited on purpose: AAC drops the top octave, and white noise keeps so much
    (K-weighted) energy there that the file would measure ~1.5 LU under its source.
    """
    rng = np.random.default_rng(7)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    speech_band = butter(4, (150, 4000), "bandpass", fs=RATE, output="sos")
    band = sosfilt(speech_band, rng.standard_normal(n))
    syllables = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 2
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.05)
    x = band * syllables * fade * 0.05
    return normalize(x, RATE, target_lufs) if target_lufs is not None else x.astype(np.float32)


def write_mp4(
    path: Path,
    *,
    size: tuple[int, int] = SMALL,
    fps: int = 30,
    seconds: float = 1.0,
    pix_fmt: str = "yuv420p",
    audio: np.ndarray | None = None,
    faststart: bool = True,
    frame_ticks: list[int] | None = None,
) -> Path:
    """H.264 (+ AAC) the way the renderer writes it, with knobs to break one thing.

    ``frame_ticks``: per-frame durations in 1/TICKS s, for a variable frame rate.
    """
    width, height = size
    container = av.open(str(path), "w", options={"movflags": "+faststart"} if faststart else {})
    video = container.add_stream("libx264", rate=fps)
    video.width, video.height, video.pix_fmt = width, height, pix_fmt
    # x264's ultrafast turns off the High-profile tools and so writes Constrained
    # Baseline whatever profile is asked for; superfast keeps them.
    video.options = {"preset": "superfast", "crf": "30"}
    if frame_ticks is not None:
        video.codec_context.time_base = Fraction(1, TICKS)
    if audio is not None:
        sound = container.add_stream("aac", rate=RATE)
        sound.layout = "mono"
        # FFmpeg's AAC at its default ~64 kbps overshoots the source's true peak by
        # ~1 dB on this material; at 192 kbps it stays within a few hundredths.
        sound.bit_rate = 192_000

    base = np.linspace(0, 255, width * height * 3).astype(np.uint8).reshape(height, width, 3)
    n_frames = len(frame_ticks) if frame_ticks is not None else int(round(seconds * fps))
    tick = 0
    for i in range(n_frames):
        frame = av.VideoFrame.from_ndarray(np.roll(base, 4 * i, axis=1), format="rgb24")
        frame = frame.reformat(format=pix_fmt)
        if frame_ticks is not None:
            frame.pts, frame.time_base = tick, Fraction(1, TICKS)
            tick += frame_ticks[i]
        else:
            frame.pts = i
        container.mux(video.encode(frame))
    container.mux(video.encode())

    if audio is not None:
        for start in range(0, audio.size, 1024):
            chunk = np.ascontiguousarray(audio[None, start : start + 1024], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = RATE, start
            container.mux(sound.encode(frame))
        container.mux(sound.encode())
    container.close()
    return path


@pytest.fixture(scope="module")
def tiktok_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("media") / "clean.mp4"
    return write_mp4(path, size=TIKTOK.size, seconds=2.0, audio=voice(2.0))


@pytest.fixture(scope="module")
def small_audio() -> np.ndarray:
    return voice(1.0)


def test_probe_reports_what_was_written(tiktok_file):
    props = probe(tiktok_file)
    assert (props.width, props.height) == (1080, 1920)
    assert props.fps == 30.0
    assert props.frame_count == 60
    assert props.duration_s == pytest.approx(2.0, abs=0.05)
    assert props.video_codec == "h264"
    assert props.video_profile == "High"
    assert props.pix_fmt == "yuv420p"
    assert props.audio_codec == "aac"
    assert props.audio_sample_rate_hz == 48_000
    assert props.loudness_lufs == pytest.approx(-14.0, abs=0.5)
    assert props.true_peak_dbtp < -1.0
    assert props.size_bytes == tiktok_file.stat().st_size
    assert props.faststart is True


def test_frame_times_are_the_30fps_grid(tiktok_file):
    times = frame_times(tiktok_file)
    assert len(times) == 60
    assert np.allclose(np.diff(times), 1 / 30, atol=1e-6)


def test_clean_file_passes_tiktok(tiktok_file):
    assert validate(tiktok_file, TIKTOK) == []


def test_only_the_wrong_size_is_flagged(tmp_path, small_audio):
    path = write_mp4(tmp_path / "small.mp4", audio=small_audio)
    assert validate(path, TIKTOK) == ["frame size is 64x64; the tiktok format needs 1080x1920"]
    square = get_preset("square")
    assert validate(path, square) == ["frame size is 64x64; the square format needs 1080x1080"]


def test_yuv444p_is_flagged(tmp_path, small_audio):
    path = write_mp4(tmp_path / "444.mp4", pix_fmt="yuv444p", audio=small_audio)
    problems = validate(path, TIKTOK)
    assert "pix_fmt is yuv444p; platforms need yuv420p" in problems
    # 4:4:4 needs its own H.264 profile, which platforms do not take either.
    assert "H.264 profile is High 4:4:4 Predictive; platforms need High" in problems


def test_missing_audio_is_flagged(tmp_path):
    path = write_mp4(tmp_path / "silent.mp4")
    props = probe(path)
    assert props.audio_codec is None and props.loudness_lufs is None
    assert "no audio stream; platforms need an AAC audio track" in validate(path, TIKTOK)


def test_missing_faststart_is_flagged(tmp_path, small_audio):
    path = write_mp4(tmp_path / "slow.mp4", audio=small_audio, faststart=False)
    assert probe(path).faststart is False
    problems = validate(path, TIKTOK)
    assert any(p.startswith("moov atom is not before mdat") for p in problems)


def test_wrong_loudness_is_flagged(tmp_path):
    quiet = voice(1.0, target_lufs=-30.0)
    path = write_mp4(tmp_path / "quiet.mp4", audio=quiet)
    assert probe(path).loudness_lufs == pytest.approx(-30.0, abs=0.5)
    problems = [p for p in validate(path, TIKTOK) if "loudness" in p]
    assert len(problems) == 1 and problems[0].startswith("integrated loudness is -30.")


def test_hot_peaks_are_flagged(tmp_path):
    raw = voice(1.0, target_lufs=None)
    hot = raw * (0.99 / np.max(np.abs(raw)))  # sample peak just under full scale
    assert measure(hot, RATE)[1] > -0.5
    path = write_mp4(tmp_path / "hot.mp4", audio=hot)
    assert any(p.startswith("true peak is") for p in validate(path, TIKTOK))


def test_variable_frame_rate_is_flagged(tmp_path, small_audio):
    # Alternating 40 ms / 26.7 ms frames: about 30 fps on average, but not constant.
    ticks = [120 if i % 2 else 80 for i in range(30)]
    path = write_mp4(tmp_path / "vfr.mp4", audio=small_audio, frame_ticks=ticks)
    problems = validate(path, TIKTOK)
    expected = "frame rate is not constant: frame intervals stray up to"
    assert any(p.startswith(expected) for p in problems)


def test_over_long_file_is_flagged(tmp_path, small_audio):
    path = write_mp4(tmp_path / "long.mp4", audio=small_audio)
    short_limit = dataclasses.replace(TIKTOK, max_duration_s=0.5)
    assert "duration is 1.0 s; tiktok allows at most 0.5 s" in validate(path, short_limit)


def test_random_bytes_raise_media_error(tmp_path):
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError, match="noise.mp4"):
        probe(path)
    assert len(validate(path, TIKTOK)) == 1


@pytest.mark.parametrize("faststart", [True, False])
def test_truncated_mp4_raises_media_error(tmp_path, small_audio, faststart):
    whole = write_mp4(tmp_path / "whole.mp4", audio=small_audio, faststart=faststart)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(MediaError, match="cut.mp4"):
        probe(cut)
    with pytest.raises(MediaError):
        frame_times(cut)


def test_missing_file_raises_media_error(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        probe(tmp_path / "nope.mp4")
