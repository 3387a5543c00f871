"""The API routes the web studio uses besides renders: voices and auditions, formats,
script estimates and writing, faces, portraits, character edits, batch listing and
purging renders. Real voices, writers and face detection; nothing is mocked."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import uuid
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr
from service_api_fixtures import Api, api, api_on_both, api_settings, migrated_sqlite, running_api  # noqa: F401

from personacast.samples import sample_image
from personacast.service import auditions as auditions_module
from personacast.service.auditions import Auditions, AuditionsBusy
from personacast.service.records import JobStatus
from personacast.stages.compose.formats import PRESETS
from personacast.stages.voice.profiles import BUILTIN_PROFILES

ESPEAK = "sofia-espeak"  # the fastest voice, where the voice itself is not the point


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def wav_of(response) -> tuple[float, float]:
    """(seconds, RMS loudness 0..1) of a WAV answer."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as audio:
        assert audio.getsampwidth() == 2 and audio.getnchannels() == 1
        frames = audio.readframes(audio.getnframes())
        seconds = audio.getnframes() / audio.getframerate()
    samples = np.frombuffer(frames, "<i2").astype(np.float64) / 32768
    return seconds, float(np.sqrt(np.mean(samples**2)))


def portrait_bytes() -> bytes:
    return sample_image("astronaut").read_bytes()


def make_character(api: Api, headers: dict, name: str = "Sofia", images: list[tuple[str, bytes, str]] | None = None,
                   profile: dict | None = None) -> dict:
    files = [("images", image) for image in images or [("a.png", portrait_bytes(), "image/png")]]
    data = {"name": name, **({"profile": json.dumps(profile)} if profile else {})}
    created = api.client.post("/v1/characters", headers=headers, data=data, files=files)
    assert created.status_code == 201, created.text
    return created.json()


# -- voices ---------------------------------------------------------------------------------


def test_voices_are_the_builtin_profiles_and_can_speak_here(api):
    _, headers = api.tenant("acme")
    items = api.client.get("/v1/voices", headers=headers).json()["items"]
    assert [item["name"] for item in items] == list(BUILTIN_PROFILES)
    for item in items:
        assert item["engine"] == BUILTIN_PROFILES[item["name"]].engine and len(item["description"]) > 20
        assert (item["available"], item["reason"]) == (True, None), item  # Piper and espeak-ng are installed
    assert api.client.get("/v1/voices").status_code == 401


def test_a_listed_profile_sent_back_with_a_faster_rate_speaks_faster(api):
    """The studio edits a voice by changing the listed profile: it must be accepted as
    is, and the change heard."""
    _, headers = api.tenant("acme")
    sofia = next(item for item in api.client.get("/v1/voices", headers=headers).json()["items"] if item["name"] == "sofia")
    assert sofia["profile"] == BUILTIN_PROFILES["sofia"].model_dump(mode="json")
    text = "Hi, I'm Sofia. Today I will show you three easy ways to make cold brew."
    normal_s, _ = wav_of(api.client.post("/v1/voices/audition", headers=headers, json={"voice": "sofia", "text": text}))
    faster = {**sofia["profile"], "name": "sofia-fast", "speaking_rate": sofia["profile"]["speaking_rate"] * 1.4}
    fast_s, _ = wav_of(api.client.post("/v1/voices/audition", headers=headers, json={"voice": faster, "text": text}))
    assert fast_s < 0.85 * normal_s


def test_voices_that_cannot_speak_say_why(api, monkeypatch):
    from personacast.stages.voice import profiles

    missing = profiles.VoiceProfile(name="missing", voice="nobody-piper-voice")
    monkeypatch.setitem(profiles.BUILTIN_PROFILES, "missing", missing)
    monkeypatch.setitem(profiles.BUILTIN_DESCRIPTIONS, "missing", "A Piper voice package that is not installed.")
    _, headers = api.tenant("acme")
    item = api.client.get("/v1/voices", headers=headers).json()["items"][-1]
    assert item["available"] is False and "unknown Piper voice 'nobody-piper-voice'" in item["reason"]


