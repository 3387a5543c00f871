"""GPU backends on the CPU: tiny random-weight models built from configs, never a hub."""

import os

import pytest

# Any accidental hub lookup fails at once instead of hanging on the network.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(autouse=True)
def _small_torch():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two cores shared by the whole suite; tiny models gain nothing from more
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def gpu_settings(tmp_path):
    from personacast.settings import Settings

    return Settings(data_dir=tmp_path / "data", hf_cache_dir=tmp_path / "hf", device="cpu")


@pytest.fixture
def cpu_device(gpu_settings):
    from personacast.devices import choose_device

    return choose_device(gpu_settings)
