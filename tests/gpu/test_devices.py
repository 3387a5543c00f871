"""Device, precision and memory-plan choice (devices.py), and that the default CPU
pipeline never loads torch."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from personacast.devices import GIB, DeviceChoice, MemoryPlan, choose_device, memory_plan
from personacast.errors import ConfigError
from personacast.settings import Settings

MIB = 1024**2
# total_memory as torch reports it for three common cards (nvidia-smi's MiB figures).
H100_80GB = 81559 * MIB
RTX_4090_24GB = 24564 * MIB
RTX_4060_8GB = 8188 * MIB


def settings(**fields) -> Settings:
    return Settings(**fields)


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


@pytest.fixture
def two_cuda_cards(monkeypatch):
    """torch.cuda answering as on a machine with two 24 GB cards: the device logic is
    tested here; the real CUDA calls are exercised by benchmarks/gpu.py on a GPU."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: SimpleNamespace(total_memory=RTX_4090_24GB))


@pytest.mark.parametrize("asked", ["auto", "fp32", "fp16", "bf16", " FP16 "])
def test_cpu_always_runs_in_fp32(asked):
    device = choose_device(settings(device="cpu", precision=asked, torch_compile=True))
    assert device == DeviceChoice("cpu", "fp32", 0, compile=False)
    assert device.torch_dtype() is torch.float32 and not device.is_gpu
    assert device.describe() == "cpu (fp32)"


def test_auto_without_an_accelerator_is_the_cpu(no_accelerator):
    assert choose_device(settings(device="auto")).name == "cpu"


def test_cuda_without_cuda_is_a_config_error_with_a_hint(no_accelerator):
    for asked in ("cuda", "cuda:0", "CUDA"):
        with pytest.raises(ConfigError, match="torch sees no CUDA GPU") as caught:
            choose_device(settings(device=asked))
        assert "PERSONACAST_DEVICE=cpu" in caught.value.hint and "CUDA build of torch" in caught.value.hint


def test_mps_when_absent_is_a_config_error(no_accelerator):
    with pytest.raises(ConfigError, match="'mps' was asked for but is not available"):
        choose_device(settings(device="mps"))


@pytest.mark.parametrize("asked", ["tpu", "gpu", "cpu:0", "vulkan"])
def test_unknown_device_names_the_choices(asked):
    with pytest.raises(ConfigError, match=f"unknown device '{asked}'") as caught:
        choose_device(settings(device=asked))
    assert caught.value.hint == "use auto, cpu, cuda, cuda:N or mps"


def test_unknown_precision_is_refused_even_on_the_cpu():
    with pytest.raises(ConfigError, match="unknown precision 'fp8'") as caught:
        choose_device(settings(device="cpu", precision="fp8"))
    assert "fp32" in caught.value.hint and "bf16" in caught.value.hint


def test_cuda_choice_on_a_cuda_machine(two_cuda_cards):
    auto = choose_device(settings())
    assert auto == DeviceChoice("cuda:0", "fp16", RTX_4090_24GB, compile=False)
    assert auto.is_gpu and auto.kind == "cuda" and auto.torch_dtype() is torch.float16
    assert auto.describe() == "cuda:0 (fp16, 24 GiB)"
    second = choose_device(settings(device="cuda:1", precision="bf16", torch_compile=True))
    assert (second.name, second.precision, second.compile) == ("cuda:1", "bf16", True)
    assert second.torch_dtype() is torch.bfloat16 and second.describe() == "cuda:1 (bf16, 24 GiB, compiled)"
    assert choose_device(settings(device="cuda", precision="fp32")).precision == "fp32"
    for missing in ("cuda:2", "cuda:x"):
        with pytest.raises(ConfigError, match=f"device '{missing}' does not exist") as caught:
            choose_device(settings(device=missing))
        assert caught.value.hint == "this machine has cuda:0 to cuda:1"


def cuda(memory_bytes: int) -> DeviceChoice:
    return DeviceChoice("cuda:0", "fp16", memory_bytes)


FULL, OFFLOAD, SEQUENTIAL = MemoryPlan("none", None, 14), MemoryPlan("model", 2, 4), MemoryPlan("sequential", 1, 1)


