"""One module per model family for benchmarks/gpu.py; each exposes
``run(device, tiny: bool) -> list[Timing]``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    family: str  # svd, animatediff, lora, musetalk, wav2lip
    label: str  # e.g. "svd-xt 25x576x1024 fp16 compiled"
    seconds: float  # per unit
    unit: str  # "clip", "image", "frame"
    peak_memory_mb: float | None = None  # accelerator memory; None on the CPU

    @property
    def per_second(self) -> float:
        return 1.0 / self.seconds if self.seconds else float("inf")


def timed(device, work: Callable[[], object], repeats: int = 1, warmup: int = 1) -> tuple[float, float | None]:
    """Median seconds of ``work`` after ``warmup`` calls, and peak accelerator memory (MB)."""
    import torch

    cuda = device.kind == "cuda"
    for _ in range(warmup):
        work()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        if cuda:
            torch.cuda.synchronize()
        samples.append(time.perf_counter() - start)
    samples.sort()
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    return samples[len(samples) // 2], peak
