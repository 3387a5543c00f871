import numpy as np
import pytest

from personacast.media.encode import EncoderSettings, Mp4Writer, encode_aac, produce_in_thread
from personacast.media.probe import probe


def test_producer_errors_reach_the_consumer():
    def frames():
        yield np.zeros(1)
        raise ValueError("bad frame")

    with pytest.raises(ValueError, match="bad frame"):
        list(produce_in_thread(frames(), lambda i, f: f))


def test_producer_keeps_order_and_applies_prepare():
    out = list(produce_in_thread((np.full(1, i) for i in range(50)), lambda i, f: f * 2 + i))
    assert [int(x[0]) for x in out] == [3 * i for i in range(50)]


def test_writer_streams_frames_and_audio_into_a_faststart_high_profile_mp4(tmp_path):
    import cv2

    path = tmp_path / "clip.mp4"
    writer = Mp4Writer(path, (320, 240), 30, EncoderSettings.for_quality("preview"))
    for i in range(45):
        rgb = np.full((240, 320, 3), (i * 5) % 255, np.uint8)
        writer.write_video(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420))
        writer.write_audio(0.1 * np.sin(np.arange(1600) * 2 * np.pi * 440 / 48000).astype(np.float32))
    writer.close()
    props = probe(path)
    assert props.frame_count == 45 and props.fps == 30
    assert props.video_profile == "High" and props.pix_fmt == "yuv420p" and props.faststart
    assert props.audio_codec == "aac" and props.audio_sample_rate_hz == 48000
    assert abs(props.duration_s - 1.5) < 0.05


def _speechy_tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 48000)) / 48000
    return (0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_audio_encoded_beforehand_makes_the_same_file_as_audio_encoded_by_the_writer(tmp_path):
    audio = _speechy_tone(3.0)
    picture = np.zeros((72, 64), np.uint8)

    def write(path, pre_encoded):
        writer = Mp4Writer(path, (64, 48), 30, EncoderSettings.for_quality("preview"))
        for i in range(90):
            writer.write_video(picture)
            if pre_encoded:
                writer.write_aac(pre_encoded, until_sample=(i + 1) * 1600)
            else:
                writer.write_audio(audio[i * 1600 : (i + 1) * 1600])
        if pre_encoded:
            writer.write_aac(pre_encoded)
        writer.close()
        return path.read_bytes()

    # The same bytes: the packets the render checked are the packets delivered.
    assert write(tmp_path / "a.mp4", encode_aac(audio)) == write(tmp_path / "b.mp4", None)
    props = probe(tmp_path / "a.mp4")
    assert props.audio_codec == "aac" and abs(props.duration_s - 3.0) < 0.05


def test_decoded_aac_lines_up_with_its_input():
    audio = _speechy_tone(1.0)
    heard = encode_aac(audio).decoded()
    assert heard.size == audio.size
    # The encoder's priming is dropped: no lag, and the waveform survives 128 kb/s.
    lags = range(-8, 9)
    match = [np.dot(audio[100:-100], np.roll(heard, lag)[100:-100]) for lag in lags]
    assert lags[int(np.argmax(match))] == 0
    assert np.corrcoef(audio, heard)[0, 1] > 0.99


def test_recycled_encoder_frames_keep_every_picture_distinct(tmp_path):
    """Frames are reused as soon as x264 has taken them; each picture must survive intact."""
    import av
    import cv2

    path = tmp_path / "levels.mp4"
    writer = Mp4Writer(path, (64, 48), 30, EncoderSettings.for_quality("final"))
    levels = [(i * 37) % 220 + 16 for i in range(24)]
    for level in levels:
        # Produced the way the composer does: frame made, then written, frames recycled.
        frame = writer.video_frame(cv2.cvtColor(np.full((48, 64, 3), level, np.uint8), cv2.COLOR_RGB2YUV_I420))
        writer.write_video(frame)
    writer.close()
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="rgb24")[..., 0].mean() for f in container.decode(video=0)]
    assert len(decoded) == len(levels)
    assert np.abs(np.array(decoded) - np.array(levels)).max() < 3


def test_recycled_frames_filled_from_a_canvas_get_only_its_changes_and_hold_every_render(tmp_path):
    from collections import deque

    from personacast.media.canvas import FrameChanges, FramePatch, I420Canvas

    rng = np.random.default_rng(7)
    size = (96, 64)
    scenes = [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8) for _ in range(2)]
    canvas = I420Canvas(size)
    asked = []
    changed_since = canvas.changed_since
    canvas.changed_since = lambda version: asked.append(changed_since(version)) or asked[-1]
    writer = Mp4Writer(tmp_path / "clip.mp4", size, 30, EncoderSettings.for_quality("preview"))
    in_flight = deque()  # as in produce_in_thread: frames made ahead of the encoder
    token = None
    for i in range(60):
        scene = scenes[i // 40]
        patch = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
        # Mostly a small change inside the patch; every fifth frame the whole patch.
        changes = FrameChanges(token, ((33, 21, 41, 27),)) if i % 5 else None
        token = object()
        rendered = canvas.render(FramePatch(scene, patch, 30, 18, token, changes))
        in_flight.append((writer.video_frame(rendered, canvas), rendered.copy()))
        if len(in_flight) > 4:
            frame, want = in_flight.popleft()
            assert np.array_equal(frame.to_ndarray(), want)
            writer.write_video(frame)
    while in_flight:
        frame, want = in_flight.popleft()
        assert np.array_equal(frame.to_ndarray(), want)
        writer.write_video(frame)
    writer.close()
    # Recycled frames were brought up to date from the canvas's changes, not copied whole.
    partial = [rects for rects in asked if rects is not None]
    assert partial and all((0, 0, *size) not in rects for rects in partial[:10])
    assert probe(tmp_path / "clip.mp4").frame_count == 60


def test_voice_is_delivered_at_minus_14_lufs_under_the_peak_limit_after_aac(tmp_path):
    from personacast.media import loudness
    from personacast.media.wav import write_wav
    from personacast.models import Timeline, VoiceTrack, Word
    from personacast.stages.compose.composer import prepare_audio
    from personacast.stages.compose.formats import get_preset

    rng = np.random.default_rng(0)
    rate = 22050
    t = np.arange(4 * rate) / rate
    # Speech-like: voiced bursts with hard clicks, the kind of material AAC rings on.
    voice = 0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    voice[rng.integers(0, voice.size, 40)] = 0.99
    write_wav(tmp_path / "v.wav", voice, rate)
    track = VoiceTrack(audio_path=tmp_path / "v.wav", sample_rate_hz=rate, duration_s=4.0, engine="test",
                       timeline=Timeline(words=[Word(text="x", start_s=0, end_s=1)], phonemes=[], duration_s=4.0))
    delivered = prepare_audio(track, get_preset("tiktok")).aac.decoded()
    lufs, peak = loudness.measure(delivered, 48000)
    assert abs(lufs + 14) < 0.7 and peak <= -1.0
