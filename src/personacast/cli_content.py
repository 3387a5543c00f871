"""``personacast write``, ``plan`` and ``batch``: scripts from topics, a content
calendar, and rendering a calendar. Registered on the main app by cli.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional, cast

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .cli import _fail, _quiet_native_logs, app, console
from .errors import ConfigError, FormatError, PersonacastError
from .models import Character, Quality
from .settings import Settings
from .stages.write.written import Usage

WRITERS = "template (offline), openai, anthropic or openai_compatible"
_COLUMNS = (SpinnerColumn(), TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


def _usage_line(usage: Usage, model: str | None = None) -> str:
    if not usage.requests:
        return "no model requests"
    cost = "cost unknown (no price for this model)" if usage.cost_usd is None else f"about ${usage.cost_usd:.4f}"
    return (f"{usage.requests} request(s)" + (f" to {model}" if model else "")
            + f", {usage.input_tokens} input + {usage.output_tokens} output tokens, {cost}")


def _writer(name: str, model: Optional[str], settings: Settings):
    from .registry import load_backend

    return load_backend("writer", name)(settings, model)


def _format_for(character: Character, format: Optional[str]) -> str:
    from .stages.compose.formats import get_preset

    return get_preset(format or character.formats[0]).name


@app.command()
def write(
    character_dir: Path = typer.Option(..., "--character", "-c", help="Character folder with character.yaml (its persona: is used)."),
    topic: str = typer.Option(..., "--topic", help="What the video is about, e.g. \"cold brew at home\"."),
    out: Path = typer.Option(..., "--out", "-o", help="Script YAML to write (for render --script)."),
    writer: str = typer.Option("template", "--writer", "-w", help=f"Script writer: {WRITERS}."),
    seconds: float = typer.Option(30.0, "--seconds", min=3, help="Target duration of the spoken script."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Platform preset (its limit caps the length); default: the character's first."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for the template writer; default: the character's."),
    model: Optional[str] = typer.Option(None, "--model", help="Model for a language-model writer (default from settings)."),
) -> None:
    """Write one script about a topic in the character's persona."""
    from .stages.write.script_file import write_script_file
    from .stages.write.written import WritingBrief

    settings = Settings()
    try:
        character = Character.from_dir(character_dir)
        brief = WritingBrief.for_character(character, topic, seconds, _format_for(character, format), seed)
        result = _writer(writer, model, settings).write(brief)
        write_script_file(result, topic, out)
    except PersonacastError as error:
        _fail(error)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    table = Table(show_header=False, box=None)
    table.add_row("script", str(out))
    table.add_row("title", result.written.title)
    table.add_row("length", f"{len(result.written.text.split())} words, about {result.estimated_s:.0f} s spoken")
    table.add_row("writer", result.writer + (f" ({result.model})" if result.model else ""))
    table.add_row("usage", _usage_line(result.usage))
    console.print(table)
    console.print(f"Render it with: personacast render --character {character_dir} --script {out} --out VIDEO.mp4")


