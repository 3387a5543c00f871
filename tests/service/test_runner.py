"""runner.execute on both databases, with a stand-in for the pipeline: success, cancel
mid-render, a lost lease, transient and permanent errors, and clean-up."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from personacast.errors import FaceError, TransientBackendError
from personacast.models import RenderResult
from personacast.service import runner
from personacast.service.records import JobStatus
from personacast.service.storage.local import LocalStorage
from personacast.settings import Settings

REQUEST = {"image_key": "uploads/face.png", "script": {"text": "Hello there."}, "formats": ["square"]}


@pytest.fixture
def storage(tmp_path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "storage")
    source = tmp_path / "face.png"
    source.write_bytes(b"portrait")
    storage.put_file(source, "uploads/face.png")
    return storage


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", job_max_attempts=2)


@pytest.fixture
def tenant(store):
    return store.create_tenant("acme")


class FakePipeline:
    """render_formats' stand-in: reports progress over ``steps`` frames, writes the
    artefacts, and can fail or wait for a signal midway."""

    def __init__(self, steps: int = 4, error: Exception | None = None) -> None:
        self.steps, self.error = steps, error
        self.midway = threading.Event()  # set when half the frames are done
        self.resume = threading.Event()
        self.resume.set()
        self.folders: list[Path] = []
        self.jobs: list = []

    def __call__(self, job, formats, settings, progress) -> list[RenderResult]:
        self.jobs.append(job)
        self.folders.append(job.out_path.parent.parent)
        with progress.stage("voice", total=10):
            progress.advance(10)
        with progress.stage("render", total=self.steps):
            for frame in range(1, self.steps + 1):
                if frame == self.steps // 2 + 1:
                    self.midway.set()
                    self.resume.wait(10)
                    if self.error is not None:
                        raise self.error
                progress.advance(frame)
                time.sleep(0.01)
        for suffix in (".mp4", ".json", ".srt"):
            job.out_path.with_suffix(suffix).write_bytes(b"data")
        return [RenderResult.model_construct(stage_seconds={"voice": 0.5, "render": 1.5}, billed_characters=12,
                                             voice_engine="elevenlabs")]


@pytest.fixture
def pipeline(monkeypatch) -> FakePipeline:
    fake = FakePipeline()
    monkeypatch.setattr("personacast.pipeline.render_formats", fake)
    return fake


def test_success_publishes_records_usage_and_cleans_up(store, storage, settings, tenant, pipeline):
    render = store.create_render(tenant.id, REQUEST).record
    done = runner.execute(store, storage, settings, render.id, "w1")
    assert done is not None and done.status is JobStatus.SUCCEEDED and done.error is None
    assert done.artefacts == {name: f"renders/{render.id}/{name}" for name in ("video.json", "video.srt", "video.mp4")}
    assert all(storage.exists(key) for key in done.artefacts.values())
    assert done.progress == {"voice": 1.0, "render": 1.0}
    usage = {(item.kind, item.name): item for item in store.render_usage(tenant.id, render.id)}
    assert usage["compute", "render"].quantity == 1.5 and usage["provider", "tts_characters"].quantity == 12
    assert usage["provider", "tts_characters"].provider == "elevenlabs"
    job = pipeline.jobs[0]
    assert job.spec.format == "square" and job.character.voice.name == "sofia" and job.script.text == "Hello there."
    assert not pipeline.folders[0].exists()  # the temp folder is gone
    assert runner.execute(store, storage, settings, render.id, "w2") is None  # not queued any more


def test_cancel_while_running_stops_at_the_next_progress(store, storage, settings, tenant, pipeline):
    pipeline.resume.clear()
    render = store.create_render(tenant.id, REQUEST).record
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(runner.execute(store, storage, settings, render.id, "w1")))
    worker.start()
    assert pipeline.midway.wait(10)
    assert store.request_cancel(tenant.id, render.id).status is JobStatus.RUNNING
    time.sleep(0.6)  # past the progress throttle, so the next advance asks the store
    pipeline.resume.set()
    worker.join(10)
    assert outcome[0] is not None and outcome[0].status is JobStatus.CANCELED
    assert store.get_render(tenant.id, render.id).artefacts == {}
    assert not (storage.root / "renders" / str(render.id)).exists()
    assert not pipeline.folders[0].exists()


def test_a_lost_lease_records_nothing(store, storage, settings, tenant, pipeline, clock):
    pipeline.resume.clear()
    render = store.create_render(tenant.id, REQUEST).record
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(runner.execute(store, storage, settings, render.id, "w1")))
    worker.start()
    assert pipeline.midway.wait(10)
    clock.advance(store.lease_s + 1)
    assert store.recover_expired(render.id, max_attempts=3).status is JobStatus.QUEUED  # the reconciler takes it back
    time.sleep(0.6)
    pipeline.resume.set()
    worker.join(10)
    assert outcome == [None]
    after = store.get_render(tenant.id, render.id)
    assert after.status is JobStatus.QUEUED and after.artefacts == {} and after.worker_id is None


def test_transient_errors_are_retried_then_fail(store, storage, settings, tenant, pipeline):
    pipeline.error = TransientBackendError("the voice API timed out")
    render = store.create_render(tenant.id, REQUEST).record
    with pytest.raises(runner.RetryableJobError) as retry:
        runner.execute(store, storage, settings, render.id, "w1")
    assert retry.value.attempts == 1 and retry.value.render_id == render.id
    queued = store.get_render(tenant.id, render.id)
    assert queued.status is JobStatus.QUEUED and queued.error == "the voice API timed out"
    final = runner.execute(store, storage, settings, render.id, "w2")  # attempt 2 of job_max_attempts=2
    assert final.status is JobStatus.FAILED and final.error == "the voice API timed out (gave up after 2 attempts)"
    assert all(not folder.exists() for folder in pipeline.folders)


def test_permanent_and_unexpected_errors(store, storage, settings, tenant, pipeline):
    pipeline.error = FaceError("no face found in portrait-0.png", hint="use a front-facing portrait")
    render = store.create_render(tenant.id, REQUEST).record
    failed = runner.execute(store, storage, settings, render.id, "w1")
    assert failed.status is JobStatus.FAILED and failed.error == "no face found in portrait-0.png (use a front-facing portrait)"

    pipeline.error = RuntimeError("/secret/path exploded")
    render = store.create_render(tenant.id, {**REQUEST, "seed": 1}).record
    with pytest.raises(runner.RetryableJobError):
        runner.execute(store, storage, settings, render.id, "w1")
    assert store.get_render(tenant.id, render.id).error == "internal error (RuntimeError)"  # no internals leak


def test_a_render_past_its_time_limit_fails_once(store, storage, settings, tenant, pipeline):
    class SoftTimeLimitExceeded(Exception):  # what Celery raises inside a task past its soft limit
        pass

    pipeline.error = SoftTimeLimitExceeded()
    render = store.create_render(tenant.id, REQUEST).record
    failed = runner.execute(store, storage, settings, render.id, "w1")
    assert failed.status is JobStatus.FAILED and failed.attempts == 1
    assert failed.error == f"the render took longer than {settings.render_soft_time_limit_s:g} s and was stopped"


def test_missing_inputs_fail_the_job(store, storage, settings, tenant, pipeline):
    render = store.create_render(tenant.id, {**REQUEST, "image_key": "uploads/gone.png"}).record
    failed = runner.execute(store, storage, settings, render.id, "w1")
    assert failed.status is JobStatus.FAILED and "no stored file" in failed.error
    broken = store.create_render(tenant.id, {"script": {"text": "x"}}).record  # neither character nor image
    failed = runner.execute(store, storage, settings, broken.id, "w1")
    assert failed.status is JobStatus.FAILED and failed.error.startswith("the stored render request is invalid")
    assert pipeline.jobs == []
