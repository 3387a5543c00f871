"""What an image generator returns: the pictures, each with its prompt and seed, and
how they were made (written to the run's manifest)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from .prompts import ImagePrompt

if TYPE_CHECKING:
    from PIL.Image import Image

StepCallback = Callable[[int, int, int], None]  # (image index, steps done, steps in all)


@dataclass(frozen=True)
class ImageRunInfo:
    """Everything besides the prompt and seed that decides the pictures."""

    model: str  # catalog id: sd15 or sdxl
    model_path: str
    scheduler: str
    steps: int
    guidance: float
    width: int
    height: int
    lora: str | None
    lora_scale: float | None  # None without a LoRA
    ip_adapter: str | None  # the IP-Adapter weights file; None without reference pictures
    ip_adapter_scale: float | None
    reference_images: tuple[str, ...]
    safety_checker: bool  # the model's NSFW filter ran (SD 1.5 folders that include it)
    device: str

    def as_dict(self) -> dict:
        return {**asdict(self), "reference_images": list(self.reference_images)}


@dataclass
class GeneratedImage:
    prompt: ImagePrompt
    image: Image  # RGB
    nsfw: bool = False  # blacked out by the model's safety checker

    @property
    def index(self) -> int:
        return self.prompt.index

    @property
    def seed(self) -> int:
        return self.prompt.seed


@dataclass
class ImageBatch:
    character: str
    run: ImageRunInfo
    images: list[GeneratedImage]
    warnings: list[str] = field(default_factory=list)
