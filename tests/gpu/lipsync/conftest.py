import sys
from pathlib import Path

# The model builders are shared with benchmarks/gpu_cases (one copy of the configs).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
