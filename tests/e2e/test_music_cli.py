"""End-to-end: a video with a generated music bed ducked under the voice."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from personacast.cli import app
from personacast.media.audio import decode_audio
from personacast.media.probe import probe
from personacast.media.validate import validate
from personacast.stages.compose.formats import get_preset

# The long pause gives the music room to come back up, so its ducking can be measured.
TEXT = "Hi, I'm Sofia, and this is my first video. [pause 1.5s] Stay with me, there is more soon."


@pytest.mark.slow
def test_render_with_a_calm_bed(tmp_path, monkeypatch, portrait):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "clip.mp4"
    result = CliRunner().invoke(
        app, ["render", "--image", str(portrait), "--text", TEXT, "--out", str(out), "--quality", "preview", "--music", "calm"]
    )
    assert result.exit_code == 0, result.output
    assert "bed:calm" in result.output

    details = json.loads(out.with_suffix(".json").read_text())
    audio = details["audio"]
    props = probe(out)
    assert audio["loudness_lufs"] == props.loudness_lufs and abs(props.loudness_lufs + 14) <= 0.5
    assert audio["true_peak_dbtp"] == props.true_peak_dbtp <= -1.0
    music = audio["music"]
    assert music["source"] == "bed:calm"
    assert 8.0 <= music["duck_depth_db"] <= 12.0
    assert music["pause_level_lu"] == pytest.approx(-20.0, abs=2.0)
    assert validate(out, get_preset("tiktok")) == []

    # Music fills the pause: the file is not silent between the sentences.
    words = details["timeline"]["words"]
    gap = next((a["end_s"], b["start_s"]) for a, b in zip(words, words[1:]) if b["start_s"] - a["end_s"] > 1.0)
    samples, rate = decode_audio(out, 48_000)
    pause = samples[int((gap[0] + 0.4) * rate) : int((gap[1] - 0.1) * rate)]
    assert 20 * np.log10(np.sqrt(np.mean(pause.astype(np.float64) ** 2))) > -50
