"""End-to-end: the CLI renders real videos; bad input fails clearly and leaves nothing."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from personacast.cli import app
from personacast.media.probe import frame_times, probe
from personacast.media.validate import validate
from personacast.stages.compose.disclosure import disclosure_overlay
from personacast.stages.compose.formats import get_preset
from personacast.stages.voice.timeline import written_words

TEXT = "Hi, I'm Sofia! Big news today: my first video. Stay with me, maybe."
runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def label_free_pixels(env, portrait):
    """The first frame of the same render without the label, for comparison."""
    import av

    out = env / "unlabelled" / "clip.mp4"
    result = invoke("render", "--image", portrait, "--text", TEXT, "--out", out, "--quality", "preview", "--no-ai-label")
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        assert "AI-generated" not in container.metadata.get("comment", "")
        return next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)


@pytest.mark.slow
def test_render_from_image_and_text(env, portrait):
    out = env / "clip.mp4"
    result = invoke("render", "--image", portrait, "--text", TEXT, "--out", out, "--quality", "preview")
    assert result.exit_code == 0, result.output
    assert outputs(env) == ["clip.jpg", "clip.json", "clip.mp4", "clip.srt", "clip.txt", "clip.vtt"]

    props = probe(out)
    assert (props.width, props.height, props.fps) == (1080, 1920, 30)
    assert props.video_codec == "h264" and props.video_profile == "High" and props.pix_fmt == "yuv420p"
    assert props.audio_codec == "aac" and props.audio_sample_rate_hz == 48000 and props.faststart
    assert abs(props.loudness_lufs - (-14.0)) <= 1.0 and props.true_peak_dbtp <= -1.0
    times = np.diff(frame_times(out))
    assert np.allclose(times, 1 / 30, atol=1e-3)

    details = json.loads((env / "clip.json").read_text())
    audio_s = details["duration_s"]
    assert abs(props.frame_count / 30 - audio_s) <= 1 / 30
    assert [w["text"] for w in details["timeline"]["words"]] == written_words(TEXT)
    assert all(p["end_s"] <= audio_s for p in details["timeline"]["phonemes"])
    assert set(details["stage_seconds"]) >= {"voice", "performance", "render"}
    assert details["output"]["frame_count"] == props.frame_count
    assert validate(out, get_preset("tiktok")) == []

    # Disclosed on screen (a dark box top-left, inside the safe zone) and in the metadata.
    import av

    with av.open(str(out)) as container:
        assert "AI-generated" in container.metadata.get("comment", "")
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    preset = get_preset("tiktok")
    label = disclosure_overlay("AI-generated", preset)
    x0, y0, x1, y1 = label.rect
    assert y0 >= preset.safe.top * 1920 and x0 >= preset.safe.left * 1080
    assert np.abs(first[y0:y1, x0:x1].astype(int) - label_free_pixels(env, portrait)[y0:y1, x0:x1]).mean() > 10

    # The subtitle files carry every written word, starting when the first word starts.
    srt = (env / "clip.srt").read_text(encoding="utf-8").strip().split("\n\n")
    first_start = srt[0].splitlines()[1].split(" --> ")[0]
    h, m, rest = first_start.split(":")
    assert abs(int(h) * 3600 + int(m) * 60 + float(rest.replace(",", ".")) - details["timeline"]["words"][0]["start_s"]) < 0.001
    assert " ".join(" ".join(cue.splitlines()[2:]) for cue in srt).split() == written_words(TEXT)
    assert (env / "clip.vtt").read_text(encoding="utf-8").startswith("WEBVTT")


@pytest.mark.slow
def test_character_and_multi_scene_script_with_cache_reuse(env, portrait, tmp_path):
    character = tmp_path / "char"
    character.mkdir()
    (character / "face.png").write_bytes(portrait.read_bytes())
    (character / "character.yaml").write_text(
        "name: Test\nimages: [face.png]\nvoice: {formant_shift: 1.18, pitch_median_hz: 210}\n"
        "caption_style: {max_words: 2}\n"
    )
    script = tmp_path / "script.yaml"
    script.write_text("scenes:\n  - text: First scene here.\n  - text: And the second one.\n")
    out = env / "square.mp4"
    first = invoke("render", "--character", character, "--script", script, "--out", out, "--format", "square", "--quality", "preview")
    assert first.exit_code == 0, first.output
    details = json.loads(out.with_suffix(".json").read_text())
    assert details["cache_hits"] == []
    words = [w["text"] for w in details["timeline"]["words"]]
    assert words == ["First", "scene", "here.", "And", "the", "second", "one."]
    assert details["timeline"]["words"][3]["start_s"] > details["timeline"]["words"][2]["end_s"] + 0.2
    assert (probe(out).width, probe(out).height) == (1080, 1080)

    # Only the caption style changes: voice and performance come from the cache.
    (character / "character.yaml").write_text(
        "name: Test\nimages: [face.png]\nvoice: {formant_shift: 1.18, pitch_median_hz: 210}\n"
        "caption_style: {max_words: 4, highlight_color: '#00FF00'}\n"
    )
    second = invoke("render", "--character", character, "--script", script, "--out", out, "--format", "square", "--quality", "preview")
    assert second.exit_code == 0, second.output
    again = json.loads(out.with_suffix(".json").read_text())
    assert again["cache_hits"] == ["voice[0]", "voice[1]", "performance"]
    assert again["timeline"] == details["timeline"]


@pytest.mark.slow
def test_every_preset_renders_from_one_voice_and_validates(env, portrait):
    from personacast.stages.compose.formats import PRESETS

    names = sorted(PRESETS)
    out = env / "post.mp4"
    result = invoke("render", "--image", portrait, "--text", "Six shapes, one voice.", "--out", out,
                    "--format", ",".join(names), "--quality", "preview")
    assert result.exit_code == 0, result.output
    assert outputs(env) == [f"post-{name}.{ext}" for name in names for ext in ("jpg", "json", "mp4", "srt", "txt", "vtt")]
    details = {}
    for name in names:
        video = env / f"post-{name}.mp4"
        preset = get_preset(name)
        assert validate(video, preset) == []
        props = probe(video)
        assert (props.width, props.height) == preset.size
        details[name] = json.loads(video.with_suffix(".json").read_text())
    # One synthesis: every file carries the same timeline and the same voice timing.
    assert all(details[name]["timeline"] == details[names[0]]["timeline"] for name in names)
    assert len({details[name]["stage_seconds"]["voice"] for name in names}) == 1


def test_validate_command_reports_problems(env, tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"\x00" * 1000)
    result = invoke("validate", bogus, "--format", "tiktok")
    assert result.exit_code == 1
    assert "does not meet the tiktok spec" in " ".join(result.output.split())
    assert invoke("validate", bogus, "--format", "vine").exit_code == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--text", "   "], "the script is empty"),
        (["--text", "word " * 2500], "the limit is 12000"),
        (["--text", "Hello.", "--format", "vine"], "unknown format 'vine'"),
        (["--text", "Hello.", "--format", "square,vine"], "unknown format 'vine'"),
        (["--text", "Hello.", "--voice", "alto"], "unknown voice profile 'alto'"),
        (["--text", "Hello.", "--quality", "ultra"], "unknown quality 'ultra'"),
        ([], "nothing to say"),
    ],
)
def test_bad_requests_fail_with_one_clear_line_and_no_output(env, portrait, args, message):
    out = env / "bad.mp4"
    result = invoke("render", "--image", portrait, "--out", out, *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not out.exists() and not out.with_suffix(".json").exists()


@pytest.mark.parametrize("fixture, message", [("no_face_image", "no face found"), ("corrupt_image", "corrupt or truncated")])
def test_bad_portraits_fail_before_any_output(env, request, fixture, message):
    out = env / "bad.mp4"
    result = invoke("render", "--image", request.getfixturevalue(fixture), "--text", "Hello there.", "--out", out)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert [p for p in env.iterdir() if p.is_file()] == []


def test_failure_mid_render_removes_partial_files(env, portrait, monkeypatch):
    from personacast.stages.compose import composer

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(composer.StandardComposer, "compose", explode)
    out = env / "x.mp4"
    with pytest.raises(RuntimeError):
        from personacast.models import Character, RenderSpec, Script
        from personacast.pipeline import RenderJob, render
        from personacast.settings import Settings

        render(RenderJob(Character(name="t", images=[portrait]), Script.from_text("Hi there."), RenderSpec(), out),
               Settings(data_dir=env / "data"))
    assert [p.name for p in env.iterdir() if p.is_file()] == []


def test_voices_list_and_preview(env):
    listed = invoke("voices", "list")
    assert listed.exit_code == 0 and "sofia" in listed.output and "joe" in listed.output
    assert listed.output.count("ready") == 3  # piper voices and the espeak library are installed
    out = env / "hi.wav"
    result = invoke("voices", "preview", "sofia", "--text", "Hello there, this is me.", "--out", out)
    assert result.exit_code == 0, result.output
    from personacast.media.wav import read_wav

    samples, rate = read_wav(out)
    assert 0.8 < samples.size / rate < 4.0 and np.abs(samples).max() > 0.05
    assert [p.name for p in env.iterdir() if p.is_file()] == ["hi.wav"]
    bad = invoke("voices", "preview", "alto", "--out", env / "x.wav")
    assert bad.exit_code == 2 and "unknown voice profile 'alto'" in bad.output and not (env / "x.wav").exists()


@pytest.mark.slow
def test_render_speaks_a_recording(env, portrait):
    """--audio: the recording is the soundtrack; captions follow it via forced alignment."""
    take = env / "take.wav"
    made = invoke("voices", "preview", "joe", "--text", TEXT, "--out", take)
    assert made.exit_code == 0, made.output
    out = env / "rec.mp4"
    result = invoke("render", "--image", portrait, "--text", TEXT, "--audio", take, "--out", out, "--quality", "preview")
    assert result.exit_code == 0, result.output
    report = json.loads((env / "rec.json").read_text())
    from personacast.media.wav import read_wav

    samples, rate = read_wav(take)
    assert report["voice_engine"] == "recorded"
    assert report["duration_s"] == pytest.approx(samples.size / rate, abs=1e-3)
    words = report["timeline"]["words"]
    assert [w["text"] for w in words] == written_words(TEXT)
    assert words[0]["start_s"] < 0.3 and words[-1]["end_s"] > report["duration_s"] - 0.8


def test_unusable_recordings_fail_before_rendering(env, portrait):
    broken = env / "broken.m4a"
    broken.write_bytes(b"\x00\x01not audio at all" * 50)
    for audio, message in ((env / "missing.wav", "audio file not found"), (broken, "cannot read audio file")):
        result = invoke("render", "--image", portrait, "--text", "Hello there.", "--audio", audio, "--out", env / "x.mp4")
        assert result.exit_code == 2, result.output
        assert message in " ".join(result.output.split())
    assert sorted(p.name for p in env.iterdir() if p.is_file()) == ["broken.m4a"]
