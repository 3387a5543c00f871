"""Checks on uploaded files before anything is stored.

The content decides what a file is, never its name or declared type: pictures are
opened with Pillow (a supported format, at most media/image.py's pixel count, so a
small file that expands to gigabytes is refused before it is decoded, then decoded to
prove it is whole) and recordings with PyAV (an audio stream whose first frames decode).
Faces are not looked for here: a render's first stage does that within seconds, and it
keeps the face model out of the API processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import ImageError, InputError, MediaError
from ..media.image import MAX_IMAGE_PIXELS, SUPPORTED_FORMATS

MIN_SIDE_PX = 64
MAX_AUDIO_S = 15 * 60.0
_EXTENSIONS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}
_OPENERS = sorted(SUPPORTED_FORMATS - {"MPO"})  # Pillow's JPEG opener also returns MPO files
_AUDIO_EXTENSIONS = {"wav": ".wav", "mp3": ".mp3", "ogg": ".ogg", "flac": ".flac", "matroska,webm": ".webm"}


class UploadTooLarge(InputError):
    """The upload is over the byte limit (HTTP 413)."""


@dataclass(frozen=True)
class CheckedUpload:
    sha256: str
    extension: str  # from the content: ".png", ".jpg", ".wav", ...
    size_bytes: int
    description: str  # "PNG 512x512", "mp3 audio, 3.2 s"


def measure(file: BinaryIO, limit_bytes: int, what: str) -> tuple[int, str]:
    """Size and SHA-256 of ``file`` (rewound after); ``UploadTooLarge`` past the limit."""
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    for block in iter(lambda: file.read(1 << 20), b""):
        size += len(block)
        if size > limit_bytes:
            raise UploadTooLarge(f"{what} is larger than {limit_bytes // (1024 * 1024)} MB", hint="send a smaller file")
        digest.update(block)
    file.seek(0)
    if size == 0:
        raise InputError(f"{what} is empty")
    return size, digest.hexdigest()


def check_image(file: BinaryIO, limit_bytes: int, what: str = "the image") -> CheckedUpload:
    from PIL import Image, UnidentifiedImageError

    size, sha = measure(file, limit_bytes, what)
    try:
        # Image.open only reads the header: the pixel count is known before any decoding.
        with Image.open(file, formats=_OPENERS) as image:
            kind, width, height = image.format or "?", image.width, image.height
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageError(
                    f"{what} claims {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), over the "
                    f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixel limit (a possible decompression bomb)",
                    hint="send a portrait of a few megapixels",
                )
            if min(width, height) < MIN_SIDE_PX:
                raise ImageError(f"{what} is only {width}x{height} pixels", hint="use a portrait of at least 512 px")
            image.load()
    except ImageError:
        raise
    except Image.DecompressionBombError:
        raise ImageError(
            f"{what} claims far more pixels than the {MAX_IMAGE_PIXELS / 1e6:.0f} megapixel limit (a possible decompression bomb)",
            hint="send a portrait of a few megapixels",
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{what} is not a picture in a supported format", hint=f"send {', '.join(sorted(SUPPORTED_FORMATS))}"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{what} is corrupt or truncated ({' '.join(str(exc).split())[:120]})", hint="re-export the image") from None
    finally:
        file.seek(0)
    return CheckedUpload(sha, _EXTENSIONS.get(kind, ".img"), size, f"{kind} {width}x{height}")


def check_audio(file: BinaryIO, limit_bytes: int, what: str = "the recording") -> CheckedUpload:
    import av

    size, sha = measure(file, limit_bytes, what)
    try:
        with av.open(file, mode="r") as container:
            if not container.streams.audio:
                raise MediaError(f"{what} has no audio stream", hint="send a WAV, MP3, M4A, OGG or FLAC file")
            stream = container.streams.audio[0]
            duration_s = float(container.duration / 1_000_000) if container.duration else None
            if duration_s is not None and duration_s > MAX_AUDIO_S:
                raise MediaError(f"{what} lasts {duration_s:.0f} s; the limit is {MAX_AUDIO_S:.0f} s")
            decoded = next(iter(container.decode(stream)), None)
            if decoded is None:
                raise MediaError(f"{what} contains no audio samples")
            kind = container.format.name
    except MediaError as exc:
        raise InputError(exc.message, hint=exc.hint) from None
    except (av.error.FFmpegError, ValueError, StopIteration) as exc:
        raise InputError(f"{what} is not a readable recording ({type(exc).__name__})",
                         hint="send a WAV, MP3, M4A, OGG or FLAC file") from None
    finally:
        file.seek(0)
    extension = _AUDIO_EXTENSIONS.get(kind, ".m4a" if "mp4" in kind else ".audio")
    length = f", {duration_s:.1f} s" if duration_s is not None else ""
    return CheckedUpload(sha, extension, size, f"{kind} audio{length}")
