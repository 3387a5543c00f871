"""JobStore on SQLite and PostgreSQL (the ``store`` fixture runs every test on both)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter
from datetime import date, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from personacast.errors import ConflictError, InputError, NotFoundError
from personacast.models import RenderResult
from personacast.service.records import JobStatus, LeaseState, StaleJobs, UsageItem
from personacast.service.store import JobStore
from personacast.service.usage import usage_from_results

REQUEST = {"character_id": "c1", "script": {"text": "Hello!"}, "formats": ["tiktok"]}


@pytest.fixture
def tenant(store):
    return store.create_tenant("acme")


@pytest.fixture
def other(store):
    return store.create_tenant("globex")


def queued(store, tenant, count=1, **request):
    return [store.create_render(tenant.id, {**REQUEST, "n": index, **request}).record for index in range(count)]


# -- tenants and keys -------------------------------------------------------------------


def test_tenant_names_are_unique(store, tenant):
    assert store.get_tenant(tenant.id) == tenant
    assert tenant.created_at.tzinfo is not None and tenant.created_at.utcoffset() == timedelta(0)
    with pytest.raises(ConflictError):
        store.create_tenant("acme")
    with pytest.raises(NotFoundError):
        store.get_tenant(uuid.uuid4())


def test_api_key_is_stored_hashed_and_resolves_to_its_tenant(store, tenant, other):
    new = store.create_api_key(tenant.id, "ci")
    assert new.plaintext.startswith(f"pc_{new.record.prefix}_") and new.plaintext not in repr(new)
    with store.engine.connect() as connection:
        rows = [tuple(str(value) for value in row) for row in connection.execute(text("SELECT * FROM api_keys"))]
    assert rows and not any(new.plaintext in value for row in rows for value in row)
    assert any(hashlib.sha256(new.plaintext.encode()).hexdigest() in row for row in rows)

    assert store.resolve_api_key(new.plaintext) == tenant
    assert store.resolve_api_key(store.create_api_key(other.id).plaintext) == other
    wrong_secret = new.plaintext[:-4] + ("AAAA" if not new.plaintext.endswith("AAAA") else "BBBB")
    for bad in (wrong_secret, "", "pc_", "pc_zzzzzzzzzzzz_x", f"pc_{uuid.uuid4().hex[:12]}_secret", "Bearer x"):
        assert store.resolve_api_key(bad) is None
    assert [key.name for key in store.list_api_keys(tenant.id)] == ["ci"]

    with pytest.raises(NotFoundError):
        store.revoke_api_key(other.id, new.record.id)  # not the other tenant's key
    assert store.revoke_api_key(tenant.id, new.record.id).revoked_at is not None
    assert store.resolve_api_key(new.plaintext) is None


def test_keys_and_characters_need_an_existing_tenant(store):
    with pytest.raises(NotFoundError):
        store.create_api_key(uuid.uuid4())
    with pytest.raises(NotFoundError):
        store.create_character(uuid.uuid4(), "sofia", [], {})


# -- characters ---------------------------------------------------------------------------


def test_characters_per_tenant(store, tenant, other, clock):
    created = []
    for index in range(5):
        created.append(store.create_character(tenant.id, f"char{index}", [f"img/{index}.jpg"], {"seed": index}))
        clock.advance(1)
    store.create_character(other.id, "char0", [], {})  # names are unique per tenant only
    with pytest.raises(ConflictError):
        store.create_character(tenant.id, "char0", [], {})

    first = store.list_characters(tenant.id, limit=3)
    second = store.list_characters(tenant.id, limit=3, cursor=first.next_cursor)
    assert [c.name for c in first.items + second.items] == ["char4", "char3", "char2", "char1", "char0"]
    assert second.next_cursor is None
    assert store.get_character(tenant.id, created[1].id).profile == {"seed": 1}
    assert store.get_character(tenant.id, created[1].id).image_keys == ["img/1.jpg"]

    with pytest.raises(NotFoundError):
        store.get_character(other.id, created[0].id)
    with pytest.raises(NotFoundError):
        store.delete_character(other.id, created[0].id)
    assert store.delete_character(tenant.id, created[0].id).image_keys == ["img/0.jpg"]
    with pytest.raises(NotFoundError):
        store.get_character(tenant.id, created[0].id)


def test_update_character(store, tenant, other, clock):
    sofia = store.create_character(tenant.id, "Sofia", ["img/0.jpg"], {"voice": "sofia"})
    store.create_character(tenant.id, "Joe", ["img/1.jpg"], {})
    clock.advance(5)

    renamed = store.update_character(tenant.id, sofia.id, name="Sofia B")
    assert (renamed.name, renamed.profile, renamed.image_keys) == ("Sofia B", {"voice": "sofia"}, ["img/0.jpg"])
    assert renamed.created_at == sofia.created_at
    changed = store.update_character(tenant.id, sofia.id, profile={"voice": "joe", "formats": ["square"]})
    assert changed.name == "Sofia B" and changed.profile == {"voice": "joe", "formats": ["square"]}
    assert store.get_character(tenant.id, sofia.id) == changed

    with pytest.raises(ConflictError, match="'Joe' already exists"):
        store.update_character(tenant.id, sofia.id, name="Joe")
    assert store.get_character(tenant.id, sofia.id).name == "Sofia B"  # nothing half-done
    with pytest.raises(NotFoundError):
        store.update_character(other.id, sofia.id, name="mine now")
    with pytest.raises(InputError):
        store.update_character(tenant.id, sofia.id, profile={"seed": float("nan")})


# -- renders: creation, idempotency, scoping -------------------------------------------


def test_create_render_queues_it(store, tenant, clock):
    created = store.create_render(tenant.id, REQUEST)
    record = created.record
    assert created.created and record.status is JobStatus.QUEUED and record.request == REQUEST
    assert (record.attempts, record.progress, record.artefacts, record.worker_id) == (0, {}, {}, None)
    assert record.created_at == record.enqueued_at == clock.now
    assert store.get_render(tenant.id, record.id) == record
    with pytest.raises(InputError):
        store.create_render(tenant.id, {"not json": object()})


def test_idempotency_key_returns_the_same_job_or_conflicts(store, tenant, other):
    first = store.create_render(tenant.id, REQUEST, idempotency_key="k1")
    # the same request, its keys in another order: the same job
    again = store.create_render(tenant.id, dict(reversed(list(REQUEST.items()))), idempotency_key="k1")
    assert first.created and not again.created and again.record.id == first.record.id
    with pytest.raises(ConflictError, match="k1"):
        store.create_render(tenant.id, {**REQUEST, "formats": ["square"]}, idempotency_key="k1")
    elsewhere = store.create_render(other.id, REQUEST, idempotency_key="k1")  # keys are per tenant
    assert elsewhere.created and elsewhere.record.id != first.record.id
    without_key = [store.create_render(tenant.id, REQUEST).record.id for _ in range(2)]
    assert len(set(without_key)) == 2


def test_concurrent_creates_with_one_key_make_one_job(store, tenant):
    stores = [JobStore(store.engine) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    results = []

    def create(job_store: JobStore) -> None:
        barrier.wait()
        results.append(job_store.create_render(tenant.id, REQUEST, idempotency_key="race"))

    threads = [threading.Thread(target=create, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.record.id for r in results}) == 1
    assert sum(r.created for r in results) == 1


def test_another_tenants_render_is_not_found(store, tenant, other):
    (render,) = queued(store, tenant)
    store.record_usage(render.id, [UsageItem("compute", "voice", 1.0, "s")])
    with pytest.raises(NotFoundError):
        store.get_render(other.id, render.id)
    with pytest.raises(NotFoundError):
        store.request_cancel(other.id, render.id)
    with pytest.raises(NotFoundError):
        store.render_usage(other.id, render.id)
    assert store.list_renders(other.id).items == []
    assert store.get_render(tenant.id, render.id).status is JobStatus.QUEUED  # untouched
    with pytest.raises(NotFoundError):
        store.get_render(tenant.id, uuid.uuid4())


def test_list_filters_and_pages(store, tenant, other, clock):
    start = clock.now
    renders = []
    for _ in range(7):
        renders += queued(store, tenant)
        clock.advance(60)
    queued(store, other)
    store.claim(renders[0].id, "w")
    store.succeed(renders[0].id, "w", {})
    store.claim(renders[1].id, "w")

    seen, cursor = [], None
    while True:
        page = store.list_renders(tenant.id, limit=3, cursor=cursor)
        seen += [r.id for r in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == [r.id for r in reversed(renders)]

    assert [r.id for r in store.list_renders(tenant.id, status=JobStatus.SUCCEEDED).items] == [renders[0].id]
    both = store.list_renders(tenant.id, status=[JobStatus.SUCCEEDED, JobStatus.RUNNING]).items
    assert {r.id for r in both} == {renders[0].id, renders[1].id}
    window = store.list_renders(tenant.id, created_from=start + timedelta(minutes=2), created_before=start + timedelta(minutes=4))
    assert [r.id for r in window.items] == [renders[3].id, renders[2].id]
    with pytest.raises(InputError):
        store.list_renders(tenant.id, cursor="not-a-cursor")
    with pytest.raises(InputError):
        store.list_renders(tenant.id, limit=0)


def test_batches(store, tenant, other):
    batch, renders = store.create_batch(tenant.id, [{**REQUEST, "n": n} for n in range(3)])
    queued(store, tenant)  # not in the batch
    assert batch.item_count == 3 and all(r.batch_id == batch.id for r in renders)
    assert {r.id for r in store.list_renders(tenant.id, batch_id=batch.id).items} == {r.id for r in renders}
    store.claim(renders[0].id, "w")
    store.succeed(renders[0].id, "w", {})
    store.request_cancel(tenant.id, renders[1].id)
    counts = store.get_batch(tenant.id, batch.id).status_counts
    assert counts == {
        JobStatus.QUEUED: 1, JobStatus.RUNNING: 0, JobStatus.SUCCEEDED: 1, JobStatus.FAILED: 0, JobStatus.CANCELED: 1,
    }
    with pytest.raises(NotFoundError):
        store.get_batch(other.id, batch.id)
    with pytest.raises(InputError):
        store.create_batch(tenant.id, [])


def test_list_batches_newest_first_with_their_counts(store, tenant, other, clock):
    batches = []
    for size in (1, 2, 3):
        batches.append(store.create_batch(tenant.id, [{**REQUEST, "n": n} for n in range(size)]))
        clock.advance(1)
    store.create_batch(other.id, [REQUEST])
    (_, renders) = batches[1]
    store.request_cancel(tenant.id, renders[0].id)

    first = store.list_batches(tenant.id, limit=2)
    second = store.list_batches(tenant.id, limit=2, cursor=first.next_cursor)
    assert [b.item_count for b in first.items + second.items] == [3, 2, 1] and second.next_cursor is None
    middle = first.items[1]
    assert middle.id == batches[1][0].id
    assert (middle.status_counts[JobStatus.QUEUED], middle.status_counts[JobStatus.CANCELED]) == (1, 1)
    assert first.items[0].status_counts == {**{status: 0 for status in JobStatus}, JobStatus.QUEUED: 3}
    assert [b.item_count for b in store.list_batches(other.id).items] == [1]
    with pytest.raises(InputError):
        store.list_batches(tenant.id, cursor="garbage")


def test_delete_render_only_when_finished_and_its_usage_stays(store, tenant, other, clock):
    done, running, waiting = queued(store, tenant, 3)
    store.claim(done.id, "w")
    store.record_usage(done.id, [UsageItem("compute", "render", 4.0, "s")])
    store.succeed(done.id, "w", {"video.mp4": f"renders/{done.id}/video.mp4"})
    store.claim(running.id, "w")

    for busy in (running, waiting):
        with pytest.raises(ConflictError, match="cancel it first"):
            store.delete_render(tenant.id, busy.id)
    with pytest.raises(NotFoundError):
        store.delete_render(other.id, done.id)

    deleted = store.delete_render(tenant.id, done.id)
    assert deleted.artefacts == {"video.mp4": f"renders/{done.id}/video.mp4"}
    with pytest.raises(NotFoundError):
        store.get_render(tenant.id, done.id)
    with pytest.raises(NotFoundError):
        store.delete_render(tenant.id, done.id)
    (row,) = store.usage_summary(tenant.id, clock.now.date(), clock.now.date())
    assert (row.name, row.quantity, row.jobs) == ("render", 4.0, 1)  # what was spent stays spent

    store.request_cancel(tenant.id, waiting.id)
    store.delete_render(tenant.id, waiting.id)  # canceled is finished too
    assert [r.id for r in store.list_renders(tenant.id).items] == [running.id]


# -- the worker's side ------------------------------------------------------------------


def test_claim_heartbeat_progress_and_success(store, tenant, clock):
    (render,) = queued(store, tenant)
    claimed = store.claim(render.id, "worker-1")
    assert claimed is not None and claimed.status is JobStatus.RUNNING
    assert (claimed.worker_id, claimed.attempts, claimed.started_at) == ("worker-1", 1, clock.now)
    assert claimed.lease_expires_at == clock.now + timedelta(seconds=60)
    assert store.claim(render.id, "worker-2") is None
    assert store.heartbeat(render.id, "worker-2") is LeaseState.LOST

    clock.advance(30)
    assert store.heartbeat(render.id, "worker-1") is LeaseState.HELD
    assert store.record_progress(render.id, "worker-1", "voice", 1.0) is LeaseState.HELD
    assert store.record_progress(render.id, "worker-1", "render", 0.25) is LeaseState.HELD
    running = store.get_render(tenant.id, render.id)
    assert running.progress == {"voice": 1.0, "render": 0.25}
    assert running.lease_expires_at == clock.now + timedelta(seconds=60)

    assert not store.succeed(render.id, "worker-2", {"out.mp4": "k"})
    assert store.succeed(render.id, "worker-1", {"out.json": "t/r/out.json", "out.mp4": "t/r/out.mp4"})
    done = store.get_render(tenant.id, render.id)
    assert done.status is JobStatus.SUCCEEDED and done.finished_at == clock.now
    assert done.artefacts == {"out.json": "t/r/out.json", "out.mp4": "t/r/out.mp4"}
    assert (done.worker_id, done.lease_expires_at) == (None, None)
    assert store.heartbeat(render.id, "worker-1") is LeaseState.LOST
    assert not store.fail(render.id, "worker-1", "late")


def test_fail_and_release(store, tenant):
    first, second = queued(store, tenant, 2)
    store.claim(first.id, "w")
    assert store.fail(first.id, "w", "the portrait has no face")
    failed = store.get_render(tenant.id, first.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, "the portrait has no face")

    store.claim(second.id, "w")
    assert store.release(second.id, "w", "TTS timed out")
    again = store.get_render(tenant.id, second.id)
    assert (again.status, again.error, again.worker_id) == (JobStatus.QUEUED, "TTS timed out", None)
    assert store.claim(second.id, "w2").attempts == 2


def test_cancel(store, tenant):
    waiting, running, finished = queued(store, tenant, 3)
    canceled = store.request_cancel(tenant.id, waiting.id)
    assert canceled.status is JobStatus.CANCELED and canceled.finished_at is not None
    assert store.claim(waiting.id, "w") is None
    assert store.request_cancel(tenant.id, waiting.id).status is JobStatus.CANCELED  # again: no change

    store.claim(running.id, "w")
    flagged = store.request_cancel(tenant.id, running.id)
    assert flagged.status is JobStatus.RUNNING and flagged.cancel_requested
    assert store.heartbeat(running.id, "w") is LeaseState.CANCEL_REQUESTED
    assert store.mark_canceled(running.id, "w")
    assert store.get_render(tenant.id, running.id).status is JobStatus.CANCELED

    store.claim(finished.id, "w")
    store.succeed(finished.id, "w", {})
    with pytest.raises(ConflictError):
        store.request_cancel(tenant.id, finished.id)


def test_claim_next_takes_the_oldest(store, tenant, other, clock):
    first = queued(store, tenant)[0]
    clock.advance(1)
    second = queued(store, other)[0]
    assert store.claim_next("w").id == first.id
    assert store.claim_next("w").id == second.id
    assert store.claim_next("w") is None


def _claim_all(database_url: str, jobs: int, workers: int, by_id: list[uuid.UUID] | None = None) -> Counter:
    """Each worker has its own engine (its own connections, as separate processes
    would) and claims until nothing is left; returns job id -> times claimed."""
    from personacast.service.db import make_engine

    stores = [JobStore(make_engine(database_url)) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    claims: list[uuid.UUID] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(index: int, job_store: JobStore) -> None:
        try:
            barrier.wait()
            if by_id is not None:  # everyone races for the same ids
                got = [r.id for i in by_id if (r := job_store.claim(i, f"w{index}")) is not None]
            else:
                got = []
                while (record := job_store.claim_next(f"w{index}")) is not None:
                    got.append(record.id)
            with lock:
                claims.extend(got)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for job_store in stores:
        job_store.close()
    assert not errors, errors
    return Counter(claims)


def test_concurrent_claim_next_gives_each_job_to_one_worker(store, tenant, database_url):
    renders = queued(store, tenant, 30)
    claims = _claim_all(database_url, 30, workers=6)
    assert set(claims) == {r.id for r in renders}
    assert set(claims.values()) == {1}


def test_racing_claims_for_the_same_ids_have_one_winner(store, tenant, database_url):
    renders = queued(store, tenant, 10)
    claims = _claim_all(database_url, 10, workers=6, by_id=[r.id for r in renders])
    assert set(claims) == {r.id for r in renders} and set(claims.values()) == {1}
    assert all(store.get_render(tenant.id, r.id).attempts == 1 for r in renders)


# Row locks are PostgreSQL's; SQLite serialises whole transactions instead.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_claim_next_skips_a_row_another_connection_is_claiming(store, tenant, clock):
    first = queued(store, tenant)[0]
    clock.advance(1)
    second = queued(store, tenant)[0]
    with store.engine.connect() as other_connection:
        other_connection.execute(text("SELECT id FROM renders WHERE id = :id FOR UPDATE"), {"id": first.id})
        assert store.claim_next("w").id == second.id  # not blocked behind the lock
        other_connection.rollback()
    assert store.claim_next("w").id == first.id


# -- the reconciler -----------------------------------------------------------------------


def test_stale_jobs_and_recovery(store, tenant, clock):
    lost_worker, alive, waiting = queued(store, tenant, 3)
    store.claim(lost_worker.id, "w-lost")
    store.claim(alive.id, "w-alive")
    clock.advance(50)
    assert store.heartbeat(alive.id, "w-alive") is LeaseState.HELD
    assert store.stale_jobs(queued_older_than=timedelta(minutes=10)) == StaleJobs([], [])

    clock.advance(20)  # lost_worker's lease (60 s) has expired, alive's has not
    stale = store.stale_jobs(queued_older_than=timedelta(minutes=10))
    assert [r.id for r in stale.expired_leases] == [lost_worker.id] and stale.lost_queued == []
    clock.advance(600)
    stale = store.stale_jobs(queued_older_than=timedelta(minutes=10))
    assert [r.id for r in stale.lost_queued] == [waiting.id]
    assert {r.id for r in stale.expired_leases} == {lost_worker.id, alive.id}
    store.mark_enqueued(waiting.id)  # the reconciler sent it to the broker again
    assert store.stale_jobs(queued_older_than=timedelta(minutes=10)).lost_queued == []

    recovered = store.recover_expired(lost_worker.id, max_attempts=2)
    assert recovered.status is JobStatus.QUEUED and recovered.worker_id is None and "w-lost" in recovered.error
    assert store.heartbeat(lost_worker.id, "w-lost") is LeaseState.LOST
    assert not store.succeed(lost_worker.id, "w-lost", {})  # too late: the job is no longer its
    store.claim(lost_worker.id, "w-new")
    clock.advance(61)
    gave_up = store.recover_expired(lost_worker.id, max_attempts=2)
    assert gave_up.status is JobStatus.FAILED and gave_up.attempts == 2


def test_recover_expired_leaves_a_live_job_alone_and_honours_cancel(store, tenant, clock):
    live, canceled = queued(store, tenant, 2)
    store.claim(live.id, "w")
    store.claim(canceled.id, "w")
    assert store.recover_expired(live.id, max_attempts=3) is None
    store.request_cancel(tenant.id, canceled.id)
    clock.advance(61)
    assert store.recover_expired(canceled.id, max_attempts=3).status is JobStatus.CANCELED


# -- usage ------------------------------------------------------------------------------


def test_usage_summary_per_day(store, tenant, other, clock):
    clock.now = clock.now.replace(hour=23, minute=59)
    a, b = queued(store, tenant, 2)
    (foreign,) = queued(store, other)
    store.record_usage(a.id, [
        UsageItem("compute", "voice", 1.5, "s"),
        UsageItem("provider", "tts_characters", 120, "characters", provider="elevenlabs", cost_usd=Decimal("0.1")),
    ])
    store.record_usage(b.id, [
        UsageItem("compute", "voice", 2.25, "s"),
        UsageItem("provider", "tts_characters", 80, "characters", provider="elevenlabs", cost_usd=Decimal("0.2")),
    ])
    store.record_usage(foreign.id, [UsageItem("compute", "voice", 100, "s")])
    clock.advance(120)  # past midnight UTC: the next day
    store.record_usage(a.id, [
        UsageItem("compute", "render", 10, "s"),
        UsageItem("provider", "llm_tokens", 900, "tokens", provider="openai"),
    ])
    first_day = date(2026, 3, 1)

    rows = {(r.day, r.name): r for r in store.usage_summary(tenant.id, first_day, first_day + timedelta(days=1))}
    next_day = date(2026, 3, 2)
    assert set(rows) == {(first_day, "voice"), (first_day, "tts_characters"), (next_day, "render"), (next_day, "llm_tokens")}
    voice = rows[(first_day, "voice")]
    assert (voice.quantity, voice.cost_usd, voice.unpriced_items, voice.jobs) == (3.75, Decimal(0), 2, 2)
    tts = rows[(first_day, "tts_characters")]
    assert (tts.quantity, tts.cost_usd, tts.unpriced_items) == (200, Decimal("0.3"), 0)  # 0.1 + 0.2, exactly
    assert (tts.provider, tts.kind) == ("elevenlabs", "provider")
    assert rows[(next_day, "llm_tokens")].unpriced_items == 1
    assert [r.name for r in store.usage_summary(tenant.id, first_day, first_day)] == ["voice", "tts_characters"]

    items = store.render_usage(tenant.id, a.id)
    assert [(i.name, i.cost_usd) for i in items] == [
        ("voice", None), ("tts_characters", Decimal("0.1")), ("render", None), ("llm_tokens", None),
    ]
    with pytest.raises(NotFoundError):
        store.record_usage(uuid.uuid4(), [])


def test_usage_of_no_render_counts_in_no_job(store, tenant, other, clock):
    (render,) = queued(store, tenant)
    store.record_usage(render.id, [UsageItem("provider", "tts_characters", 100, "characters", provider="openai")])
    store.record_tenant_usage(tenant.id, [
        UsageItem("provider", "tts_characters", 40, "characters", provider="openai"),
        UsageItem("provider", "llm_tokens", 900, "tokens", provider="openai", cost_usd=Decimal("0.002")),
    ])
    rows = {r.name: r for r in store.usage_summary(tenant.id, clock.now.date(), clock.now.date())}
    assert (rows["tts_characters"].quantity, rows["tts_characters"].jobs) == (140, 1)
    assert (rows["llm_tokens"].quantity, rows["llm_tokens"].cost_usd, rows["llm_tokens"].jobs) == (900, Decimal("0.002"), 0)
    assert store.usage_summary(other.id, clock.now.date(), clock.now.date()) == []
    with pytest.raises(NotFoundError):
        store.record_tenant_usage(uuid.uuid4(), [UsageItem("compute", "voice", 1, "s")])


def test_usage_from_results_counts_shared_stages_once():
    shared = {"face": 0.5, "voice": 2.0, "performance": 0.25}
    results = [
        RenderResult.model_construct(stage_seconds={**shared, **own}, billed_characters=42, voice_engine="elevenlabs")
        for own in ({"render": 3.0, "publish": 0.5}, {"render": 4.0, "publish": 0.25})
    ]
    items = {i.name: i for i in usage_from_results(results)}
    assert {name: i.quantity for name, i in items.items() if i.kind == "compute"} == {
        "face": 0.5, "voice": 2.0, "performance": 0.25, "render": 7.0, "publish": 0.75,
    }
    assert items["tts_characters"] == UsageItem("provider", "tts_characters", 42, "characters", provider="elevenlabs")
    assert usage_from_results([]) == []


def test_timestamps_are_utc(store, tenant, clock):
    from datetime import datetime

    clock.now = datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))  # 12:00 UTC
    record = queued(store, tenant)[0]
    stored = store.get_render(tenant.id, record.id).created_at
    assert stored == clock.now and stored.tzinfo == timezone.utc and stored.hour == 12
