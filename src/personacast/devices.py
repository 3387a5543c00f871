"""Where the GPU backends run: device, precision and memory mode, from the settings.

Nothing here imports torch until a function is called, so the default CPU pipeline
never loads it. Every GPU backend asks ``choose_device`` once and passes the result
to its loaders; nothing else in the project names a device.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import BackendError, ConfigError, MissingDependencyError

if TYPE_CHECKING:
    from .settings import Settings

_PRECISIONS = ("auto", "fp32", "fp16", "bf16")
_MEMORY_MODES = ("auto", "full", "offload", "sequential_offload")
GIB = 1024**3


@dataclass(frozen=True)
class DeviceChoice:
    """``name`` is what torch takes ("cpu", "cuda:0", "mps"); ``precision`` is fp32 on
    the CPU whatever was asked; ``memory_bytes`` is the accelerator's total memory
    (0 for cpu and mps, where torch cannot tell)."""

    name: str
    precision: str
    memory_bytes: int = 0
    compile: bool = False

    @property
    def kind(self) -> str:
        return self.name.split(":")[0]

    @property
    def is_gpu(self) -> bool:
        return self.kind in ("cuda", "mps")

    def torch_dtype(self):
        torch = import_torch()
        return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[self.precision]

    def describe(self) -> str:
        memory = f", {self.memory_bytes / GIB:.0f} GiB" if self.memory_bytes else ""
        return f"{self.name} ({self.precision}{memory}{', compiled' if self.compile else ''})"


def import_torch():
    """torch, or a clear error naming the extra that provides it."""
    try:
        import torch
    except ModuleNotFoundError as exc:
        raise MissingDependencyError("gpu", "gpu", exc.name or "torch") from exc
    return torch


def choose_device(settings: Settings) -> DeviceChoice:
    """Resolve ``settings.device`` / ``settings.precision``; an unavailable device asked
    for by name is an error (silently falling back to the CPU would make a 10 s job
    take an hour)."""
    torch = import_torch()
    wanted = settings.device.strip().lower()
    if wanted == "auto":
        if torch.cuda.is_available():
            wanted = "cuda:0"
        elif _mps_available(torch):
            wanted = "mps"
        else:
            wanted = "cpu"
    if wanted == "cuda":
        wanted = "cuda:0"
    kind, _, index = wanted.partition(":")
    memory = 0
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device 'cuda' was asked for but torch sees no CUDA GPU",
                              hint="set PERSONACAST_DEVICE=cpu or auto, or install a CUDA build of torch")
        count = torch.cuda.device_count()
        if not index.isdigit() or int(index) >= count:
            raise ConfigError(f"device '{wanted}' does not exist", hint=f"this machine has cuda:0 to cuda:{count - 1}")
        memory = int(torch.cuda.get_device_properties(int(index)).total_memory)
    elif kind == "mps":
        if index or not _mps_available(torch):
            raise ConfigError("device 'mps' was asked for but is not available", hint="set PERSONACAST_DEVICE=cpu or auto")
    elif wanted != "cpu":
        raise ConfigError(f"unknown device '{settings.device}'", hint="use auto, cpu, cuda, cuda:N or mps")
    precision = _precision(settings.precision, kind)
    return DeviceChoice(wanted, precision, memory, compile=bool(settings.torch_compile) and kind == "cuda")


def _mps_available(torch) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def _precision(asked: str, kind: str) -> str:
    asked = asked.strip().lower()
    if asked not in _PRECISIONS:
        raise ConfigError(f"unknown precision '{asked}'", hint=f"use one of: {', '.join(_PRECISIONS)}")
    if kind == "cpu":
        return "fp32"  # half precision on a CPU is slower and less exact, never faster
    if asked == "auto":
        return "fp16"  # the public checkpoints are published in fp16; bf16 only when asked
    return asked


@dataclass(frozen=True)
class MemoryPlan:
    """How a diffusers pipeline is fitted into the device's memory.

    ``offload``: "none", "model" (whole sub-models move to the GPU in turn) or
    "sequential" (layer by layer: slowest, smallest). ``forward_chunk``: the UNet's
    temporal feed-forward runs this many frames at a time (None: all at once).
    ``decode_chunk``: frames per VAE decode call.
    """

    offload: str
    forward_chunk: int | None
    decode_chunk: int

    def describe(self) -> str:
        chunk = f", feed-forward chunk {self.forward_chunk}" if self.forward_chunk else ""
        return f"offload {self.offload}{chunk}, decode {self.decode_chunk} frames at a time"


# Peak memory of each family at fp16 with everything on the GPU (measured by
# benchmarks/gpu.py on full-size architectures) and how far each saving step takes it.
_FULL_NEEDS_GIB = {"svd": 20.0, "animatediff": 12.0, "sd": 6.0, "sdxl": 12.0, "musetalk": 4.0, "wav2lip": 2.0}


def memory_plan(device: DeviceChoice, family: str, mode: str = "auto") -> MemoryPlan:
    """The memory plan for a model family on ``device``; ``mode`` is the settings'
    ``gpu_memory_mode`` ("auto" decides from the device's memory)."""
    mode = mode.strip().lower()
    if mode not in _MEMORY_MODES:
        raise ConfigError(f"unknown GPU memory mode '{mode}'", hint=f"use one of: {', '.join(_MEMORY_MODES)}")
    if device.kind != "cuda":
        # Offloading moves weights to "cuda"; elsewhere it has nothing to move to.
        return MemoryPlan("none", None, 8)
    if mode == "auto":
        need = _FULL_NEEDS_GIB.get(family, 8.0)
        have = device.memory_bytes / GIB
        if have >= need * 1.2:
            mode = "full"
        elif have >= need * 0.6:
            mode = "offload"
        else:
            mode = "sequential_offload"
    if mode == "full":
        return MemoryPlan("none", None, 14)
    if mode == "offload":
        return MemoryPlan("model", 2, 4)
    return MemoryPlan("sequential", 1, 1)


@contextlib.contextmanager
def out_of_memory_as_error(what: str) -> Iterator[None]:
    """Turns the accelerator running out of memory inside the block into a BackendError
    that says which setting to change, instead of a traceback."""
    torch = import_torch()
    try:
        yield
    except torch.OutOfMemoryError as exc:
        raise BackendError(
            f"the GPU ran out of memory while {what}",
            hint="set PERSONACAST_GPU_MEMORY_MODE=offload (or sequential_offload), or free the GPU of other work",
        ) from exc
