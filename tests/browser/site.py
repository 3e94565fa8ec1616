"""A small site for the browser tests: a course whose quiz holds every built-in graded question type, an
ungraded evaluation with the survey types, a bundled course (real lesson tables), and one account per role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from lms.auth import services
from lms.auth.models import User
from lms.extensions import db
from lms.mail import read_outbox
from lms.timeutil import utcnow
from tests import factories
from tests.packages import SVG, lesson, manifest, sync

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]

ALL_TYPES = """title = "Every question type"
kind = "quiz"
pass_mark = 50

[[questions]]
id = "sc"
type = "single_choice"
prompt = "Which grade?"
answer = "B"
explanation = "Because."
options = [ { text = "Grade one" }, { text = "Grade two" }, { text = "Grade three" } ]

[[questions]]
id = "mr"
type = "multiple_response"
prompt = "Which are CAR-T products?"
answers = ["A", "B"]
options = [ { text = "tisa-cel" }, { text = "axi-cel" }, { text = "rituximab" } ]

[[questions]]
id = "tf"
type = "true_false"
prompt = "Fever is required for CRS."
answer = true

[[questions]]
id = "num"
type = "numeric"
prompt = "Tocilizumab dose?"
answer = 8
tolerance = 0
unit = "mg/kg"

[[questions]]
id = "sa"
type = "short_answer"
prompt = "Name the IL-6 receptor blocker."
accepted = ["tocilizumab"]

[[questions]]
id = "ord"
type = "ordering"
prompt = "Order the steps."
items = ["Leukapheresis", "Transduction", "Infusion"]

[[questions]]
id = "mat"
type = "matching"
prompt = "Match each product to its co-stimulatory domain."
pairs = [ { prompt = "tisa-cel", match = "4-1BB" }, { prompt = "axi-cel", match = "CD28" } ]
distractors = ["CD20"]
"""

EVALUATION = """title = "Course evaluation"
kind = "survey"

[[questions]]
id = "useful"
type = "likert"
prompt = "The course was relevant to my practice."

[[questions]]
id = "comments"
type = "free_text"
prompt = "Comments"
"""

TABLE_LESSON = """Some text [@lee2019].

| Grade | Fever | Hypotension | Hypoxia | Management in hospital | Notes for the night team |
|---|---|---|---|---|---|
| 1 | ≥ 38 °C | none | none | supportive care, fluids | call the CAR-T physician |
| 2 | ≥ 38 °C | responds to fluids | low-flow oxygen | tocilizumab 8 mg/kg | to a monitored bed |
| 3 | ≥ 38 °C | one vasopressor | high-flow oxygen | dexamethasone 10 mg 6-hourly | ICU review within 1 h |
"""


def write_site_package(root: Path) -> Path:
    folder = root / "a11y-course"
    for sub in ("lessons", "quizzes", "media"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "media" / "dot.svg").write_bytes(SVG)
    (folder / "lessons" / "l1.md").write_text(
        lesson("Grading CRS", TABLE_LESSON + '\n![A dot](../media/dot.svg "A dot figure")', key="l1")
    )
    (folder / "quizzes" / "check.toml").write_text(ALL_TYPES)
    (folder / "quizzes" / "eval.toml").write_text(EVALUATION)
    items = '["lessons/l1.md", "quizzes/check.toml", "quizzes/eval.toml"]'
    module = f'[[modules]]\nid = "m1"\ntitle = "Module one"\nitems = {items}\n'
    text = manifest("a11y-course", module, "Accessible course", minutes=15, hours=0.25).replace(
        'require_quizzes = "all"', 'require_quizzes = "all"\nevaluation = "eval"\ngated = false'
    )
    (folder / "course.toml").write_text(text)
    return folder


@dataclass
class Site:
    learner_id: int
    review_attempt: int
    open_attempt: int
    outbox_name: str
    reset_token: str
    serial: str = ""


def build_site(app: Flask, tmp_path: Path) -> Site:
    sync(app, write_site_package(tmp_path))
    learner = factories.create_user(
        app, email="learner@example.org", password=PASSWORD, full_name="Lee Learner"
    )
    factories.create_user(app, email="educator@example.org", password=PASSWORD, roles=("educator",))
    factories.create_user(app, email="admin@example.org", password=PASSWORD, roles=("admin",))
    client = app.test_client()
    client.post("/login", data={"email": learner.email, "password": PASSWORD})
    client.post("/courses/a11y-course/enrol")
    started = client.post("/courses/a11y-course/quizzes/check/start")
    review_attempt = int(started.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/attempts/{review_attempt}/submit")
    opened = client.post("/courses/a11y-course/quizzes/eval/start")
    open_attempt = int(opened.headers["Location"].rsplit("/", 1)[1])
    client.post("/forgot-password", data={"email": "admin@example.org"})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == learner.email))
        token = services.create_reset_token(user, utcnow())
        db.session.commit()
    with app.test_request_context():
        name = read_outbox()[0].name
    assert re.match(r"^\d{8}T", name)
    serial = _certificate(app, tmp_path, learner.id)
    admin = app.test_client()  # an administrator copies the course into an editable draft and publishes it
    admin.post("/login", data={"email": "admin@example.org", "password": PASSWORD})
    admin.post("/author/a11y-course/draft")
    admin.post("/author/a11y-course/publish", data={"note": "First browser edition"})
    return Site(learner.id, review_attempt, open_attempt, name, token or "", serial)


def _certificate(app: Flask, tmp_path: Path, user_id: int) -> str:
    """The learner completes a certificate course, claims and is issued a certificate; returns its serial."""
    from datetime import datetime

    from lms.catalog.models import Course
    from lms.certificates import serials
    from lms.certificates import services as certificates
    from lms.certificates.routes import issuer_settings
    from tests.certs import complete, sync_cert_course

    sync_cert_course(app, tmp_path, slug="cert-course")
    start = datetime(2026, 11, 20, 9, 0)
    complete(app, user_id, "cert-course", start)
    with app.test_request_context():
        user = db.session.get(User, user_id)
        course = db.session.scalar(select(Course).where(Course.slug == "cert-course"))
        claim = certificates.submit_claim(
            user, course, certificates.ClaimInput(1.0, True), issuer_settings(), start
        )
        cert = certificates.issue_claim(claim, None, issuer_settings(), start)
        db.session.commit()
        return serials.display(cert.serial)
