"""Load user images safely: clear errors for missing, corrupt, huge or odd files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ImageError

MAX_IMAGE_PIXELS = 64_000_000  # beyond this a file is more likely a decompression bomb than a portrait
SUPPORTED_FORMATS = {"JPEG", "PNG", "WEBP", "BMP", "TIFF", "MPO"}


def load_rgb(path: Path) -> np.ndarray:
    """The image as an RGB uint8 array, EXIF rotation applied."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ImageError(f"image not found: {path}", hint="check the path")
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with Image.open(path) as image:
            if image.format not in SUPPORTED_FORMATS:
                raise ImageError(
                    f"{path.name}: unsupported image format {image.format}",
                    hint=f"use one of {', '.join(sorted(SUPPORTED_FORMATS))}",
                )
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ImageError(f"{path.name}: {image.width}x{image.height} is too many pixels", hint="resize it below 64 megapixels")
            image.load()
            rgb = ImageOps.exif_transpose(image).convert("RGB")
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{path.name} is not a readable image ({exc.__class__.__name__})", hint="use a JPEG or PNG portrait") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{path.name} is corrupt or truncated: {exc}", hint="re-export the image") from None
    array = np.asarray(rgb)
    if min(array.shape[:2]) < 64:
        raise ImageError(f"{path.name} is only {array.shape[1]}x{array.shape[0]} pixels", hint="use a portrait of at least 512 px")
    return array


def cover_fit(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover ``size`` (width, height) and crop the middle: never stretched."""
    import cv2

    width, height = size
    src_h, src_w = rgb.shape[:2]
    scale = max(width / src_w, height / src_h)
    new_w, new_h = max(width, round(src_w * scale)), max(height, round(src_h * scale))
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    x0, y0 = (new_w - width) // 2, (new_h - height) // 2
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])
