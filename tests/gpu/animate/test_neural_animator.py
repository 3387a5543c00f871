"""The neural animator around test doubles of its backends (animate_doubles.py): the
doubles draw a dark mouth for loud audio and shift pictures, so that what the
animator does around a real model (framing, tracking, batching, pasting) is measured."""

import numpy as np
import pytest
from animate_doubles import BlankMotion, MouthDrawingModel, PassThroughModel, ShiftingMotion, walking_portrait, write_video

from personacast.errors import BackendError, FaceError, ModelWeightsError
from personacast.media.wav import write_wav
from personacast.models import Timeline, VoiceTrack
from personacast.samples import sample_image
from personacast.stages.animate.landmark_warp import PreparedClip, ScenePlan
from personacast.stages.animate.neural import NeuralAnimator
from personacast.stages.perform.performance import Performance

FPS = 24
FRAMES = 32
LOUD_FROM = 16  # the voice is silent for the first 16 frames, then loud
SIZE = (360, 640)


@pytest.fixture(scope="module")
def voice(tmp_path_factory) -> VoiceTrack:
    rate = 16000
    t = np.arange(FRAMES * rate // FPS) / rate
    samples = (0.4 * np.sin(2 * np.pi * 180 * t) * (t >= LOUD_FROM / FPS)).astype(np.float32)
    path = tmp_path_factory.mktemp("voice") / "voice.wav"
    write_wav(path, samples, rate)
    duration = len(samples) / rate
    return VoiceTrack(audio_path=path, sample_rate_hz=rate, duration_s=duration, timeline=Timeline(words=[], phonemes=[], duration_s=duration), engine="test")


def performance(**curves) -> Performance:
    return Performance.at_rest(FPS, FRAMES, **curves)


def render(animator, portrait, start=0, end=FRAMES, perf=None):
    return [patch.full() for patch in animator.frames([ScenePlan(portrait, start, end)], perf or performance())]


def drawn_mouth(drawn: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Centre of what the drawing double changed against the pass-through double."""
    ys, xs = np.nonzero(np.abs(drawn.astype(int) - base).max(-1) > 40)
    return np.array([xs.mean(), ys.mean()])


def test_still_portrait_mouth_follows_the_audio_and_nothing_above_it_moves(gpu_settings, voice):
    model = MouthDrawingModel(96, batch_size=10)
    animator = NeuralAnimator(gpu_settings, lipsync=model)
    portrait = animator.prepare(sample_image("astronaut"), SIZE)
    animator.use_voice(voice)
    frames = render(animator, portrait, start=4, end=30)  # a scene that starts 4 frames in

    assert len(frames) == 26 and all(f.shape == (640, 360, 3) for f in frames)
    assert model.calls == [list(range(4, 14)), list(range(14, 24)), list(range(24, 30))]  # the model's own batches
    assert portrait.warnings[-1] == model.licence_note

    points = portrait.base.stage.landmarks.points - portrait.base.stage.margin_px
    mouth_x, mouth_y = points[[61, 291, 13, 14]].mean(0).astype(int)
    eye_line = int(points[[33, 263]][:, 1].max())
    still = portrait.still
    for index, frame in zip(range(4, 30), frames):
        mouth = frame[mouth_y - 3 : mouth_y + 4, mouth_x - 8 : mouth_x + 9].mean()
        assert (mouth < 80) == (index >= LOUD_FROM), index  # open and dark only while the voice is loud
        changed = np.abs(frame.astype(int) - still).max(-1) > 0
        assert not changed[:eye_line].any()  # no head motion or blinks asked for: the top stays still


def test_the_drawn_mouth_moves_with_the_performers_head_motion(gpu_settings, voice, detector):
    nod = performance(head_dy=np.full(FRAMES, 0.05), head_roll_deg=np.full(FRAMES, 2.0))
    renders = {}
    for double in (PassThroughModel(96), MouthDrawingModel(96)):
        animator = NeuralAnimator(gpu_settings, lipsync=double)
        portrait = animator.prepare(sample_image("astronaut"), SIZE)
        animator.use_voice(voice)
        loud = (LOUD_FROM, LOUD_FROM + 2)
        renders[double.name] = (render(animator, portrait, *loud), render(animator, portrait, *loud, nod))
    (level, nodded), (drawn_level, drawn_nodded) = renders["pass-through-double"], renders["mouth-drawing-double"]
    for before, after, drawn_before, drawn_after in zip(level, nodded, drawn_level, drawn_nodded):
        face_moved = detector.detect(after).points[[61, 291]].mean(0) - detector.detect(before).points[[61, 291]].mean(0)
        mouth_moved = drawn_mouth(drawn_after, after) - drawn_mouth(drawn_before, before)
        assert face_moved[1] > 2  # the head did nod
        assert np.linalg.norm(mouth_moved - face_moved) < 1.0


def test_motion_backend_clip_is_chained_tracked_and_lip_synced(gpu_settings, voice, detector):
    settings = gpu_settings.model_copy(update={"motion_backend": "svd"})
    renders, calls = {}, []
    for double in (PassThroughModel(96), MouthDrawingModel(96)):
        motion = ShiftingMotion(step=3.0)
        animator = NeuralAnimator(settings, lipsync=double, motion=motion)
        portrait = animator.prepare(sample_image("astronaut"), SIZE)
        animator.use_voice(voice)
        renders[double.name] = render(animator, portrait)
        calls.append(motion.calls)
    # 32 frames at 24 fps need 12 frames at the double's 8 fps: three 6-frame segments
    # sharing a join frame, each with the next seed; the second render finds them on disk.
    assert len(calls[0]) == 3 and np.diff(calls[0]).tolist() == [1, 1] and calls[1] == []
    base, drawn = renders["pass-through-double"], renders["mouth-drawing-double"]
    assert len(drawn) == FRAMES and all(f.shape == (640, 360, 3) for f in drawn)

    centres = []
    for index in range(0, FRAMES, 3):
        face = detector.detect(base[index]).points
        changed = np.abs(drawn[index].astype(int) - base[index]).max(-1) > 40
        assert not changed[: int(face[[33, 263]][:, 1].max())].any()  # above the eyes: the base frame
        if index >= LOUD_FROM:
            corners = face[[61, 291]].mean(0)
            assert np.linalg.norm(drawn_mouth(drawn[index], base[index]) - corners) < 3  # on the moving face
            centres.append(corners)
        else:
            assert changed.sum() < 0.2 * (drawn[index].max(-1) < 70).sum() + 200  # quiet: a thin closed line
    assert centres[-1][0] - centres[0][0] > 15  # and the face did move


def test_video_portrait_is_lip_synced_frame_by_frame(gpu_settings, voice, moving_clip, tmp_path):
    video = tmp_path / "idle.mp4"
    write_video(video, moving_clip[0][:12], fps=FPS)
    animator = NeuralAnimator(gpu_settings, lipsync=MouthDrawingModel(96))
    portrait = animator.prepare(video, SIZE)
    assert isinstance(portrait.base, PreparedClip)
    animator.use_voice(voice)
    frames = render(animator, portrait)
    assert len(frames) == FRAMES and frames[0].shape == (640, 360, 3)
    # 12 clip frames for 32 video frames: forwards, backwards, forwards again.
    assert np.array_equal(frames[11 + 3][:100], frames[11 - 3][:100])
    moving = portrait.base.moving
    for index, (frame, shown) in enumerate(zip(frames, moving.clip_indices(FRAMES, FPS))):
        x, y = moving.track.points[shown][[61, 291, 13, 14]].mean(0).astype(int)
        mouth = frame[y - 3 : y + 4, x - 8 : x + 9].mean()
        assert (mouth < 80) == (index >= LOUD_FROM), index


def test_a_face_that_walks_out_of_the_frame_is_not_lip_synced_there(gpu_settings, voice, astronaut, tmp_path):
    video = tmp_path / "walk.mp4"
    write_video(video, walking_portrait(astronaut, 8), fps=FPS)
    model = MouthDrawingModel(96)
    animator = NeuralAnimator(gpu_settings, lipsync=model)
    portrait = animator.prepare(video, SIZE)  # a 16:9 shot framed 9:16: the face walks out of it halfway
    animator.use_voice(voice)
    frames = render(animator, portrait, LOUD_FROM, LOUD_FROM + 8)
    moving = portrait.base.moving
    [drawn] = model.calls
    assert drawn == list(range(LOUD_FROM, LOUD_FROM + len(drawn))) and 2 <= len(drawn) < 8  # not the faces gone
    assert not np.array_equal(frames[0], moving.frame(0))
    for k in range(len(drawn), 8):
        assert np.array_equal(frames[k], moving.frame(k)), k  # the clip as it is


def test_no_face_anywhere_is_a_face_error(gpu_settings, voice, tmp_path, no_face_image):
    from personacast.media.image import load_rgb

    video = tmp_path / "landscape.mp4"
    write_video(video, [load_rgb(no_face_image)] * 4)
    animator = NeuralAnimator(gpu_settings, lipsync=MouthDrawingModel(96))
    with pytest.raises(FaceError, match="no face found in landscape.mp4"):
        animator.prepare(video, SIZE)

    settings = gpu_settings.model_copy(update={"motion_backend": "svd"})
    animator = NeuralAnimator(settings, lipsync=MouthDrawingModel(96), motion=BlankMotion())
    portrait = animator.prepare(sample_image("astronaut"), SIZE)
    animator.use_voice(voice)
    with pytest.raises(FaceError, match="no face found in the svd clip of astronaut.png"):
        render(animator, portrait, 0, 8)


def test_frames_without_the_voice_fail_clearly(gpu_settings):
    animator = NeuralAnimator(gpu_settings, lipsync=MouthDrawingModel(96))
    portrait = animator.prepare(sample_image("astronaut"), SIZE)
    with pytest.raises(BackendError, match="not given the voice"):
        render(animator, portrait, 0, 2)


def test_backends_come_from_the_registry_by_the_settings_names(gpu_settings, monkeypatch):
    import personacast.stages.animate.neural as neural

    built = []

    def fake_load_backend(stage, name):
        def build(settings, device):
            built.append((stage, name, device.name))
            return MouthDrawingModel(96) if stage == "lipsync" else ShiftingMotion()
        return build

    monkeypatch.setattr(neural, "load_backend", fake_load_backend)
    settings = gpu_settings.model_copy(update={"lipsync_backend": "wav2lip", "motion_backend": "animatediff"})
    NeuralAnimator(settings)
    assert built == [("lipsync", "wav2lip", "cpu"), ("motion", "animatediff", "cpu")]
    built.clear()
    NeuralAnimator(gpu_settings)
    assert built == [("lipsync", "musetalk", "cpu")]  # motion_backend "none": no motion model at all


@pytest.mark.parametrize(("changes", "first_missing"), [
    ({"lipsync_backend": "musetalk"}, "musetalk"),
    ({"lipsync_backend": "wav2lip"}, "wav2lip"),
    ({"lipsync_backend": "wav2lip", "motion_backend": "svd", "motion_model": "svd"}, "wav2lip"),
])
def test_missing_weights_stop_the_animator_before_any_work(gpu_settings, changes, first_missing):
    settings = gpu_settings.model_copy(update=changes)
    with pytest.raises(ModelWeightsError) as caught:
        NeuralAnimator(settings)
    assert f"model '{first_missing}'" in caught.value.message
    assert "hf download" in caught.value.hint or "github.com/Rudrabha/Wav2Lip" in caught.value.hint


def test_motion_weights_are_checked_too(gpu_settings):
    settings = gpu_settings.model_copy(update={"lipsync_backend": "wav2lip", "motion_backend": "animatediff"})
    (settings.resolved_models_dir / "wav2lip").mkdir(parents=True)
    (settings.resolved_models_dir / "wav2lip" / "wav2lip_gan.pth").write_bytes(b"not read until the first frame")
    with pytest.raises(ModelWeightsError, match="model 'sd15'"):
        NeuralAnimator(settings)
