"""The ``personacast`` command line."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import PersonacastError
from .models import Character, MusicSpec, RenderSpec, Script
from .settings import Settings

app = typer.Typer(
    help="Make lip-synced, captioned social-media videos from a portrait and a script.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

STAGE_LABELS = {"face": "Finding the face", "voice": "Synthesising the voice", "performance": "Planning the performance", "render": "Animating + encoding"}


class RichProgress:
    """Shows one line per pipeline stage, with a bar for counted work."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task = None

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        kind, _, detail = name.partition(" ")
        label = STAGE_LABELS.get(kind, kind) + (f" ({detail})" if detail else "")
        self._task = self._progress.add_task(label, total=total)
        try:
            yield
        finally:
            task = self._progress.tasks[-1]
            self._progress.update(self._task, total=task.total or 1, completed=task.total or 1)

    def advance(self, completed: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=completed)


def _quiet_native_logs() -> None:
    # MediaPipe/TFLite and absl print start-up chatter on stderr that says nothing to a user.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("piper").setLevel(logging.ERROR)


def _fail(error: PersonacastError) -> None:
    # Messages quote user input and hints name extras ("personacast[service]"): not markup.
    message, hint = escape(error.message), escape(error.hint or "")
    console.print(f"[bold red]error:[/] {message}" + (f" [dim]({hint})[/]" if hint else ""))
    raise typer.Exit(code=2)


