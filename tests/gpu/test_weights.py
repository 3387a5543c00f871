"""Finding model weights (MODELS_DIR, then a Hugging Face cache laid out like the real
one) and the checksum ledger. Plain files: nothing here needs torch or a network."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from personacast.errors import ConfigError, ModelWeightsError
from personacast.weights import CATALOG, ModelSpec, WeightFile, locate, model_spec, require, verify
from personacast.weights import store
from personacast.weights.store import CHECKSUMS_FILE

VAE_FILES = {"config.json": b'{"_class_name": "AutoencoderKL"}', "diffusion_pytorch_model.safetensors": b"vae weights " * 50}


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def hf_snapshot(cache: Path, repo: str, files: dict[str, bytes], revision: str = "3f0a1c2b", main: bool = True) -> Path:
    """What ``hf download`` leaves: blobs named by hash, a snapshot folder
    of relative symlinks to them, and refs/main naming the snapshot."""
    folder = cache / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / revision
    for name, data in files.items():
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path(*[".."] * (len(Path(name).parts) + 1), "blobs", blob.name))
    if main:
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        (folder / "refs" / "main").write_text(revision)
    return snapshot


def test_found_in_a_hugging_face_cache_snapshot(gpu_settings):
    snapshot = hf_snapshot(gpu_settings.resolved_hf_cache_dir, "stabilityai/sd-vae-ft-mse", VAE_FILES)
    location = require("sd-vae-ft-mse", gpu_settings)
    assert (location.where, location.root, location.complete) == ("hf_cache", snapshot, True)
    weights = location.path("diffusion_pytorch_model.safetensors")
    assert weights.is_symlink() and weights.read_bytes() == VAE_FILES["diffusion_pytorch_model.safetensors"]
    # The alternative name resolves to the same published file.
    assert location.path("diffusion_pytorch_model.bin") == weights
    with pytest.raises(ModelWeightsError, match="has no file 'unet.pth'"):
        location.path("unet.pth")


def test_refs_main_names_the_snapshot_used(gpu_settings):
    cache = gpu_settings.resolved_hf_cache_dir
    current = hf_snapshot(cache, "stabilityai/sd-vae-ft-mse", VAE_FILES, revision="aaa111")
    # A later partial download of another revision must not replace the one main points at.
    hf_snapshot(cache, "stabilityai/sd-vae-ft-mse", {"config.json": b"{}"}, revision="bbb222", main=False)
    assert require("sd-vae-ft-mse", gpu_settings).root == current


def test_a_snapshot_without_refs_is_still_found(gpu_settings):
    snapshot = hf_snapshot(gpu_settings.resolved_hf_cache_dir, "stabilityai/sd-vae-ft-mse", VAE_FILES, main=False)
    assert require("sd-vae-ft-mse", gpu_settings).root == snapshot


def test_models_dir_copy_is_preferred_over_the_cache(gpu_settings):
    hf_snapshot(gpu_settings.resolved_hf_cache_dir, "stabilityai/sd-vae-ft-mse", VAE_FILES)
    local = write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", VAE_FILES)
    location = require("sd-vae-ft-mse", gpu_settings)
    assert (location.where, location.root) == ("models_dir", local)


def test_a_complete_cache_wins_over_a_partial_local_copy(gpu_settings):
    snapshot = hf_snapshot(gpu_settings.resolved_hf_cache_dir, "stabilityai/sd-vae-ft-mse", VAE_FILES)
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", {"config.json": b"{}"})
    assert require("sd-vae-ft-mse", gpu_settings).root == snapshot


def test_partial_folder_lists_the_missing_files(gpu_settings):
    folder = write_files(gpu_settings.resolved_models_dir / "musetalk", {"musetalkV15/musetalk.json": b"{}"})
    location = locate("musetalk", gpu_settings)
    assert (location.where, location.complete) == ("models_dir", False)
    assert [w.names for w in location.missing] == [("musetalkV15/unet.pth",)]
    with pytest.raises(ModelWeightsError) as caught:
        require("musetalk", gpu_settings)
    assert caught.value.message == f"model 'musetalk' in {folder} is missing musetalkV15/unet.pth"
    expected = ('download it: hf download TMElyralab/MuseTalk --include "musetalkV15/musetalk.json" "musetalkV15/unet.pth"'
                f" --local-dir {folder} ")
    assert expected in caught.value.hint
    assert "hf auth login" not in caught.value.hint  # not gated


def test_a_missing_model_says_how_to_get_it_and_its_licence(gpu_settings):
    location = locate("wav2lip", gpu_settings)
    assert (location.where, location.root, len(location.missing)) == ("missing", None, 1)
    with pytest.raises(ModelWeightsError, match="'wav2lip' .* is not on this machine") as caught:
        require("wav2lip", gpu_settings)
    hint = caught.value.hint
    assert "github.com/Rudrabha/Wav2Lip" in hint and str(gpu_settings.resolved_models_dir / "wav2lip") in hint
    assert "commercial use: no" in hint


def test_fp16_or_full_precision_names_both_count(gpu_settings):
    spec = model_spec("svd-xt")
    files = {}
    for weight in spec.files:
        # fp16 for the UNet, full precision for everything else.
        name = weight.names[0] if weight.names[0].startswith("unet/") else weight.names[-1]
        files[name] = name.encode()
    folder = write_files(gpu_settings.resolved_models_dir / "svd-xt", files)
    location = require("svd-xt", gpu_settings)
    assert location.path("unet/diffusion_pytorch_model.safetensors") == folder / "unet/diffusion_pytorch_model.fp16.safetensors"
    assert location.path("vae/diffusion_pytorch_model.fp16.safetensors") == folder / "vae/diffusion_pytorch_model.safetensors"
    assert location.path("image_encoder/model.safetensors") == folder / "image_encoder/model.safetensors"


def test_checksum_ledger_records_then_checks(gpu_settings):
    hf_snapshot(gpu_settings.resolved_hf_cache_dir, "stabilityai/sd-vae-ft-mse", VAE_FILES)
    seen = []
    first = verify("sd-vae-ft-mse", gpu_settings, on_bytes=seen.append)
    assert sum(seen) == sum(len(data) for data in VAE_FILES.values())
    assert [(c.name, c.status) for c in first] == [(name, "recorded-now") for name in VAE_FILES]
    assert all(c.sha256 == hashlib.sha256(VAE_FILES[c.name]).hexdigest() for c in first)
    ledger_path = gpu_settings.resolved_models_dir / CHECKSUMS_FILE
    ledger = json.loads(ledger_path.read_text())
    assert ledger == {"sd-vae-ft-mse": {c.name: c.sha256 for c in first}}

    assert [c.status for c in verify("sd-vae-ft-mse", gpu_settings)] == ["recorded-ok", "recorded-ok"]

    # The cache is replaced by a local copy whose weights differ: the ledger catches it.
    changed = dict(VAE_FILES, **{"diffusion_pytorch_model.safetensors": b"truncated"})
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", changed)
    config, weights = verify("sd-vae-ft-mse", gpu_settings)
    assert config.status == "recorded-ok"
    assert (weights.status, weights.expected) == ("mismatch", ledger["sd-vae-ft-mse"]["diffusion_pytorch_model.safetensors"])
    assert weights.sha256 == hashlib.sha256(b"truncated").hexdigest()
    assert json.loads(ledger_path.read_text()) == ledger  # a mismatch never overwrites what was recorded


def test_verify_without_record_leaves_no_ledger(gpu_settings):
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", VAE_FILES)
    assert {c.status for c in verify("sd-vae-ft-mse", gpu_settings, record=False)} == {"recorded-now"}
    assert not (gpu_settings.resolved_models_dir / CHECKSUMS_FILE).exists()


def test_pinned_checksum_is_checked_not_recorded(gpu_settings, monkeypatch):
    data = b"published weights"
    spec = ModelSpec("pinned-test", "wav2lip", "pinned test", "MIT", "yes",
                     (WeightFile(("weights.pth",), hashlib.sha256(data).hexdigest()), WeightFile(("notes.json",))),
                     source_url="https://example.org/pinned")
    monkeypatch.setitem(CATALOG, spec.id, spec)
    folder = write_files(gpu_settings.resolved_models_dir / spec.id, {"weights.pth": data, "notes.json": b"{}"})
    assert [(c.status, c.pinned) for c in verify(spec.id, gpu_settings)] == [("pinned-ok", True), ("recorded-now", False)]
    ledger = json.loads((gpu_settings.resolved_models_dir / CHECKSUMS_FILE).read_text())
    assert list(ledger[spec.id]) == ["notes.json"]  # the pinned file needs no record

    (folder / "weights.pth").write_bytes(b"something else")
    weights, notes = verify(spec.id, gpu_settings)
    assert (weights.status, weights.expected) == ("mismatch", hashlib.sha256(data).hexdigest())
    assert notes.status == "recorded-ok"


def test_corrupt_ledger_is_a_clear_error(gpu_settings):
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", VAE_FILES)
    (gpu_settings.resolved_models_dir / CHECKSUMS_FILE).write_text("{not json")
    with pytest.raises(ModelWeightsError, match="not valid JSON") as caught:
        verify("sd-vae-ft-mse", gpu_settings)
    assert "delete it" in caught.value.hint


@pytest.mark.parametrize("entry", [["digest"], {"config.json": 7}, "digest"], ids=["list", "number", "string"])
def test_ledger_with_malformed_entries_is_a_clear_error(gpu_settings, entry):
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", VAE_FILES)
    (gpu_settings.resolved_models_dir / CHECKSUMS_FILE).write_text(json.dumps({"sd-vae-ft-mse": entry}))
    with pytest.raises(ModelWeightsError, match="not file -> sha256 maps: sd-vae-ft-mse") as caught:
        verify("sd-vae-ft-mse", gpu_settings)
    assert "delete those entries" in caught.value.hint


def test_verify_takes_a_location_already_found(gpu_settings, monkeypatch):
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", VAE_FILES)
    location = require("sd-vae-ft-mse", gpu_settings)
    monkeypatch.setattr(store, "require", lambda *_: pytest.fail("verify looked for the model again"))
    checks = verify(location, gpu_settings)
    assert [(c.status, c.pinned) for c in checks] == [("recorded-now", False)] * 2


def test_verify_refuses_a_partial_location(gpu_settings):
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", {"config.json": VAE_FILES["config.json"]})
    with pytest.raises(ModelWeightsError, match="not all on this machine"):
        verify(locate("sd-vae-ft-mse", gpu_settings), gpu_settings)


def test_ledger_is_written_through_a_temporary_file_of_its_own(gpu_settings, monkeypatch):
    """Two verifies at once must not write the same temporary file; none is left behind."""
    write_files(gpu_settings.resolved_models_dir / "sd-vae-ft-mse", VAE_FILES)
    models = gpu_settings.resolved_models_dir
    (models / "checksums.tmp").write_text("another verify's half-written ledger")
    temporaries = []
    replace = os.replace
    monkeypatch.setattr(store.os, "replace", lambda source, target: (temporaries.append(Path(source)), replace(source, target)))
    verify("sd-vae-ft-mse", gpu_settings)
    [temporary] = temporaries
    assert temporary.parent == models and temporary.name != "checksums.tmp"
    assert (models / "checksums.tmp").read_text() == "another verify's half-written ledger"
    assert sorted(path.name for path in models.iterdir()) == ["checksums.json", "checksums.tmp", "sd-vae-ft-mse"]


def test_verify_of_a_missing_model_raises(gpu_settings):
    with pytest.raises(ModelWeightsError, match="not on this machine"):
        verify("whisper-tiny", gpu_settings)


def test_unknown_model_id_lists_the_known_ones(gpu_settings):
    with pytest.raises(ConfigError, match="unknown model 'svd-xtt'") as caught:
        locate("svd-xtt", gpu_settings)
    assert "svd-xt" in caught.value.hint and "wav2lip" in caught.value.hint


def test_every_catalog_model_can_be_obtained_and_names_its_terms():
    for spec in CATALOG.values():
        assert spec.repo or spec.source_url, spec.id  # the hint must say where to get it
        assert spec.licence and spec.commercial_use and spec.files, spec.id
        names = [name for weight in spec.files for name in weight.names]
        assert len(names) == len(set(names)), spec.id
    assert CATALOG["wav2lip"].commercial_use.startswith("no")


def test_the_checksum_ledger_is_readable_by_everyone_sharing_the_models(gpu_settings):
    from personacast.weights.store import CHECKSUMS_FILE, _write_ledger

    ledger = gpu_settings.resolved_models_dir / CHECKSUMS_FILE
    _write_ledger(ledger, {"wav2lip": {"wav2lip_gan.pth": "0" * 64}})
    assert ledger.stat().st_mode & 0o777 == 0o644
