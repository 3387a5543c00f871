"""StableDiffusionImages on tiny random-weight SD 1.5 / SDXL folders: loading through
weights.require, seeds, LoRA files in the formats people have, IP-Adapter, errors."""

import json
import shutil

import numpy as np
import pytest

from personacast.errors import BackendError, ConfigError, MissingDependencyError, ModelWeightsError
from personacast.settings import Settings
from personacast.stages.images.stable_diffusion import StableDiffusionImages

SIZE, STEPS = 32, 2


def pixels(batch) -> list[np.ndarray]:
    return [np.asarray(item.image, dtype=np.float32) for item in batch.images]


def generate(settings, device, character, n=1, backend=None, **kwargs):
    """A new backend unless one is given (it reloads only when the model, LoRA or
    IP-Adapter change)."""
    options = {"steps": STEPS, "width": SIZE, "height": SIZE, **kwargs}
    return (backend or StableDiffusionImages(settings, device)).generate(character, n, **options)


@pytest.mark.parametrize("model", ["sd15", "sdxl"])
def test_n_images_each_with_its_seed_prompt_and_progress(settings, cpu_device, make_character, model):
    steps_seen = []
    character = make_character(seed=11, base_model=model)
    batch = generate(settings, cpu_device, character, n=3, on_step=lambda i, s, total: steps_seen.append((i, s, total)))
    assert [item.seed for item in batch.images] == [11, 12, 13]
    assert [item.image.size for item in batch.images] == [(SIZE, SIZE)] * 3
    assert all(item.image.mode == "RGB" for item in batch.images)
    assert [item.prompt.prompt.split(", ")[0] for item in batch.images] == ["sofiaxyz"] * 3
    assert steps_seen == [(i, s, STEPS) for i in range(3) for s in range(1, STEPS + 1)]
    first, second, third = pixels(batch)
    assert np.abs(first - second).max() > 10 and np.abs(first - third).max() > 10  # other seed, other picture
    run = batch.run
    assert (run.model, run.steps, run.width, run.height, run.lora, run.ip_adapter) == (model, STEPS, SIZE, SIZE, None, None)
    assert run.model_path == str(settings.resolved_models_dir / model)


def test_the_same_seed_makes_the_same_picture_with_a_new_backend(settings, cpu_device, make_character):
    character = make_character(seed=3)
    once = pixels(generate(settings, cpu_device, character, n=2))
    again = pixels(generate(settings, cpu_device, character, n=2))
    assert all(np.array_equal(a, b) for a, b in zip(once, again))
    # A seed given to generate replaces the character's.
    assert np.array_equal(pixels(generate(settings, cpu_device, character, n=1, seed=4))[0],
                          pixels(generate(settings, cpu_device, make_character(seed=0), n=1, seed=4))[0])


def test_lora_files_in_every_format_make_the_same_change(settings, cpu_device, make_character, lora_path):
    baseline = pixels(generate(settings, cpu_device, make_character()))[0]
    results = {}
    for fmt in ("peft", "diffusers", "kohya"):
        batch = generate(settings, cpu_device, make_character(lora=lora_path("sd15", fmt), lora_scale=1.0))
        results[fmt] = pixels(batch)[0]
        assert batch.run.lora == str(lora_path("sd15", fmt)) and batch.run.lora_scale == 1.0
    assert np.abs(results["peft"] - baseline).mean() > 5
    # kohya files scale by alpha/rank (written with alpha = rank/2): converted right, all agree.
    assert np.abs(results["diffusers"] - results["peft"]).max() <= 1
    assert np.abs(results["kohya"] - results["peft"]).max() <= 1


def test_sdxl_lora_from_kohya_sgm_blocks_and_peft_keys(settings, cpu_device, make_character, lora_path):
    baseline = pixels(generate(settings, cpu_device, make_character(base_model="sdxl")))[0]
    kohya = pixels(generate(settings, cpu_device, make_character(base_model="sdxl", lora=lora_path("sdxl", "kohya"))))[0]
    peft = pixels(generate(settings, cpu_device, make_character(base_model="sdxl", lora=lora_path("sdxl", "peft"))))[0]
    assert np.abs(kohya - baseline).mean() > 5
    assert np.abs(kohya - peft).max() <= 1


