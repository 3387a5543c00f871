"""Merging a LoRA into a pipeline's weights (W += scale * alpha/rank * up @ down).

diffusers' own ``load_lora_weights`` needs the peft package and keeps the LoRA as
extra layers on every call; a LoRA used at one fixed strength for a whole render
(AnimateLCM's LCM LoRA) costs nothing at run time once merged. Reads the kohya layout
(``lora_unet_<path with _>.lora_down.weight``, how the AnimateLCM LoRA and most SD 1.5
LoRAs are published) and the diffusers layouts (``unet.<path>.lora_A.weight``, or
``.lora.down.weight`` / ``.lora_linear_layer.down.weight`` from its training scripts). A key that names no layer is an error, never skipped: a LoRA
half applied looks like a working one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import torch
from safetensors.torch import load_file

from ...errors import ModelWeightsError

_KOHYA = re.compile(r"^lora_(unet|te)_(.+?)\.(lora_down\.weight|lora_up\.weight|alpha)$")
_DOTTED = re.compile(r"^(?:base_model\.model\.)?(unet|text_encoder)\.(.+?)\.(lora_A\.weight|lora_B\.weight|"
                     r"lora\.down\.weight|lora\.up\.weight|lora_linear_layer\.down\.weight|"
                     r"lora_linear_layer\.up\.weight|alpha)$")
_PART = {"lora_down.weight": "down", "lora_A.weight": "down", "lora.down.weight": "down",
         "lora_linear_layer.down.weight": "down", "lora_up.weight": "up", "lora_B.weight": "up",
         "lora.up.weight": "up", "lora_linear_layer.up.weight": "up", "alpha": "alpha"}
_COMPONENT = {"unet": "unet", "te": "text_encoder", "text_encoder": "text_encoder"}


def _grouped(state: dict[str, torch.Tensor]) -> dict[tuple[str, str, bool], dict[str, torch.Tensor]]:
    """(component, layer name, name is kohya-flattened) -> {"down", "up", "alpha"}."""
    layers: dict[tuple[str, str, bool], dict[str, torch.Tensor]] = defaultdict(dict)
    unknown = []
    for key, tensor in state.items():
        kohya, dotted = _KOHYA.match(key), _DOTTED.match(key)
        match = kohya or dotted
        if match is None:
            unknown.append(key)
            continue
        component, layer, part = match.groups()
        layers[(_COMPONENT[component], layer, kohya is not None)][_PART[part]] = tensor
    if unknown:
        raise ModelWeightsError(f"LoRA has {len(unknown)} keys in no known layout, e.g. {unknown[0]}",
                                hint="use a kohya or diffusers LoRA for Stable Diffusion 1.5")
    return layers


def _delta(down: torch.Tensor, up: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    down, up = down.float(), up.float()
    if weight.ndim == 4:  # convolution: a k x k down-projection followed by a 1x1 up
        return (up.flatten(1) @ down.flatten(1)).reshape(weight.shape)
    return up @ down


def fuse_lora(components: dict[str, torch.nn.Module], path: Path, scale: float) -> int:
    """Merge the LoRA at ``path`` into ``components`` ({"unet": ..., "text_encoder": ...});
    returns how many layers changed."""
    try:
        state = load_file(str(path))
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelWeightsError(f"cannot read the LoRA {path}: {exc}", hint="it must be a .safetensors file") from exc
    flat = {name: {n.replace(".", "_"): m for n, m in module.named_modules()} for name, module in components.items()}
    missing = []
    fused = 0
    for (component, layer, kohya), parts in _grouped(state).items():
        target = _find(components.get(component), flat.get(component, {}), layer, kohya)
        if target is None:
            missing.append(f"{component}.{layer}")
            continue
        if "down" not in parts or "up" not in parts:
            raise ModelWeightsError(f"LoRA layer {component}.{layer} lacks its up or down weight")
        rank = parts["down"].shape[0]
        alpha = float(parts["alpha"]) if "alpha" in parts else float(rank)
        weight = target.weight
        delta = _delta(parts["down"], parts["up"], weight)
        if delta.shape != weight.shape:
            raise ModelWeightsError(
                f"LoRA layer {component}.{layer} is {tuple(delta.shape)}, the model's {tuple(weight.shape)}",
                hint="the LoRA was trained for another base model")
        with torch.no_grad():
            weight.copy_((weight.float() + scale * alpha / rank * delta.to(weight.device)).to(weight.dtype))
        fused += 1
    if missing:
        raise ModelWeightsError(
            f"LoRA {path.name} names {len(missing)} layers the model does not have, e.g. {missing[0]}",
            hint="the LoRA was trained for another base model")
    return fused


def _find(module: torch.nn.Module | None, flat: dict[str, torch.nn.Module], layer: str, kohya: bool):
    """The layer with a weight that ``layer`` names, or None. Published LoRAs name the
    text encoder's layers under ``text_model``, a level transformers 5 no longer has."""
    if module is None:
        return None
    for name in (layer, layer.removeprefix("text_model_" if kohya else "text_model.")):
        if kohya:
            target = flat.get(name)
        else:
            try:
                target = module.get_submodule(name)
            except AttributeError:
                target = None
        if isinstance(getattr(target, "weight", None), torch.Tensor):
            return target
    return None
