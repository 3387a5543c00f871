"""The studio's pages keep the browser usable while renders wait: few event streams,
polls that stop, cleanups that run, and portraits Chromium cannot draw still accepted."""

import re
import time

from PIL import Image

from studio_browser import shot, sign_in
from test_studio import _character

STUDIO = {"X-Personacast-Studio": "1"}

# Counts the EventSources the studio opens and closes (before any of its scripts run).
COUNT_STREAMS = """(() => {
  const counts = { open: 0, most: 0 };
  window.__streams = counts;
  const Original = window.EventSource;
  window.EventSource = class extends Original {
    constructor(...args) {
      super(...args);
      this.__counted = true;
      counts.open += 1;
      counts.most = Math.max(counts.most, counts.open);
    }
    close() {
      if (this.__counted) counts.open -= 1;
      this.__counted = false;
      super.close();
    }
  };
})();"""

# A request of the page itself, answered within 5 s or reported as hanging.
RESPONSIVE = """() => Promise.race([
  fetch('/v1/characters?limit=1', { credentials: 'same-origin' }).then((r) => r.status),
  new Promise((resolve) => setTimeout(() => resolve('hung'), 5000)),
])"""


def _cancel_active(page) -> None:
    for render in page.request.get("/v1/renders?limit=100&status=queued&status=running").json()["items"]:
        page.request.delete(f"/v1/renders/{render['id']}", headers=STUDIO)


def _wait_until_nothing_runs(page, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while page.request.get("/v1/renders?limit=1&status=queued&status=running").json()["items"]:
        assert time.monotonic() < deadline, "renders were still running"
        time.sleep(0.5)


def _page_ready(page, title: str) -> None:
    page.wait_for_function(
        "(title) => document.querySelector('#page-title')?.textContent === title"
        " && document.querySelector('section.page[data-ready]')", arg=title, timeout=5000)


def test_the_queue_streams_at_most_four_renders_and_the_studio_stays_responsive(page, studio, portrait):
    _, key = studio
    page.add_init_script(COUNT_STREAMS)
    sign_in(page, key)
    character = _character(page, portrait, "Queue test")
    try:
        # Long enough that the one worker is still busy with the first two or three when
        # the queue is looked at again below: a render of "Hi." took well under a second.
        script = "Hi, this render waits in a queue of eight so the studio can show it queued and streaming."
        for n in range(8):
            answer = page.request.post("/v1/renders", headers=STUDIO, data={
                "character_id": character, "script": {"text": script}, "quality": "preview"})
            assert answer.status in (201, 202), answer.text()
        page.goto("/studio/#/queue")
        _page_ready(page, "Queue")
        assert page.locator("ol.queue li").count() >= 8
        page.wait_for_timeout(1000)
        assert page.evaluate("window.__streams.most") <= 4
        assert page.evaluate(RESPONSIVE) == 200
        shot(page, "09-queue-of-eight")

        page.get_by_role("link", name="Library", exact=True).click()
        _page_ready(page, "Library")
        assert page.evaluate("window.__streams.open") == 0

        # A page left before its data came (a newer route started) is cleaned up at once.
        page.evaluate("location.hash = '#/queue'; setTimeout(() => { location.hash = '#/usage'; }, 0)")
        _page_ready(page, "Usage and cost")
        page.wait_for_timeout(1500)
        assert page.evaluate("window.__streams.open") == 0
        assert page.evaluate("window.__streams.most") <= 4

        # Rows without a stream follow by polling: the queued ones read "canceled" soon.
        page.get_by_role("link", name="Queue", exact=True).click()
        _page_ready(page, "Queue")
        assert page.locator("ol.queue li[data-status=queued]").count() > 0
        _cancel_active(page)
        page.wait_for_function("!document.querySelector('ol.queue li[data-status=queued]')", timeout=10_000)
    finally:
        _cancel_active(page)
    assert page.console_problems == []


def test_seconds_round_before_splitting_into_minutes(page, studio):
    _, key = studio
    sign_in(page, key)
    shown = page.evaluate("""() => import('/studio/static/ui.js').then(({ seconds }) =>
        [seconds(119.6), seconds(59.97), seconds(59.94), seconds(5), seconds(61.2), seconds(null)])""")
    assert shown == ["2 min 0 s", "1 min 0 s", "59.9 s", "5.0 s", "1 min 1 s", ""]


def test_a_batch_whose_render_was_deleted_is_finished_and_not_polled(page, studio, portrait):
    _, key = studio
    sign_in(page, key)
    character = _character(page, portrait, "Purged batch test")
    created = page.request.post("/v1/batches", headers={**STUDIO, "Content-Type": "text/csv"},
                                data=f"character_id,text,quality\n{character},Hi.,preview\n")
    assert created.status in (200, 201, 202), created.text()
    batch = created.json()["id"]
    _cancel_active(page)
    _wait_until_nothing_runs(page)
    for render in page.request.get("/v1/renders?limit=100&status=canceled").json()["items"]:
        page.request.delete(f"/v1/renders/{render['id']}?purge=true", headers=STUDIO)

    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/v1/batches" in request.url else None)
    page.goto("/studio/#/batches")
    _page_ready(page, "Batches")
    card = page.locator(f"article[data-batch-id='{batch}']")
    assert card.get_attribute("data-finished") == "true"
    assert "1 deleted" in card.inner_text()
    page.wait_for_timeout(4500)  # two refresh periods
    assert len(asked) == 1, asked
    shot(page, "10-batch-with-a-deleted-render")


def test_a_portrait_chromium_cannot_draw_is_still_accepted(page, studio, portrait, tmp_path):
    _, key = studio
    sign_in(page, key)
    tiff = tmp_path / "portrait.tiff"
    Image.open(portrait).convert("RGB").save(tiff)
    page.goto("/studio/#/characters/new")
    page.get_by_label("Name").fill("Tiff")
    page.get_by_label("Portraits").set_input_files(str(tiff))
    page.get_by_text("face found (no preview in this browser)").wait_for()
    assert page.get_by_role("button", name="Create character").is_enabled()
    page.get_by_role("button", name="Create character").click()
    page.wait_for_url(re.compile(r"#/characters/[0-9a-f-]{36}$"))
    page.get_by_text("Face found (no preview in this browser)").wait_for()
    assert page.console_problems == []


def test_a_failed_sign_out_says_so_and_stays_signed_in(page, studio):
    _, key = studio
    sign_in(page, key)
    refused = {"error": {"code": "unavailable", "message": "the server is restarting", "hint": None}}
    page.route("**/studio/session", lambda route: route.fulfill(status=503, json=refused)
               if route.request.method == "DELETE" else route.continue_())
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("alert").filter(has_text="the server is restarting").wait_for()
    assert page.get_by_role("navigation", name="Studio sections").is_visible()
    page.unroute("**/studio/session")
    page.console_problems.clear()  # Chromium logs the refused request
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API key").wait_for()
    assert page.get_by_role("alert").count() == 0
