"""GPU backends' speed and memory, one model family at a time, against the H100 targets.

    python benchmarks/gpu.py                               # every family, on the configured device
    python benchmarks/gpu.py --families svd,musetalk --json out/gpu.json
    python benchmarks/gpu.py --tiny                        # tiny random-weight models on the CPU

Each family is a module in benchmarks/gpu_cases/ with ``run(device, tiny) -> list[Timing]``;
full runs time the published architectures at full size, tiny runs build small models
from configs and only show that the code paths work (their times mean nothing). The device comes from the settings (PERSONACAST_DEVICE,
PERSONACAST_PRECISION, PERSONACAST_GPU_MEMORY_MODE, PERSONACAST_TORCH_COMPILE) unless
--device is given; --tiny runs on the CPU unless --device says otherwise.

A family that fails (missing weights, an error in its case) is reported and the others
still run; the exit status is then 1. Targets are judged only on a full run on a
CUDA GPU: they were set for an H100, so on a smaller card they only say how far off it is.
"""

from __future__ import annotations

import os

# Weights must already be on the machine: a case that tries the Hub fails at once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import argparse
import importlib
import json
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # gpu_cases, also when imported from a test

from gpu_cases import Timing  # noqa: E402

FAMILIES = ("svd", "animatediff", "lora", "musetalk", "wav2lip")
LIPSYNC_FAMILIES = ("musetalk", "wav2lip")
SVD_XT_MAX_S = 15.0  # one 25-frame 576x1024 SVD-XT clip on an H100
LIPSYNC_MIN_FPS = 100.0  # lip-synced frames per second on an H100


@dataclass
class Failure:
    family: str
    error: str


@dataclass
class Goal:
    target: str
    value: str | None  # the measured value; None when not measured
    status: str  # "met", "NOT MET" or "not measured"
    timing: str | None = None  # label of the timing judged


def parse_families(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAMILIES]
    if unknown or not names:
        wrong = f"unknown family {', '.join(unknown)}" if unknown else "no family given"
        raise argparse.ArgumentTypeError(f"{wrong}; choose from {', '.join(FAMILIES)}")
    return list(dict.fromkeys(names))


def describe_failure(exc: BaseException) -> str:
    """One line; the project's errors carry a hint saying what to do."""
    hint = getattr(exc, "hint", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}" + (f" ({hint})" if hint else "")


def run_family(family: str, device, tiny: bool) -> list[Timing]:
    module = importlib.import_module(f"gpu_cases.{family}")
    timings = module.run(device, tiny)
    for timing in timings:
        if not isinstance(timing, Timing) or not timing.seconds > 0:
            raise TypeError(f"gpu_cases.{family}.run returned {timing!r}; expected Timings with seconds > 0")
    return list(timings)


def format_row(family: str, label: str, per_unit: str, per_second: str, peak: str) -> str:
    return f"  {family:<12}{label:<44}{per_unit:>18}{per_second:>18}{peak:>14}"


def format_timing(timing: Timing) -> str:
    peak = "-" if timing.peak_memory_mb is None else f"{timing.peak_memory_mb:,.0f} MB"
    return format_row(timing.family, timing.label, f"{timing.seconds:.4f} s/{timing.unit}",
                      f"{timing.per_second:.2f} {timing.unit}/s", peak)


def judge(timings: list[Timing], measured: bool) -> list[Goal]:
    """The issue's targets. The fastest matching timing is judged: cases time several
    settings (batch size, compiled or not) and the target asks what the card can do."""
    goals = []
    clips = [t for t in timings if t.family == "svd" and t.unit == "clip" and t.label.lower().startswith("svd-xt")]
    best = min(clips, key=lambda t: t.seconds, default=None)
    goals.append(_goal(f"SVD-XT clip <= {SVD_XT_MAX_S:g} s", best, measured,
                       lambda t: (f"{t.seconds:.2f} s", t.seconds <= SVD_XT_MAX_S)))
    for family in LIPSYNC_FAMILIES:
        frames = [t for t in timings if t.family == family and t.unit == "frame"]
        best = max(frames, key=lambda t: t.per_second, default=None)
        goals.append(_goal(f"{family} lip sync >= {LIPSYNC_MIN_FPS:g} frames/s", best, measured,
                           lambda t: (f"{t.per_second:.1f} frames/s", t.per_second >= LIPSYNC_MIN_FPS)))
    return goals


