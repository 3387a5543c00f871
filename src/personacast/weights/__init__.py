"""Model weights for the GPU backends: what each model is, where its files are
expected, its licence and checksums. Nothing here downloads anything."""

from .catalog import CATALOG, ModelSpec, WeightFile, model_spec
from .store import ModelLocation, locate, require, verify

__all__ = ["CATALOG", "ModelLocation", "ModelSpec", "WeightFile", "locate", "model_spec", "require", "verify"]
