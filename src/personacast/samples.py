"""The bundled sample: nothing is downloaded.

The sample face is NASA's public-domain portrait of astronaut Eileen Collins, shipped
inside scikit-image (``skimage.data.astronaut``). Refer to it as ``sample:astronaut``
in a character's ``images`` list. Two CC0 photographs from the same package serve as
sample B-roll and card backgrounds: ``sample:coffee`` and ``sample:chelsea`` (a cat).
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError

SAMPLE_PREFIX = "sample:"

DEMO_SCRIPT = (
    "Hi, I'm Sofia! Here are three tiny habits that changed my mornings. "
    "First, I drink a big glass of water before any coffee. "
    "Second, I make my bed, so the day starts with a win. "
    "And third, no phone for the first twenty minutes. Try it this week and tell me how it goes!"
)


SAMPLE_IMAGES = ("astronaut", "coffee", "chelsea")


def sample_image(name: str) -> Path:
    if name in SAMPLE_IMAGES:
        import skimage.data

        path = Path(skimage.data.__file__).parent / f"{name}.png"
        if path.is_file():
            return path
    raise ConfigError(f"unknown sample image '{name}'", hint=f"the samples are {', '.join('sample:' + n for n in SAMPLE_IMAGES)}")


def resolve_image_ref(value: str | Path, base: Path) -> Path:
    """``sample:NAME`` or a path (relative to ``base``)."""
    text = str(value)
    if text.startswith(SAMPLE_PREFIX):
        return sample_image(text[len(SAMPLE_PREFIX) :])
    candidate = Path(text).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def example_character_dir() -> Path | None:
    """examples/characters/sofia when running from a source checkout."""
    path = Path(__file__).resolve().parents[2] / "examples" / "characters" / "sofia"
    return path if (path / "character.yaml").is_file() else None
