"""Stage outputs cached on disk under a hash of everything that decides them.

Re-rendering a video with another caption style or format reuses the voice and the
performance. Entries are written to a temporary folder and renamed into place, so a
crash never leaves a half-written entry that looks valid.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


class StageCache:
    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled

    @staticmethod
    def key(stage: str, inputs: dict) -> str:
        blob = json.dumps({"stage": stage, **inputs}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    def entry(self, stage: str, inputs: dict, build: Callable[[Path], None]) -> tuple[Path, bool]:
        """The folder holding this stage's output, built by ``build(folder)`` if missing.

        Returns (folder, was_cached).
        """
        final = self.root / stage / self.key(stage, inputs)
        if self.enabled and final.is_dir():
            return final, True
        final.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".building-", dir=final.parent))
        try:
            build(work)
            if final.is_dir():
                shutil.rmtree(final)
            os.replace(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return final, False
