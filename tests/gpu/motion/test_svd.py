"""Stable Video Diffusion through the real loading path: a tiny SVD-XT saved as the
Hub publishes it, found by weights.require, loaded by diffusers, run for 2 steps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from personacast.devices import MemoryPlan
from personacast.errors import BackendError, ConfigError, ImageError, ModelWeightsError
from personacast.stages.motion.chaining import align_start, cover_duration
from personacast.stages.motion.frames import fit, orient
from personacast.stages.motion.svd import SVDMotion

from gpu_cases.motion_models import TINY_SVD_OPTIONS as SVD_OPTIONS


def test_clip_has_the_frames_size_and_rate(svd, portrait):
    clip = svd.generate(portrait, seed=1)
    assert clip.frames.shape == (4, 32, 16, 3)  # portrait in, portrait frame out
    assert clip.frames.dtype == np.uint8
    assert clip.fps == 7.0
    assert clip.frames.std() > 0  # real pixels, not a blank frame

    landscape = np.ascontiguousarray(np.transpose(portrait, (1, 0, 2)))
    assert svd.generate(landscape, seed=1).frames.shape == (4, 16, 32, 3)


def test_same_seed_same_clip_across_loads(saved, cpu_device, portrait, svd):
    again = SVDMotion(saved("svd-xt"), cpu_device, **SVD_OPTIONS)
    first = svd.generate(portrait, seed=3).frames
    assert np.array_equal(first, again.generate(portrait, seed=3).frames)
    assert not np.array_equal(first, svd.generate(portrait, seed=4).frames)


def test_first_frame_replaces_the_portrait_as_conditioning(svd, portrait):
    start = svd.generate(portrait, seed=1).frames[-1]
    continued = svd.generate(portrait, seed=2, first_frame=start).frames
    assert np.array_equal(continued, svd.generate(start, seed=2).frames)
    assert not np.array_equal(continued, svd.generate(portrait, seed=2).frames)


def test_default_frames_follow_the_checkpoint(with_model, cpu_device):
    assert SVDMotion(with_model("svd"), cpu_device).frames_per_segment == 14
    assert SVDMotion(with_model("svd-xt"), cpu_device).frames_per_segment == 25
    assert SVDMotion(with_model("auto"), cpu_device).model_id == "svd-xt"


def test_other_motion_models_are_refused(with_model, cpu_device):
    with pytest.raises(ConfigError, match="svd or svd-xt"):
        SVDMotion(with_model("animatediff"), cpu_device)


def test_missing_weights_say_how_to_get_them(with_model, cpu_device, portrait):
    backend = SVDMotion(with_model("svd-xt"), cpu_device, **SVD_OPTIONS)
    with pytest.raises(ModelWeightsError) as error:
        backend.generate(portrait, seed=0)
    assert "not on this machine" in error.value.message
    assert "stabilityai/stable-video-diffusion-img2vid-xt" in error.value.hint


def test_incomplete_weights_name_the_missing_file(with_model, cpu_device, portrait):
    from gpu_cases.motion_models import save_svd

    settings = with_model("svd-xt")
    root = save_svd(settings.resolved_models_dir, "svd-xt")
    (root / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    backend = SVDMotion(settings, cpu_device, **SVD_OPTIONS)
    with pytest.raises(ModelWeightsError, match="unet/diffusion_pytorch_model"):
        backend.generate(portrait, seed=0)


def test_not_an_rgb_picture_is_an_image_error(svd, portrait):
    with pytest.raises(ImageError):
        svd.generate(portrait.astype(np.float32), seed=0)


def test_forward_chunking_fits_the_frame_count(saved, cpu_device, portrait):
    """Five frames with a plan asking for chunks of 2: the temporal blocks need a chunk
    that divides the frame count, so 1 is used, and chunking changes nothing."""
    options = {**SVD_OPTIONS, "frames": 5}
    plain = SVDMotion(saved("svd-xt"), cpu_device, **options)
    chunked = SVDMotion(saved("svd-xt"), cpu_device, **options)
    chunked.plan = MemoryPlan("none", forward_chunk=2, decode_chunk=plain.plan.decode_chunk)
    expected = plain.generate(portrait, seed=5).frames
    got = chunked.generate(portrait, seed=5).frames
    temporal = [m for m in chunked.pipeline().unet.modules() if type(m).__name__ == "TemporalBasicTransformerBlock"]
    assert temporal and all(m._chunk_size == 1 for m in temporal)
    assert np.abs(got.astype(int) - expected).max() <= 1


class Recording:
    """The tiny SVD, keeping each segment it made."""

    def __init__(self, backend):
        self.backend = backend
        self.name = backend.name
        self.frames_per_segment = backend.frames_per_segment
        self.segments = []
        self.first_frames = []

    def cache_identity(self):
        return self.backend.cache_identity()

    def generate(self, image, seed, first_frame=None):
        clip = self.backend.generate(image, seed, first_frame=first_frame)
        self.segments.append(clip.frames)
        self.first_frames.append(first_frame)
        return clip


@pytest.mark.parametrize(("duration", "fps", "mode"), [(0.9, 25.0, "continue"), (2.3, 30.0, "continue"),
                                                       (2.3, 30.0, "pingpong"), (1.0, 24.0, "pingpong")])
def test_chained_model_clips_cover_the_speech(svd, portrait, duration, fps, mode):
    model = Recording(svd)
    clip = cover_duration(model, portrait, 7, duration, fps, mode=mode, max_segments=6)
    assert len(clip.frames) == math.ceil(duration * fps)
    assert clip.frames.shape[1:] == (32, 16, 3) and clip.fps == fps
    assert len(model.segments) == (1 if mode == "pingpong" else math.ceil((math.ceil(duration * 7) + 1 - 4) / 3) + 1)
    shown = model.segments[0]
    for segment, start in zip(model.segments[1:], model.first_frames[1:]):
        assert np.array_equal(start, shown[-1])  # conditioned on the frame shown last
        shown = align_start(segment, start)


def test_chained_model_joins_are_continuous(svd, portrait):
    model = Recording(svd)
    clip = cover_duration(model, portrait, 7, duration_s=10 / 7, fps=7.0, mode="continue")
    first, second, third = model.segments
    second_shown = align_start(second, first[-1])
    assert np.array_equal(clip.frames[:4], first)
    assert np.array_equal(clip.frames[3:7], second_shown)  # starts exactly on first's last frame
    assert np.array_equal(clip.frames[6:10], align_start(third, second_shown[-1]))
    # The model's own first frame is only near the picture it was given; the chain is exact.
    assert not np.array_equal(second[0], first[-1])


def test_model_frame_follows_the_picture_orientation():
    """576x1024 for a portrait and 1024x576 otherwise, the picture cropped, not stretched."""
    tall, wide, square = np.zeros((90, 60, 3), np.uint8), np.zeros((60, 90, 3), np.uint8), np.zeros((50, 50, 3), np.uint8)
    assert orient(tall, 1024, 576) == (576, 1024)
    assert orient(wide, 1024, 576) == (1024, 576)
    assert orient(square, 1024, 576) == (1024, 576)
    tall[:, :30] = 255  # left half white: a centre crop to 1:2 keeps both halves
    fitted = fit(tall, (32, 64))
    assert fitted.shape == (64, 32, 3)
    assert fitted[:, :12].min() == 255 and fitted[:, -12:].max() == 0
    assert fit(fitted, (32, 64)) is fitted  # a continued segment's frame is used as it is


def test_running_out_of_gpu_memory_says_which_setting_to_change(saved, cpu_device, portrait, monkeypatch):
    import torch

    backend = SVDMotion(saved("svd-xt"), cpu_device, **SVD_OPTIONS)

    def out_of_memory():
        raise torch.OutOfMemoryError("CUDA out of memory")  # as placing the pipeline on a full GPU does

    monkeypatch.setattr(backend, "pipeline", out_of_memory)
    with pytest.raises(BackendError, match="ran out of memory while making a motion clip") as error:
        backend.generate(portrait, seed=0)
    assert "PERSONACAST_GPU_MEMORY_MODE" in error.value.hint
