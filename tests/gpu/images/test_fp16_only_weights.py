"""A model downloaded as the missing-weights hint says (the fp16 files only) must still
load on a CPU, in full precision."""

import torch
from diffusers import StableDiffusionPipeline

from personacast.diffusion import load_pretrained


def test_fp16_only_folder_loads_in_fp32_on_the_cpu(tiny_sd, tmp_path, cpu_device):
    root = tmp_path / "sd15"
    tiny_sd.save_pipeline(root, tiny_sd.TINY_SD15, dtype=torch.float16)
    for weights in root.glob("*/*.safetensors"):
        weights.rename(weights.with_name(weights.name.replace(".safetensors", ".fp16.safetensors")))
    pipe = load_pretrained(StableDiffusionPipeline, root, cpu_device)
    assert pipe.unet.dtype == torch.float32 and pipe.text_encoder.dtype == torch.float32
    image = pipe("a portrait", num_inference_steps=1, height=32, width=32, output_type="np",
                 generator=torch.Generator().manual_seed(0)).images[0]
    assert image.shape == (32, 32, 3) and float(image.std()) > 0
