"""A written script as a script YAML that ``personacast render --script`` reads."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .written import WriteResult


def script_yaml(result: WriteResult, topic: str) -> str:
    """title, caption, hashtags and one scene per spoken part; each scene's on-screen
    text rides along as a comment, since the renderer does not draw it yet."""
    written = result.written
    lines = [
        f"# Written by personacast ({result.writer} writer) about {topic!r}: about {result.estimated_s:.0f} s spoken.",
        _dump({"title": written.title, "caption": written.caption, "hashtags": written.hashtags}, flow=None).rstrip("\n"),
        "scenes:",
    ]
    for scene in written.spoken_scenes:
        first, *rest = _dump({"text": scene.text}, flow=False).rstrip("\n").split("\n")
        lines += [f"  - {first}", *(f"    {line}" for line in rest)]
        if scene.on_screen_text:
            lines.append(f"    # on screen: {scene.on_screen_text}")
    return "\n".join(lines) + "\n"


def write_script_file(result: WriteResult, topic: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(script_yaml(result, topic), encoding="utf-8")
    os.replace(partial, path)


def _dump(data: dict, flow: bool | None) -> str:
    """``flow=None`` writes short lists inline ([a, b]); False writes block style."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=flow)
