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
        page.reload()  # otherwise the previous page, still marked ready, could be the one checked
        page.locator("section.page[data-ready]").wait_for()
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
    # The page is drawn after the hash changes: wait for it, not for the address.
    page.wait_for_function("document.querySelector('section.page[data-ready] #page-title')?.textContent === 'Library'")
    assert page.evaluate("document.activeElement.id") == "main"


def _character(page, portrait, name: str) -> str:
    """A character made through the API with the page's session (the studio's header)."""
    answer = page.request.post(
        "/v1/characters", headers={"X-Personacast-Studio": "1"},
        multipart={"name": name, "images": {"name": "face.png", "mimeType": "image/png", "buffer": portrait.read_bytes()}},
    )
    assert answer.status == 201, answer.text()
    return answer.json()["id"]


def test_write_it_for_me_fills_the_script_and_its_estimate(page, studio, portrait):
    _, key = studio
    sign_in(page, key)
    character = _character(page, portrait, "Writer test")
    page.goto(f"/studio/#/new/{character}")
    page.get_by_text("Write it for me", exact=True).first.click()  # opens the details
    page.get_by_label("Topic").fill("three tips for better sleep")
    page.get_by_label("Length in seconds").fill("20")
    page.get_by_role("button", name="Write it for me").click()
    page.wait_for_function("document.querySelector('textarea[name=script]').value.length > 80")
    script = page.get_by_label("What the character says").input_value()
    assert "sleep" in script.lower()
    page.wait_for_function("document.querySelector('#estimate').textContent.startsWith('About')")
    seconds = float(re.search(r"About ([\d.]+) s", page.locator("#estimate").inner_text()).group(1))
    assert 12 <= seconds <= 28, seconds
    shot(page, "07-written-script")


def test_a_batch_with_a_bad_row_names_it_and_a_good_one_is_queued(page, studio, portrait, tmp_path):
    _, key = studio
    sign_in(page, key)
    character = _character(page, portrait, "Batch test")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"character_id,text,quality\n{character},Hello there.,preview\n{character},,preview\n")
    page.goto("/studio/#/batches")
    page.get_by_label("Batch file").set_input_files(str(bad))
    page.get_by_role("button", name="Queue batch").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "row 3" in alert.inner_text()
    assert page.request.get("/v1/batches").json()["items"] == []

    good = tmp_path / "good.csv"
    good.write_text(f"character_id,text,quality\n{character},Hi.,preview\n")
    page.get_by_label("Batch file").set_input_files(str(good))
    page.get_by_role("button", name="Queue batch").click()
    page.get_by_text("Queued 1 renders.").wait_for()
    card = page.locator("article[data-batch-id]")
    card.wait_for()
    assert card.locator("progress").get_attribute("max") == "1"
    shot(page, "08-batch-queued")
    # Leave the machine to the other tests: the batch's render is not needed further.
    for render in page.request.get("/v1/renders?status=queued&status=running").json()["items"]:
        page.request.delete(f"/v1/renders/{render['id']}", headers={"X-Personacast-Studio": "1"})


CONTRAST_SCRIPT = """() => {
  const parse = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const [r, g, b, a = 1] = parse(getComputedStyle(node).backgroundColor);
      if (a > 0.5) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const element of document.querySelectorAll("body *")) {
    const ownText = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (!ownText || !box.width || style.visibility === "hidden" || element.closest(".visually-hidden, [hidden], noscript, .skip")) continue;
    const fg = parse(style.color).slice(0, 3);
    const [l1, l2] = [luminance(fg), luminance(background(element))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = element.matches("button:disabled") ? 0 : large ? 3 : 4.5;  // disabled controls are exempt (WCAG 1.4.3)
    if (ratio < needed) failures.push(`${element.tagName.toLowerCase()} '${element.textContent.trim().slice(0, 30)}' ${ratio.toFixed(2)}:1`);
  }
  return failures;
}"""


def test_text_contrast_meets_wcag_aa_on_every_page(page, studio, portrait):
    _, key = studio
    sign_in(page, key)
    _character(page, portrait, "Contrast test")
    for route in ROUTES:
        page.goto(f"/studio/#/{route}")
        page.reload()  # a hash the page already shows would not draw it again
        page.locator("section.page[data-ready]").wait_for()
        assert page.evaluate(CONTRAST_SCRIPT) == [], route


def test_a_busy_face_detector_is_asked_again(page, studio, portrait):
    _, key = studio
    sign_in(page, key)
    answered_busy = []

    def first_busy(route):
        if not answered_busy:
            answered_busy.append(route.request.url)
            route.fulfill(status=503, headers={"Retry-After": "1", "Content-Type": "application/json"},
                          body='{"error": {"code": "busy", "message": "the face detector is busy", "hint": null}}')
        else:
            route.continue_()

    page.route("**/v1/faces", first_busy)
    page.goto("/studio/#/characters/new")
    page.get_by_label("Portraits").set_input_files(str(portrait))
    page.locator("canvas.face-overlay").wait_for()
    assert len(answered_busy) == 1
    assert page.locator("figcaption.error").count() == 0