@pytest.mark.parametrize(
    ("family", "h100", "rtx4090", "rtx4060"),
    [
        # SVD's 20 GiB peak needs 24 GiB with headroom: a "24 GB" card has 23.99 GiB, so it offloads.
        ("svd", FULL, OFFLOAD, SEQUENTIAL),
        ("animatediff", FULL, FULL, OFFLOAD),
        ("sdxl", FULL, FULL, OFFLOAD),
        ("sd", FULL, FULL, FULL),
        ("musetalk", FULL, FULL, FULL),
        ("wav2lip", FULL, FULL, FULL),
        ("a-new-family", FULL, FULL, OFFLOAD),  # unknown families are assumed to need 8 GiB
    ],
)
def test_auto_memory_plan_by_card(family, h100, rtx4090, rtx4060):
    assert memory_plan(cuda(H100_80GB), family) == h100
    assert memory_plan(cuda(RTX_4090_24GB), family) == rtx4090
    assert memory_plan(cuda(RTX_4060_8GB), family, "auto") == rtx4060


def test_memory_plan_thresholds_are_inclusive():
    # svd: full from 1.2 x 20 GiB, model offload from 0.6 x 20 GiB, sequential below.
    assert memory_plan(cuda(24 * GIB), "svd") == FULL
    assert memory_plan(cuda(24 * GIB - 1), "svd") == OFFLOAD
    assert memory_plan(cuda(12 * GIB), "svd") == OFFLOAD
    assert memory_plan(cuda(12 * GIB - 1), "svd") == SEQUENTIAL


def test_explicit_memory_mode_wins_over_the_card():
    assert memory_plan(cuda(H100_80GB), "svd", "sequential_offload") == SEQUENTIAL
    assert memory_plan(cuda(RTX_4060_8GB), "svd", " Full ") == FULL
    assert memory_plan(cuda(RTX_4060_8GB), "musetalk", "offload") == OFFLOAD
    assert OFFLOAD.describe() == "offload model, feed-forward chunk 2, decode 4 frames at a time"


def test_off_cuda_nothing_is_offloaded():
    for device in (DeviceChoice("cpu", "fp32"), DeviceChoice("mps", "fp16")):
        for mode in ("auto", "full", "offload", "sequential_offload"):
            assert memory_plan(device, "svd", mode) == MemoryPlan("none", None, 8)


def test_unknown_memory_mode():
    with pytest.raises(ConfigError, match="unknown GPU memory mode 'lowvram'") as caught:
        memory_plan(DeviceChoice("cpu", "fp32"), "svd", "lowvram")
    assert "sequential_offload" in caught.value.hint


def test_default_cpu_pipeline_never_imports_torch(tmp_path):
    code = (
        "import sys, typer\n"
        "import personacast, personacast.cli, personacast.pipeline, personacast.cli_models\n"
        "from personacast.settings import Settings\n"
        "from personacast.registry import load_backend\n"
        "typer.main.get_command(personacast.cli.app)\n"
        "settings = Settings()\n"
        "for stage in ('performer', 'animator', 'composer'):\n"
        "    load_backend(stage, getattr(settings, stage + '_backend'))\n"
        "heavy = sorted({name.split('.')[0] for name in sys.modules} & {'torch', 'diffusers', 'transformers'})\n"
        "print('heavy:', heavy)\n"
        "assert not heavy, heavy\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PERSONACAST_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "heavy: []" in done.stdout


def test_running_out_of_gpu_memory_is_a_backend_error_with_the_setting_to_change():
    import torch

    from personacast.devices import out_of_memory_as_error
    from personacast.errors import BackendError

    with pytest.raises(BackendError, match="ran out of memory while drawing") as caught:
        with out_of_memory_as_error("drawing"):
            raise torch.OutOfMemoryError("CUDA out of memory")
    assert "PERSONACAST_GPU_MEMORY_MODE=offload" in caught.value.hint
    with pytest.raises(ValueError):  # other errors pass through untouched
        with out_of_memory_as_error("drawing"):
            raise ValueError("not memory")
