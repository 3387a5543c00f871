"""AnimateDiff video-to-video over a still portrait: the v1.5 adapter (diffusers
folder) and AnimateLCM (original .ckpt + kohya LCM LoRA) on a tiny SD 1.5, all saved
in their published layouts and loaded through weights.require."""

from __future__ import annotations


import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, LCMScheduler, MotionAdapter, StableDiffusionPipeline
from gpu_cases.motion_models import (
    LCM_LORA_CONV,
    TINY_ANIMATEDIFF_OPTIONS,
    lcm_lora_factors,
    original_motion_module,
    save_animatediff,
    save_animatelcm,
    save_sd15,
)
from safetensors.torch import save_file

from personacast.errors import BackendError, ConfigError, ModelWeightsError
from personacast.stages.motion.animatediff import AnimateDiffMotion, load_original_motion_module


def test_clip_has_the_frames_size_and_rate(animatediff, portrait):
    clip = animatediff.generate(portrait, seed=1)
    assert clip.frames.shape == (4, 24, 16, 3)  # 2:3 portrait at short side 16
    assert clip.frames.dtype == np.uint8 and clip.fps == 8.0
    assert clip.frames.std() > 0
    square = np.ascontiguousarray(portrait[:60])
    assert animatediff.generate(square, seed=1).frames.shape == (4, 16, 16, 3)
    scheduler = animatediff.pipeline().scheduler
    assert isinstance(scheduler, DDIMScheduler) and scheduler.config.beta_schedule == "linear"


def test_same_seed_same_clip_across_loads(saved, cpu_device, animatediff, portrait):
    again = AnimateDiffMotion(saved("animatediff"), cpu_device, **TINY_ANIMATEDIFF_OPTIONS)
    first = animatediff.generate(portrait, seed=3).frames
    assert np.array_equal(first, again.generate(portrait, seed=3).frames)
    assert not np.array_equal(first, animatediff.generate(portrait, seed=4).frames)


def test_first_frame_replaces_the_portrait(animatediff, portrait):
    start = animatediff.generate(portrait, seed=1).frames[-1]
    continued = animatediff.generate(portrait, seed=2, first_frame=start).frames
    assert np.array_equal(continued, animatediff.generate(start, seed=2).frames)


@pytest.mark.parametrize(("strength", "denoising_steps"), [(0.5, 2), (1.0, 4), (0.25, 1)])
def test_strength_runs_the_end_of_the_schedule(saved, cpu_device, portrait, strength, denoising_steps):
    """At half strength the portrait is noised halfway and only the last half of the
    schedule runs: what keeps the clip the same picture."""
    options = {**TINY_ANIMATEDIFF_OPTIONS, "steps": 4, "frames": 2}
    backend = AnimateDiffMotion(saved("animatediff"), cpu_device, **options, strength=strength)
    backend.pipeline()
    timesteps = []
    hook = backend.pipeline().unet.register_forward_pre_hook(lambda module, args: timesteps.append(int(args[1])))
    try:
        backend.generate(portrait, seed=0)
    finally:
        hook.remove()
    assert len(timesteps) == denoising_steps
    assert timesteps == sorted(timesteps, reverse=True)
    assert (timesteps[0] < 600) == (strength < 1.0)


def _base_sd15(models):
    return StableDiffusionPipeline.from_pretrained(str(models / "sd15"), local_files_only=True, safety_checker=None,
                                                   feature_extractor=None)


def test_animatelcm_loads_its_original_checkpoint_and_lora(animatelcm, saved, portrait):
    clip = animatelcm.generate(portrait, seed=1)
    assert clip.frames.shape == (4, 24, 16, 3)
    pipe = animatelcm.pipeline()
    assert isinstance(pipe.scheduler, LCMScheduler) and pipe.scheduler.config.beta_schedule == "linear"
    # The LoRA is merged at 0.8: W = W_sd15 + 0.8 * up @ down, in the UNet (linear and
    # convolution layers) and in the text encoder (named text_model.* in the file, as
    # published); other layers are untouched.
    models = saved("animatelcm").resolved_models_dir
    base, factors = _base_sd15(models), lcm_lora_factors(models / "sd15")
    for component, name in [("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"),
                            ("unet", LCM_LORA_CONV), ("text_encoder", "encoder.layers.0.self_attn.q_proj")]:
        down, up = factors[component][name]
        change = (up.flatten(1) @ down.flatten(1)).reshape(getattr(base, component).get_submodule(name).weight.shape)
        expected = getattr(base, component).get_submodule(name).weight + 0.8 * change
        assert torch.allclose(getattr(pipe, component).get_submodule(name).weight, expected, atol=1e-5), name
    untouched = "down_blocks.0.resnets.0.conv2"
    assert torch.equal(pipe.unet.get_submodule(untouched).weight, base.unet.get_submodule(untouched).weight)


