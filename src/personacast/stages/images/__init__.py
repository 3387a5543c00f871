"""Character images (GPU): Stable Diffusion 1.5 / SDXL with the character's LoRA and
optional IP-Adapter identity reference, prompts from character.yaml's ``appearance``."""