def test_a_profile_added_without_a_description_is_described_by_its_engine_and_voice(api, monkeypatch):
    from personacast.stages.voice import profiles

    monkeypatch.setitem(profiles.BUILTIN_PROFILES, "undescribed", profiles.VoiceProfile(name="undescribed", engine="espeak", voice="en-us"))
    _, headers = api.tenant("acme")
    answer = api.client.get("/v1/voices", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["items"][-1]["description"] == "espeak voice en-us"


def test_an_audition_is_the_profile_speaking_through_the_narrator(api):
    _, headers = api.tenant("acme")

    def audition(voice, text):
        return api.client.post("/v1/voices/audition", headers=headers, json={"voice": voice, "text": text})

    short_s, short_rms = wav_of(audition("sofia", "Hi, I'm Sofia."))
    long_s, long_rms = wav_of(audition("sofia", "Hi, I'm Sofia. Today I will show you three easy ways to make cold brew."))
    assert 0.5 < short_s < long_s and long_s > 2 * short_s
    assert short_rms > 0.01 and long_rms > 0.01  # speech, not silence
    # The narrator's markup applies: a [pause 1.5s] is heard as silence.
    plain_s, _ = wav_of(audition(ESPEAK, "One thing. Another thing."))
    paused_s, _ = wav_of(audition(ESPEAK, "One thing. [pause 1.5s] Another thing."))
    assert 1.0 < paused_s - plain_s < 1.6
    # A profile given inline, as a render takes it: a faster rate speaks the same line sooner.
    fast_s, _ = wav_of(audition({"engine": "espeak", "voice": "en-us+f3", "speaking_rate": 1.6}, "One thing. Another thing."))
    assert fast_s < 0.8 * plain_s


def test_audition_refusals(api):
    _, headers = api.tenant("acme")

    def audition(voice, text="Hello there."):
        return api.client.post("/v1/voices/audition", headers=headers, json={"voice": voice, "text": text})

    unknown = audition("nobody")
    assert unknown.status_code == 422 and all(name in error_of(unknown)["message"] for name in BUILTIN_PROFILES)
    not_set_up = audition({"engine": "elevenlabs", "voice": "abc123"})  # the tests set no ElevenLabs key
    assert not_set_up.status_code == 422
    assert error_of(not_set_up)["message"] == "the elevenlabs voice engine is not set up on this server"
    bad_espeak = audition({"engine": "espeak", "voice": "xx-nope"})
    assert bad_espeak.status_code == 422 and "unknown espeak voice" in error_of(bad_espeak)["message"]
    assert audition({"engine": "piper", "voice": "/etc/passwd"}).status_code == 422  # never a file on the server
    assert audition("sofia", "").status_code == 422
    assert audition("sofia", "x" * 401).status_code == 422
    nothing = audition("sofia", "🔥 🔥")
    assert nothing.status_code == 422 and "nothing to say" in error_of(nothing)["message"]


def test_auditions_wait_for_a_free_slot_then_give_up(monkeypatch):
    monkeypatch.setattr(auditions_module, "WAIT_S", 0.2)
    from personacast.settings import Settings

    voices = Auditions(Settings(), at_once=2)
    order: list[str] = []

    async def hold(name: str, seconds: float) -> None:
        async with voices.slot():
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    async def scenario() -> None:
        await asyncio.gather(hold("a", 0.1), hold("b", 0.1), hold("c", 0.0))  # c waits for a or b
        assert order.index("c in") > order.index("a out")
        first = asyncio.create_task(hold("d", 1.0))
        second = asyncio.create_task(hold("e", 1.0))
        await asyncio.sleep(0.05)
        with pytest.raises(AuditionsBusy):
            await hold("f", 0.0)
        await asyncio.gather(first, second)
        await hold("g", 0.0)  # the slots came back

    asyncio.run(scenario())


def test_a_busy_server_answers_503_with_retry_after(api_settings, monkeypatch):
    monkeypatch.setattr(auditions_module, "WAIT_S", 0.1)
    with running_api(api_settings, live=True, worker_threads=1) as running:
        _, headers = running.tenant("acme")
        running.client.app.state.auditions._slots = asyncio.Semaphore(0)  # every slot taken
        busy = running.client.post("/v1/voices/audition", headers=headers, json={"voice": ESPEAK, "text": "Hi."})
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        assert error_of(busy)["code"] == "busy"


@contextmanager
def fake_openai(tokens: int = 0) -> Iterator[str]:
    """A local server speaking OpenAI's speech and chat contracts: 0.6 s of tone, or a
    written script whose answer bills ``tokens`` tokens."""
    written = {"title": "Cold brew", "hook": "Cold brew is easy.", "scenes": [{"text": "Steep it overnight."}],
               "call_to_action": "Try it tonight.", "caption": "Cold brew.", "hashtags": ["coldbrew"]}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path.endswith("/audio/speech"):
                tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(0.6 * 24000)) / 24000)
                body, kind = (tone * 32767).astype("<i2").tobytes(), "application/octet-stream"
            else:
                body = json.dumps({
                    "id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4.1-mini",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": json.dumps(written)}}],
                    "usage": {"prompt_tokens": tokens - 100, "completion_tokens": 100, "total_tokens": tokens},
                }).encode()
                kind = "application/json"
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_paid_voices_and_writers_are_metered_on_the_tenants_usage(api_settings):
    with fake_openai(tokens=1500) as url:
        settings = api_settings.model_copy(update={"openai_api_key": SecretStr("sk-test"), "openai_base_url": url})
        with running_api(settings, live=False) as paid:
            _, headers = paid.tenant("acme")
            text = "Hello from a paid voice."
            heard = paid.client.post("/v1/voices/audition", headers=headers,
                                     json={"voice": {"engine": "openai", "voice": "alloy"}, "text": text})
            assert wav_of(heard)[0] > 0.5
            written = paid.client.post("/v1/scripts/write", headers=headers, json={"topic": "cold brew", "writer": "openai"})
            assert written.status_code == 200 and written.json()["writer"] == "openai", written.text
            rows = {row["name"]: row for row in paid.client.get("/v1/usage", headers=headers).json()["rows"]}
    assert (rows["tts_characters"]["quantity"], rows["tts_characters"]["provider"]) == (len(text), "openai")
    assert (rows["llm_tokens"]["quantity"], rows["llm_tokens"]["provider"]) == (1500, "openai")
    assert rows["llm_tokens"]["jobs"] == rows["tts_characters"]["jobs"] == 0  # no render
    assert float(rows["llm_tokens"]["cost_usd"]) > 0  # the model's price is known