def test_lora_scale_zero_is_the_baseline_and_scale_changes_the_picture(settings, cpu_device, make_character, lora_path):
    baseline = pixels(generate(settings, cpu_device, make_character()))[0]
    zero = pixels(generate(settings, cpu_device, make_character(lora=lora_path("sd15"), lora_scale=0.0)))[0]
    half = pixels(generate(settings, cpu_device, make_character(lora=lora_path("sd15"), lora_scale=0.5)))[0]
    full = pixels(generate(settings, cpu_device, make_character(lora=lora_path("sd15"), lora_scale=1.0)))[0]
    assert np.abs(zero - baseline).max() <= 1
    assert np.abs(half - baseline).mean() > 2 and np.abs(full - half).mean() > 2


def test_the_fused_lora_matches_the_unfused_adapter(settings, cpu_device, make_character, lora_path):
    path = lora_path("sd15")
    fused = pixels(generate(settings, cpu_device, make_character(lora=path, lora_scale=0.7)))[0]
    # Reference: the same pipeline without the LoRA, then diffusers' adapter at 0.7, not fused.
    backend = StableDiffusionImages(settings, cpu_device)
    plain = make_character()
    pipe = backend.load(plain.appearance)
    pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="reference")
    pipe.set_adapters(["reference"], [0.7])
    unfused = pixels(backend.generate(plain, 1, steps=STEPS, width=SIZE, height=SIZE))[0]
    assert np.abs(fused - unfused).max() <= 1


def test_a_lora_for_the_other_base_model_is_refused(settings, cpu_device, make_character, lora_path, tmp_path):
    with pytest.raises(ModelWeightsError, match="cannot be loaded into sdxl") as error:
        generate(settings, cpu_device, make_character(base_model="sdxl", lora=lora_path("sd15", "peft")))
    assert "trained for" in error.value.hint
    with pytest.raises(ModelWeightsError, match="sd15"):
        generate(settings, cpu_device, make_character(lora=lora_path("sdxl", "kohya")))
    with pytest.raises(ModelWeightsError, match="changes nothing in sd15"):
        generate(settings, cpu_device, make_character(lora=lora_path("sdxl", "text_encoder_2")))
    with pytest.raises(ModelWeightsError, match="does not exist"):
        generate(settings, cpu_device, make_character(lora=tmp_path / "nowhere.safetensors"))


def test_without_peft_a_lora_names_the_missing_module(settings, cpu_device, make_character, lora_path, monkeypatch):
    import diffusers.utils

    monkeypatch.setattr(diffusers.utils, "USE_PEFT_BACKEND", False)  # what diffusers sets when peft is absent
    with pytest.raises(MissingDependencyError, match="'peft'") as error:
        generate(settings, cpu_device, make_character(lora=lora_path("sd15")))
    assert "personacast[gpu]" in error.value.hint


@pytest.mark.parametrize("model", ["sd15", "sdxl"])
def test_ip_adapter_reference_pictures_change_the_picture_and_scale_zero_does_not(
    settings, cpu_device, make_character, reference_pictures, model
):
    baseline = pixels(generate(settings, cpu_device, make_character(base_model=model)))[0]
    first, second = reference_pictures
    backend = StableDiffusionImages(settings, cpu_device)  # loads the IP-Adapter once for all four

    def with_references(references, scale=1.0):
        character = make_character(base_model=model, reference_images=references, ip_adapter_scale=scale)
        return generate(settings, cpu_device, character, backend=backend)

    with_first = with_references([first])
    with_second = pixels(with_references([second]))[0]
    both = pixels(with_references([first, second]))[0]
    off = pixels(with_references([first], scale=0.0))[0]
    image = pixels(with_first)[0]
    assert np.abs(image - baseline).mean() > 2
    assert np.abs(image - with_second).mean() > 1  # the picture follows the reference
    assert np.abs(both - image).mean() > 1
    assert np.abs(off - baseline).max() <= 1
    folder = "models" if model == "sd15" else "sdxl_models"
    assert with_first.run.ip_adapter == str(settings.resolved_models_dir / "ip-adapter" / folder / f"ip-adapter_{model}.safetensors")
    assert with_first.run.ip_adapter_scale == 1.0 and with_first.run.reference_images == (str(first),)


