"""execute(): runs one render job, wherever jobs run (embedded threads, Celery workers).

    claim -> fetch inputs from storage into a temp folder -> build the RenderJob ->
    render_formats (progress recorded, lease kept by a heartbeat thread) ->
    publish under renders/<id>/ -> record usage -> succeed -> webhook

Outcomes:

- succeeded, or failed for good on a permanent ``PersonacastError`` (bad input: the
  error's one line and hint are the job's error): the finished record is returned and
  the webhook is sent;
- canceled while running (the heartbeat saw the request): the job is marked canceled
  and returned;
- transient failure (``TransientBackendError``, or an unexpected exception, which may
  be a full disk or a killed subprocess): the job goes back to the queue and
  ``RetryableJobError`` is raised, so the caller can re-send it after a delay; at
  ``max_attempts`` claims (default: ``settings.job_max_attempts``) the job fails
  instead;
- None: the job was not claimable (already taken, canceled, unknown id) or the lease
  was lost midway (the reconciler gave it to another worker), so nothing is recorded.

The temp folder is removed in every case.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from ..errors import PersonacastError
from ..settings import Settings
from . import metrics, webhooks
from .jobspec import (
    CharacterProfile,
    RenderJobRequest,
    build_character,
    build_script,
    build_spec,
    check_script,
    parse_job_request,
)
from .records import JobStatus, LeaseState, RenderRecord
from .storage import Storage
from .store import JobStore
from .usage import usage_from_results

log = logging.getLogger(__name__)

_PROGRESS_INTERVAL_S = 0.5  # at most two progress writes per second per job


class RetryableJobError(Exception):
    """The job failed in a way that may pass on another try; it is queued again."""

    def __init__(self, render_id: UUID, attempts: int, message: str) -> None:
        super().__init__(f"render {render_id}: attempt {attempts} failed: {message}")
        self.render_id = render_id
        self.attempts = attempts
        self.message = message


class _Stop(Exception):
    """Raised inside the pipeline (at its next progress call) to abandon the job."""

    def __init__(self, state: LeaseState) -> None:
        super().__init__(state.value)
        self.state = state


def execute(
    store: JobStore, storage: Storage, settings: Settings, render_id: UUID, worker_id: str,
    *, max_attempts: int | None = None,
) -> RenderRecord | None:
    """Claim render ``render_id`` as ``worker_id`` and run it (see the module docstring
    for the outcomes). Thread-safe: each call has its own temp folder, heartbeat and
    progress."""
    record = store.claim(render_id, worker_id)
    if record is None:
        return None
    return run_claimed(store, storage, settings, record, worker_id, max_attempts=max_attempts)


def run_claimed(
    store: JobStore, storage: Storage, settings: Settings, record: RenderRecord, worker_id: str,
    *, max_attempts: int | None = None,
) -> RenderRecord | None:
    """``execute`` for a job already claimed by ``worker_id`` (``JobStore.claim_next``)."""
    render_id = record.id
    max_attempts = max_attempts if max_attempts is not None else settings.job_max_attempts
    lease = _Lease(store, render_id, worker_id, interval_s=max(store.lease_s / 4, 0.05))
    started = time.perf_counter()
    try:
        with lease.kept(), tempfile.TemporaryDirectory(prefix=f"personacast-{render_id}-") as folder:
            artefacts, results = _run(store, storage, settings, record, lease, Path(folder))
            lease.raise_if_stopped()
            usage = usage_from_results(results)
            store.record_usage(render_id, usage)
            metrics.count_usage(usage)
            finished = store.succeed(render_id, worker_id, artefacts)
    except _Stop as stop:
        return _stopped(store, storage, record, worker_id, stop.state)
    except PersonacastError as error:
        if error.permanent:
            return _finish_failed(store, settings, record, worker_id, _one_line(error), type(error).__name__)
        return _retry_or_fail(store, settings, record, worker_id, _one_line(error), type(error).__name__, max_attempts)
    except Exception as error:  # noqa: BLE001 - a bug or an environment failure: retry, then give up
        if type(error).__name__ == "SoftTimeLimitExceeded":  # Celery's, matched by name: no celery import here
            # The next attempt would run out of time the same way: fail once, saying why.
            message = f"the render took longer than {settings.render_soft_time_limit_s:g} s and was stopped"
            return _finish_failed(store, settings, record, worker_id, message, "TimeLimit")
        log.exception("render %s: unexpected error in attempt %d", render_id, record.attempts)
        message = f"internal error ({type(error).__name__})"
        return _retry_or_fail(store, settings, record, worker_id, message, type(error).__name__, max_attempts)
    finally:
        metrics.JOB_SECONDS.observe(time.perf_counter() - started)
    if not finished:
        return None
    return _finished(store, settings, record)


def _run(
    store: JobStore, storage: Storage, settings: Settings, record: RenderRecord, lease: _Lease, folder: Path
) -> tuple[dict[str, str], list]:
    from ..pipeline import RenderJob, render_formats

    request = parse_job_request(record.request)
    inputs, out = folder / "inputs", folder / "out"
    inputs.mkdir()
    out.mkdir()
    character, formats = _character(store, storage, record, request, inputs)
    recording = None
    if request.audio_key is not None:
        recording = inputs / f"recording{Path(request.audio_key).suffix}"
        storage.get_file(request.audio_key, recording)
    check_script(request.script, settings.max_script_chars, len(character.images))
    script = build_script(request.script, list(character.images), recording)
    job = RenderJob(character, script, build_spec(request, formats), out / "video.mp4")
    results = render_formats(job, formats, settings, _StoreProgress(store, record.id, lease))
    lease.raise_if_stopped()
    return storage.publish_render(out, f"renders/{record.id}"), results


def _character(store: JobStore, storage: Storage, record: RenderRecord, request: RenderJobRequest, inputs: Path):
    """The character with its portraits downloaded into ``inputs``, and the formats."""
    if request.character_id is not None:
        stored = store.get_character(record.tenant_id, request.character_id)
        profile = CharacterProfile.model_validate(stored.profile)
        keys, name = stored.image_keys, stored.name
    else:
        assert request.image_key is not None
        profile, keys, name = CharacterProfile(), [request.image_key], "portrait"
    portraits = []
    for index, key in enumerate(keys):
        path = inputs / f"portrait-{index}{Path(key).suffix}"
        storage.get_file(key, path)
        portraits.append(path)
    character = build_character(name, profile, portraits, request.voice)
    return character, request.formats or profile.formats


def _stopped(
    store: JobStore, storage: Storage, record: RenderRecord, worker_id: str, state: LeaseState
) -> RenderRecord | None:
    if state is LeaseState.CANCEL_REQUESTED and store.mark_canceled(record.id, worker_id):
        log.info("render %s canceled while running", record.id)
        # Only the lease holder gets here, so no other worker is publishing to this prefix.
        storage.delete_prefix(f"renders/{record.id}")
        return store.get_render(record.tenant_id, record.id)
    log.warning("render %s: lease lost; another worker owns it now", record.id)
    return None


def _finish_failed(
    store: JobStore, settings: Settings, record: RenderRecord, worker_id: str, message: str, reason: str
) -> RenderRecord | None:
    metrics.FAILURES.labels(reason=reason).inc()
    if not store.fail(record.id, worker_id, message):
        return None
    log.info("render %s failed: %s", record.id, message)
    return _finished(store, settings, record)


def _retry_or_fail(
    store: JobStore, settings: Settings, record: RenderRecord, worker_id: str, message: str, reason: str, max_attempts: int
) -> RenderRecord | None:
    if record.attempts >= max_attempts:
        return _finish_failed(store, settings, record, worker_id, f"{message} (gave up after {record.attempts} attempts)", reason)
    metrics.RETRIES.labels(reason=reason).inc()
    if not store.release(record.id, worker_id, message):
        return None
    raise RetryableJobError(record.id, record.attempts, message)


def _finished(store: JobStore, settings: Settings, record: RenderRecord) -> RenderRecord:
    final = store.get_render(record.tenant_id, record.id)
    if final.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        try:
            webhooks.notify(settings, final, store.get_tenant(record.tenant_id).webhook_url)
        except Exception:  # noqa: BLE001 - the job is finished; a webhook problem must not undo that
            log.exception("render %s: webhook not sent", record.id)
    return final


def _one_line(error: PersonacastError) -> str:
    text = error.message if not error.hint else f"{error.message} ({error.hint})"
    return " ".join(text.split())


class _Lease:
    """Heartbeats from a thread while the job runs, so slow steps without progress
    (a paid voice API, a long encode) keep the lease; remembers a cancel or loss."""

    def __init__(self, store: JobStore, render_id: UUID, worker_id: str, interval_s: float) -> None:
        self._store, self._render_id, self.worker_id, self._interval_s = store, render_id, worker_id, interval_s
        self._done = threading.Event()
        self.state = LeaseState.HELD

    def note(self, state: LeaseState) -> None:
        if state is not LeaseState.HELD:
            self.state = state

    def raise_if_stopped(self) -> None:
        if self.state is not LeaseState.HELD:
            raise _Stop(self.state)

    @contextlib.contextmanager
    def kept(self) -> Iterator[None]:
        thread = threading.Thread(target=self._beat, name=f"heartbeat-{self._render_id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._done.set()
            thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self._interval_s):
            try:
                self.note(self._store.heartbeat(self._render_id, self.worker_id))
            except Exception:  # noqa: BLE001 - a database blip must not kill the job; the next beat retries
                log.warning("render %s: heartbeat failed", self._render_id, exc_info=True)
            if self.state is not LeaseState.HELD:
                return


@dataclass
class _StoreProgress:
    """The pipeline's Progress, written to the store (throttled) and stopping the
    pipeline at its next call once the job is canceled or its lease lost."""

    store: JobStore
    render_id: UUID
    lease: _Lease
    _stage: str | None = None
    _total: int | None = None
    _last_write: float = 0.0

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[None]:
        self._stage, self._total = name, total
        self._write(0.0, force=True)
        stage_started = time.perf_counter()
        yield
        metrics.STAGE_SECONDS.labels(stage=name.split(" ", 1)[0]).observe(time.perf_counter() - stage_started)
        self._write(1.0, force=True)

    def advance(self, completed: int) -> None:
        if self._total:
            self._write(min(completed / self._total, 1.0))
        self.lease.raise_if_stopped()

    def _write(self, fraction: float, force: bool = False) -> None:
        now = time.monotonic()
        if self._stage is None or (not force and now - self._last_write < _PROGRESS_INTERVAL_S):
            return
        self._last_write = now
        self.lease.note(self.store.record_progress(self.render_id, self.lease.worker_id, self._stage, fraction))
        self.lease.raise_if_stopped()

