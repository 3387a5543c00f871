"""Writing a batch of generated pictures: PNGs and the run's manifest.

Each file is written under a temporary name and renamed, so a crash never leaves a
half-written picture under a real name; the manifest is written last, so it lists
only pictures that exist. Each PNG also carries its prompt, seed and settings in the
"parameters" text field that other Stable Diffusion tools read. A picture in which no
face is found cannot be animated as a portrait and is flagged in the manifest.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ...errors import FaceError
from .base import GeneratedImage, ImageBatch, ImageRunInfo

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class SavedImage:
    path: Path
    index: int
    seed: int
    face_found: bool | None  # None when faces were not checked
    nsfw: bool


@dataclass(frozen=True)
class SavedBatch:
    manifest: Path
    images: list[SavedImage]


def file_stem(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "image"


def faces_found(images: list[GeneratedImage], min_face_width_px: int) -> list[bool]:
    """Whether each picture has a face at least ``min_face_width_px`` wide."""
    from ...face.landmarks import FaceMeshDetector

    found = []
    with FaceMeshDetector(max_faces=1) as detector:
        for item in images:
            try:
                detector.detect(np.asarray(item.image.convert("RGB")), min_face_width_px=min_face_width_px)
            except FaceError:
                found.append(False)
            else:
                found.append(True)
    return found


def _parameters_text(item: GeneratedImage, run: ImageRunInfo) -> str:
    """The prompt and settings as Automatic1111 writes them, for tools that read them back."""
    lora = f", LoRA: {Path(run.lora).name} {run.lora_scale:g}" if run.lora else ""
    ip_adapter = f", IP-Adapter scale: {run.ip_adapter_scale:g}" if run.ip_adapter else ""
    return (f"{item.prompt.prompt}\nNegative prompt: {item.prompt.negative}\n"
            f"Steps: {run.steps}, Sampler: {run.scheduler}, CFG scale: {run.guidance:g}, Seed: {item.seed}, "
            f"Size: {run.width}x{run.height}, Model: {run.model}{lora}{ip_adapter}")


def write_atomically(path: Path, write) -> None:
    """``write(temporary)`` then rename it to ``path``. The temporary name is this
    call's own: two runs writing into the same folder never write one file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_batch(batch: ImageBatch, out_dir: Path, *, check_faces: bool = True, min_face_width_px: int = 48) -> SavedBatch:
    """``STEM-NNN.png`` for each picture and ``manifest.json`` in ``out_dir``."""
    from PIL.PngImagePlugin import PngInfo

    out_dir.mkdir(parents=True, exist_ok=True)
    faces: list[bool | None] = faces_found(batch.images, min_face_width_px) if check_faces else [None] * len(batch.images)
    stem = file_stem(batch.character)
    saved = []
    entries = []
    for item, face in zip(batch.images, faces):
        path = out_dir / f"{stem}-{item.index:03d}.png"
        info = PngInfo()
        info.add_text("parameters", _parameters_text(item, batch.run))
        info.add_text("Software", "personacast")
        write_atomically(path, lambda target, image=item.image, pnginfo=info: image.save(target, format="PNG", pnginfo=pnginfo))
        saved.append(SavedImage(path, item.index, item.seed, face, item.nsfw))
        prompt = item.prompt
        entries.append({
            "file": path.name, "index": item.index, "seed": item.seed, "prompt": prompt.prompt,
            "negative": prompt.negative, "pose": prompt.pose, "outfit": prompt.outfit, "scenario": prompt.scenario,
            "dropped_from_prompt": list(prompt.dropped), "face_found": face,
            "usable_as_portrait": None if face is None else (face and not item.nsfw), "nsfw": item.nsfw,
        })
    manifest = {
        "character": batch.character,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **batch.run.as_dict(),
        "warnings": batch.warnings,
        "images": entries,
    }
    manifest_path = out_dir / MANIFEST_NAME
    write_atomically(manifest_path, lambda target: target.write_text(json.dumps(manifest, indent=2) + "\n"))
    return SavedBatch(manifest_path, saved)
