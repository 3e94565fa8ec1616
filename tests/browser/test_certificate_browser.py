"""A learner goes from the last lesson to the downloaded PDF; an administrator issues and revokes it; the
public verification page says so before and after."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select

from lms.catalog.models import Course, Item
from lms.extensions import db
from lms.learning.services import record_completion
from tests import factories
from tests.certs import sync_cert_course

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


def _login(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/dashboard$"))


def _submit_quiz(page):
    page.once("dialog", lambda d: d.accept())
    page.locator("[data-final-submit]").click()
    page.wait_for_url(re.compile(r".*/review$"))


def test_learner_to_pdf_admin_issues_and_revokes(app, live_server, page_factory, tmp_path):
    sync_cert_course(app, tmp_path)
    learner = factories.create_user(
        app, email="clinician@example.org", password=PASSWORD, full_name="Ana Pérez"
    )
    factories.create_user(
        app, email="admin@example.org", password=PASSWORD, roles=("admin",), full_name="Admin"
    )
    page = page_factory(390, 800)
    _login(page, live_server, "clinician@example.org")
    page.goto(live_server + "/courses/certified")
    page.get_by_role("button", name="Enrol").click()
    with app.app_context():  # lesson one was read on an earlier ward round
        course = db.session.scalar(select(Course).where(Course.slug == "certified"))
        item = db.session.scalar(select(Item).where(Item.key == "l1"))
        record_completion(learner.id, course.id, "l1", 1, datetime(2026, 11, 20, 9, 0), item.content_hash)
        db.session.commit()

    # The last lesson, then the final and the evaluation.
    page.goto(live_server + "/courses/certified/lessons/l2")
    page.get_by_role("button", name=re.compile("Mark complete")).click()
    page.wait_for_url(re.compile(r".*/quizzes/final$"))
    page.get_by_role("button", name=re.compile("Start attempt")).click()
    page.get_by_label("True").check()
    _submit_quiz(page)
    page.goto(live_server + "/courses/certified/quizzes/evaluation")
    page.get_by_role("button", name="Start the evaluation").click()
    page.locator("input[type=radio]").first.check()
    _submit_quiz(page)

    # Claim.
    page.goto(live_server + "/courses/certified")
    page.get_by_role("link", name=re.compile("Claim credit")).click()
    assert "publicly verifiable" in page.content()
    page.get_by_label("Hours of participation").fill("0.75")
    page.get_by_label(re.compile("I attest")).check()
    page.get_by_role("button", name="Claim certificate").click()
    page.locator("[data-state='Claim pending']").wait_for()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390

    # An administrator issues it from the queue.
    admin = page_factory(1280, 900)
    _login(admin, live_server, "admin@example.org")
    admin.goto(live_server + "/admin/certificates/")
    assert "Ana Pérez" in admin.content()
    admin.get_by_role("button", name="Issue", exact=True).first.click()
    admin.locator(".alert", has_text="issued").wait_for()
    serial = re.search(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", admin.content()).group(0)

    # The learner downloads the PDF.
    page.goto(live_server + "/courses/certified/certificate")
    page.get_by_role("link", name=serial).click()
    page.wait_for_url(re.compile(rf".*/certificates/{serial}$"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    # Anyone can verify it, without logging in.
    public = page_factory(360, 740)
    public.goto(live_server + "/verify")
    public.get_by_label("Certificate serial").fill(serial.lower().replace("-", ""))
    public.get_by_role("button", name="Verify").click()
    public.wait_for_url(re.compile(rf".*/verify/{serial}$"))
    assert "Valid certificate" in public.content() and "Ana Pérez" in public.content()

    # The administrator revokes it with a reason.
    admin.goto(live_server + f"/certificates/{serial}")
    admin.locator("#revoke-reason").fill("Issued to the wrong learner")
    admin.once("dialog", lambda d: d.accept())
    admin.get_by_role("button", name="Revoke").click()
    admin.locator("[data-state='revoked']").wait_for()
    public.reload()
    assert "Revoked" in public.content() and "Issued to the wrong learner" in public.content()
    for p in (page, admin, public):
        assert p.console_errors == []
