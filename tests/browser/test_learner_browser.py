"""A clinician on a phone: log in, read a lesson, mark it complete, and take a quiz with autosave."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.quizzes.models import AttemptAnswer
from tests import factories
from tests.packages import sync, write_package

pytestmark = pytest.mark.browser


@pytest.fixture
def learner(app, tmp_path):
    sync(app, write_package(tmp_path, lessons=2))
    return factories.create_user(app, email="phone@example.org", password="correct horse battery")


def _login(page, base):
    page.goto(base + "/login")
    page.get_by_label("Email").fill("phone@example.org")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/dashboard")


def test_phone_lesson_flow(app, live_server, page_factory, learner):
    page = page_factory(360, 740)
    _login(page, live_server)
    page.goto(live_server + "/courses/test-course")
    page.get_by_role("button", name="Enrol").click()
    page.wait_for_url(re.compile(r".*/lessons/l1$"))
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert page.get_by_role("figure").count() == 1
    page.get_by_role("button", name=re.compile("Mark complete")).click()
    page.wait_for_url(re.compile(r".*/lessons/l2$"))
    assert "1 of 3 required items" in page.content()
    # The navigation collapses into a menu button that works.
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    menu.click()
    assert page.get_by_role("link", name="My learning").is_visible()
    assert page.console_errors == []  # no script errors, no CSP violations


def test_quiz_autosave_and_confirmation(app, live_server, page_factory, learner):
    page = page_factory(390, 800)
    _login(page, live_server)
    page.goto(live_server + "/courses/test-course")
    page.get_by_role("button", name="Enrol").click()
    page.goto(live_server + "/courses/test-course/quizzes/check")
    page.get_by_role("button", name=re.compile("Start attempt")).click()
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    page.get_by_label("Two").check()
    # (wait_for_function would need 'unsafe-eval', which the Content-Security-Policy rightly refuses)
    page.locator("[data-autosave-status]", has_text="All answers saved").wait_for()
    with app.app_context():
        saved = db.session.scalars(
            select(AttemptAnswer.response).where(AttemptAnswer.response.is_not(None))
        ).all()
    assert saved == ["B"]
    messages = []

    def on_dialog(dialog):
        messages.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.get_by_role("button", name="Submit answers").click()
    assert messages and "1 unanswered question" in messages[0]
    assert "/review" not in page.url  # dismissing keeps the learner on the attempt
    page.remove_listener("dialog", on_dialog)
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Submit answers").click()
    page.wait_for_url(re.compile(r".*/review$"))
    assert "Score:" in page.content()
    assert page.console_errors == []


def test_keyboard_focus_is_visible(app, live_server, page_factory):
    page = page_factory(1024, 768)
    page.goto(live_server + "/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Skip to main content" in focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
