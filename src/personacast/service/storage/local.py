"""LocalStorage: artefacts in a folder on this machine (one-machine installs, tests)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

from ...errors import NotFoundError
from .base import Storage, check_key

PARTIAL_MARK = ".partial-"


class LocalStorage(Storage):
    """Keys are paths under ``root``. A file is copied to a hidden temporary name in its
    final folder, then renamed over the key: rename is atomic within one file system.

    ``url`` gives ``base_url`` + key when the API serves the folder under a URL, else a
    file:// URL; local URLs do not expire.
    """

    def __init__(self, root: Path, base_url: str | None = None) -> None:
        self.root = root.absolute()
        self.base_url = base_url.rstrip("/") + "/" if base_url else None

    def path(self, key: str) -> Path:
        """The file behind ``key`` (for the API to stream)."""
        return self.root / check_key(key)

    def put_file(self, local_path: Path, key: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}{PARTIAL_MARK}{uuid.uuid4().hex}")
        try:
            shutil.copyfile(local_path, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def get_file(self, key: str, local_path: Path) -> None:
        source = self.path(key)
        if not source.is_file():
            raise NotFoundError(f"no stored file at '{key}'")
        shutil.copyfile(source, local_path)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def url(self, key: str, *, expires_s: int | None = None) -> str:
        if self.base_url:
            return self.base_url + quote(check_key(key))
        return self.path(key).as_uri()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        folder = self.path(prefix)
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file() and PARTIAL_MARK not in p.name)
        shutil.rmtree(folder)
        return count
