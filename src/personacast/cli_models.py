"""``personacast models list|verify|path``: the GPU backends' model weights on this
machine. Registered on the main app by cli.py.

Only reads files (weights/ never downloads) and never imports torch, so it works
before the gpu extra is installed: the way to check a machine before a first run.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Column, Table

from .cli import _fail, app, console
from .errors import ModelWeightsError, PersonacastError
from .settings import Settings
from .weights import CATALOG, ModelLocation, locate, model_spec, require, verify
from .weights.store import CHECKSUMS_FILE, FileCheck

models_app = typer.Typer(help="The GPU backends' model weights: what is here, checksums, folders.", no_args_is_help=True)
app.add_typer(models_app, name="models")

_STATUS_STYLE = {"found": "green", "partial": "yellow", "missing": "red"}
_CHECK_STYLE = {"pinned-ok": "green", "recorded-ok": "green", "recorded-now": "cyan", "mismatch": "bold red"}


def _status(location: ModelLocation) -> str:
    if location.complete:
        return "found"
    return "partial" if location.root is not None else "missing"


def _problem(text: str, hint: str | None = None) -> None:
    """One listed problem of a check (exit 1), as ``validate`` shows them; ``_fail`` is
    for errors that stop a command before it checks anything (exit 2)."""
    console.print(f"[red]✗[/] {escape(text)}" + (f" [dim]({escape(hint)})[/]" if hint else ""))


@models_app.command("list")
def models_list() -> None:
    """Every model the GPU backends can use: licence, and whether its files are here."""
    settings = Settings()
    # Paths fold onto more lines in a narrow terminal rather than lose their ends.
    table = Table("id", "title", "licence", "commercial use", "status", Column("found in", overflow="fold"),
                  Column("expected folder", overflow="fold"))
    for model_id in CATALOG:
        location = locate(model_id, settings)
        status = _status(location)
        where = "-" if location.root is None else f"{location.root} ({location.where.replace('_', ' ')})"
        if status == "partial":
            where += f", {len(location.missing)} file(s) missing"
        spec = location.spec
        table.add_row(spec.id, spec.title, spec.licence, spec.commercial_use, f"[{_STATUS_STYLE[status]}]{status}[/]",
                      escape(where), escape(str(settings.resolved_models_dir / spec.id)))
    Console().print(table)
    console.print(f"Looked in {settings.resolved_models_dir}/<id>/ and then the Hugging Face cache "
                  f"{settings.resolved_hf_cache_dir}; nothing is downloaded. `personacast models path ID` says how to get one.")


def _chosen(ids: list[str], settings: Settings) -> tuple[list[ModelLocation], list[str]]:
    """The named models (each must be complete), or with no names every model with
    files here (a partial one is a problem); and the ids of those with problems."""
    if ids:
        wanted = [model_spec(model_id).id for model_id in ids]
    else:
        wanted = [model_id for model_id in CATALOG if locate(model_id, settings).root is not None]
    ready, problems = [], []
    for model_id in dict.fromkeys(wanted):
        try:
            ready.append(require(model_id, settings))
        except ModelWeightsError as error:
            _problem(error.message, error.hint)
            problems.append(model_id)
    return ready, problems


def _mismatch(model_id: str, check: FileCheck, ledger: Path) -> None:
    origin = "the published checksum" if check.pinned else f"the checksum recorded in {ledger}"
    hint = "download the file again" + ("" if check.pinned else "; if you replaced it on purpose, delete its entry in the ledger and verify again")
    _problem(f"{model_id}: {check.name} has sha256 {check.sha256}, not {check.expected} ({origin})", hint)


@models_app.command("verify")
def models_verify(
    ids: Optional[list[str]] = typer.Argument(None, help="Model ids (see `models list`); default: every model with files here."),
) -> None:
    """SHA-256 of every file: pinned checksums must match; others are recorded in
    MODELS_DIR/checksums.json the first time and must match after. Exit 1 on a mismatch
    or a missing model."""
    settings = Settings()
    try:
        ready, problems = _chosen(ids or [], settings)
        if not ready and not problems:
            raise ModelWeightsError(
                f"no model weights in {settings.resolved_models_dir} or {settings.resolved_hf_cache_dir}",
                hint="see `personacast models list` for the models and where their files go",
            )
        total = sum(path.stat().st_size for location in ready for path in location.found.values())
        checks: list[tuple[str, FileCheck]] = []
        columns = (TextColumn("{task.description:<24}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("checksums", total=total)
            for location in ready:
                bar.update(task, description=location.spec.id)
                found = verify(location, settings, on_bytes=partial(bar.advance, task))
                checks += [(location.spec.id, check) for check in found]
    except PersonacastError as error:
        _fail(error)
    table = Table("model", "file", "status", "sha256")
    for model_id, check in checks:
        table.add_row(model_id, escape(check.name), f"[{_CHECK_STYLE[check.status]}]{check.status}[/]", check.sha256[:16])
    if checks:
        Console().print(table)
    ledger = settings.resolved_models_dir / CHECKSUMS_FILE
    for model_id, check in checks:
        if check.status == "mismatch":
            _mismatch(model_id, check, ledger)
            problems.append(model_id)
    recorded = sum(check.status == "recorded-now" for _, check in checks)
    console.print(f"{len(checks)} file(s) in {len(ready)} model(s) checked, {recorded} checksum(s) recorded in {ledger}"
                  + (f"; problems with: {', '.join(dict.fromkeys(problems))}" if problems else ""))
    if problems:
        raise typer.Exit(code=1)


@models_app.command("path")
def models_path(model_id: str = typer.Argument(..., help="Model id (see `models list`).")) -> None:
    """Print the folder holding a model's files (for scripts); exit 1 if it is not all here."""
    settings = Settings()
    try:
        location = require(model_id, settings)
    except ModelWeightsError as error:
        _problem(error.message, error.hint)
        raise typer.Exit(code=1) from None
    except PersonacastError as error:
        _fail(error)
    typer.echo(str(location.root))