# -- formats and scripts ----------------------------------------------------------------------


def test_formats_are_the_presets(api):
    _, headers = api.tenant("acme")
    items = {item["name"]: item for item in api.client.get("/v1/formats", headers=headers).json()["items"]}
    assert list(items) == list(PRESETS)
    tiktok = items["tiktok"]
    assert (tiktok["title"], tiktok["width"], tiktok["height"], tiktok["aspect"]) == ("TikTok", 1080, 1920, "9:16")
    assert items["reels"]["max_duration_s"] == 180 and items["portrait"]["aspect"] == "4:5"
    assert tiktok["safe_zone"]["bottom"] == PRESETS["tiktok"].safe.bottom and 30 in tiktok["fps_allowed"]


def estimate(api: Api, headers: dict, text: str, voice=None) -> dict:
    answer = api.client.post("/v1/scripts/estimate", headers=headers, json={"text": text, **({"voice": voice} if voice else {})})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_estimate_grows_with_the_words_and_flags_scripts_over_the_limit(api):
    _, headers = api.tenant("acme")
    sentence = "Cold brew is easy to make at home with a jar. "
    one, four = estimate(api, headers, sentence), estimate(api, headers, sentence * 4)
    assert (one["words"], four["words"]) == (11, 44) and one["characters"] == len(sentence)
    assert 2.5 < one["estimated_s"] < 5 and 3.5 < four["estimated_s"] / one["estimated_s"] < 4.5
    # Normalised before counting: "$2.5k" is spoken as five words.
    assert estimate(api, headers, "It cost $2.5k.")["estimated_s"] > estimate(api, headers, "It cost money.")["estimated_s"]
    # The voice's pace: the same text spoken at twice the rate is shorter.
    quick = estimate(api, headers, sentence * 4, {"engine": "espeak", "voice": "en-us", "speaking_rate": 2.0})
    assert quick["estimated_s"] < 0.6 * four["estimated_s"]
    assert estimate(api, headers, "") == {"characters": 0, "words": 0, "estimated_s": 0.0, "max_chars": 12000,
                                          "over_limit": False}

    long = sentence * (12000 // len(sentence) + 1)
    over = estimate(api, headers, long)
    assert over["over_limit"] is True and over["characters"] == len(long) > over["max_chars"] == 12000
    assert over["estimated_s"] == pytest.approx(four["estimated_s"] * len(long) / len(sentence * 4), rel=0.1)
    assert estimate(api, headers, long[:12000])["over_limit"] is False
    bad_voice = api.client.post("/v1/scripts/estimate", headers=headers, json={"text": "hi", "voice": "nobody"})
    assert bad_voice.status_code == 422


def test_the_long_text_estimate_agrees_with_the_narrators(api):
    from personacast.service.api.scripts import EXACT_ESTIMATE_CHARS, spoken_seconds
    from personacast.stages.write.fitting import estimate_seconds

    prose = "So here is the thing about cold brew. You need coarse coffee, cold water and patience! " * 80
    assert len(prose) > EXACT_ESTIMATE_CHARS
    exact = estimate_seconds([prose], BUILTIN_PROFILES["sofia"])
    assert spoken_seconds(prose, BUILTIN_PROFILES["sofia"]) == pytest.approx(exact, rel=0.05)


def test_write_gives_a_script_near_the_asked_duration(api):
    _, headers = api.tenant("acme")

    def write(**body):
        return api.client.post("/v1/scripts/write", headers=headers, json={"topic": "cold brew at home", **body})

    for seconds in (15, 30, 60):
        answer = write(duration_s=seconds)
        assert answer.status_code == 200, answer.text
        written = answer.json()
        assert written["writer"] == "template" and written["title"] and written["caption"] and written["hashtags"]
        assert "cold brew" in written["text"].lower() and "\n\n" in written["text"]
        assert written["estimated_s"] == estimate(api, headers, written["text"])["estimated_s"]
        assert 0.75 * seconds <= written["estimated_s"] <= 1.2 * seconds, (seconds, written["estimated_s"])
    assert write().json() == write().json()  # the template writer is deterministic for a seed

    rejected = api.client.post("/v1/scripts/write", headers=headers, json={"topic": "a miracle cure for cancer"})
    assert rejected.status_code == 422 and "medical claim: 'miracle cure'" in error_of(rejected)["message"]
    unknown = write(writer="shakespeare")
    assert unknown.status_code == 422 and "template" in error_of(unknown)["hint"]
    not_set_up = api.client.post("/v1/scripts/write", headers=headers, json={"topic": "x", "writer": "openai_compatible"})
    assert not_set_up.status_code == 422 and "not set up" in error_of(not_set_up)["message"]
    for bad in ({"topic": ""}, {"topic": "   "}, {"topic": "x", "duration_s": 2}, {"topic": "x", "duration_s": 500}):
        assert api.client.post("/v1/scripts/write", headers=headers, json=bad).status_code == 422, bad


def test_write_as_a_character_uses_its_voice_and_format(api):
    _, headers = api.tenant("acme")
    quick = make_character(api, headers, "Quick", profile={
        "voice": {"engine": "espeak", "voice": "en-us", "speaking_rate": 1.8}, "formats": ["square"], "seed": 7})
    default = api.client.post("/v1/scripts/write", headers=headers, json={"topic": "cold brew at home"}).json()
    fast = api.client.post("/v1/scripts/write", headers=headers,
                           json={"topic": "cold brew at home", "character_id": quick["id"]}).json()
    # More words fill the same 30 s at a quicker pace; the estimate uses the character's voice.
    assert len(fast["text"].split()) > 1.2 * len(default["text"].split())
    assert fast["estimated_s"] == estimate(api, headers, fast["text"], quick["profile"]["voice"])["estimated_s"]
    assert 22 <= fast["estimated_s"] <= 36


# -- faces and portraits --------------------------------------------------------------------------


def test_faces_finds_landmarks_eyes_and_mouth(api, portrait):
    _, headers = api.tenant("acme")
    found = api.client.post("/v1/faces", headers=headers, files={"image": ("me.png", portrait.read_bytes(), "image/png")})
    assert found.status_code == 200, found.text
    body = found.json()
    width, height = Image.open(portrait).size
    assert (body["width"], body["height"]) == (width, height)
    face = body["face"]
    x0, y0, x1, y1 = face["box"]
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and face["face_width_px"] == pytest.approx(x1 - x0, abs=0.02)
    assert 0.1 * width < x1 - x0 < 0.9 * width
    assert len(face["landmarks"]) == 478
    assert all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in face["landmarks"])
    (left, right), mouth = face["eyes"], face["mouth"]
    assert left[0] < mouth[0] < right[0]  # the mouth between the eyes, below them
    assert max(left[1], right[1]) < mouth[1] < y1
    assert x0 < left[0] and right[0] < x1 and y0 < left[1]
    assert face["faces_found"] == 1


