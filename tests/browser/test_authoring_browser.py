"""An educator writes a small course in the browser, previews and publishes it; a learner then takes it."""

from __future__ import annotations

import re

import pytest

from tests import factories

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def _login(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard$"))


def test_educator_writes_and_publishes_learner_takes_it(app, live_server, page_factory):
    factories.create_user(app, email="teacher@example.org", password=PASSWORD, roles=("educator",))
    factories.create_user(app, email="nurse@example.org", password=PASSWORD)
    page = page_factory(1024, 900)
    _login(page, live_server, "teacher@example.org")
    page.goto(live_server + "/author/new")
    page.get_by_label("Address (slug)").fill("crs-basics")
    page.get_by_label("Title").fill("CRS basics")
    page.get_by_role("button", name="Create the draft").click()
    page.wait_for_url(re.compile(r".*/author/crs-basics$"))

    page.get_by_role("link", name="lessons/introduction.md").click()
    editor = page.locator("textarea[name=content]")
    text = editor.input_value().replace("Write the lesson here in **Markdown**.", "Grade CRS with **ASTCT**.")
    editor.fill(text)
    # The live preview (static script, allowed by the CSP) renders the same sanitised Markdown as lessons.
    page.locator("#lesson-preview strong", has_text="ASTCT").wait_for()
    page.get_by_role("button", name="Save").click()
    page.locator(".alert", has_text="Saved lessons/introduction.md").wait_for()

    page.goto(live_server + "/author/crs-basics")
    assert "passes every check" in page.content()
    page.get_by_label(re.compile("What changed")).fill("First edition")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url(re.compile(r".*/author/crs-basics/history$"))
    assert "First edition" in page.content()
    assert page.console_errors == []
    page.context.clear_cookies()

    _login(page, live_server, "nurse@example.org")
    page.goto(live_server + "/courses/crs-basics")
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url(re.compile(r".*/lessons/introduction$"))
    assert page.locator("strong", has_text="ASTCT").count() == 1
    page.get_by_role("button", name=re.compile("Mark complete")).click()
    page.locator("text=completed").first.wait_for()
    assert page.console_errors == []