def _run_render(
    character: Character, script: Script, spec: RenderSpec, out: Path, settings: Settings, formats: list[str] | None = None
) -> None:
    from .pipeline import RenderJob, render_formats

    columns = (SpinnerColumn(), TextColumn("{task.description:<26}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    started = time.perf_counter()
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            results = render_formats(RenderJob(character, script, spec, out), formats or [spec.format], settings, RichProgress(bar))
    except PersonacastError as error:
        _fail(error)
    elapsed = time.perf_counter() - started
    for warning in dict.fromkeys(w for result in results for w in result.warnings):
        console.print(f"[yellow]warning:[/] {warning}")
    table = Table(show_header=False, box=None)
    for result in results:
        o = result.output
        table.add_row("video", str(result.video_path))
        table.add_row("details", str(result.json_path))
        if result.cover_path is not None:
            table.add_row("cover", str(result.cover_path))
        if result.post_text_path is not None:
            table.add_row("post text", str(result.post_text_path))
        table.add_row("format", f"{result.format} {o.width}x{o.height} @ {o.fps:g} fps, {o.duration_s:.2f} s, {o.size_bytes / 1e6:.1f} MB")
        table.add_row("loudness", f"{o.loudness_lufs:.1f} LUFS, true peak {o.true_peak_dbtp:.1f} dBTP")
        if result.audio is not None and result.audio.music is not None:
            music = result.audio.music
            ducked = f", {music.duck_depth_db:.1f} dB lower under speech" if music.duck_depth_db is not None else ""
            table.add_row("music", music.source + ducked)
    speech_s = max(results[0].output.duration_s, 1e-6)
    table.add_row("time", f"{elapsed:.1f} s ({elapsed / speech_s:.2f}x real time)"
                  + (f", reused: {', '.join(results[0].cache_hits)}" if results[0].cache_hits else ""))
    console.print(table)


def _music_option(value: object) -> MusicSpec | Literal["none"]:
    """--music and --music-volume as the script's music, or a ConfigError naming the problem."""
    from .errors import ConfigError

    if value == "none":
        return "none"
    try:
        return MusicSpec.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"--music: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@app.command()
def render(
    out: Path = typer.Option(..., "--out", "-o", help="Output .mp4 path; OUT.json is written beside it."),
    image: Optional[Path] = typer.Option(None, "--image", "-i", help="Portrait image (JPEG/PNG) or a short video of the face (MP4/MOV/WebM)."),
    text: Optional[str] = typer.Option(None, "--text", "-t", help="What the character says."),
    character_dir: Optional[Path] = typer.Option(None, "--character", "-c", help="Character folder with character.yaml."),
    script_file: Optional[Path] = typer.Option(None, "--script", "-s", help="Script YAML (text: or scenes:)."),
    format: str = typer.Option(
        "tiktok", "--format", "-f",
        help="tiktok, reels, shorts, square, portrait or landscape; several separated by commas write OUT-FORMAT.mp4 each.",
    ),
    voice: Optional[str] = typer.Option(None, "--voice", help="Voice profile name (sofia, joe, sofia-espeak) or a profile .yaml."),
    audio: Optional[Path] = typer.Option(
        None, "--audio", "-a", help="A recording of the text (any audio format) to use instead of a synthetic voice."
    ),
    music: Optional[str] = typer.Option(
        None, "--music", "-m", help="Background music: calm, upbeat or lofi (generated), an audio file, or none."
    ),
    music_volume: Optional[float] = typer.Option(
        None, "--music-volume", help="Music level in dB relative to the speech, where nobody speaks (default -20)."
    ),
    quality: str = typer.Option("final", "--quality", "-q", help="final (smaller, slower) or preview (faster)."),
    fps: int = typer.Option(30, "--fps", help="Frames per second."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for blinks and head motion."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute every stage."),
    ai_label: str = typer.Option("AI-generated", "--ai-label", help="On-screen disclosure label text."),
    no_ai_label: bool = typer.Option(False, "--no-ai-label", help="No on-screen label (the file's metadata still says it is AI-made)."),
) -> None:
    """Render one video from a portrait + text, or a character folder + script."""
    from .errors import ConfigError, FormatError
    from .models import music_shorthand
    from .stages.compose.formats import get_preset
    from .stages.compose.music import chosen_music
    from .stages.voice.profiles import BUILTIN_PROFILES, resolve_profile

    _quiet_native_logs()
    settings = Settings()
    if no_cache:
        settings = settings.model_copy(update={"use_cache": False})
    try:
        formats = [name.strip() for name in format.split(",") if name.strip()]
        if not formats:
            raise FormatError("no format given", hint="e.g. --format tiktok or --format tiktok,square")
        for name in formats:
            get_preset(name)
        if quality not in ("final", "preview"):
            raise FormatError(f"unknown quality '{quality}'", hint="use final or preview")
        if character_dir is not None:
            character = Character.from_dir(character_dir)
        elif image is not None:
            character = Character(name=image.stem, images=[image], voice=BUILTIN_PROFILES["sofia"])
        else:
            raise ConfigError("nothing to animate", hint="give --image PORTRAIT or --character DIR")
        if voice:
            character = character.model_copy(update={"voice": resolve_profile(voice)})
        if script_file is not None and text is not None:
            raise ConfigError("give either --text or --script, not both")
        if script_file is not None:
            script = Script.from_file(script_file)
        elif text is not None:
            script = Script.from_text(text)
        else:
            raise ConfigError("nothing to say", hint='give --text "..." or --script SCRIPT.yaml')
        if audio is not None:
            if len(script.scenes) != 1:
                raise ConfigError("--audio needs a one-scene script", hint="give each scene its own audio: in the script file")
            if not audio.is_file():
                raise ConfigError(f"audio file not found: {audio}", hint="check the path")
            script = script.model_copy(update={"scenes": [script.scenes[0].model_copy(update={"audio": audio})]})
        if music is not None:
            script = script.model_copy(update={"music": _music_option(music_shorthand(music))})
        if music_volume is not None:
            chosen = chosen_music(character, script)
            if chosen is None:
                raise ConfigError("--music-volume needs music", hint="add --music calm, upbeat, lofi or an audio file")
            script = script.model_copy(update={"music": _music_option({**chosen.model_dump(), "volume_db": music_volume})})
        spec = RenderSpec(format=formats[0], fps=fps, quality=quality, seed=seed, ai_label="" if no_ai_label else ai_label)
    except PersonacastError as error:
        _fail(error)
    except ValueError as error:  # pydantic validation of CLI values
        _fail(ConfigError(str(error).splitlines()[0]))
    _run_render(character, script, spec, out, settings, formats)


@app.command()
def demo(
    out: Path = typer.Option(Path("out/demo.mp4"), "--out", "-o", help="Output .mp4 path."),
    format: str = typer.Option("tiktok", "--format", "-f", help="Format preset."),
    quality: str = typer.Option("final", "--quality", "-q", help="final or preview."),
) -> None:
    """Render the bundled sample character (no downloads, no keys)."""
    from .samples import DEMO_SCRIPT, example_character_dir, sample_image
    from .stages.voice.profiles import BUILTIN_PROFILES

    _quiet_native_logs()
    try:
        folder = example_character_dir()
        character = (
            Character.from_dir(folder)
            if folder
            else Character(name="Sofia", images=[sample_image("astronaut")], voice=BUILTIN_PROFILES["sofia"], seed=7)
        )
        spec = RenderSpec(format=format, quality=quality)
    except PersonacastError as error:
        _fail(error)
    _run_render(character, Script.from_text(DEMO_SCRIPT), spec, out, Settings())


@app.command()
def validate(
    file: Path = typer.Argument(..., help="The .mp4 to check."),
    format: str = typer.Option("tiktok", "--format", "-f", help="Platform preset to check against."),
) -> None:
    """Check a video against a platform's delivery spec; exits 1 if anything is off."""
    from .media.validate import validate as check
    from .stages.compose.formats import get_preset

    try:
        preset = get_preset(format)
    except PersonacastError as error:
        _fail(error)
    problems = check(file, preset)
    if problems:
        for problem in problems:
            console.print(f"[red]✗[/] {problem}")
        console.print(f"[bold red]{file} does not meet the {preset.name} spec ({len(problems)} problem(s))[/]")
        raise typer.Exit(code=1)
    console.print(f"[green]✓[/] {file} meets the {preset.name} delivery spec")


voices_app = typer.Typer(help="List and audition voice profiles.", no_args_is_help=True)
app.add_typer(voices_app, name="voices")


@voices_app.command("list")
def voices_list() -> None:
    """The built-in voice profiles, what each changes, and whether it can speak here."""
    from .stages.voice.profiles import BUILTIN_PROFILES, profile_problem

    _quiet_native_logs()
    settings = Settings()
    table = Table("profile", "engine", "base voice", "rate", "pitch", "formants", "sentence pause", "status")
    for name, profile in BUILTIN_PROFILES.items():
        pitch = f"{profile.pitch_median_hz:.0f} Hz" if profile.pitch_median_hz else "as recorded"
        error = profile_problem(profile, settings)
        status = "[green]ready[/]"
        if error is not None:
            status = f"[yellow]{escape(error.message)}[/]" + (f" [dim]({escape(error.hint)})[/]" if error.hint else "")
        table.add_row(name, profile.engine, profile.voice or "(engine default)", f"{profile.speaking_rate:g}x", pitch,
                      f"x{profile.formant_shift:g}", f"{profile.sentence_pause_s:g} s", status)
    Console().print(table)
    console.print("A character.yaml `voice:` block or a profile .yaml takes the same fields.")


@voices_app.command("preview")
def voices_preview(
    profile: str = typer.Argument(..., help="Profile name (see `voices list`) or a profile .yaml."),
    text: str = typer.Option("Hi, I'm your new voice. How do I sound?", "--text", "-t", help="What to say."),
    out: Path = typer.Option(Path("preview.wav"), "--out", "-o", help="Output .wav path."),
) -> None:
    """Speak a line with a profile into a WAV file, to audition it."""
    from .pipeline import check_text
    from .registry import load_backend
    from .stages.voice.narrate import narrate
    from .stages.voice.profiles import resolve_profile

    _quiet_native_logs()
    settings = Settings()
    try:
        voice = resolve_profile(profile)
        check_text(Script.from_text(text), settings)
        engine = load_backend("voice", voice.engine)(settings)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.stem}.partial.wav")
        try:
            track = narrate(engine, text, voice, partial)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    except PersonacastError as error:
        _fail(error)
    console.print(f"[green]✓[/] {out}: {track.duration_s:.2f} s, {len(track.timeline.words)} words, voice '{voice.name}'")


# The content commands (write, plan, batch) live in their own module and register
# themselves on ``app``; imported last because they use the helpers above.
from . import cli_content  # noqa: E402,F401
from . import cli_worker  # noqa: E402,F401  (the service's worker and reconcile)
from . import cli_service  # noqa: E402,F401  (serve, keys, db)
from . import cli_models  # noqa: E402,F401  (models list, verify, path)
from . import cli_images  # noqa: E402,F401  (images generate)

if __name__ == "__main__":
    app()