@app.command()
def plan(
    character_dir: Path = typer.Option(..., "--character", "-c", help="Character folder with character.yaml."),
    out: Path = typer.Option(..., "--out", "-o", help="Plan JSON to write."),
    topics_file: Optional[Path] = typer.Option(None, "--topics", help="Topics, one a line; default: the persona's topics."),
    days: int = typer.Option(7, "--days", min=1, max=366, help="Days to plan."),
    per_day: int = typer.Option(3, "--per-day", min=1, max=12, help="Posts a day (never two on one topic)."),
    start: Optional[str] = typer.Option(None, "--start", help="First day, YYYY-MM-DD; default: tomorrow."),
    writer: str = typer.Option("template", "--writer", "-w", help=f"Script writer: {WRITERS}."),
    seconds: float = typer.Option(30.0, "--seconds", min=3, help="Target duration of each post."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="Platform preset of every post; default: the character's first."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed for topic order and the template writer; default: the character's."),
    model: Optional[str] = typer.Option(None, "--model", help="Model for a language-model writer."),
) -> None:
    """Write a content calendar: posts spread over days and posting times."""
    from .planning.calendar import plan_posts, read_topics, save_plan, unique_topics

    settings = Settings()
    try:
        try:
            first_day = dt.date.fromisoformat(start) if start else dt.date.today() + dt.timedelta(days=1)
        except ValueError:
            raise ConfigError(f"--start '{start}' is not a date", hint="write it as YYYY-MM-DD") from None
        character = Character.from_dir(character_dir)
        topics = read_topics(topics_file) if topics_file is not None else unique_topics(character.persona.topics)
        chosen = _writer(writer, model, settings)
        with Progress(*_COLUMNS, console=console) as bar:
            task = bar.add_task("writing", total=days * per_day)

            started = 0

            def on_post(post_id: str, topic: str) -> None:
                nonlocal started
                bar.update(task, completed=started, description=f"writing {post_id}: {topic}"[:40])
                started += 1

            outcome = plan_posts(
                character, chosen, topics, first_day, days, per_day, seconds, _format_for(character, format),
                character.seed if seed is None else seed, character_ref=str(character_dir.resolve()), on_post=on_post,
            )
            bar.update(task, completed=days * per_day, description="written")
        save_plan(outcome.posts, out)
    except PersonacastError as error:
        _fail(error)
    table = Table("id", "time", "topic", "title", "length")
    for post in outcome.posts:
        table.add_row(post.id, post.time, post.topic, post.title, f"~{post.estimated_seconds:.0f} s")
    console.print(table)
    noted = sum(bool(post.warnings) for post in outcome.posts)
    if noted:
        console.print(f"[yellow]warning:[/] {noted} post(s) have notes (length) under \"warnings\" in {out}")
    for failure in outcome.failures:
        console.print(f"[red]✗[/] {failure.id} ({failure.topic}): {failure.error}")
    console.print(f"{len(outcome.posts)} post(s) planned in {out}; {_usage_line(outcome.usage, getattr(chosen, 'model', None))}")
    if outcome.failures:
        raise typer.Exit(code=1)


@app.command()
def batch(
    plan_file: Path = typer.Argument(..., help="A plan JSON written by `personacast plan` (or by hand)."),
    out_dir: Path = typer.Option(..., "--out-dir", "-o", help="Folder for ID.mp4 and the files beside each."),
    character_dir: Optional[Path] = typer.Option(None, "--character", "-c", help="Render every post with this character instead of the plan's."),
    voice: Optional[str] = typer.Option(None, "--voice", help="Voice profile for every post (name or .yaml)."),
    quality: str = typer.Option("final", "--quality", "-q", help="final or preview."),
    fps: int = typer.Option(30, "--fps", help="Frames per second."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute every stage."),
) -> None:
    """Render every post of a plan; posts already rendered are skipped, failures don't stop the rest."""
    from .planning.batch import REPORT_NAME, LocalRenderer, run_batch
    from .planning.calendar import load_plan
    from .stages.voice.profiles import resolve_profile

    _quiet_native_logs()
    settings = Settings()
    if no_cache:
        settings = settings.model_copy(update={"use_cache": False})
    try:
        if quality not in ("final", "preview"):
            raise FormatError(f"unknown quality '{quality}'", hint="use final or preview")
        posts = load_plan(plan_file)
        renderer = LocalRenderer(
            settings, plan_dir=plan_file.resolve().parent, quality=cast(Quality, quality), fps=fps,
            voice=resolve_profile(voice) if voice else None, character_dir=character_dir,
        )
    except PersonacastError as error:
        _fail(error)
    with Progress(*_COLUMNS, console=console) as bar:
        task = bar.add_task("rendering", total=len(posts))
        items = run_batch(
            posts, out_dir, renderer,
            on_start=lambda post: bar.update(task, description=f"{post.id}: {post.topic}"[:40]),
            on_done=lambda item: bar.advance(task),
        )
        bar.update(task, description="done")
    table = Table("id", "when", "topic", "status", "video", "took")
    colours = {"rendered": "green", "skipped": "cyan", "failed": "red"}
    for item in items:
        length = f"{item.duration_s:.1f} s" if item.duration_s is not None else "-"
        table.add_row(item.id, f"{item.date} {item.time}", item.topic, f"[{colours[item.status]}]{item.status}[/]", length, f"{item.seconds:.1f} s")
    console.print(table)
    failed = [item for item in items if item.status == "failed"]
    for item in failed:
        console.print(f"[red]✗[/] {item.id}: {item.error}")
    counts = {status: sum(item.status == status for item in items) for status in colours}
    console.print(f"{counts['rendered']} rendered, {counts['skipped']} skipped, {counts['failed']} failed; report: {out_dir / REPORT_NAME}")
    if failed:
        raise typer.Exit(code=1)
