"""benchmarks/gpu.py with fake case modules: lines, JSON, targets, a failing family."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu.py"

# Fake cases written as files into a folder searched before gpu_cases' own, so the
# runner imports them exactly as it imports the real ones.
CASES = {
    "svd": """
        from gpu_cases import Timing
        CALLS = []

        def run(device, tiny):
            CALLS.append((device.name, device.precision, tiny))
            return [Timing("svd", "svd-xt 25x64x64 tiny", 0.5, "clip"), Timing("svd", "svd 14x64x64 tiny", 0.25, "clip")]
    """,
    "musetalk": """
        from gpu_cases import Timing

        def run(device, tiny):
            return [Timing("musetalk", "musetalk batch 8", 0.004, "frame", peak_memory_mb=1234.4)]
    """,
    "wav2lip": """
        from personacast.errors import ModelWeightsError

        def run(device, tiny):
            raise ModelWeightsError("model 'wav2lip' is not on this machine", hint="put wav2lip_gan.pth in MODELS_DIR/wav2lip/")
    """,
    "lora": """
        import a_module_nobody_installed
    """,
    "animatediff": """
        from gpu_cases import Timing

        def run(device, tiny):
            return [Timing("animatediff", "no time at all", 0.0, "clip")]
    """,
}


@pytest.fixture
def gpu(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("gpu_benchmark", _PATH)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)  # puts benchmarks/ on sys.path for gpu_cases
    import gpu_cases

    cases = tmp_path / "cases"
    cases.mkdir()
    for family, code in CASES.items():
        (cases / f"{family}.py").write_text(textwrap.dedent(code))
    monkeypatch.setattr(gpu_cases, "__path__", [str(cases), *gpu_cases.__path__])
    for family in CASES:  # neither a real case imported earlier nor these fakes outlive the test
        monkeypatch.delitem(sys.modules, f"gpu_cases.{family}", raising=False)
    yield module
    for family in CASES:
        sys.modules.pop(f"gpu_cases.{family}", None)


def test_tiny_run_prints_each_timing_and_writes_json(gpu, tmp_path, capsys):
    out = tmp_path / "out" / "gpu.json"
    assert gpu.main(["--tiny", "--families", "svd,musetalk", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    assert lines[0].startswith("personacast GPU benchmark: tiny models on cpu (fp32), torch ")
    [xt] = [line for line in lines if "svd-xt 25x64x64 tiny" in line]
    assert xt.split()[0] == "svd" and "0.5000 s/clip" in xt and "2.00 clip/s" in xt and xt.rstrip().endswith("-")
    [lips] = [line for line in lines if "musetalk batch 8" in line]
    assert "0.0040 s/frame" in lips and "250.00 frame/s" in lips and lips.rstrip().endswith("1,234 MB")
    assert "targets (not measured: tiny models):" in printed
    assert [line.split()[-1] for line in lines if "<=" in line or ">=" in line] == ["measured"] * 3
    assert "failed" not in printed

    assert sys.modules["gpu_cases.svd"].CALLS == [("cpu", "fp32", True)]  # --tiny forces the CPU
    report = json.loads(out.read_text())
    assert (report["device"], report["precision"], report["tiny"], report["gpu"]) == ("cpu", "fp32", True, None)
    assert report["families"] == ["svd", "musetalk"] and report["failures"] == []
    assert report["timings"][0] == {"family": "svd", "label": "svd-xt 25x64x64 tiny", "seconds": 0.5, "unit": "clip",
                                    "peak_memory_mb": None, "per_second": 2.0}
    assert report["timings"][2]["peak_memory_mb"] == 1234.4 and report["timings"][2]["per_second"] == pytest.approx(250)
    assert [(g["value"], g["status"]) for g in report["targets"]] == [(None, "not measured")] * 3


def test_a_failing_family_is_reported_and_the_rest_still_run(gpu, tmp_path, capsys):
    out = tmp_path / "gpu.json"
    assert gpu.main(["--tiny", "--families", "wav2lip,lora,animatediff,musetalk", "--json", str(out)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    failed = [line for line in lines if "FAILED" in line]
    assert failed == [
        "  wav2lip     FAILED: ModelWeightsError: model 'wav2lip' is not on this machine (put wav2lip_gan.pth in MODELS_DIR/wav2lip/)",
        "  lora        FAILED: ModuleNotFoundError: No module named 'a_module_nobody_installed'",
        "  animatediff FAILED: TypeError: gpu_cases.animatediff.run returned Timing(family='animatediff', label='no time at all', "
        "seconds=0.0, unit='clip', peak_memory_mb=None); expected Timings with seconds > 0",
    ]
    assert any("musetalk batch 8" in line for line in lines[lines.index(failed[-1]):])  # ran after the failures
    assert "3 families failed: wav2lip, lora, animatediff" in captured.out
    # Our own error carries its hint; only the unexpected ones get a traceback.
    assert captured.err.count("Traceback") == 2 and "a_module_nobody_installed" in captured.err
    report = json.loads(out.read_text())
    assert [f["family"] for f in report["failures"]] == ["wav2lip", "lora", "animatediff"]
    assert [t["family"] for t in report["timings"]] == ["musetalk"]


def test_targets_are_judged_only_when_measured_on_cuda(gpu):
    Timing = gpu.Timing
    timings = [
        Timing("svd", "svd-xt 25x576x1024 fp16", 19.0, "clip"),
        Timing("svd", "svd-xt 25x576x1024 fp16 compiled", 14.2, "clip"),
        Timing("svd", "svd 14x576x1024 fp16", 6.0, "clip"),  # not SVD-XT: never judged
        Timing("musetalk", "musetalk batch 1", 1 / 40, "frame"),
        Timing("musetalk", "musetalk batch 16", 1 / 80, "frame"),
        Timing("wav2lip", "wav2lip batch 64", 1 / 400, "frame"),
        Timing("wav2lip", "wav2lip load", 3.0, "model"),
    ]
    goals = gpu.judge(timings, measured=True)
    assert [(g.target, g.value, g.status, g.timing) for g in goals] == [
        ("SVD-XT clip <= 15 s", "14.20 s", "met", "svd-xt 25x576x1024 fp16 compiled"),
        ("musetalk lip sync >= 100 frames/s", "80.0 frames/s", "NOT MET", "musetalk batch 16"),
        ("wav2lip lip sync >= 100 frames/s", "400.0 frames/s", "met", "wav2lip batch 64"),
    ]
    assert gpu.judge(timings[3:], measured=True)[0].status == "not measured"  # no SVD-XT timing
    assert {g.status for g in gpu.judge(timings, measured=False)} == {"not measured"}


def test_an_unavailable_device_stops_before_any_case(gpu, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu.main(["--tiny", "--device", "cuda", "--families", "svd"]) == 2
    captured = capsys.readouterr()
    assert "error: ConfigError: device 'cuda' was asked for but torch sees no CUDA GPU" in captured.err
    assert "gpu_cases.svd" not in sys.modules


def test_unknown_family_is_a_usage_error():
    done = subprocess.run([sys.executable, str(_PATH), "--families", "svd,sora"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "unknown family sora; choose from svd, animatediff, lora, musetalk, wav2lip" in done.stderr
