"""Helpers for the studio's browser tests (fixtures are in conftest.py)."""

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "studio"
PHONE = {"width": 390, "height": 844}


def open_page(browser, base: str):
    """A fresh browser context on ``base`` whose page collects console errors."""
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.console_problems = problems
    return context, page


def shot(page, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, key: str) -> None:
    page.goto("/studio/")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Studio sections").wait_for()
    # The page asks who is signed in before the form shows; that 401 is expected.
    if hasattr(page, "console_problems"):
        page.console_problems.clear()
