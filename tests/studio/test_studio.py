"""The studio in Chromium: sign in, characters, a real render followed live, the
library, and the checks a phone or keyboard user depends on."""

import re

import pytest

from studio_browser import PHONE, shot, sign_in

ROUTES = ["characters", "characters/new", "new", "queue", "library", "batches", "usage"]


def test_sign_in_names_personacast_and_refuses_a_wrong_key(page, studio):
    page.goto("/studio/")
    assert "personacast" in page.title()
    assert "personacast" in page.locator("header h1").inner_text()
    page.get_by_label("API key").fill("pc_not-a-real-key")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "not valid" in alert.inner_text()
    assert page.get_by_role("navigation", name="Studio sections").is_hidden()
    shot(page, "01-sign-in-refused")


def test_the_session_cookie_is_hidden_from_scripts_and_changes_need_the_studio_header(page, studio):
    _, key = studio
    sign_in(page, key)
    assert "personacast_session" not in page.evaluate("document.cookie")
    # page.request shares the browser's cookies, like a form another site might post.
    forged = page.request.post("/v1/batches", data="character_id,text\n", headers={"Content-Type": "text/csv"})
    assert forged.status == 403
    assert "X-Personacast-Studio" in forged.json()["error"]["message"]
    listed = page.request.get("/v1/characters")
    assert listed.status == 200
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API key").wait_for()
    assert page.request.get("/v1/characters").status == 401


def test_a_portrait_without_a_face_is_refused_before_anything_is_created(page, studio, no_face_image):
    _, key = studio
    sign_in(page, key)
    page.goto("/studio/#/characters/new")
    page.get_by_label("Name").fill("Nobody")
    page.get_by_label("Portraits").set_input_files(str(no_face_image))
    alert = page.locator("figcaption.error")
    alert.wait_for()
    assert re.search(r"no face", alert.inner_text(), re.IGNORECASE), alert.inner_text()
    assert page.get_by_role("button", name="Create character").is_disabled()
    shot(page, "02-no-face-refused")
    assert page.request.get("/v1/characters").json()["items"] == []


def test_every_control_is_labelled_and_pages_fit_a_phone(browser, studio):
    base, key = studio
    context = browser.new_context(base_url=base, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, key)
    for route in ROUTES:
        page.goto(f"/studio/#/{route}")
        page.locator("#page-title").wait_for()
        page.wait_for_load_state("networkidle")
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('main input, main select, main textarea')]
            .filter((el) => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-label'))
            .map((el) => el.name || el.outerHTML.slice(0, 80))""")
        assert unlabelled == [], f"{route}: {unlabelled}"
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{route} scrolls sideways by {overflow} px at phone width"
        shot(page, f"phone-{route.replace('/', '-')}")
    context.close()


def test_keyboard_alone_reaches_every_section(page, studio):
    _, key = studio
    sign_in(page, key)
    first = page.evaluate("document.querySelector('a, button, input, select, textarea').textContent")
    assert first == "Skip to content"
    page.locator(".skip").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Library":
            break
    else:
        pytest.fail("Tab never reached the Library link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#/library$"))
    assert page.locator("#page-title").inner_text() == "Library"
    assert page.evaluate("document.activeElement.id") == "main"
