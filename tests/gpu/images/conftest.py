"""Tiny SD 1.5 / SDXL models, LoRAs and an IP-Adapter built once per session in the
published folder layouts under DATA_DIR/models, so every test loads them through
weights.require and diffusers like real ones."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_TINY_SD = Path(__file__).resolve().parents[3] / "benchmarks" / "gpu_cases" / "tiny_sd.py"


def _load_tiny_sd():
    # benchmarks/ is not an installed package; the builders are shared with the lora benchmark.
    spec = importlib.util.spec_from_file_location("tiny_sd", _TINY_SD)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tiny_sd"] = module
    spec.loader.exec_module(module)
    return module


_tiny = _load_tiny_sd()


@pytest.fixture(scope="session")
def tiny_sd():
    """benchmarks/gpu_cases/tiny_sd.py: the model, LoRA and IP-Adapter builders."""
    return _tiny


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory):
    """DATA_DIR with models/sd15, models/sdxl, models/ip-adapter and loras/."""
    data = tmp_path_factory.mktemp("images-data")
    models = data / "models"
    _tiny.save_ip_adapter(models / "ip-adapter", {"sd15": _tiny.TINY_SD15.unet, "sdxl": _tiny.TINY_SDXL.unet})
    for seed, (model, configs) in enumerate((("sd15", _tiny.TINY_SD15), ("sdxl", _tiny.TINY_SDXL))):
        pipe = _tiny.save_pipeline(models / model, configs, seed=seed)
        factors = _tiny.published_names(_tiny.lora_factors(pipe, rank=4, seed=3))
        for fmt in _tiny.LORA_FORMATS:
            _tiny.save_lora(data / "loras" / f"{model}-{fmt}.safetensors", factors, fmt, pipe.unet.config)
    # Only SDXL's second text encoder: nothing in SD 1.5 has its names.
    _tiny.save_lora(data / "loras" / "sdxl-text_encoder_2.safetensors", {"text_encoder_2": factors["text_encoder_2"]},
                    "peft", pipe.unet.config)
    return data


@pytest.fixture
def settings(tiny_data_dir, tmp_path):
    from personacast.settings import Settings

    return Settings(data_dir=tiny_data_dir, hf_cache_dir=tmp_path / "hf", device="cpu")


@pytest.fixture
def lora_path(tiny_data_dir):
    return lambda model, fmt="kohya": tiny_data_dir / "loras" / f"{model}-{fmt}.safetensors"


@pytest.fixture
def reference_pictures(tmp_path):
    """Two different 64x80 pictures (the smallest load_rgb accepts is 64 px)."""
    from PIL import Image

    paths = []
    for seed in (0, 1):
        pixels = (np.random.default_rng(seed).random((80, 64, 3)) * 255).astype(np.uint8)
        path = tmp_path / f"reference-{seed}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def make_character(tmp_path):
    """A Character with ``appearance`` fields (sd15 and two poses unless given)."""
    from personacast.models import Appearance, Character

    def make(seed: int = 5, **appearance) -> Character:
        fields = {"description": "a woman with red hair", "trigger": "sofiaxyz", "poses": ["looking at the camera", "head and shoulders"],
                  "style": "photo, natural light", "negative": "blurry", **appearance}
        return Character(name="Sofia Test", images=[tmp_path / "portrait.png"], seed=seed, appearance=Appearance(**fields))

    return make
