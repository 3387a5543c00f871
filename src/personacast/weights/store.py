"""Finding a model's files on this machine and checking them.

A model is looked for in ``MODELS_DIR/<id>/`` first (copied or downloaded there by the
user), then in the Hugging Face cache snapshot of its repository (filled by
``hf download`` or an earlier diffusers run). Nothing is fetched.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelWeightsError
from .catalog import ModelSpec, WeightFile, model_spec

if TYPE_CHECKING:
    from ..settings import Settings

CHECKSUMS_FILE = "checksums.json"


@dataclass
class ModelLocation:
    spec: ModelSpec
    root: Path | None  # folder holding the files; None when not found anywhere
    where: str  # "models_dir", "hf_cache" or "missing"
    found: dict[str, Path] = field(default_factory=dict)  # first name of each file -> path
    missing: list[WeightFile] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.root is not None and not self.missing

    def path(self, name: str) -> Path:
        """The file published as ``name`` (or one of its alternatives)."""
        for weight in self.spec.files:
            if name in weight.names and weight.names[0] in self.found:
                return self.found[weight.names[0]]
        raise ModelWeightsError(f"model '{self.spec.id}' has no file '{name}' here")


def _hf_snapshot(cache_dir: Path, repo: str) -> Path | None:
    folder = cache_dir / ("models--" + repo.replace("/", "--"))
    ref = folder / "refs" / "main"
    if ref.is_file():
        snapshot = folder / "snapshots" / ref.read_text().strip()
        if snapshot.is_dir():
            return snapshot
    snapshots = sorted((folder / "snapshots").glob("*"), key=lambda p: p.stat().st_mtime, reverse=True)
    return snapshots[0] if snapshots else None


def _match(root: Path, spec: ModelSpec) -> tuple[dict[str, Path], list[WeightFile]]:
    found: dict[str, Path] = {}
    missing: list[WeightFile] = []
    for weight in spec.files:
        hit = next((root / name for name in weight.names if (root / name).is_file()), None)
        if hit is None:
            missing.append(weight)
        else:
            found[weight.names[0]] = hit
    return found, missing


def locate(model_id: str, settings: Settings) -> ModelLocation:
    """Where ``model_id`` is, preferring a complete copy; never raises for absence."""
    spec = model_spec(model_id)
    candidates: list[tuple[str, Path]] = [("models_dir", settings.resolved_models_dir / spec.id)]
    if spec.repo:
        snapshot = _hf_snapshot(settings.resolved_hf_cache_dir, spec.repo)
        if snapshot is not None:
            candidates.append(("hf_cache", snapshot))
    partial: ModelLocation | None = None
    for where, root in candidates:
        if not root.is_dir():
            continue
        found, missing = _match(root, spec)
        location = ModelLocation(spec, root, where, found, missing)
        if not missing:
            return location
        partial = partial or location
    return partial or ModelLocation(spec, None, "missing", {}, list(spec.files))


def how_to_get(spec: ModelSpec, settings: Settings) -> str:
    target = settings.resolved_models_dir / spec.id
    if spec.repo:
        # `hf` is huggingface_hub's CLI since 0.34; current releases no longer ship `huggingface-cli`.
        sign_in = f"accept the licence at https://huggingface.co/{spec.repo}, sign in with `hf auth login`, then " if spec.gated else ""
        # Only the files a backend reads: whole repositories carry older checkpoints
        # and other frameworks' copies (MuseTalk's holds 3.4 GB of v1 weights).
        include = " ".join(f'"{weight.names[0]}"' for weight in spec.files)
        how = (f"on a machine with internet access, {sign_in}download it: "
               f"hf download {spec.repo} --include {include} --local-dir {target}")
    else:
        how = f"get it from {spec.source_url} and put the files in {target}" + (f": {spec.notes}" if spec.notes else "")
    return f"{how} (licence: {spec.licence}; commercial use: {spec.commercial_use})"


def require(model_id: str, settings: Settings) -> ModelLocation:
    """The model's location, or ModelWeightsError saying which files are missing and
    how to get them."""
    location = locate(model_id, settings)
    if location.complete:
        return location
    spec = location.spec
    if location.root is None:
        raise ModelWeightsError(f"model '{spec.id}' ({spec.title}) is not on this machine", hint=how_to_get(spec, settings))
    names = ", ".join(" or ".join(w.names) for w in location.missing)
    raise ModelWeightsError(f"model '{spec.id}' in {location.root} is missing {names}", hint=how_to_get(spec, settings))


def sha256_of(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """The file's SHA-256; ``on_bytes`` is told each block's size (for a progress bar)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            if on_bytes is not None:
                on_bytes(len(block))
    return digest.hexdigest()


