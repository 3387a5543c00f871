import numpy as np
import pytest


@pytest.fixture(scope="session")
def astronaut():
    from personacast.media.image import load_rgb
    from personacast.samples import sample_image

    return load_rgb(sample_image("astronaut"))


@pytest.fixture(scope="session")
def detector():
    from personacast.face.landmarks import FaceMeshDetector

    with FaceMeshDetector() as found:
        yield found


@pytest.fixture(scope="session")
def still_face(astronaut, detector) -> np.ndarray:
    """The sample's landmarks, unmoved: moved by a clip's known matrices they are the
    truth the tracker is measured against."""
    return detector.detect(astronaut).points


@pytest.fixture(scope="session")
def moving_clip(astronaut):
    from animate_doubles import moving_portrait

    return moving_portrait(astronaut, 24)