def test_faces_refusals(api_settings, no_face_image):
    with running_api(api_settings, live=False) as api:
        _, headers = api.tenant("acme")
        nobody = api.client.post("/v1/faces", headers=headers,
                                 files={"image": ("view.png", no_face_image.read_bytes(), "image/png")})
        assert nobody.status_code == 422
        assert error_of(nobody)["code"] == "no_face" and error_of(nobody)["message"] == "no face found in the image"
        not_a_picture = api.client.post("/v1/faces", headers=headers, files={"image": ("x.png", b"hello", "image/png")})
        assert not_a_picture.status_code == 422 and "not a picture" in error_of(not_a_picture)["message"]
        assert api.client.post("/v1/faces", headers=headers).status_code == 422
    strict = api_settings.model_copy(update={"min_face_width_px": 5000})
    with running_api(strict, live=False) as api:  # the same database: another tenant
        _, headers = api.tenant("globex")
        small = api.client.post("/v1/faces", headers=headers, files={"image": ("me.png", portrait_bytes(), "image/png")})
        assert small.status_code == 422 and error_of(small)["code"] == "face_too_small"
        assert "px wide" in error_of(small)["message"] and "5000" in error_of(small)["hint"]


def test_the_detector_is_made_once_and_closed_with_the_app(api_settings):
    app_api = running_api(api_settings, live=True)
    with app_api as running:
        _, headers = running.tenant("acme")
        finder = running.client.app.state.faces
        files = {"image": ("me.png", portrait_bytes(), "image/png")}
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(running.client.post("/v1/faces", headers=headers,
                                                                                       files=files)))
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [answer.status_code for answer in answers] == [200] * 3
        assert len({json.dumps(answer.json()) for answer in answers}) == 1  # one detector, used in turn
        assert finder._detector is not None
    assert finder._detector is None  # closed on shutdown


