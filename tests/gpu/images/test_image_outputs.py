"""PNGs and the run manifest: atomic writes, what the manifest records, the face check."""

import json

import numpy as np
import pytest
from PIL import Image

from personacast.samples import sample_image
from personacast.stages.images.base import GeneratedImage
from personacast.stages.images.outputs import MANIFEST_NAME, write_atomically, faces_found, save_batch
from personacast.stages.images.prompts import ImagePrompt
from personacast.stages.images.stable_diffusion import StableDiffusionImages


def test_a_batch_is_written_as_pngs_and_a_manifest(settings, cpu_device, make_character, lora_path, reference_pictures, tmp_path):
    character = make_character(seed=20, lora=lora_path("sd15"), lora_scale=0.9, reference_images=reference_pictures[:1],
                               ip_adapter_scale=0.5, outfits=["a green coat"], guidance=5.0)
    batch = StableDiffusionImages(settings, cpu_device).generate(character, 3, steps=2, width=32, height=40)
    out = tmp_path / "out"
    saved = save_batch(batch, out)

    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "sofia-test-000.png", "sofia-test-001.png", "sofia-test-002.png"]
    for item, result in zip(saved.images, batch.images):
        with Image.open(item.path) as png:
            assert png.size == (32, 40)
            assert np.array_equal(np.asarray(png.convert("RGB")), np.asarray(result.image))
            assert f"Seed: {result.seed}," in png.text["parameters"]
            assert png.text["parameters"].startswith(result.prompt.prompt + "\nNegative prompt: blurry\n")

    manifest = json.loads(saved.manifest.read_text())
    assert manifest["character"] == "Sofia Test"
    assert (manifest["model"], manifest["steps"], manifest["guidance"], manifest["width"], manifest["height"]) == ("sd15", 2, 5.0, 32, 40)
    assert (manifest["lora"], manifest["lora_scale"]) == (str(lora_path("sd15")), 0.9)
    assert manifest["ip_adapter_scale"] == 0.5 and manifest["reference_images"] == [str(reference_pictures[0])]
    assert manifest["scheduler"] == "DPM++ 2M Karras" and manifest["device"].startswith("cpu")
    entries = manifest["images"]
    assert [e["seed"] for e in entries] == [20, 21, 22]
    assert [e["file"] for e in entries] == ["sofia-test-000.png", "sofia-test-001.png", "sofia-test-002.png"]
    assert entries[1]["prompt"] == batch.images[1].prompt.prompt and entries[1]["negative"] == "blurry"
    assert {e["pose"] for e in entries} == {"looking at the camera", "head and shoulders"}
    assert all(e["outfit"] == "a green coat" for e in entries)
    # Random tiny models draw no faces: none of these can serve as a portrait.
    assert all(e["face_found"] is False and e["usable_as_portrait"] is False for e in entries)


def test_faces_are_found_in_a_portrait_and_not_in_noise():
    portrait = Image.open(sample_image("astronaut")).convert("RGB")
    noise = Image.fromarray((np.random.default_rng(0).random((256, 256, 3)) * 255).astype(np.uint8))
    prompt = ImagePrompt(0, 0, "p", "", None, None, None)
    assert faces_found([GeneratedImage(prompt, portrait), GeneratedImage(prompt, noise)], min_face_width_px=48) == [True, False]
    assert faces_found([GeneratedImage(prompt, portrait)], min_face_width_px=2000) == [False]  # too small to animate


def test_without_the_face_check_the_manifest_says_unknown(settings, cpu_device, make_character, tmp_path):
    batch = StableDiffusionImages(settings, cpu_device).generate(make_character(), 1, steps=1, width=32, height=32)
    entry = json.loads(save_batch(batch, tmp_path, check_faces=False).manifest.read_text())["images"][0]
    assert entry["face_found"] is None and entry["usable_as_portrait"] is None


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / "picture.png"
    target.write_bytes(b"old picture")

    def crash_halfway(path):
        path.write_bytes(b"half a pic")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, crash_halfway)
    assert target.read_bytes() == b"old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["picture.png"]


def test_each_write_has_a_temporary_file_of_its_own(tmp_path):
    """Two runs writing into one folder must not write (and rename) the same file."""
    target = tmp_path / "manifest.json"
    temporaries = []

    def write(path):
        temporaries.append(path)
        path.write_text("{}")

    write_atomically(target, write)
    write_atomically(target, write)
    assert temporaries[0] != temporaries[1]
    assert all(path.parent == tmp_path and path.name.startswith(".manifest.json.") for path in temporaries)
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
