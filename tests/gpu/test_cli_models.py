"""personacast models list / verify / path, on the main app as cli.py registers it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import personacast.cli_models  # noqa: F401  (adds `models` to the main app, as cli.py's import does)
from personacast.cli import app
from personacast.settings import Settings
from personacast.weights import CATALOG, ModelSpec, WeightFile

from test_weights import VAE_FILES, hf_snapshot, write_files

WHISPER_FILES = {"config.json": b'{"d_model": 384}', "model.safetensors": b"whisper " * 40, "preprocessor_config.json": b"{}"}


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """Settings from the environment, as the CLI reads them: wav2lip in MODELS_DIR,
    whisper-tiny in the Hugging Face cache, sd-vae-ft-mse half copied, nothing else."""
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PERSONACAST_HF_CACHE_DIR", str(tmp_path / "hf"))
    monkeypatch.setenv("COLUMNS", "1000")  # one table row per line, whatever the path lengths
    settings = Settings()
    models = settings.resolved_models_dir
    write_files(models / "wav2lip", {"wav2lip_gan.pth": b"wav2lip " * 1000})
    hf_snapshot(settings.resolved_hf_cache_dir, "openai/whisper-tiny", WHISPER_FILES)
    write_files(models / "sd-vae-ft-mse", {"config.json": VAE_FILES["config.json"]})
    return settings


def invoke(*args: str):
    return CliRunner().invoke(app, ["models", *args])


def row(output: str, model_id: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith(f"│ {model_id} ")]
    return line


def test_list_shows_status_and_where(machine):
    result = invoke("list")
    assert result.exit_code == 0, result.output
    models = machine.resolved_models_dir
    wav2lip = row(result.stdout, "wav2lip")
    assert "│ found " in wav2lip and f"{models / 'wav2lip'} (models dir)" in wav2lip and "no: the authors'" in wav2lip
    whisper = row(result.stdout, "whisper-tiny")
    assert "│ found " in whisper and "(hf cache)" in whisper and "models--openai--whisper-tiny/snapshots/" in whisper
    vae = row(result.stdout, "sd-vae-ft-mse")
    assert "│ partial " in vae and "1 file(s) missing" in vae
    svd = row(result.stdout, "svd-xt")
    assert "│ missing " in svd and str(models / "svd-xt") in svd and "Stability AI Community License" in svd
    assert sum(line.startswith("│ ") for line in result.stdout.splitlines()) == 11  # every catalog model


def test_verify_records_then_checks_and_fails_on_a_changed_file(machine):
    first = invoke("verify")  # every model with files here: the partial one is a problem
    assert first.exit_code == 1, first.output
    assert "model 'sd-vae-ft-mse' in" in first.stderr and "is missing diffusion_pytorch_model.safetensors" in first.stderr
    assert "4 file(s) in 2 model(s) checked, 4 checksum(s) recorded" in first.stderr
    assert "problems with: sd-vae-ft-mse" in first.stderr
    assert "recorded-now" in row(first.stdout, "wav2lip")
    ledger = json.loads((machine.resolved_models_dir / "checksums.json").read_text())
    assert sorted(ledger) == ["wav2lip", "whisper-tiny"] and len(ledger["whisper-tiny"]) == 3

    again = invoke("verify", "wav2lip", "whisper-tiny")
    assert again.exit_code == 0, again.output
    assert again.stdout.count("recorded-ok") == 4 and "0 checksum(s) recorded" in again.stderr

    (machine.resolved_models_dir / "wav2lip" / "wav2lip_gan.pth").write_bytes(b"a different checkpoint")
    changed = invoke("verify", "wav2lip")
    assert changed.exit_code == 1
    assert "mismatch" in row(changed.stdout, "wav2lip")
    assert f"wav2lip: wav2lip_gan.pth has sha256" in changed.stderr and f"not {ledger['wav2lip']['wav2lip_gan.pth']}" in changed.stderr
    assert "problems with: wav2lip" in changed.stderr


def test_verify_names_a_published_checksum_that_does_not_match(machine, monkeypatch):
    published = b"published weights"
    spec = ModelSpec("pinned-test", "wav2lip", "pinned test", "MIT", "yes",
                     (WeightFile(("weights.pth",), hashlib.sha256(published).hexdigest()),),
                     source_url="https://example.org/pinned")
    monkeypatch.setitem(CATALOG, spec.id, spec)
    write_files(machine.resolved_models_dir / spec.id, {"weights.pth": b"another download"})
    result = invoke("verify", spec.id)
    assert result.exit_code == 1
    assert f"not {hashlib.sha256(published).hexdigest()} (the published checksum)" in result.stderr
    assert "delete its entry in the ledger" not in result.stderr


def test_verify_a_missing_model_exits_1_with_how_to_get_it(machine):
    result = invoke("verify", "svd-xt", "wav2lip")
    assert result.exit_code == 1
    assert "model 'svd-xt'" in result.stderr and "hf download stabilityai/stable-video-diffusion-img2vid-xt" in result.stderr
    # SVD is gated on the Hub: a plain download would be refused.
    assert "accept the licence at https://huggingface.co/stabilityai/stable-video-diffusion-img2vid-xt, sign in" in result.stderr
    assert "1 file(s) in 1 model(s) checked" in result.stderr  # wav2lip was still checked


def test_verify_with_nothing_here_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("PERSONACAST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PERSONACAST_HF_CACHE_DIR", str(tmp_path / "hf"))
    result = invoke("verify")
    assert result.exit_code == 2 and "error: no model weights in" in result.stderr


def test_verify_unknown_model_is_a_usage_error(machine):
    result = invoke("verify", "wav2lip", "svd-xtt")
    assert result.exit_code == 2 and "unknown model 'svd-xtt'" in result.stderr
    assert not (machine.resolved_models_dir / "checksums.json").exists()  # nothing checked before the names were


def test_path_prints_the_folder(machine):
    local = invoke("path", "wav2lip")
    assert local.exit_code == 0 and local.stdout == f"{machine.resolved_models_dir / 'wav2lip'}\n"
    cached = invoke("path", "whisper-tiny")
    assert cached.exit_code == 0 and Path(cached.stdout.strip(), "model.safetensors").read_bytes() == WHISPER_FILES["model.safetensors"]


def test_path_of_a_missing_or_partial_model_exits_1(machine):
    missing = invoke("path", "musetalk")
    assert missing.exit_code == 1 and missing.stdout == ""
    assert "model 'musetalk'" in missing.stderr and "hf download TMElyralab/MuseTalk" in missing.stderr
    partial = invoke("path", "sd-vae-ft-mse")
    assert partial.exit_code == 1 and "is missing diffusion_pytorch_model.safetensors" in partial.stderr
    assert invoke("path", "nope").exit_code == 2


def test_models_commands_work_without_torch(machine):
    """The gpu extra not installed: importing torch fails, and list/verify/path still work."""
    code = (
        "import sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "try:\n"
        "    import torch\n"
        "    sys.exit('torch imported')\n"
        "except ModuleNotFoundError:\n"
        "    pass\n"
        "from typer.testing import CliRunner\n"
        "import personacast.cli_models\n"
        "from personacast.cli import app\n"
        "for args in (['list'], ['verify', 'wav2lip'], ['path', 'whisper-tiny'], ['verify']):\n"
        "    result = CliRunner().invoke(app, ['models', *args])\n"
        "    print(' '.join(args), result.exit_code, type(result.exception).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # verify with no names exits 1 because sd-vae-ft-mse is partial, not because of torch.
    assert done.stdout.splitlines() == ["list 0 NoneType", "verify wav2lip 0 NoneType", "path whisper-tiny 0 NoneType", "verify 1 SystemExit"]
