"""End to end in Chromium: a character from a real portrait, its voice auditioned, a
script rendered while the queue follows it live, then watched, downloaded and deleted."""

import re
import time

import pytest

from personacast.media.probe import probe

from studio_browser import open_page, shot, sign_in

SCRIPT = "Hi, I'm Sofia! Today we make a quick video together. Ready? Let's go."


@pytest.fixture(params=["studio", "full_service"], ids=["embedded", "full-service"])
def server_page(request, browser):
    """The studio on `serve --embedded`, then on the production layout (PostgreSQL,
    Redis, a separate worker process)."""
    base, key = request.getfixturevalue(request.param)
    context, page = open_page(browser, base)
    page.mode = request.param
    yield page, key
    context.close()


@pytest.mark.slow
def test_create_a_character_render_follow_watch_download_and_delete(server_page, portrait, tmp_path):
    page, key = server_page
    sign_in(page, key)

    # A character: the face is found and drawn, the voice speaks in the page.
    page.goto("/studio/#/characters/new")
    page.get_by_label("Name").fill("Sofia")
    page.get_by_label("Portraits").set_input_files(str(portrait))
    overlay = page.locator("canvas.face-overlay")
    overlay.wait_for()
    assert overlay.get_attribute("data-landmarks") == "478"
    page.get_by_role("button", name="Audition voice").click()
    audio = page.locator("audio.audition")
    audio.wait_for()
    page.wait_for_function("document.querySelector('audio.audition').duration > 1")
    shot(page, f"03-character-with-face-and-audition-{page.mode}")
    page.get_by_role("button", name="Create character").click()
    page.wait_for_url(re.compile(r"#/characters/[0-9a-f-]{36}$"))
    page.wait_for_function("document.querySelector('#page-title').textContent === 'Sofia'")
    page.locator("canvas.face-overlay").wait_for()
    character_id = page.url.rsplit("/", 1)[1]
    page.get_by_label("Position").select_option("top")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved.").wait_for()
    assert page.request.get(f"/v1/characters/{character_id}").json()["profile"]["caption_style"]["position"] == "top"

    # A script with a live estimate, queued at preview quality.
    page.get_by_role("link", name="New video with this character").click()
    page.get_by_label("What the character says").fill(SCRIPT)
    estimate = page.locator("#estimate")
    page.wait_for_function("document.querySelector('#estimate').textContent.startsWith('About')")
    seconds = float(re.search(r"About ([\d.]+) s", estimate.inner_text()).group(1))
    assert 3 < seconds < 10, estimate.inner_text()
    page.get_by_label("Quality").select_option("preview")
    shot(page, f"04-new-video-{page.mode}")
    page.get_by_role("button", name="Render video").click()
    page.wait_for_url(re.compile(r"#/queue/[0-9a-f-]{36}$"))
    render_id = page.url.rsplit("/", 1)[1]

    # The queue follows the render over Server-Sent Events, without reloading.
    row = page.locator(f"li[data-render-id='{render_id}']")
    seen: set[int] = set()
    deadline = time.monotonic() + 240
    while row.get_attribute("data-status") not in ("succeeded", "failed") and time.monotonic() < deadline:
        seen.add(int(row.locator("progress").get_attribute("value") or 0))
        page.wait_for_timeout(250)
    shot(page, f"05-queue-finished-{page.mode}")
    assert row.get_attribute("data-status") == "succeeded", row.inner_text()
    assert row.locator("progress").get_attribute("value") == "100"
    assert any(0 < value < 100 for value in seen), f"no live progress between 0 and 100 was shown: {sorted(seen)}"

    # The library plays it and offers each file.
    row.get_by_role("link", name="Watch it in the library").click()
    card = page.locator(f"article[data-render-id='{render_id}']")
    card.wait_for()
    page.wait_for_function(
        "id => document.querySelector(`article[data-render-id='${id}'] video`).readyState >= 1", arg=render_id)
    played = card.locator("video").evaluate("video => video.duration")
    assert 2.0 < played < 15.0
    card.locator("details summary").click()
    post = card.locator("pre.post-text")
    page.wait_for_function("id => document.querySelector(`article[data-render-id='${id}'] pre`).textContent.length > 0",
                           arg=render_id)
    assert "Sofia" in post.inner_text() or "AI" in post.inner_text()
    shot(page, f"06-library-{page.mode}")
    with page.expect_download() as download:
        card.get_by_role("link", name=re.compile(r"^Download video")).click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    facts = probe(saved)
    assert facts.video_codec == "h264" and facts.audio_codec == "aac"
    assert facts.width * 16 == facts.height * 9
    assert abs(facts.duration_s - played) < 0.2

    # Usage shows what the render cost.
    page.goto("/studio/#/usage")
    page.locator("#usage-total").wait_for()
    assert page.locator("tbody tr").count() >= 1
    shot(page, f"07-usage-{page.mode}")
    page.goto(f"/studio/#/library/{render_id}")
    card.wait_for()

    # Deleting removes the video and its files.
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Delete").click()
    card.wait_for(state="detached")
    assert page.request.get(f"/v1/renders/{render_id}").status == 404
    assert page.console_problems == []
