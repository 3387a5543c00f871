"""The motion clip cache, the numpy-only promise of chaining, and the benchmark cases
run on the tiny models."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from personacast.cache import StageCache
from personacast.stages.motion.cache import CachedMotion
from personacast.stages.motion.chaining import cover_duration
from personacast.stages.motion.svd import SVDMotion


def test_rerendering_reuses_every_segment(svd, portrait, tmp_path):
    cached = CachedMotion(svd, StageCache(tmp_path / "cache"))
    first = cover_duration(cached, portrait, 3, 1.5, 25.0, mode="continue", max_segments=4)
    assert (cached.hits, cached.misses) == (0, 4)  # 12 model frames: 4 + 3 + 3 + 3
    again = CachedMotion(svd, StageCache(tmp_path / "cache"))
    second = cover_duration(again, portrait, 3, 1.5, 25.0, mode="continue", max_segments=4)
    assert (again.hits, again.misses) == (4, 0)
    assert np.array_equal(first.frames, second.frames)
    # The first segment is shared with a shorter speech; another seed shares nothing.
    cover_duration(again, portrait, 3, 0.3, 25.0)
    cover_duration(again, portrait, 4, 0.3, 25.0)
    assert (again.hits, again.misses) == (5, 1)


def test_other_backend_settings_miss(saved, cpu_device, svd, portrait, tmp_path):
    cache = StageCache(tmp_path / "cache")
    CachedMotion(svd, cache).generate(portrait, 0)
    more_steps = CachedMotion(SVDMotion(saved("svd-xt"), cpu_device, frames=4, steps=3, size=(32, 16)), cache)
    clip = more_steps.generate(portrait, 0)
    assert more_steps.misses == 1 and clip.frames.shape == (4, 32, 16, 3)


def test_disabled_cache_always_generates(svd, portrait, tmp_path):
    cached = CachedMotion(svd, StageCache(tmp_path / "cache", enabled=False))
    cached.generate(portrait, 0)
    cached.generate(portrait, 0)
    assert (cached.hits, cached.misses) == (0, 2)


def test_chaining_and_cache_do_not_import_torch():
    code = ("import sys, personacast.stages.motion.chaining, personacast.stages.motion.cache; "
            "print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_benchmark_cases_run_on_the_tiny_models(cpu_device):
    from gpu_cases import animatediff, svd

    timings = svd.run(cpu_device, tiny=True) + animatediff.run(cpu_device, tiny=True)
    assert [t.family for t in timings] == ["svd", "animatediff", "animatediff"]
    assert timings[0].label.startswith("svd-xt tiny 4x16x32")
    assert [t.label.split()[0] for t in timings[1:]] == ["animatediff", "animatelcm"]
    assert all(t.unit == "clip" and t.seconds > 0 and t.peak_memory_mb is None for t in timings)
