"""Every CSV the app serves opens correctly in spreadsheet programs: UTF-8 with a BOM, ISO 8601 dates, and
no cell a spreadsheet would run as a formula, whichever separator (comma, semicolon, tab) it assumes.

Six learners carry a hostile name, licence number and evaluation comment, each starting with one of the
characters a spreadsheet treats as a formula or a cell break; a quiz title and a question key in the
reported course are hostile too. Each endpoint must bring every hostile value it exports back intact but
guarded.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from lms.auth.models import User
from lms.catalog.models import Course
from lms.certificates import services as cert_svc
from lms.certificates.models import CertificateClaim
from lms.certificates.routes import issuer_settings
from lms.extensions import db
from lms.quizzes.models import Question, Quiz
from tests import factories
from tests.certs import complete, sync_cert_course
from tests.packages import sync
from tests.web import test_reports as reported

START = datetime(2026, 11, 20, 9, 0)
CERT_SLUG = "certified"
REPORT_SLUG = reported.SLUG

#: one hostile value per dangerous first character
HOSTILE = {
    "=": '=HYPERLINK("http://x.example","y")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3",
    "@": "@SUM(A1:A9)",
    "\t": "\t=cmd",
    ";": ";=1+1",
}
QUIZ_TITLE = "=Final(1)"
QUESTION_KEY = "@q1"
SEPARATORS = [",", ";", "\t"]
PLAIN_NEGATIVE = re.compile(r"-\d+(\.\d+)?")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")


@pytest.fixture
def app_config():
    return {"REPORTS_STATS_MAX_AGE_MINUTES": 0}


def _certify(app, user_id: int, n: int) -> None:
    """Complete, claim and issue; a name that cannot be printed (a tab) is claimed with a printable one."""
    complete(app, user_id, CERT_SLUG, START)
    with app.test_request_context(), app.app_context():
        settings = issuer_settings()
        course = db.session.scalar(select(Course).where(Course.slug == CERT_SLUG))
        user = db.session.get(User, user_id)
        at = START + timedelta(hours=2)
        try:
            claim = cert_svc.submit_claim(user, course, cert_svc.ClaimInput(2.0, True, ""), settings, at)
        except cert_svc.CertificateError:
            db.session.rollback()
            user = db.session.get(User, user_id)
            claim = cert_svc.submit_claim(
                user, course, cert_svc.ClaimInput(2.0, True, f"Hostile {n}"), settings, at
            )
        db.session.flush()
        cert_svc.issue_claim(
            db.session.get(CertificateClaim, claim.id), None, settings, START + timedelta(days=1)
        )
        db.session.commit()


@pytest.fixture
def hostile(app, tmp_path, auth) -> list[str]:
    """Six certified learners with hostile names, licence numbers and comments; returns their emails."""
    sync_cert_course(app, tmp_path / "cert")
    (tmp_path / "reports").mkdir()
    sync(app, reported.write_course(tmp_path / "reports"))
    emails = []
    for n, value in enumerate(HOSTILE.values(), 1):
        info = factories.create_user(app, email=f"h{n}@example.org", full_name=f"Hostile {n}")
        with app.app_context():
            # Straight into the row: the profile form would trim the leading tab.
            db.session.execute(
                update(User).where(User.id == info.id).values(full_name=value, licence_number=value)
            )
            db.session.commit()
        _certify(app, info.id, n)
        reported.enrol(app, info.id, START + timedelta(hours=n))
        reported.read(app, info.id)
        reported.answer(app, info.id, "final", reported.ALL_RIGHT, START + timedelta(days=1, hours=n))
        reported.answer(
            app, info.id, "evaluation", {"useful": 4, "comments": value}, START + timedelta(days=2, hours=n)
        )
        emails.append(info.email)
    with app.app_context():
        quiz = reported._quiz("final")
        db.session.execute(update(Quiz).where(Quiz.id == quiz.id).values(title=QUIZ_TITLE))
        db.session.execute(
            update(Question).where(Question.quiz_id == quiz.id, Question.key == "q1").values(key=QUESTION_KEY)
        )
        db.session.commit()
    reported.refresh(app)
    return emails


@dataclass(frozen=True)
class Export:
    url: str
    #: hostile values this CSV must carry (guarded)
    planted: tuple[str, ...]
    #: columns holding dates or times (each non-empty value must be ISO 8601)
    dates: tuple[str, ...] = ()
    #: downloaded by each hostile learner for themselves rather than by an admin
    own: bool = False


ALL = tuple(HOSTILE.values())
EXPORTS = {
    "admin users": Export("/admin/users.csv", ALL, ("joined", "last_login")),
    "certificates": Export(
        f"/admin/certificates/export.csv?course={CERT_SLUG}",
        ALL,
        ("completion_date", "issued_on", "expires_on"),
    ),
    "transcript": Export("/transcript.csv", ALL, ("completion_date", "issued_on", "expires_on"), own=True),
    "report funnel": Export(f"/reports/{REPORT_SLUG}/funnel.csv", ()),  # step names and numbers only
    "report quizzes": Export(f"/reports/{REPORT_SLUG}/quizzes.csv", (QUIZ_TITLE,)),
    "report learners": Export(
        f"/reports/{REPORT_SLUG}/learners.csv", ALL, ("enrolled_utc", "left_utc", "last_activity_utc")
    ),
    "report items": Export(f"/reports/{REPORT_SLUG}/quizzes/final/items.csv", (QUESTION_KEY,)),
    # Comments are trimmed when saved: the tab goes, the "=" behind it stays and must be guarded.
    "report evaluation": Export(f"/reports/{REPORT_SLUG}/evaluation.csv", tuple(v.strip() for v in ALL)),
}


def _download(client, auth, export: Export, emails: list[str]) -> list[bytes]:
    if not export.own:
        auth.login("admin")
        response = client.get(export.url)
        assert response.status_code == 200, export.url
        assert response.mimetype == "text/csv"
        return [response.data]
    bodies = []
    for email in emails:
        client.post("/login", data={"email": email, "password": auth.password})
        response = client.get(export.url)
        assert response.status_code == 200, export.url
        bodies.append(response.data)
        client.post("/logout")
    return bodies


def _formula_start(cell: str) -> bool:
    """Would a spreadsheet run this cell (after spaces and stray quotes) as a formula? A leading
    apostrophe makes it text."""
    text = cell.lstrip(' "')
    return text[:1] in ("=", "+", "-", "@") and not PLAIN_NEGATIVE.fullmatch(text)


def _is_iso(value: str) -> bool:
    if ISO_TIME.fullmatch(value):
        return datetime.fromisoformat(value).tzinfo is not None
    return bool(ISO_DATE.fullmatch(value)) and date.fromisoformat(value) is not None


@pytest.mark.parametrize("name", list(EXPORTS))
def test_every_csv_has_a_bom_iso_dates_and_no_formula(client, auth, hostile, name):
    export = EXPORTS[name]
    bodies = _download(client, auth, export, hostile)
    rows: list[list[str]] = []
    for body in bodies:
        assert body.startswith("\ufeff".encode()), f"{name}: no UTF-8 byte-order mark"
        text = body.decode("utf-8").removeprefix("\ufeff")
        for separator in SEPARATORS:
            # A spreadsheet that guesses this separator (and honours quotes) sees no formula anywhere.
            for row in csv.reader(io.StringIO(text), delimiter=separator):
                bad = [cell for cell in row if _formula_start(cell)]
                assert not bad, f"{name}, split on {separator!r}: {bad}"
        parsed = list(csv.reader(io.StringIO(text)))
        header, data = parsed[0], parsed[1:]
        assert data, f"{name}: no rows"
        rows += data
        for column in export.dates:
            values = [row[header.index(column)] for row in data if row[header.index(column)]]
            assert all(_is_iso(v) for v in values), f"{name}.{column}: {values}"
        if export.dates:
            assert any(row[header.index(c)] for row in data for c in export.dates), name
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if re.search(r"\d{1,2}/\d{1,2}/\d{2,4}", c)], f"{name}: a non-ISO date"
    for value in export.planted:
        # Back intact, apostrophe guards aside, and guarded at its start.
        guarded = [c for c in cells if c.replace("'", "") == value.replace("'", "")]
        assert guarded, f"{name}: {value!r} missing"
        assert all(c.startswith("'") for c in guarded), f"{name}: {value!r} not neutralised: {guarded}"