def _goal(target: str, timing: Timing | None, measured: bool, value_of) -> Goal:
    if timing is None or not measured:
        return Goal(target, None, "not measured", timing.label if timing else None)
    value, met = value_of(timing)
    return Goal(target, value, "met" if met else "NOT MET", timing.label)


def gpu_name(device) -> str | None:
    if device.kind != "cuda":
        return None
    import torch

    return torch.cuda.get_device_name(device.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny random-weight models (on the CPU unless --device): checks the code, times nothing real")
    parser.add_argument("--families", type=parse_families, default=list(FAMILIES), help=f"comma-separated, from {','.join(FAMILIES)} (default: all)")
    parser.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:N or mps (default: the settings', or cpu with --tiny)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write every number here")
    args = parser.parse_args(argv)

    from personacast.devices import choose_device, import_torch
    from personacast.errors import PersonacastError
    from personacast.settings import Settings

    try:
        overrides = {"device": args.device} if args.device else {"device": "cpu"} if args.tiny else {}
        settings = Settings(**overrides)
        device = choose_device(settings)
    except PersonacastError as error:
        print(f"error: {describe_failure(error)}", file=sys.stderr)
        return 2
    torch = import_torch()
    name = gpu_name(device)
    measured = device.kind == "cuda" and not args.tiny
    mode = "tiny models" if args.tiny else "full models"
    print(f"personacast GPU benchmark: {mode} on {device.describe()}{f' ({name})' if name else ''}, "
          f"torch {torch.__version__}, memory mode {settings.gpu_memory_mode}")
    print(format_row("family", "label", "per unit", "per second", "peak memory"))

    timings: list[Timing] = []
    failures: list[Failure] = []
    started = time.perf_counter()
    for family in args.families:
        print(f"... {family}", file=sys.stderr, flush=True)
        try:
            found = run_family(family, device, args.tiny)
        except Exception as exc:  # one family's failure must not stop the others
            failures.append(Failure(family, describe_failure(exc)))
            print(f"  {family:<12}FAILED: {failures[-1].error}")
            if not isinstance(exc, PersonacastError):  # ours say what to do; anything else needs its traceback
                traceback.print_exc(file=sys.stderr)
            continue
        for timing in found:
            print(format_timing(timing))
        timings += found
    runtime = time.perf_counter() - started

    goals = judge(timings, measured)
    if not measured:
        note = " (not measured: tiny models)" if args.tiny else f" (not measured: set for an H100, this ran on {device.name})"
    else:
        note = "" if "H100" in (name or "") else f" (set for an H100, measured on {name})"
    print(f"targets{note}:")
    for goal in goals:
        print(f"  {goal.target:<36}{goal.value or '-':>18}   {goal.status}" + (f"  [{goal.timing}]" if goal.timing and measured else ""))
    if failures:
        print(f"{len(failures)} famil{'y' if len(failures) == 1 else 'ies'} failed: {', '.join(f.family for f in failures)}")
    print(f"runtime {runtime:.1f} s")

    if args.json:
        report = {
            "device": device.name, "precision": device.precision, "compiled": device.compile, "gpu": name,
            "memory_bytes": device.memory_bytes, "memory_mode": settings.gpu_memory_mode, "tiny": args.tiny,
            "torch": torch.__version__, "cpus": os.cpu_count(), "families": args.families,
            "timings": [{**asdict(t), "per_second": t.per_second} for t in timings],
            "failures": [asdict(f) for f in failures], "targets": [asdict(g) for g in goals], "runtime_s": round(runtime, 1),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"wrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
