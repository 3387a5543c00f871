"""Whole renders through the pipeline: a video as a scene's picture with the default
animator, and the neural animator (with the mouth-drawing double registered as its
lip-sync backend) following the voice across scenes."""

import math

import av
import numpy as np
import pytest
from animate_doubles import LOUD, MouthDrawingModel, write_video

from personacast.face.landmarks import FaceMeshDetector
from personacast.models import Character, RenderSpec, Scene, Script
from personacast.pipeline import RenderJob, render
from personacast.registry import BACKENDS, BackendRef
from personacast.samples import sample_image
from personacast.settings import Settings


class RegisteredMouthDouble(MouthDrawingModel):
    """The double as the registry builds a backend: from (settings, device)."""

    built: list["RegisteredMouthDouble"] = []

    def __init__(self, settings, device):
        super().__init__(96)
        self.built.append(self)

    def audio_features(self, samples, sample_rate, fps, frame_count):
        self.features = super().audio_features(samples, sample_rate, fps, frame_count)
        return self.features


@pytest.fixture
def video(moving_clip, tmp_path):
    path = tmp_path / "idle.mp4"
    write_video(path, moving_clip[0][:12], fps=24)
    return path


def decoded(path):
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = np.concatenate([f.to_ndarray().mean(0) for f in container.decode(audio=0)])
        rate = container.streams.audio[0].rate
    return frames, audio, rate


def job(tmp_path, video):
    script = Script(scenes=[Scene(text="Hello there, this is the first scene."), Scene(text="And now my picture moves.", image=video)])
    character = Character(name="t", images=[sample_image("astronaut")])
    return RenderJob(character, script, RenderSpec(format="square", quality="preview", ai_label=""), tmp_path / "out.mp4")


@pytest.mark.slow
def test_a_video_as_a_scenes_picture_renders_with_the_default_animator(tmp_path, video):
    result = render(job(tmp_path, video), Settings(data_dir=tmp_path / "data"))
    frames, _, _ = decoded(result.video_path)
    assert len(frames) == math.ceil(result.duration_s * 30 - 1e-6) and frames[0].shape == (1080, 1080, 3)
    words = result.timeline.words
    still = range(0, int(words[0].end_s * 30))  # the first scene: the astronaut picture
    moving = range(int(words[-5].start_s * 30), int(words[-1].end_s * 30))  # "And now my picture moves."
    bottom = (slice(1000, 1080), slice(None))  # the suit at the bottom, below the head's moving region

    def change(indices):
        return [np.abs(frames[i + 1][bottom].astype(int) - frames[i][bottom]).mean() for i in indices]

    assert max(change(still)) < 1  # a still picture's background stays still
    assert max(change(moving)) > 3  # the clip's moves with it


@pytest.mark.slow
def test_the_neural_animator_follows_the_voice_through_the_pipeline(tmp_path, video, monkeypatch):
    monkeypatch.setitem(BACKENDS["lipsync"], "double", BackendRef(f"{__name__}:RegisteredMouthDouble"))
    settings = Settings(data_dir=tmp_path / "data", animator_backend="neural", lipsync_backend="double", device="cpu")
    result = render(job(tmp_path, video), settings)
    assert result.warnings.count(MouthDrawingModel.licence_note) == 1  # two portraits, one note

    frames, audio, rate = decoded(result.video_path)
    per_frame = rate // 30
    loudness = np.array([np.sqrt(np.mean(audio[i * per_frame : (i + 1) * per_frame] ** 2)) for i in range(len(frames))])
    open_mouth = []
    with FaceMeshDetector() as detector:
        for frame in frames:
            x, y = detector.detect(frame).points[[61, 291, 13, 14]].mean(0).astype(int)
            open_mouth.append(frame[y - 3 : y + 4, x - 6 : x + 7].mean() < 80)
    open_mouth = np.array(open_mouth)
    # Every frame's mouth is what the model drew for that frame's audio ...
    heard = RegisteredMouthDouble.built[-1].features > LOUD
    assert len(heard) == len(frames) and (open_mouth == heard).mean() > 0.98
    # ... and that audio is the file's at the frame's time: shut in every pause, open
    # through most of the loud stretches.
    loud, quiet = loudness > 0.3 * loudness.max(), loudness < 0.01 * loudness.max()
    assert loud.sum() > 20 and quiet.sum() > 5
    assert not open_mouth[quiet].any() and open_mouth[loud].mean() > 0.6
