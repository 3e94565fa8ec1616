"""Keyboard only: a quiz with every built-in question type and an evaluation. Phones: no sideways scroll."""

from __future__ import annotations

import re

import pytest

from tests.browser.site import PASSWORD, ROOT, build_site
from tests.packages import sync

pytestmark = pytest.mark.browser


def _tab_to(page, selector: str, limit: int = 300) -> None:
    """Press Tab until the element matching ``selector`` has the focus (the keyboard is the only input)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _keyboard_login(page, base: str) -> None:
    page.goto(base + "/login")
    _tab_to(page, "#email")
    page.keyboard.type("learner@example.org")
    _tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/dashboard")


def _answer_by_keyboard(page, block_index: int, text_answers: dict[str, str]) -> None:
    block = page.locator("[data-question]").nth(block_index)
    fields = block.locator("input:not([type=hidden]), select, textarea")
    kinds = fields.evaluate_all("els => els.map(e => [e.tagName.toLowerCase(), e.type, e.id])")
    done_groups = set()
    for tag, kind, element_id in kinds:
        selector = f"#{element_id}"
        if kind == "radio":
            group = element_id.rsplit("-", 1)[0]
            if group in done_groups:
                continue  # one stop per radio group: arrow keys move inside it
            done_groups.add(group)
            _tab_to(page, f"[data-question]:nth-of-type({block_index + 1}) input[type=radio]")
            page.keyboard.press("Space")
        elif kind == "checkbox":
            _tab_to(page, selector)
            page.keyboard.press("Space")
        elif tag == "select":
            _tab_to(page, selector)
            page.keyboard.press("ArrowDown")
        else:
            _tab_to(page, selector)
            page.keyboard.type(text_answers.get(kind, "tocilizumab"))


def test_keyboard_only_quiz_with_every_question_type(app, tmp_path, live_server, page_factory):
    site = build_site(app, tmp_path)
    page = page_factory(1280, 900)
    _keyboard_login(page, live_server)
    page.goto(live_server + "/courses/a11y-course/quizzes/check")
    _tab_to(page, "form[action$='/start'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    blocks = page.locator("[data-question]").count()
    assert blocks == 7
    counter = page.locator("[data-unanswered-text]")
    assert counter.inner_text() == "7 questions not answered yet."
    page.on("dialog", lambda dialog: dialog.accept())
    for index in range(blocks):
        _answer_by_keyboard(page, index, {"number": "8", "text": "tocilizumab"})
        remaining = blocks - index - 1
        # The counter follows the answers as they are given.
        expected = f"{remaining} question{'s' if remaining != 1 else ''} not answered yet."
        assert counter.inner_text() == (expected if remaining else "All questions answered.")
    _tab_to(page, "[data-final-submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/review$"))
    assert "Score:" in page.content()
    assert page.console_errors == []

    # The evaluation (likert and free text), by keyboard too.
    page.goto(f"{live_server}/attempts/{site.open_attempt}")
    for index in range(page.locator("[data-question]").count()):
        _answer_by_keyboard(page, index, {"textarea": "Clear and useful."})
    _tab_to(page, "[data-final-submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/review$"))
    assert "your evaluation has been recorded" in page.content()


PHONE_PAGES = [
    "/courses/a11y-course/lessons/l1",
    "/courses/a11y-course/quizzes/check",
    "/attempts/{open}",
    "/attempts/{review}/review",
    "/admin/users",
    "/admin/users/{learner}",
    "/admin/outbox",
]


def _bundled_table_lessons(app) -> list[str]:
    """Lesson URLs of the bundled CAR-T course holding a table (the ASTCT grading table among them)."""
    from sqlalchemy import select

    from lms.catalog.models import Course, CourseVersion, Item
    from lms.extensions import db

    sync(app, ROOT / "courses" / "car-t-cell-therapy")
    with app.app_context():
        keys = db.session.scalars(
            select(Item.key)
            .join(CourseVersion, CourseVersion.id == Item.version_id)
            .join(Course, Course.id == CourseVersion.course_id)
            .where(Course.slug == "car-t-cell-therapy", Item.kind == "lesson", Item.html.contains("<table"))
        ).all()
    assert keys, "the bundled CAR-T course has no lesson table any more: pick another course"
    return [f"/courses/car-t-cell-therapy/lessons/{key}" for key in keys]


def _assert_tables_scroll_in_their_frame(page, path: str) -> None:
    for wrap in page.locator(".prose .table-wrap").all():
        if not wrap.evaluate("w => w.scrollWidth > w.clientWidth + 1"):
            continue
        assert "is-scrollable" in (wrap.get_attribute("class") or ""), path
        assert wrap.evaluate("w => w.previousElementSibling.classList.contains('table-hint')"), path
        assert wrap.locator("td").first.evaluate("td => getComputedStyle(td).position") == "sticky", path


def test_nothing_scrolls_sideways_at_360px_and_tables_scroll_in_their_frame(
    app, tmp_path, live_server, browser
):
    site = build_site(app, tmp_path)
    from tests import factories

    factories.create_user(app, email="both@example.org", password=PASSWORD, roles=("admin",))
    bundled = _bundled_table_lessons(app)
    client = app.test_client()
    client.post("/login", data={"email": "learner@example.org", "password": PASSWORD})
    client.post("/courses/car-t-cell-therapy/enrol")
    retry = client.post("/courses/a11y-course/quizzes/check/start")  # a graded attempt page as well
    graded_attempt = retry.headers["Location"]
    context = browser.new_context(viewport={"width": 360, "height": 760})
    page = context.new_page()
    try:
        page.goto(live_server + "/login")
        page.locator("#email").fill("learner@example.org")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_server + "/dashboard")
        values = {"open": site.open_attempt, "review": site.review_attempt, "learner": site.learner_id}
        for path in [*(p.format(**values) for p in PHONE_PAGES[:4]), graded_attempt, *bundled]:
            page.goto(live_server + path)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= 360, f"{path} is {width}px wide at 360px"
            _assert_tables_scroll_in_their_frame(page, path)
        # The lesson's grading table scrolls in its own frame, says so, and keeps its first column in view.
        page.goto(live_server + PHONE_PAGES[0])
        wrap = page.locator(".prose .table-wrap")
        assert "is-scrollable" in (wrap.get_attribute("class") or "")
        assert page.locator(".table-hint").first.is_visible()
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
        first = wrap.locator("td").first
        assert first.evaluate("td => getComputedStyle(td).position") == "sticky"
        wrap.evaluate("w => { w.scrollLeft = 400; }")
        assert first.bounding_box()["x"] >= 0  # still on screen after scrolling the table
        context.close()
        context = browser.new_context(viewport={"width": 360, "height": 760})  # the admin's own browser
        page = context.new_page()
        page.goto(live_server + "/login")
        page.locator("#email").fill("both@example.org")
        page.locator("#password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_server + "/dashboard")
        for path in PHONE_PAGES[4:]:
            page.goto(live_server + path.format(**values))
            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= 360, f"{path} is {width}px wide at 360px"
    finally:
        context.close()