def _read_ledger(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    try:
        ledger = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelWeightsError(
            f"the checksum ledger {path} is not valid JSON ({exc})",
            hint="repair it, or delete it and run personacast models verify to record the checksums again",
        ) from None
    if not isinstance(ledger, dict):
        raise ModelWeightsError(f"the checksum ledger {path} is not a JSON object", hint="delete it and verify again")
    malformed = [model_id for model_id, files in ledger.items() if not _is_file_checksums(files)]
    if malformed:
        raise ModelWeightsError(
            f"the checksum ledger {path} has entries that are not file -> sha256 maps: {', '.join(malformed)}",
            hint="delete those entries (or the file) and run personacast models verify to record the checksums again",
        )
    return ledger


def _is_file_checksums(files: object) -> bool:
    return isinstance(files, dict) and all(isinstance(digest, str) for digest in files.values())


def _write_ledger(path: Path, ledger: dict[str, dict[str, str]]) -> None:
    """Write to a temporary file of this process's own in the same folder, then rename:
    readers never see half a ledger, and two verifies at once never share a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(json.dumps(ledger, indent=2, sort_keys=True))
        # tempfile makes it owner-only; the ledger is read by everyone who shares the models.
        os.chmod(handle.name, 0o644)
        os.replace(handle.name, path)
    finally:
        Path(handle.name).unlink(missing_ok=True)


@dataclass
class FileCheck:
    name: str
    path: Path
    sha256: str
    status: str  # "pinned-ok", "recorded-ok", "recorded-now", "mismatch"
    pinned: bool  # expected is the catalogue's published checksum, not one recorded here
    expected: str | None = None


def verify(
    model: ModelLocation | str, settings: Settings, record: bool = True, on_bytes: Callable[[int], None] | None = None
) -> list[FileCheck]:
    """Checksum every file of a model: its location from ``require``, or its id (located
    here). Files with a pinned checksum must match it; others must match what the first
    verify recorded in MODELS_DIR/checksums.json (recorded then, when ``record``).
    Raises ModelWeightsError if the model is missing. ``on_bytes`` is told the size of
    each block read."""
    location = model if isinstance(model, ModelLocation) else require(model, settings)
    if not location.complete:
        raise ModelWeightsError(f"model '{location.spec.id}' is not all on this machine",
                                hint="personacast models list shows what is missing")
    ledger_path = settings.resolved_models_dir / CHECKSUMS_FILE
    ledger = _read_ledger(ledger_path)
    recorded = ledger.setdefault(location.spec.id, {})
    checks: list[FileCheck] = []
    for weight in location.spec.files:
        path = location.found[weight.names[0]]
        # Forward slashes: the ledger stays the same whichever system wrote it.
        name = path.relative_to(location.root).as_posix()
        digest = sha256_of(path, on_bytes)
        expected = weight.sha256 or recorded.get(name)
        if weight.sha256:
            status = "pinned-ok" if digest == weight.sha256 else "mismatch"
        elif expected is None:
            status = "recorded-now"
            recorded[name] = digest
        else:
            status = "recorded-ok" if digest == expected else "mismatch"
        checks.append(FileCheck(name, path, digest, status, weight.sha256 is not None, expected))
    if record and any(c.status == "recorded-now" for c in checks):
        _write_ledger(ledger_path, ledger)
    return checks
