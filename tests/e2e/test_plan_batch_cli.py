"""End-to-end: `plan` writes a calendar with the template writer, `batch` renders it,
and a second `batch` skips what is already complete."""

import json

import pytest
from typer.testing import CliRunner

from personacast.cli import app
from personacast.models import Script

runner = CliRunner()

CHARACTER = """\
name: Sofia
images: [sample:astronaut]
seed: 7
hashtags: [sofiacooks]
persona:
  personality: a former barista, warm and a little nerdy
  tone: playful
  banned_words: [hack]
"""


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.slow
def test_plan_then_batch_then_resume(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    character = tmp_path / "sofia"
    character.mkdir()
    (character / "character.yaml").write_text(CHARACTER, encoding="utf-8")
    (tmp_path / "topics.txt").write_text("cold brew at home\nlatte art\n", encoding="utf-8")
    plan_file = tmp_path / "plan.json"

    result = invoke("plan", "--character", character, "--topics", tmp_path / "topics.txt", "--days", 1, "--per-day", 2,
                    "--out", plan_file, "--start", "2026-12-01", "--seconds", 5, "--format", "square")
    assert result.exit_code == 0, result.output
    posts = json.loads(plan_file.read_text(encoding="utf-8"))
    assert [(p["id"], p["date"], p["time"]) for p in posts] == [("2026-12-01-1", "2026-12-01", "11:15"), ("2026-12-01-2", "2026-12-01", "17:45")]
    assert {p["topic"] for p in posts} == {"cold brew at home", "latte art"}

    out = tmp_path / "videos"
    args = ("batch", plan_file, "--out-dir", out, "--quality", "preview", "--voice", "sofia-espeak")
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [item["status"] for item in report] == ["rendered", "rendered"]
    for post in posts:
        video = out / f"{post['id']}.mp4"
        details = json.loads(video.with_suffix(".json").read_text(encoding="utf-8"))
        assert details["format"] == "square" and details["voice_engine"] == "espeak"
        assert details["output"]["size_bytes"] == video.stat().st_size
        post_text = video.with_suffix(".txt").read_text(encoding="utf-8")
        assert post["caption"] in post_text and f"#{post['hashtags'][0]}" in post_text and "#sofiacooks" in post_text
    first_render = {p: p.stat().st_mtime_ns for p in out.glob("*.mp4")}

    result = invoke(*args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [item["status"] for item in report] == ["skipped", "skipped"]
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.mp4")} == first_render


@pytest.mark.slow
def test_written_script_renders(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    character = tmp_path / "sofia"
    character.mkdir()
    (character / "character.yaml").write_text(CHARACTER, encoding="utf-8")
    script = tmp_path / "script.yaml"

    result = invoke("write", "--character", character, "--topic", "latte art", "--out", script, "--seconds", 5)
    assert result.exit_code == 0, result.output
    assert Script.from_file(script).caption

    video = tmp_path / "clip.mp4"
    result = invoke("render", "--character", character, "--script", script, "--out", video,
                    "--quality", "preview", "--voice", "sofia-espeak", "--format", "square")
    assert result.exit_code == 0, result.output
    assert video.is_file()