def test_portraits_and_their_faces(api):
    _, headers = api.tenant("acme")
    jpeg = io.BytesIO()
    Image.open(sample_image("astronaut")).convert("RGB").save(jpeg, "JPEG", quality=90)
    character = make_character(api, headers, images=[("a.png", portrait_bytes(), "image/png"),
                                                     ("b.jpg", jpeg.getvalue(), "image/jpeg")])
    base = f"/v1/characters/{character['id']}/images"
    first = api.client.get(f"{base}/0", headers=headers)
    assert first.status_code == 200 and first.content == portrait_bytes()
    assert first.headers["content-type"] == "image/png" and "private" in first.headers["cache-control"]
    second = api.client.get(f"{base}/1", headers=headers)
    assert second.headers["content-type"] == "image/jpeg" and second.content == jpeg.getvalue()
    missing = api.client.get(f"{base}/2", headers=headers)
    assert missing.status_code == 404 and "has no portrait 2" in error_of(missing)["message"]
    assert api.client.get(f"{base}/-1", headers=headers).status_code == 422

    face = api.client.get(f"{base}/0/face", headers=headers)
    assert face.status_code == 200
    uploaded = api.client.post("/v1/faces", headers=headers, files={"image": ("a.png", portrait_bytes(), "image/png")})
    assert face.json() == uploaded.json()
    assert api.client.get(f"{base}/1/face", headers=headers).json()["face"]["faces_found"] == 1
    assert api.client.get(f"{base}/5/face", headers=headers).status_code == 404


