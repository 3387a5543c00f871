"""``personacast images generate`` end to end on the tiny SD 1.5 folder."""

import json
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from personacast.cli import app


def run(*args: str):
    return CliRunner().invoke(app, ["images", "generate", *args])


@pytest.fixture
def cli_env(monkeypatch, tiny_data_dir, tmp_path):
    monkeypatch.delenv("PERSONACAST_CONFIG_FILE", raising=False)
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tiny_data_dir))
    monkeypatch.setenv("PERSONACAST_HF_CACHE_DIR", str(tmp_path / "hf"))
    monkeypatch.setenv("PERSONACAST_DEVICE", "cpu")
    monkeypatch.setenv("COLUMNS", "1000")  # rich wraps nothing


def character_dir(tmp_path, lora_path, **appearance):
    folder = tmp_path / "sofia"
    folder.mkdir()
    shutil.copy(lora_path("sd15"), folder / "sofia-lora.safetensors")
    spec = {"name": "Sofia", "images": ["sample:astronaut"], "seed": 100,
            "appearance": {"description": "a woman with red hair", "trigger": "sofiaxyz", "lora": "sofia-lora.safetensors",
                           "poses": ["standing", "sitting"], "steps": 2, **appearance}}
    (folder / "character.yaml").write_text(yaml.safe_dump(spec))
    return folder


def test_generate_writes_n_pngs_and_a_manifest(cli_env, tmp_path, lora_path):
    folder = character_dir(tmp_path, lora_path)
    out = tmp_path / "pictures"
    result = run("--character", str(folder), "--n", "3", "--out", str(out), "--width", "32", "--height", "32", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.png")) == ["sofia-000.png", "sofia-001.png", "sofia-002.png"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [image["seed"] for image in manifest["images"]] == [7, 8, 9]
    assert manifest["lora"] == str(folder / "sofia-lora.safetensors") and manifest["steps"] == 2
    assert "manifest.json" in result.output and "no usable face in 3 picture(s)" in result.output


def test_errors_are_one_line_with_what_to_do(cli_env, tmp_path, lora_path):
    folder = character_dir(tmp_path, lora_path, base_model="sdxl")
    result = run("-c", str(folder), "--out", str(tmp_path / "x"), "--width", "32", "--height", "32")
    assert result.exit_code == 2
    assert "error:" in result.output and "cannot be loaded into sdxl" in result.output and "trained for" in result.output
    result = run("-c", str(folder), "--out", str(tmp_path / "x"), "--width", "30")
    assert result.exit_code == 2 and "multiple of 8" in result.output
    assert not (tmp_path / "x").exists()
