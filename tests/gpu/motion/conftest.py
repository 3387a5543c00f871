"""Tiny image-to-video models saved in their published layouts under a MODELS_DIR,
loaded by the backends through weights.require like real ones."""

import sys
from pathlib import Path

import numpy as np
import pytest

# The model builders are shared with benchmarks/gpu_cases (one copy of the configs).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))



@pytest.fixture(scope="session")
def models_data_dir(tmp_path_factory) -> Path:
    """A data dir whose models/ holds every tiny motion model, saved once per session."""
    from gpu_cases import motion_models

    data = tmp_path_factory.mktemp("motion-data")
    models = data / "models"
    motion_models.save_svd(models, "svd-xt")
    motion_models.save_sd15(models)
    motion_models.save_animatediff(models)
    motion_models.save_animatelcm(models)
    return data


def _settings(data_dir: Path, model: str):
    from personacast.settings import Settings

    return Settings(data_dir=data_dir, hf_cache_dir=data_dir / "hf", device="cpu", motion_model=model)


@pytest.fixture(scope="session")
def saved(models_data_dir):
    """Settings for a model in the shared tiny MODELS_DIR: ``saved("svd-xt")``."""
    return lambda model: _settings(models_data_dir, model)


@pytest.fixture
def with_model(gpu_settings):
    """Settings with an empty MODELS_DIR of the test's own."""
    return lambda model: gpu_settings.model_copy(update={"motion_model": model})


def _device(settings):
    from personacast.devices import choose_device

    return choose_device(settings)


@pytest.fixture(scope="module")
def svd(saved):
    """SVD-XT loaded once per module: 4 frames, 2 steps."""
    from gpu_cases.motion_models import TINY_SVD_OPTIONS

    from personacast.stages.motion.svd import SVDMotion

    settings = saved("svd-xt")
    return SVDMotion(settings, _device(settings), **TINY_SVD_OPTIONS)


@pytest.fixture(scope="module")
def animatediff(saved):
    from gpu_cases.motion_models import TINY_ANIMATEDIFF_OPTIONS

    from personacast.stages.motion.animatediff import AnimateDiffMotion

    settings = saved("animatediff")
    return AnimateDiffMotion(settings, _device(settings), **TINY_ANIMATEDIFF_OPTIONS)


@pytest.fixture(scope="module")
def animatelcm(saved):
    from gpu_cases.motion_models import TINY_ANIMATEDIFF_OPTIONS

    from personacast.stages.motion.animatediff import AnimateDiffMotion

    settings = saved("animatelcm")
    return AnimateDiffMotion(settings, _device(settings), **TINY_ANIMATEDIFF_OPTIONS)


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    """The bundled sample face, cropped to 3:4 portrait and shrunk for tiny models."""
    from personacast.media.image import cover_fit, load_rgb
    from personacast.samples import sample_image

    return cover_fit(load_rgb(sample_image("astronaut")), (60, 80))
