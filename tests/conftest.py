import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def settings(tmp_path):
    from personacast.settings import Settings

    return Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def portrait() -> Path:
    from personacast.samples import sample_image

    return sample_image("astronaut")


@pytest.fixture(scope="session")
def no_face_image(tmp_path_factory) -> Path:
    """A smooth gradient with shapes: an image, but nobody in it."""
    y, x = np.mgrid[0:480, 0:360]
    rgb = np.dstack([(x * 255 / 360), (y * 255 / 480), np.full_like(x, 90)]).astype(np.uint8)
    rgb[100:200, 100:250] = (30, 160, 40)
    path = tmp_path_factory.mktemp("img") / "landscape.png"
    Image.fromarray(rgb).save(path)
    return path


@pytest.fixture(scope="session")
def corrupt_image(tmp_path_factory, portrait) -> Path:
    data = portrait.read_bytes()
    path = tmp_path_factory.mktemp("img") / "broken.png"
    path.write_bytes(data[: len(data) // 3])
    return path


@pytest.fixture(scope="session")
def voice_engine():
    from personacast.settings import Settings
    from personacast.stages.voice.piper import PiperVoiceEngine

    return PiperVoiceEngine(Settings())


@pytest.fixture(scope="session")
def face_detector():
    from personacast.face.landmarks import FaceMeshDetector

    detector = FaceMeshDetector()
    yield detector
    detector.close()
