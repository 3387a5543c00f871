"""``personacast images generate``: new pictures of a character from its appearance
(GPU extra: Stable Diffusion 1.5 / SDXL, the character's LoRA, optional IP-Adapter).
cli.py adds this Typer app as the ``images`` group; torch is imported only inside
the command."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .cli import _fail, _quiet_native_logs, app, console
from .errors import MissingDependencyError, PersonacastError
from .models import Character
from .settings import Settings

images_app = typer.Typer(help="New pictures of a character (GPU: Stable Diffusion with its LoRA).", no_args_is_help=True)
app.add_typer(images_app, name="images")
_COLUMNS = (SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _quiet_model_logs() -> None:
    # The rich bar shows progress and errors come back as exceptions with a hint;
    # diffusers' and transformers' own bars, load reports (adapter weights listed as
    # "missing" base weights) and error logs would only repeat or confuse.
    import diffusers
    import transformers

    diffusers.utils.logging.set_verbosity(logging.CRITICAL)
    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


@images_app.command()
def generate(
    character_dir: Path = typer.Option(..., "--character", "-c", help="Character folder with character.yaml (its appearance: is used)."),
    n: int = typer.Option(8, "--n", "-n", min=1, max=1000, help="How many pictures."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the PNGs and manifest.json."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed of the first picture (the others: +1, +2, ...); default: the character's."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, max=150, help="Denoising steps; default: the appearance's."),
    width: Optional[int] = typer.Option(None, "--width", help="Width in px, a multiple of 8; default 512 (SD 1.5) or 832 (SDXL)."),
    height: Optional[int] = typer.Option(None, "--height", help="Height in px, a multiple of 8; default 768 (SD 1.5) or 1216 (SDXL)."),
    check_faces: bool = typer.Option(True, "--check-faces/--no-check-faces", help="Flag pictures without a usable face in the manifest."),
) -> None:
    """Generate pictures of the character: one prompt per pose x outfit x scenario of its
    appearance, each with its own seed, so the same command makes the same pictures."""
    _quiet_native_logs()
    settings = Settings()
    try:
        character = Character.from_dir(character_dir)
        from .devices import choose_device

        device = choose_device(settings)
        try:
            _quiet_model_logs()
            from .stages.images.outputs import save_batch
            from .stages.images.stable_diffusion import StableDiffusionImages, image_size
        except ModuleNotFoundError as exc:
            raise MissingDependencyError("stable_diffusion", "gpu", exc.name or "diffusers") from exc
        appearance = character.appearance
        width, height = image_size(appearance.base_model, width, height)  # refused before minutes of loading
        backend = StableDiffusionImages(settings, device)
        per_image = steps or appearance.steps
        with Progress(*_COLUMNS, console=console) as bar:
            loading = bar.add_task(f"loading {appearance.base_model} on {device.name}", total=None)
            backend.load(appearance)
            bar.update(loading, total=1, completed=1, description=f"loaded {appearance.base_model}")
            task = bar.add_task(f"image 1/{n}", total=n * per_image)

            def on_step(index: int, step: int, total: int) -> None:
                bar.update(task, completed=index * per_image + step, description=f"image {index + 1}/{n}")

            batch = backend.generate(character, n, seed=seed, steps=steps, width=width, height=height, on_step=on_step)
            bar.update(task, completed=n * per_image, description="generated")
            saved = save_batch(batch, out, check_faces=check_faces, min_face_width_px=settings.min_face_width_px)
    except PersonacastError as error:
        _fail(error)
    for warning in batch.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    table = Table("file", "seed", "face", "prompt")
    for item, result in zip(saved.images, batch.images):
        face = {None: "-", True: "[green]yes[/]", False: "[red]no[/]"}[item.face_found]
        table.add_row(item.path.name, str(item.seed), face, escape(result.prompt.prompt))
    console.print(table)
    faceless = [item.path.name for item in saved.images if item.face_found is False]
    if faceless:
        console.print(f"[yellow]warning:[/] no usable face in {len(faceless)} picture(s); they are flagged in the manifest")
    run = batch.run
    lora = f", LoRA {Path(run.lora).name} at {run.lora_scale:g}" if run.lora else ""
    console.print(f"{len(saved.images)} picture(s) {run.width}x{run.height} from {run.model}{lora} on "
                  f"{run.device}; manifest: {saved.manifest}")