@pytest.mark.parametrize("mid_block", [True, False])
def test_original_motion_module_loads_strictly(tmp_path, mid_block):
    """AnimateDiff's .ckpt naming round-trips into a MotionAdapter equal to the source,
    its layout (channels, layers, mid block, table length) read off the weights."""
    torch.manual_seed(5)
    source = MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=2, motion_norm_num_groups=32,
                           motion_num_attention_heads=8, motion_max_seq_length=24, use_motion_mid_block=mid_block)
    path = tmp_path / "mm.ckpt"
    torch.save(original_motion_module(source), path)
    loaded = load_original_motion_module(path, torch.float32)
    for field in ("block_out_channels", "motion_layers_per_block", "use_motion_mid_block", "motion_max_seq_length"):
        assert loaded.config[field] == source.config[field]
    expected, got = source.state_dict(), loaded.state_dict()
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected)


def _small_module_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(5)
    return original_motion_module(MotionAdapter(block_out_channels=(32, 64), motion_layers_per_block=2))


def test_motion_module_with_missing_layers_is_refused(tmp_path):
    state = _small_module_state()
    del state[next(k for k in state if k.endswith("proj_out.weight"))]
    torch.save(state, tmp_path / "mm.ckpt")
    with pytest.raises(ModelWeightsError, match="does not fit .*missing keys: .*proj_out.weight"):
        load_original_motion_module(tmp_path / "mm.ckpt", torch.float32)


def test_truncated_motion_module_is_a_weights_error(tmp_path):
    path = tmp_path / "mm.ckpt"
    torch.save(_small_module_state(), path)
    path.write_bytes(path.read_bytes()[:1000])  # an interrupted download
    with pytest.raises(ModelWeightsError, match="not a readable motion module checkpoint") as error:
        load_original_motion_module(path, torch.float32)
    assert "download it again" in error.value.hint


@pytest.mark.parametrize("content", [[1, 2, 3], {"state_dict": {"layer": 3}}], ids=["list", "not-tensors"])
def test_motion_module_without_a_state_dict_is_a_weights_error(tmp_path, content):
    torch.save(content, tmp_path / "mm.ckpt")
    with pytest.raises(ModelWeightsError, match="holds no motion module state dict"):
        load_original_motion_module(tmp_path / "mm.ckpt", torch.float32)


def test_motion_module_with_a_wrong_shape_is_a_weights_error(tmp_path):
    state = _small_module_state()
    name = next(k for k in state if k.endswith("attention_blocks.0.to_q.weight"))
    state[name] = torch.zeros(3, 3)
    torch.save(state, tmp_path / "mm.ckpt")
    with pytest.raises(ModelWeightsError, match=r"wrong shapes: .*to_q.weight \(3, 3\)"):
        load_original_motion_module(tmp_path / "mm.ckpt", torch.float32)


def test_running_out_of_gpu_memory_says_which_setting_to_change(saved, cpu_device, portrait, monkeypatch):
    backend = AnimateDiffMotion(saved("animatediff"), cpu_device, **TINY_ANIMATEDIFF_OPTIONS)

    def out_of_memory(**_):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(backend, "pipeline", lambda: out_of_memory)
    with pytest.raises(BackendError, match="ran out of memory while making a motion clip") as error:
        backend.generate(portrait, seed=0)
    assert "PERSONACAST_GPU_MEMORY_MODE" in error.value.hint


def test_lcm_lora_for_another_model_is_refused(with_model, cpu_device, portrait):
    settings = with_model("animatelcm")
    models = settings.resolved_models_dir
    save_sd15(models)
    save_animatelcm(models)
    name = "lora_unet_input_blocks_1_1_proj_in"  # an SDXL (sgm) layer SD 1.5 does not have
    save_file({f"{name}.lora_down.weight": torch.zeros(4, 32), f"{name}.lora_up.weight": torch.zeros(32, 4)},
              str(models / "animatelcm" / "AnimateLCM_sd15_t2v_lora.safetensors"))
    with pytest.raises(ModelWeightsError, match="AnimateLCM_sd15_t2v_lora.safetensors") as error:
        AnimateDiffMotion(settings, cpu_device, **TINY_ANIMATEDIFF_OPTIONS).generate(portrait, seed=0)
    assert "wangfuyun/AnimateLCM" in error.value.hint


def test_missing_base_model_says_how_to_get_it(with_model, cpu_device, portrait):
    settings = with_model("animatediff")
    save_animatediff(settings.resolved_models_dir)
    backend = AnimateDiffMotion(settings, cpu_device, **TINY_ANIMATEDIFF_OPTIONS)
    with pytest.raises(ModelWeightsError, match="sd15") as error:
        backend.generate(portrait, seed=0)
    assert "stable-diffusion-v1-5" in error.value.hint


def test_missing_motion_adapter_is_a_weights_error(with_model, cpu_device, portrait):
    settings = with_model("animatelcm")
    save_sd15(settings.resolved_models_dir)
    with pytest.raises(ModelWeightsError, match="animatelcm"):
        AnimateDiffMotion(settings, cpu_device, **TINY_ANIMATEDIFF_OPTIONS).generate(portrait, seed=0)


def test_svd_checkpoints_are_refused(with_model, cpu_device):
    with pytest.raises(ConfigError, match="animatediff or animatelcm"):
        AnimateDiffMotion(with_model("svd-xt"), cpu_device)
    with pytest.raises(ConfigError):
        AnimateDiffMotion(with_model("animatediff"), cpu_device, strength=0.0)


def test_auto_picks_animatediff(with_model, cpu_device):
    assert AnimateDiffMotion(with_model("auto"), cpu_device).model_id == "animatediff"
