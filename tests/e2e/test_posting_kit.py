"""End-to-end: every video comes with its cover, its post text and, when a certificate is
configured, signed Content Credentials; a failing cover never costs the video."""

import importlib.util
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from personacast.cli import app
from personacast.media.probe import probe
from personacast.media.validate import validate
from personacast.stages.compose.c2pa_manifest import TRAINED_ALGORITHMIC_MEDIA
from personacast.stages.compose.cover import BLINK_MARGIN_FRAMES, OPEN_EYES_MAX_BLINK, decode_frame
from personacast.stages.compose.formats import get_preset
from personacast.stages.compose.post_text import DISCLOSURE_LINE
from personacast.stages.perform.performance import Performance

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def outputs(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("c2pa") is None, reason="needs the c2pa extra")
def test_each_format_gets_a_cover_a_post_text_and_signed_credentials(tmp_path, portrait, c2pa_signing, monkeypatch):
    import c2pa

    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PERSONACAST_C2PA_CERT_PATH", str(c2pa_signing[0]))
    monkeypatch.setenv("PERSONACAST_C2PA_KEY_PATH", str(c2pa_signing[1]))
    character = tmp_path / "sofia"
    character.mkdir()
    (character / "face.png").write_bytes(portrait.read_bytes())
    (character / "character.yaml").write_text("name: Sofia\nimages: [face.png]\nhashtags: ['#AI', launch, news]\n")
    script = tmp_path / "script.yaml"
    script.write_text("title: My first video\ntext: \"Hi, I'm Sofia! Big *news* today #Launch. Stay with me.\"\n")
    out = tmp_path / "out" / "post.mp4"

    result = invoke("render", "--character", character, "--script", script, "--out", out, "--format", "tiktok,square", "--quality", "preview")

    assert result.exit_code == 0, result.output
    assert outputs(out.parent) == [f"post-{name}.{ext}" for name in ("square", "tiktok") for ext in ("jpg", "json", "mp4", "srt", "txt", "vtt")]
    performance = Performance.load(next((tmp_path / "data" / "cache" / "performance").glob("*/performance.npz")))
    for name in ("tiktok", "square"):
        video, preset = out.with_name(f"post-{name}.mp4"), get_preset(name)
        details = json.loads(video.with_suffix(".json").read_text())
        assert details["cover_path"] == str(video.with_suffix(".jpg")) and details["post_text_path"] == str(video.with_suffix(".txt"))
        assert details["content_credentials"] is True and details["warnings"] == []
        assert validate(video, preset) == []  # the signed file still meets the delivery spec
        props = probe(video)

        # The cover: the video's size, a frame inside the video with the eyes open, title in the safe zone.
        index = round(details["cover_time_s"] * 30)
        assert 0 <= index < props.frame_count
        assert performance.blink[max(0, index - BLINK_MARGIN_FRAMES) : index + BLINK_MARGIN_FRAMES + 1].max() <= OPEN_EYES_MAX_BLINK
        with Image.open(video.with_suffix(".jpg")) as image:
            assert image.format == "JPEG" and image.size == (props.width, props.height)
            cover = np.asarray(image.convert("RGB")).astype(int)
        changed = np.abs(cover - decode_frame(video, index, 30).astype(int)).max(axis=2) > 60
        ys, xs = np.nonzero(changed)
        x0, y0, x1, y1 = preset.safe_rect
        assert changed.sum() > 1000 and x0 <= xs.min() and xs.max() < x1 and y0 <= ys.min() and ys.max() < y1

        # The post text: title, first sentences, hashtags once each, the disclosure, within the limit.
        text = video.with_suffix(".txt").read_text(encoding="utf-8")
        assert len(text) <= preset.caption_max_chars
        assert text.split("\n\n") == [
            "My first video", "Hi, I'm Sofia! Big news today #Launch.", "#Launch #AI #news", DISCLOSURE_LINE,
        ]

        # The Content Credentials, as c2pa reads them back.
        with video.open("rb") as fh, c2pa.Reader("video/mp4", fh) as reader:
            manifest = json.loads(reader.json())
        active = manifest["manifests"][manifest["active_manifest"]]
        labels = {a["label"]: a["data"] for a in active["assertions"]}
        actions = next(data["actions"] for label, data in labels.items() if label.startswith("c2pa.actions"))
        assert actions[0]["action"] == "c2pa.created" and actions[0]["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
        assert labels["org.personacast.render"] == {"character": "Sofia", "voice_engine": details["voice_engine"]}


@pytest.mark.slow
def test_a_failing_cover_keeps_the_video_and_says_why(tmp_path, portrait, monkeypatch):
    from personacast import pipeline
    from personacast.errors import MediaError

    def undecodable(*args, **kwargs):
        raise MediaError("cannot decode frame 3 of the video")

    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(pipeline, "write_cover", undecodable)
    (tmp_path / "clip.jpg").write_bytes(b"an older render's cover")
    out = tmp_path / "clip.mp4"

    result = invoke("render", "--image", portrait, "--text", "Hello there.", "--out", out, "--quality", "preview", "--no-ai-label")

    assert result.exit_code == 0, result.output
    assert "no cover image was made: cannot decode frame 3" in " ".join(result.output.split())
    assert outputs(tmp_path) == ["clip.json", "clip.mp4", "clip.srt", "clip.txt", "clip.vtt"]
    details = json.loads(out.with_suffix(".json").read_text())
    assert details["cover_path"] is None and details["cover_time_s"] is None and details["content_credentials"] is False
    assert any("no cover image" in w for w in details["warnings"])
    assert DISCLOSURE_LINE not in (tmp_path / "clip.txt").read_text(encoding="utf-8")
    assert probe(out).frame_count > 0
