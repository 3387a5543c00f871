"""The HTTP API in embedded mode: a real render end to end (multipart upload, SSE,
artefact download, webhook, usage, metrics), then every way a request can be wrong."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import struct
import time
import uuid
import zlib

from fastapi.testclient import TestClient
from PIL import Image
from service_api_fixtures import (  # noqa: F401
    Api,
    api,
    api_on_both,
    api_settings,
    live_api,
    migrated_sqlite,
    running_api,
    webhook_receiver,
)

from personacast.media.probe import probe
from personacast.samples import sample_image
from personacast.service.records import JobStatus

FAST = {"voice": "sofia-espeak", "quality": "preview", "format": "square"}
TEXT = "Hi, I'm Sofia. This is a quick test."


def portrait_bytes() -> bytes:
    return sample_image("astronaut").read_bytes()


def post_render(api: Api, headers: dict, image: bytes | None = None, *, text: str = TEXT, **fields) -> object:
    files = {"image": ("portrait.png", image if image is not None else portrait_bytes(), "image/png")}
    return api.client.post("/v1/renders", headers=headers, files=files, data={"text": text, **FAST, **fields})


def sse_events(api: Api, headers: dict, render_id: str) -> list[tuple[str, dict]]:
    events, kind = [], None
    with api.client.stream("GET", f"/v1/renders/{render_id}/events", headers=headers) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
    return events


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def wait_finished(api: Api, headers: dict, render_id: str, timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = api.client.get(f"/v1/renders/{render_id}", headers=headers).json()
        if body["status"] in ("succeeded", "failed", "canceled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"render {render_id} did not finish: {body}")


# -- a render end to end --------------------------------------------------------------------


def pause_halfway_through_the_render_stage(monkeypatch) -> None:
    """A short render can finish its render stage between two throttled progress
    writes; pausing once halfway, past the throttle and then for two polls of the
    event stream, makes the in-stage progress visible however fast the machine is."""
    from personacast.service import runner
    from personacast.service.api.renders import SSE_POLL_S

    advance = runner._StoreProgress.advance
    paused = []

    def advance_with_a_pause(self, completed):
        if self._stage == "render" and self._total and completed == self._total // 2 and not paused:
            paused.append(completed)
            time.sleep(runner._PROGRESS_INTERVAL_S + 0.1)
            advance(self, completed)
            time.sleep(2.5 * SSE_POLL_S)
            return
        advance(self, completed)

    monkeypatch.setattr(runner._StoreProgress, "advance", advance_with_a_pause)


def test_embedded_render_end_to_end(live_api, webhook_receiver, tmp_path, monkeypatch):
    pause_halfway_through_the_render_stage(monkeypatch)
    tenant, headers = live_api.tenant("acme")
    answer = post_render(live_api, {**headers, "Idempotency-Key": "first"}, webhook_url=webhook_receiver.url)
    assert answer.status_code == 202, answer.text
    render_id = answer.json()["id"]
    assert answer.json()["status"] == "queued" and answer.headers["location"] == f"/v1/renders/{render_id}"

    events = sse_events(live_api, headers, render_id)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "finished" and set(kinds[:-1]) == {"progress"} and len(kinds) >= 3
    assert any(0 < data["progress"].get("render", 0) < 1 for _, data in events), "no progress within a stage"
    final = events[-1][1]
    assert final["status"] == "succeeded", final
    assert final["progress"] == {"face": 1.0, "voice": 1.0, "performance": 1.0, "render": 1.0}

    body = live_api.client.get(f"/v1/renders/{render_id}", headers=headers).json()
    assert set(body["artefacts"]) == {"video.mp4", "video.json", "video.srt", "video.vtt", "video.jpg", "video.txt"}
    video = live_api.client.get(body["artefacts"]["video.mp4"], headers=headers)
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    (tmp_path / "video.mp4").write_bytes(video.content)
    output = probe(tmp_path / "video.mp4")
    assert (output.width, output.height) == (1080, 1080) and output.audio_codec == "aac" and output.duration_s > 1
    assert live_api.client.get(body["artefacts"]["video.mp4"]).status_code == 401  # artefacts need the key too

    # The webhook: signed with the tenant's secret over "<timestamp>.<body>".
    assert webhook_receiver.arrived.wait(10)
    sent_headers, sent_body = webhook_receiver.requests[0]
    secret = live_api.client.get("/v1/webhook", headers=headers).json()["signing_secret"]
    expected = hmac.new(secret.encode(), f"{sent_headers['X-Personacast-Timestamp']}.".encode() + sent_body, hashlib.sha256)
    assert sent_headers["X-Personacast-Signature"] == f"sha256={expected.hexdigest()}"
    event = json.loads(sent_body)
    assert event["type"] == "render.succeeded" and event["data"]["id"] == render_id
    assert "video.mp4" in event["data"]["artefacts"]

    usage = live_api.client.get("/v1/usage", headers=headers).json()
    compute = {row["name"]: row for row in usage["rows"] if row["kind"] == "compute"}
    assert {"face", "voice", "performance", "render", "publish"} <= set(compute)
    assert compute["render"]["quantity"] > 0 and compute["render"]["jobs"] == 1 and compute["render"]["unit"] == "s"

    metrics = live_api.client.get("/metrics").text
    assert 'personacast_renders{status="succeeded"} 1.0' in metrics
    assert 'personacast_stage_seconds_count{stage="render"}' in metrics
    assert 'personacast_compute_seconds_total{stage="render"}' in metrics
    assert "personacast_render_failures_total" in metrics

    # The same request with the same key is the same job.
    again = post_render(live_api, {**headers, "Idempotency-Key": "first"}, webhook_url=webhook_receiver.url)
    assert again.status_code == 202 and again.json() == {"id": render_id, "status": "succeeded"}


def test_a_portrait_without_a_face_fails_the_job_with_a_clear_error(live_api, no_face_image):
    _, headers = live_api.tenant("acme")
    answer = post_render(live_api, headers, no_face_image.read_bytes())
    assert answer.status_code == 202  # faces are looked for by the job, not at upload
    final = wait_finished(live_api, headers, answer.json()["id"])
    assert final["status"] == "failed" and "no face" in final["error"], final
    assert final["artefacts"] == {} and final["attempts"] == 1
    assert 'personacast_render_failures_total{reason="FaceError"}' in live_api.client.get("/metrics").text
    assert live_api.client.get("/healthz").status_code == 200


# -- idempotency, tenants, keys ----------------------------------------------------------------


def test_idempotency_key_returns_the_same_job_and_refuses_a_different_request(api_on_both):
    api = api_on_both
    _, headers = api.tenant("acme")
    first = post_render(api, {**headers, "Idempotency-Key": "k-1"})
    second = post_render(api, {**headers, "Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    assert len(api.client.get("/v1/renders", headers=headers).json()["items"]) == 1

    conflict = post_render(api, {**headers, "Idempotency-Key": "k-1"}, text="Something else entirely.")
    assert conflict.status_code == 409 and "idempotency key" in error_of(conflict)["message"]
    assert post_render(api, {**headers, "Idempotency-Key": "k-2"}).json()["id"] != first.json()["id"]
    bad_key = post_render(api, {**headers, "Idempotency-Key": "with space"})
    assert bad_key.status_code == 422


def test_another_tenants_ids_answer_404(api_on_both):
    api = api_on_both
    _, mine = api.tenant("acme")
    _, theirs = api.tenant("globex")
    render_id = post_render(api, mine).json()["id"]
    character = api.client.post("/v1/characters", headers=mine, data={"name": "sofia"},
                                files=[("images", ("p.png", portrait_bytes(), "image/png"))]).json()
    for method, path in (
        ("GET", f"/v1/renders/{render_id}"), ("DELETE", f"/v1/renders/{render_id}"),
        ("GET", f"/v1/renders/{render_id}/events"), ("GET", f"/v1/renders/{render_id}/artefacts/video.mp4"),
        ("GET", f"/v1/characters/{character['id']}"), ("DELETE", f"/v1/characters/{character['id']}"),
    ):
        answer = api.client.request(method, path, headers=theirs)
        assert answer.status_code == 404, (method, path, answer.text)
        assert error_of(answer)["code"] == "not_found"
    assert api.client.get("/v1/renders", headers=theirs).json()["items"] == []
    json_render = api.client.post("/v1/renders", headers=theirs, json={"character_id": character["id"], "script": {"text": TEXT}})
    assert json_render.status_code == 404
    assert api.client.get(f"/v1/renders/{render_id}", headers=mine).status_code == 200


def test_missing_wrong_and_revoked_keys_answer_401(api):
    tenant, headers = api.tenant("acme")
    key = headers["Authorization"].removeprefix("Bearer ")
    for bad in ({}, {"Authorization": "Bearer pc_000000000000_nope"}, {"X-API-Key": "nonsense"},
                {"Authorization": f"Basic {key}"}):
        answer = api.client.get("/v1/renders", headers=bad)
        assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
        assert error_of(answer)["code"] == "unauthorized"
    assert api.client.get("/v1/renders", headers={"X-API-Key": key}).status_code == 200
    key_id = api.store.list_api_keys(tenant.id)[0].id
    api.store.revoke_api_key(tenant.id, key_id)
    assert api.client.get("/v1/renders", headers=headers).status_code == 401


def test_rate_limit_answers_429_with_retry_after(api_settings):
    settings = api_settings.model_copy(update={"rate_limit_per_minute": 1.0, "rate_limit_burst": 3})
    with running_api(settings, live=False) as limited:
        _, headers = limited.tenant("acme")
        _, other = limited.tenant("globex")
        codes = [limited.client.get("/v1/renders", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = limited.client.get("/v1/renders", headers=headers)
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
        assert error_of(refused)["code"] == "rate_limited"
        assert limited.client.get("/v1/renders", headers=other).status_code == 200  # per key


# -- bad uploads and bad text ---------------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims ``width`` x ``height`` pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_corrupt_and_fake_images_answer_422(api, corrupt_image):
    _, headers = api.tenant("acme")
    bomb = post_render(api, headers, _png_header_only(40_000, 40_000))
    assert bomb.status_code == 422
    assert "decompression bomb" in error_of(bomb)["message"] and "megapixel" in error_of(bomb)["message"]

    corrupt = post_render(api, headers, corrupt_image.read_bytes())
    assert corrupt.status_code == 422 and "corrupt or truncated" in error_of(corrupt)["message"]

    # The name and declared type say PNG; the content decides.
    script = post_render(api, headers, b"#!/bin/sh\necho not a picture\n")
    assert script.status_code == 422 and "not a picture" in error_of(script)["message"]

    tiny = io.BytesIO()
    Image.new("RGB", (20, 20)).save(tiny, "PNG")
    small = post_render(api, headers, tiny.getvalue())
    assert small.status_code == 422 and "20x20" in error_of(small)["message"]
    assert api.client.get("/v1/renders", headers=headers).json()["items"] == []  # nothing was queued
    assert not (api.settings.data_dir / "artefacts" / "uploads").exists()  # nor stored


def test_uploads_over_the_limit_answer_413(api_settings):
    settings = api_settings.model_copy(update={"max_upload_bytes": 100_000, "max_audio_upload_bytes": 200_000})
    with running_api(settings, live=False) as small:
        _, headers = small.tenant("acme")
        over_file_limit = post_render(small, headers)  # the 790 kB portrait
        assert over_file_limit.status_code == 413 and "larger than" in error_of(over_file_limit)["message"]
        # A body over the whole request's cap (20 portraits' worth) is refused before it is read.
        huge = small.client.post("/v1/renders", headers={**headers, "Content-Type": "application/json"}, content=b" " * 4_000_000)
        assert huge.status_code == 413 and error_of(huge)["code"] == "too_large"
        chunked = small.client.post("/v1/renders", headers={**headers, "Content-Type": "application/json"},
                                    content=iter([b" " * 1_000_000] * 4))  # no Content-Length: counted as it arrives
        assert chunked.status_code == 413
        assert small.client.get("/healthz").status_code == 200


def test_text_problems_answer_422(api):
    _, headers = api.tenant("acme")
    huge = post_render(api, headers, text="word " * 5000)
    assert huge.status_code == 422 and "limit is 12000" in error_of(huge)["message"]
    blank = post_render(api, headers, text="   ")
    assert blank.status_code == 422 and "empty" in error_of(blank)["message"]
    assert post_render(api, headers, format="cinema").status_code == 422
    assert post_render(api, headers, voice="/etc/passwd").status_code == 422
    profile_path = post_render(api, headers, voice=json.dumps({"engine": "piper", "voice": "/tmp/evil.onnx"}))
    assert profile_path.status_code == 422 and "voice" in error_of(profile_path)["message"]
    assert post_render(api, headers, webhook_url="file:///etc/passwd").status_code == 422
    unknown = post_render(api, headers, path="/etc/passwd")
    assert unknown.status_code == 422 and "unknown form field 'path'" in error_of(unknown)["message"]
    malformed = api.client.post("/v1/renders", headers={**headers, "Content-Type": "application/json"}, content=b"{nope")
    assert malformed.status_code == 400
    assert api.client.post("/v1/renders", headers={**headers, "Content-Type": "text/plain"}, content=b"hi").status_code == 415
    assert api.client.get("/v1/renders", headers=headers).json()["items"] == []


def test_a_recording_is_sniffed_and_stored_with_the_render(api):
    import wave

    import numpy as np

    _, headers = api.tenant("acme")
    recording = io.BytesIO()
    with wave.open(recording, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes((np.sin(np.arange(16000) / 8) * 8000).astype("<i2").tobytes())
    files = [("image", ("p.png", portrait_bytes(), "image/png")), ("audio", ("take.mp3", recording.getvalue(), "audio/mpeg"))]
    accepted = api.client.post("/v1/renders", headers=headers, files=files, data={"text": TEXT, **FAST})
    assert accepted.status_code == 202, accepted.text
    stored = api.store.get_render(api.store.find_tenant("acme").id, uuid.UUID(accepted.json()["id"]))
    assert stored.request["audio_key"].endswith(".wav")  # named by its content, not by the upload's name

    files[1] = ("audio", ("take.wav", b"RIFF....WAVEnot really", "audio/wav"))
    refused = api.client.post("/v1/renders", headers=headers, files=files, data={"text": TEXT, **FAST})
    assert refused.status_code == 422 and "not a readable recording" in error_of(refused)["message"]
    files[1] = ("audio", ("p.png", portrait_bytes(), "audio/wav"))
    refused = api.client.post("/v1/renders", headers=headers, files=files, data={"text": TEXT, **FAST})
    assert refused.status_code == 422 and "audio" in error_of(refused)["message"]


# -- characters, JSON renders, batches, listing, cancel -----------------------------------------


def test_characters_json_renders_and_cancel(api):
    _, headers = api.tenant("acme")
    profile = {"voice": "sofia-espeak", "formats": ["square"], "caption_style": {"color": "#FFEE00"}}
    created = api.client.post("/v1/characters", headers=headers, data={"name": "Sofia", "profile": json.dumps(profile)},
                              files=[("images", ("a.png", portrait_bytes(), "image/png")),
                                     ("images", ("b.png", portrait_bytes(), "image/png"))])
    assert created.status_code == 201, created.text
    character = created.json()
    assert character["image_count"] == 2 and character["profile"]["formats"] == ["square"]
    assert api.client.get(f"/v1/characters/{character['id']}", headers=headers).json() == character
    assert [c["id"] for c in api.client.get("/v1/characters", headers=headers).json()["items"]] == [character["id"]]
    bad_font = api.client.post("/v1/characters", headers=headers,
                               data={"name": "x", "profile": json.dumps({"caption_style": {"font": "/etc/shadow"}})},
                               files=[("images", ("a.png", portrait_bytes(), "image/png"))])
    assert bad_font.status_code == 422 and "font" in error_of(bad_font)["message"]

    scenes = {"scenes": [{"text": "One."}, {"text": "Two.", "image": 1}]}
    render = api.client.post("/v1/renders", headers=headers, json={"character_id": character["id"], "script": scenes})
    assert render.status_code == 202, render.text
    stored = api.store.get_render(api.store.find_tenant("acme").id, uuid.UUID(render.json()["id"]))
    assert stored.request["script"]["scenes"][1]["image"] == 1 and stored.request["image_key"] is None
    missing_portrait = api.client.post("/v1/renders", headers=headers,
                                       json={"character_id": character["id"], "script": {"scenes": [{"text": "x", "image": 5}]}})
    assert missing_portrait.status_code == 422 and "portrait 5" in error_of(missing_portrait)["message"]

    canceled = api.client.delete(f"/v1/renders/{render.json()['id']}", headers=headers)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert [kind for kind, _ in sse_events(api, headers, render.json()["id"])] == ["finished"]

    assert api.client.delete(f"/v1/characters/{character['id']}", headers=headers).status_code == 204
    assert api.client.get(f"/v1/characters/{character['id']}", headers=headers).status_code == 404
    assert not any((api.settings.data_dir / "artefacts" / "characters").rglob("*.png"))


def _character(api: Api, headers: dict) -> str:
    return api.client.post("/v1/characters", headers=headers, data={"name": "Sofia"},
                           files=[("images", ("a.png", portrait_bytes(), "image/png"))]).json()["id"]


def test_batches_from_json_and_csv_all_or_nothing(api):
    _, headers = api.tenant("acme")
    character = _character(api, headers)
    body = {"renders": [{"character_id": character, "script": {"text": f"Video {n}."}, "formats": ["square"]} for n in range(3)]}
    created = api.client.post("/v1/batches", headers=headers, json=body)
    assert created.status_code == 201, created.text
    batch = created.json()
    assert batch["item_count"] == 3 and len(batch["render_ids"]) == 3
    status = api.client.get(f"/v1/batches/{batch['id']}", headers=headers).json()
    assert status["status_counts"]["queued"] == 3 and status["status_counts"]["succeeded"] == 0
    listed = api.client.get("/v1/renders", headers=headers, params={"batch_id": batch["id"]}).json()["items"]
    assert sorted(r["id"] for r in listed) == sorted(batch["render_ids"])

    bad_csv = f"character_id,text,format\n{character},Fine.,square\n{character},,tiktok\n{character},Fine.,cinema\n"
    refused = api.client.post("/v1/batches", headers={**headers, "Content-Type": "text/csv"}, content=bad_csv)
    assert refused.status_code == 422 and error_of(refused)["message"].startswith("row 3: ")
    bad_json = {"renders": [body["renders"][0], {**body["renders"][0], "fps": 500}]}
    refused = api.client.post("/v1/batches", headers=headers, json=bad_json)
    assert refused.status_code == 422 and error_of(refused)["message"].startswith("render 2: fps")
    assert len(api.client.get("/v1/renders", headers=headers).json()["items"]) == 3  # nothing more queued

    good_csv = f"character_id,text,format,hashtags\n{character},\"Hello, world.\",square tiktok,#a #b\n"
    created = api.client.post("/v1/batches", headers={**headers, "Content-Type": "text/csv"}, content=good_csv)
    assert created.status_code == 201 and created.json()["item_count"] == 1
    stored = api.store.get_render(api.store.find_tenant("acme").id, uuid.UUID(created.json()["render_ids"][0]))
    assert stored.request["formats"] == ["square", "tiktok"] and stored.request["script"]["hashtags"] == ["#a", "#b"]


def test_listing_filters_and_pages(api):
    tenant, headers = api.tenant("acme")
    character = _character(api, headers)
    ids = [api.client.post("/v1/renders", headers=headers, json={"character_id": character, "script": {"text": f"Number {n}."}})
           .json()["id"] for n in range(5)]
    api.client.delete(f"/v1/renders/{ids[0]}", headers=headers)
    seen, cursor = [], None
    while True:
        page = api.client.get("/v1/renders", headers=headers, params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    queued = api.client.get("/v1/renders", headers=headers, params={"status": ["queued"]}).json()["items"]
    assert sorted(r["id"] for r in queued) == sorted(ids[1:])
    both = api.client.get("/v1/renders", headers=headers, params={"status": ["queued", "canceled"]}).json()["items"]
    assert len(both) == 5
    assert api.client.get("/v1/renders", headers=headers, params={"cursor": "garbage"}).status_code == 422
    assert api.client.get("/v1/renders", headers=headers, params={"created_from": "2020-01-01T00:00:00"}).status_code == 422
    assert api.client.get("/v1/renders", headers=headers, params={"created_from": "2020-01-01T00:00:00Z"}).json()["items"]


# -- operations, webhooks -------------------------------------------------------------------------


def test_health_readiness_and_metrics(api_settings):
    with running_api(api_settings, live=False) as stopped:
        assert stopped.client.get("/healthz").json() == {"status": "ok", "checks": {}}
        not_ready = stopped.client.get("/readyz")  # the worker threads only run with the lifespan
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["dispatcher:embedded"].startswith("failed")
    with running_api(api_settings, live=True) as running:
        ready = running.client.get("/readyz")
        assert ready.status_code == 200 and set(ready.json()["checks"].values()) == {"ok"}
        _, headers = running.tenant("acme")
        running.client.get("/v1/renders", headers=headers)
        text = running.client.get("/metrics").text
        for series in ("personacast_renders{status=\"queued\"}", "personacast_job_seconds_bucket",
                       'personacast_http_requests_total{method="GET",route="/v1/renders",status="200"}'):
            assert series in text


def test_tenant_webhook_settings_and_refused_destinations(api):
    from personacast.service import webhooks

    _, headers = api.tenant("acme")
    assert api.client.put("/v1/webhook", headers=headers, json={"url": "file:///etc/passwd"}).status_code == 422
    assert api.client.put("/v1/webhook", headers=headers, json={"url": "http://user:pw@example.com/"}).status_code == 422
    saved = api.client.put("/v1/webhook", headers=headers, json={"url": "https://hooks.example.com/x"}).json()
    assert saved["url"] == "https://hooks.example.com/x" and saved["signing_secret"].startswith("whsec_")
    _, other = api.tenant("globex")
    assert api.client.get("/v1/webhook", headers=other).json()["signing_secret"] != saved["signing_secret"]

    sleeps: list[float] = []
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x", "http://[::ffff:169.254.169.254]/",
                "http://0.0.0.0:9/"):
        result = webhooks.deliver(url, {"type": "t"}, "secret", timeout_s=1, attempts=3, allow_private=True, sleep=sleeps.append)
        assert not result.delivered and result.attempts == 1 and "may not reach" in (result.error or ""), (url, result)
    private = webhooks.deliver("http://127.0.0.1:9/", {}, "s", timeout_s=1, attempts=3, allow_private=False, sleep=sleeps.append)
    assert not private.delivered and "private address" in (private.error or "")
    assert sleeps == []  # refused destinations are never retried


def test_webhook_retries_with_backoff_until_accepted():
    from personacast.service import webhooks
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    answers = [503, 500, 204]

    class Flaky(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(answers.pop(0))
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sleeps: list[float] = []
    try:
        result = webhooks.deliver(f"http://127.0.0.1:{server.server_address[1]}/", {"type": "t"}, "s", timeout_s=2,
                                  attempts=3, allow_private=True, sleep=sleeps.append)
    finally:
        server.shutdown()
        server.server_close()
    assert result.delivered and result.attempts == 3 and result.status == 204 and sleeps == [1.0, 2.0]


def test_openapi_documents_the_api(api):
    spec = api.client.get("/openapi.json").json()
    create = spec["paths"]["/v1/renders"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert {"/v1/renders/{render_id}/events", "/v1/batches", "/v1/usage", "/metrics", "/readyz"} <= set(spec["paths"])
    assert {"HTTPBearer", "APIKeyHeader"} <= set(spec["components"]["securitySchemes"])


def test_store_counts_feed_the_queue_gauge(api):
    _, headers = api.tenant("acme")
    post_render(api, headers)
    assert api.store.status_counts()[JobStatus.QUEUED] == 1
    assert 'personacast_renders{status="queued"} 1.0' in api.client.get("/metrics").text


def test_without_embedded_mode_renders_go_to_the_celery_broker(api_settings, redis_url):
    import redis
    from pydantic import SecretStr

    from personacast.service.api import create_app
    from personacast.service.worker.queues import queue_for

    settings = api_settings.model_copy(update={"redis_url": SecretStr(redis_url)})
    app = create_app(settings, embedded=False)
    with TestClient(app) as client:
        api = Api(client, settings)
        _, headers = api.tenant("acme")
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["checks"]["dispatcher:celery"] == "ok"
        character = _character(api, headers)
        answer = client.post("/v1/renders", headers=headers, json={"character_id": character, "script": {"text": TEXT}})
        assert answer.status_code == 202
    broker = redis.Redis.from_url(redis_url)
    try:
        messages = [json.loads(item) for item in broker.lrange(queue_for(settings.animator_backend), 0, -1)]
    finally:
        broker.close()
    assert len(messages) == 1 and messages[0]["headers"]["argsrepr"] == repr([answer.json()["id"]])
