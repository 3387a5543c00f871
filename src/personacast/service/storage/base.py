"""Storage: where the service keeps portraits and finished renders, by key.

Keys are relative, "/"-separated paths ("tenants/<id>/renders/<id>/out.mp4"). Every
backend publishes a file atomically: a reader sees the whole file under its key or no
file at all, never part of one.
"""

from __future__ import annotations

import contextlib
import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path

from ...errors import InputError

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm"})
_CONTENT_TYPES = {".srt": "application/x-subrip", ".vtt": "text/vtt", ".txt": "text/plain; charset=utf-8"}


class Storage(ABC):
    """A place for artefacts. Implementations: LocalStorage (local.py), S3Storage (s3.py)."""

    @abstractmethod
    def put_file(self, local_path: Path, key: str) -> None:
        """Store ``local_path`` under ``key``, replacing what was there, atomically."""

    @abstractmethod
    def get_file(self, key: str, local_path: Path) -> None:
        """Copy the object at ``key`` to ``local_path``; ``NotFoundError`` if there is none."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def url(self, key: str, *, expires_s: int | None = None) -> str:
        """A URL that fetches ``key``; signed URLs stop working after ``expires_s``
        seconds (default: the backend's)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it does not exist."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under the folder ``prefix``; returns how many were removed."""

    def publish_render(self, files: Path | Iterable[Path], prefix: str) -> dict[str, str]:
        """Store a render's artefacts under the folder ``prefix`` and return file name ->
        key in upload order. ``files`` is a folder (its visible files) or a list.

        Videos go last, so whoever sees a video can rely on its JSON, subtitles, cover and
        post text being there. If any upload fails, the ones already made are removed
        again and the error is raised: a failed publish leaves nothing behind.
        """
        folder = check_key(prefix)
        published: dict[str, str] = {}
        try:
            for path in artefact_order(files):
                key = f"{folder}/{path.name}"
                self.put_file(path, key)
                published[path.name] = key
        except BaseException:
            for key in published.values():
                with contextlib.suppress(Exception):  # the original error matters more
                    self.delete(key)
            raise
        return published


def artefact_order(files: Path | Iterable[Path]) -> list[Path]:
    """The files to publish, videos last; hidden files (a pipeline's partial outputs)
    are left out of a folder."""
    paths = (
        sorted(p for p in files.iterdir() if p.is_file() and not p.name.startswith("."))
        if isinstance(files, Path)
        else [Path(p) for p in files]
    )
    names = [p.name for p in paths]
    if len(set(names)) != len(names):
        raise InputError("two artefacts have the same file name", hint="publish each render into its own prefix")
    if not paths:
        raise InputError("there is nothing to publish")
    return sorted(paths, key=lambda p: (p.suffix.lower() in VIDEO_SUFFIXES, p.name))


def check_key(key: str) -> str:
    """``key`` without a trailing "/", if it is a safe relative key; ``InputError`` for
    absolute paths, "." or ".." segments, backslashes and control characters."""
    stripped = key.rstrip("/")
    parts = stripped.split("/")
    if (
        not stripped
        or "\\" in stripped
        or any(part in ("", ".", "..") for part in parts)
        or any(ord(char) < 32 or ord(char) == 127 for char in stripped)
    ):
        raise InputError(f"invalid storage key {key!r}", hint="use a relative path like 'tenant/render/out.mp4'")
    return stripped


def content_type(path: Path) -> str:
    guessed = _CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return guessed or "application/octet-stream"