def _models_dir_with(tmp_path, tiny_data_dir, *names) -> Settings:
    """A DATA_DIR whose models/ links only some of the tiny models."""
    data = tmp_path / "partial"
    (data / "models").mkdir(parents=True)
    for name in names:
        (data / "models" / name).symlink_to(tiny_data_dir / "models" / name, target_is_directory=True)
    return Settings(data_dir=data, hf_cache_dir=tmp_path / "hf", device="cpu")


def test_missing_weights_say_how_to_get_them(tmp_path, tiny_data_dir, cpu_device, make_character, reference_pictures):
    nothing = _models_dir_with(tmp_path, tiny_data_dir)
    with pytest.raises(ModelWeightsError, match="'sd15'.*not on this machine") as error:
        generate(nothing, cpu_device, make_character())
    assert "download stable-diffusion-v1-5/stable-diffusion-v1-5" in error.value.hint
    no_ip_adapter = _models_dir_with(tmp_path / "b", tiny_data_dir, "sd15")
    with pytest.raises(ModelWeightsError, match="ip-adapter") as error:
        generate(no_ip_adapter, cpu_device, make_character(reference_images=reference_pictures[:1]))
    assert "h94/IP-Adapter" in error.value.hint


def test_an_ip_adapter_folder_with_only_the_sd15_variant_is_enough_for_sd15(
    tmp_path, tiny_data_dir, cpu_device, make_character, reference_pictures
):
    settings = _models_dir_with(tmp_path, tiny_data_dir, "sd15", "sdxl")
    (settings.resolved_models_dir / "ip-adapter").mkdir()
    (settings.resolved_models_dir / "ip-adapter" / "models").symlink_to(tiny_data_dir / "models" / "ip-adapter" / "models")
    batch = generate(settings, cpu_device, make_character(reference_images=reference_pictures[:1]))
    assert batch.run.ip_adapter.endswith("models/ip-adapter_sd15.safetensors")
    with pytest.raises(ModelWeightsError, match="missing"):
        generate(settings, cpu_device, make_character(base_model="sdxl", reference_images=reference_pictures[:1]))


def test_sd15_folder_listing_a_safety_checker_it_does_not_hold_still_loads(tmp_path, tiny_data_dir, cpu_device, make_character):
    # The published model_index.json names safety_checker and feature_extractor; people
    # often download only the parts the catalog lists.
    data = tmp_path / "official"
    shutil.copytree(tiny_data_dir / "models" / "sd15", data / "models" / "sd15")
    index_path = data / "models" / "sd15" / "model_index.json"
    index = json.loads(index_path.read_text())
    index.update(safety_checker=["stable_diffusion", "StableDiffusionSafetyChecker"],
                 feature_extractor=["transformers", "CLIPImageProcessor"], requires_safety_checker=True)
    index_path.write_text(json.dumps(index))
    settings = Settings(data_dir=data, hf_cache_dir=tmp_path / "hf", device="cpu")
    batch = generate(settings, cpu_device, make_character())
    assert batch.run.safety_checker is False and batch.images[0].nsfw is False


def test_sizes_that_are_not_multiples_of_8_are_refused(settings, cpu_device, make_character):
    with pytest.raises(ConfigError, match="multiple of 8"):
        generate(settings, cpu_device, make_character(), width=30)



def test_running_out_of_gpu_memory_says_which_setting_to_change(settings, cpu_device, make_character, monkeypatch):
    import torch

    def out_of_memory(*_, **__):
        raise torch.OutOfMemoryError("CUDA out of memory")

    backend = StableDiffusionImages(settings, cpu_device)
    pipe = backend.load(make_character().appearance)
    monkeypatch.setattr(type(pipe), "__call__", out_of_memory)
    with pytest.raises(BackendError, match=f"ran out of memory while making a {SIZE}x{SIZE} image") as error:
        generate(settings, cpu_device, make_character(), backend=backend)
    assert "PERSONACAST_GPU_MEMORY_MODE" in error.value.hint
    monkeypatch.setattr(backend, "load", out_of_memory)  # placing the pipeline on a full GPU
    with pytest.raises(BackendError, match="ran out of memory while loading sd15"):
        generate(settings, cpu_device, make_character(), backend=backend)
