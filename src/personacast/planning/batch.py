"""Rendering a plan: every post to ``OUT_DIR/ID.mp4`` (and the files beside it).

Resumable: a post whose video is complete is skipped. The pipeline renames OUT.json
into place just before the video, so a complete post has both, and OUT.json names the
post's format and the video's exact size. A post that fails is recorded and the batch
goes on. ``OUT_DIR/batch.json`` holds the outcome of every post, rewritten after each.

Where a post is rendered is a ``PostRenderer``: ``LocalRenderer`` runs the pipeline in
this process; the service will bring one that submits the post to its API and waits.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from ..errors import ConfigError, PersonacastError
from ..models import Character, Quality, RenderResult, RenderSpec, VoiceProfile
from ..pipeline import RenderJob, render_formats
from ..settings import Settings
from .calendar import PlannedPost

REPORT_NAME = "batch.json"


class PostRenderer(Protocol):
    def render(self, post: PlannedPost, out_path: Path) -> RenderResult: ...


class BatchItem(BaseModel):
    id: str
    topic: str
    date: str
    time: str
    status: Literal["rendered", "skipped", "failed"]
    video: str | None = None
    duration_s: float | None = None
    seconds: float = 0.0  # spent on this post in this run
    error: str | None = None


class LocalRenderer:
    """Renders with ``pipeline.render_formats`` here. ``character_dir`` replaces the
    posts' own; relative character paths in a plan are read from ``plan_dir``."""

    def __init__(
        self, settings: Settings, *, plan_dir: Path, quality: Quality = "final", fps: int = 30,
        voice: VoiceProfile | None = None, character_dir: Path | None = None,
    ) -> None:
        self._settings = settings
        self._plan_dir = plan_dir
        self._quality = quality
        self._fps = fps
        self._voice = voice
        self._character_dir = character_dir
        self._characters: dict[Path, Character] = {}

    def render(self, post: PlannedPost, out_path: Path) -> RenderResult:
        character = self._character(post)
        spec = RenderSpec(format=post.format, fps=self._fps, quality=self._quality)
        return render_formats(RenderJob(character, post.script(), spec, out_path), [post.format], self._settings)[0]

    def _character(self, post: PlannedPost) -> Character:
        if self._character_dir is not None:
            folder = self._character_dir
        elif post.character:
            folder = self._plan_dir / Path(post.character).expanduser()
        else:
            raise ConfigError(f"post {post.id} names no character", hint="give --character DIR")
        if folder not in self._characters:
            character = Character.from_dir(folder)
            if self._voice is not None:
                character = character.model_copy(update={"voice": self._voice})
            self._characters[folder] = character
        return self._characters[folder]


def video_path(out_dir: Path, post: PlannedPost) -> Path:
    return out_dir / f"{post.id}.mp4"


def completed(out_path: Path, post: PlannedPost) -> RenderResult | None:
    """The earlier render's result when its video and OUT.json are both there and agree."""
    json_path = out_path.with_suffix(".json")
    if not out_path.is_file() or not json_path.is_file():
        return None
    try:
        result = RenderResult.model_validate_json(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if result.format != post.format or result.output.size_bytes != out_path.stat().st_size:
        return None
    return result


def run_batch(
    posts: list[PlannedPost],
    out_dir: Path,
    renderer: PostRenderer,
    on_start: Callable[[PlannedPost], None] | None = None,
    on_done: Callable[[BatchItem], None] | None = None,
) -> list[BatchItem]:
    out_dir.mkdir(parents=True, exist_ok=True)
    items: list[BatchItem] = []
    for post in posts:
        if on_start:
            on_start(post)
        out_path = video_path(out_dir, post)
        started = time.perf_counter()
        fields = {"id": post.id, "topic": post.topic, "date": post.date.isoformat(), "time": post.time}
        earlier = completed(out_path, post)
        if earlier is not None:
            item = BatchItem(**fields, status="skipped", video=str(out_path), duration_s=earlier.duration_s)
        else:
            try:
                result = renderer.render(post, out_path)
                item = BatchItem(**fields, status="rendered", video=str(out_path), duration_s=result.duration_s)
            except PersonacastError as error:
                item = BatchItem(**fields, status="failed", error=str(error))
            except Exception as error:  # one broken post must not cost the rest of the batch
                item = BatchItem(**fields, status="failed", error=f"{type(error).__name__}: {error}")
        items.append(item.model_copy(update={"seconds": round(time.perf_counter() - started, 2)}))
        _write_report(items, out_dir / REPORT_NAME)
        if on_done:
            on_done(items[-1])
    return items


def _write_report(items: list[BatchItem], path: Path) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps([item.model_dump() for item in items], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