# -- characters, batches, purge ----------------------------------------------------------------------


def test_patch_changes_a_character_and_validates_like_create(api_on_both):
    api = api_on_both
    _, headers = api.tenant("acme")
    character = make_character(api, headers)
    make_character(api, headers, "Joe")
    path = f"/v1/characters/{character['id']}"

    renamed = api.client.patch(path, headers=headers, json={"name": "Sofia B"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Sofia B"
    profile = {"voice": ESPEAK, "formats": ["square", "reels"], "caption_style": {"color": "#FFEE00"}}
    changed = api.client.patch(path, headers=headers, json={"profile": profile}).json()
    assert changed["name"] == "Sofia B" and changed["profile"]["voice"] == ESPEAK
    assert changed["profile"]["formats"] == ["square", "reels"] and changed["profile"]["caption_style"]["color"] == "#FFEE00"
    assert api.client.get(path, headers=headers).json() == changed

    for bad, words in (({"profile": {"voice": "nobody"}}, "unknown voice profile"),
                       ({"profile": {"formats": ["cinema"]}}, "unknown format"),
                       ({"profile": {"caption_style": {"font": "/etc/shadow"}}}, "font"),
                       ({"profile": {"voice": {"engine": "piper", "voice": "/tmp/x.onnx"}}}, "voice"),
                       ({"name": ""}, "name"), ({"name": "a\nb"}, "name"), ({}, "give a name, a profile or both"),
                       ({"nickname": "x"}, "nickname")):
        refused = api.client.patch(path, headers=headers, json=bad)
        assert refused.status_code == 422 and words in error_of(refused)["message"], (bad, refused.text)
    clash = api.client.patch(path, headers=headers, json={"name": "Joe"})
    assert clash.status_code == 409 and "already exists" in error_of(clash)["message"]
    assert api.client.get(path, headers=headers).json() == changed  # refusals changed nothing


def test_batches_list_newest_first_in_pages(api):
    _, headers = api.tenant("acme")
    character = make_character(api, headers)["id"]
    made = []
    for size in (1, 2, 3):
        body = {"renders": [{"character_id": character, "script": {"text": f"Video {n}."}} for n in range(size)]}
        made.append(api.client.post("/v1/batches", headers=headers, json=body).json())
    first = api.client.get("/v1/batches", headers=headers, params={"limit": 2}).json()
    assert [b["id"] for b in first["items"]] == [made[2]["id"], made[1]["id"]] and first["next_cursor"]
    assert first["items"][0]["item_count"] == 3 and first["items"][0]["status_counts"]["queued"] == 3
    second = api.client.get("/v1/batches", headers=headers, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [b["id"] for b in second["items"]] == [made[0]["id"]] and second["next_cursor"] is None
    assert api.client.get(f"/v1/batches/{made[0]['id']}", headers=headers).json() == second["items"][0]
    assert api.client.get("/v1/batches", headers=headers, params={"cursor": "garbage"}).status_code == 422
    _, theirs = api.tenant("globex")
    assert api.client.get("/v1/batches", headers=theirs).json() == {"items": [], "next_cursor": None}


def finish_render(api: Api, tenant_id: uuid.UUID, render_id: str, tmp_path: Path) -> dict[str, str]:
    """Play the worker: claim the render, publish two artefacts, meter it and succeed."""
    store, storage = api.store, api.client.app.state.service.storage
    store.claim(uuid.UUID(render_id), "worker-1")
    (tmp_path / "video.mp4").write_bytes(b"not really a video")
    (tmp_path / "video.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n")
    artefacts = storage.publish_render([tmp_path / "video.mp4", tmp_path / "video.srt"], f"renders/{render_id}")
    from personacast.service.records import UsageItem

    store.record_usage(uuid.UUID(render_id), [UsageItem("compute", "render", 3.0, "s")])
    assert store.succeed(uuid.UUID(render_id), "worker-1", artefacts)
    return artefacts


def test_purge_deletes_a_finished_renders_files_and_record_but_not_its_usage(api, tmp_path):
    tenant, headers = api.tenant("acme")
    character = make_character(api, headers)["id"]
    ids = [api.client.post("/v1/renders", headers=headers, json={"character_id": character, "script": {"text": f"Take {n}."}})
           .json()["id"] for n in range(3)]
    artefacts = finish_render(api, tenant.id, ids[0], tmp_path)
    storage = api.client.app.state.service.storage
    assert all(storage.exists(key) for key in artefacts.values())

    purged = api.client.delete(f"/v1/renders/{ids[0]}", headers=headers, params={"purge": "true"})
    assert purged.status_code == 204 and purged.content == b""
    assert not any(storage.exists(key) for key in artefacts.values())
    assert not (api.settings.data_dir / "artefacts" / "renders" / ids[0]).exists()
    assert api.client.get(f"/v1/renders/{ids[0]}", headers=headers).status_code == 404
    assert api.client.delete(f"/v1/renders/{ids[0]}", headers=headers, params={"purge": "true"}).status_code == 404
    (row,) = api.client.get("/v1/usage", headers=headers).json()["rows"]
    assert (row["name"], row["quantity"], row["jobs"]) == ("render", 3.0, 1)
    assert api.store.get_character(tenant.id, uuid.UUID(character)).image_keys  # the portraits stay

    api.store.claim(uuid.UUID(ids[1]), "worker-1")
    for busy in ids[1:]:  # running, queued
        refused = api.client.delete(f"/v1/renders/{busy}", headers=headers, params={"purge": "true"})
        assert refused.status_code == 409 and "cancel it first" in error_of(refused)["message"]
    assert api.store.get_render(tenant.id, uuid.UUID(ids[1])).status is JobStatus.RUNNING  # untouched

    # Without purge, DELETE still cancels; a canceled render can then be purged.
    canceled = api.client.delete(f"/v1/renders/{ids[2]}", headers=headers)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert api.client.delete(f"/v1/renders/{ids[2]}", headers=headers, params={"purge": True}).status_code == 204
    assert [r["id"] for r in api.client.get("/v1/renders", headers=headers).json()["items"]] == [ids[1]]


def test_another_tenants_ids_answer_404_on_the_studio_routes(api_on_both, tmp_path):
    api = api_on_both
    tenant, mine = api.tenant("acme")
    _, theirs = api.tenant("globex")
    character = make_character(api, mine)["id"]
    render = api.client.post("/v1/renders", headers=mine, json={"character_id": character, "script": {"text": "Hi."}}).json()
    finish_render(api, tenant.id, render["id"], tmp_path)
    for method, path, body in (
        ("PATCH", f"/v1/characters/{character}", {"name": "stolen"}),
        ("GET", f"/v1/characters/{character}/images/0", None),
        ("GET", f"/v1/characters/{character}/images/0/face", None),
        ("DELETE", f"/v1/renders/{render['id']}?purge=true", None),
        ("POST", "/v1/scripts/write", {"topic": "cold brew", "character_id": character}),
    ):
        answer = api.client.request(method, path, headers=theirs, json=body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert error_of(answer)["code"] == "not_found"
    assert api.client.get(f"/v1/characters/{character}", headers=mine).json()["name"] == "Sofia"
    assert api.client.get(f"/v1/renders/{render['id']}", headers=mine).json()["status"] == "succeeded"


def test_openapi_documents_the_studio_routes(api):
    spec = api.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in (("/v1/voices", "get"), ("/v1/voices/audition", "post"), ("/v1/formats", "get"),
                         ("/v1/scripts/estimate", "post"), ("/v1/scripts/write", "post"), ("/v1/faces", "post"),
                         ("/v1/characters/{character_id}", "patch"), ("/v1/characters/{character_id}/images/{index}", "get"),
                         ("/v1/characters/{character_id}/images/{index}/face", "get"), ("/v1/batches", "get")):
        operation = paths[path][method]
        assert operation["summary"] and {"HTTPBearer", "APIKeyHeader"} <= {k for s in operation["security"] for k in s}
    assert "audio/wav" in paths["/v1/voices/audition"]["post"]["responses"]["200"]["content"]
    assert "multipart/form-data" in paths["/v1/faces"]["post"]["requestBody"]["content"]
    assert "204" in paths["/v1/renders/{render_id}"]["delete"]["responses"]
    schemas = spec["components"]["schemas"]
    assert {"AuditionRequest", "EstimateRequest", "WriteRequest", "CharacterPatch", "FaceOut", "VoiceList",
            "FormatList", "EstimateOut", "WrittenOut", "BatchPage"} <= set(schemas)


def test_stored_files_are_read_past_the_rate_limit_but_calls_are_not(api_settings):
    """A library page loads a poster and a video per render: those downloads must not
    use up the key's budget, and must not get past a spent one either way round."""
    settings = api_settings.model_copy(update={"rate_limit_per_minute": 1.0, "rate_limit_burst": 3})
    with running_api(settings, live=False) as api:
        _, headers = api.tenant("acme")
        character = make_character(api, headers)  # one call of the three
        portrait = f"/v1/characters/{character['id']}/images/0"
        for _ in range(5):
            answer = api.client.get(portrait, headers=headers)
            assert answer.status_code == 200 and answer.content == portrait_bytes()
        assert api.client.get("/v1/characters", headers=headers).status_code == 200
        assert api.client.get("/v1/characters", headers=headers).status_code == 200
        assert api.client.get("/v1/characters", headers=headers).status_code == 429
        assert api.client.get(portrait, headers=headers).status_code == 200
        assert api.client.get(portrait).status_code == 401  # still behind the key


def test_face_answers_are_remembered_and_waiting_is_bounded(tmp_path, portrait, monkeypatch):
    """Requests waiting for the one detector hold server threads: past MAX_WAITING they
    are refused at once; a picture already seen is answered without the detector."""
    from personacast.service import faces

    finder = faces.FaceFinder(min_face_width_px=48)
    first = finder.find(portrait)
    calls = []
    monkeypatch.setattr(faces.FaceMeshDetector, "detect", lambda *args, **kwargs: calls.append(1))
    assert finder.find(portrait) == first and calls == []  # remembered by content
    copy = tmp_path / "same.png"
    copy.write_bytes(portrait.read_bytes())
    assert finder.find(copy) == first and calls == []
    for _ in range(faces.MAX_WAITING):
        assert finder._slots.acquire(blocking=False)  # every slot taken by requests in flight
    other = tmp_path / "other.png"
    Image.open(portrait).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(other)
    with pytest.raises(faces.FacesBusy):
        finder.find(other)
    finder.close()


def test_a_busy_face_detector_answers_503_with_retry_after(api, portrait, monkeypatch):
    from personacast.service import faces

    _, headers = api.tenant("acme")

    def busy(self, image, name="the image"):
        raise faces.FacesBusy()

    monkeypatch.setattr(faces.FaceFinder, "find", busy)
    answer = api.client.post("/v1/faces", headers=headers, files={"image": ("a.png", portrait.read_bytes(), "image/png")})
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "busy"
    assert answer.headers["retry-after"] == "1"
