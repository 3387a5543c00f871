"""End-to-end: a multi-scene script with cards, transitions, B-roll and a logo."""

import json

import av
import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from personacast.cli import app
from personacast.media.validate import validate
from personacast.stages.compose.formats import get_preset

runner = CliRunner()


@pytest.mark.slow
def test_multi_scene_render_has_exact_durations_cards_broll_and_logo(tmp_path, monkeypatch, portrait):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    logo = np.zeros((60, 120, 4), np.uint8)
    logo[...] = (20, 220, 40, 255)  # an opaque green block: easy to find in the frame
    Image.fromarray(logo).save(tmp_path / "logo.png")
    broll = np.zeros((200, 200, 3), np.uint8)
    broll[...] = (30, 60, 230)
    Image.fromarray(broll).save(tmp_path / "blue.png")
    character = {"name": "T", "images": [str(portrait)], "voice": {"engine": "espeak"},
                 "logo": {"path": "logo.png", "position": "top_right", "width_ratio": 0.1}}
    (tmp_path / "character.yaml").write_text(yaml.safe_dump(character))
    script = {
        "intro": {"text": "Hello", "duration_s": 1.0, "background": "#102030"},
        "outro": {"text": "", "duration_s": 0.5, "background": "#000000"},
        "scenes": [
            {"text": "One two three four five."},
            {"text": "Six seven eight nine ten.", "transition": "crossfade",
             "broll": [{"path": "blue.png", "start_s": 0.2, "duration_s": 0.8, "motion": "none"}]},
        ],
    }
    (tmp_path / "script.yaml").write_text(yaml.safe_dump(script))
    out = tmp_path / "out" / "clip.mp4"
    result = runner.invoke(app, ["render", "--character", str(tmp_path), "--script", str(tmp_path / "script.yaml"),
                                 "--out", str(out), "--format", "square", "--quality", "preview", "--no-ai-label"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    words = report["timeline"]["words"]
    assert words[0]["start_s"] >= 1.0  # the intro card comes first, silent
    assert report["duration_s"] == pytest.approx(words[-1]["end_s"] + 0.3 + 0.5, abs=0.08)  # sentence pause + outro
    assert report["output"]["frame_count"] == int(np.ceil(report["duration_s"] * 30 - 1e-6))
    assert validate(out, get_preset("square")) == []

    six = next(w for w in words if w["text"] == "Six")
    frames = {}
    want = {"intro": 10, "speech": int(words[1]["start_s"] * 30), "broll": int((six["start_s"] + 0.5) * 30),
            "outro": report["output"]["frame_count"] - 3}
    with av.open(str(out)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in want.values():
                frames[index] = frame.to_ndarray(format="rgb24").astype(int)
    intro, speech, blue, outro = (frames[want[k]] for k in ("intro", "speech", "broll", "outro"))
    assert np.abs(intro[5, 5] - (0x10, 0x20, 0x30)).max() < 12  # the card's colour, not the portrait
    assert np.abs(blue[540, 300] - (30, 60, 230)).max() < 20  # B-roll fills the frame
    assert np.abs(outro[540, 540]).max() < 12
    for frame in (speech, blue):  # the logo is on top of everything, in its corner
        corner = frame[20:200, 700:1080]
        green = (corner[..., 1] > 180) & (corner[..., 0] < 80) & (corner[..., 2] < 90)
        assert green.sum() > 0.5 * 108 * 54
