"""Course reports through the app: access rules, funnel, learners, item analysis, evaluation, CSV, queries."""

from __future__ import annotations

import importlib.util
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lms.auth.models import User
from lms.catalog.models import Course, CourseStaff, CourseVersion, Enrolment
from lms.certificates.models import Certificate, CertificateClaim, CourseCompletion
from lms.extensions import db
from lms.learning.services import record_completion
from lms.quizzes import services as quiz_services
from lms.quizzes.models import Question, Quiz
from lms.reports import services as svc
from lms.reports.models import ItemStatistic, QuizStatistic, ReportRefresh
from lms.reports.stats import ItemSums, point_biserial
from tests import factories
from tests.packages import filler, lesson, manifest, sync

START = datetime(2026, 11, 20, 9, 0)
SLUG = "reported"

FINAL = """title = "Final assessment"
kind = "final"
pass_mark = 50

[[questions]]
id = "q1"
type = "single_choice"
prompt = "Which grade?"
answer = "B"
options = [{ text = "One" }, { text = "Two" }, { text = "Three" }]

[[questions]]
id = "q2"
type = "true_false"
prompt = "Fever is required for CRS."
answer = true

[[questions]]
id = "q3"
type = "multiple_response"
prompt = "Which are vectors?"
answers = ["A", "C"]
options = [{ text = "AAV" }, { text = "Aspirin" }, { text = "Lentivirus" }, { text = "Saline" }]
"""

EVALUATION = """title = "Evaluation"
kind = "survey"

[[questions]]
id = "useful"
type = "likert"
prompt = "The course was useful."

[[questions]]
id = "comments"
type = "free_text"
prompt = "Any comments?"
"""


def write_course(root: Path) -> Path:
    folder = root / SLUG
    (folder / "lessons").mkdir(parents=True)
    (folder / "quizzes").mkdir()
    (folder / "lessons" / "l1.md").write_text(
        lesson("Lesson one", "Text [@lee2019]. " + filler(30), key="l1")
    )
    (folder / "lessons" / "l2.md").write_text(lesson("Lesson two", "Text.", key="l2"))
    (folder / "quizzes" / "final.toml").write_text(FINAL)
    (folder / "quizzes" / "evaluation.toml").write_text(EVALUATION)
    module = (
        '[[modules]]\nid = "m1"\ntitle = "Module one"\nitems = ["lessons/l1.md", "lessons/l2.md", '
        '"quizzes/final.toml", "quizzes/evaluation.toml"]\n'
    )
    text = manifest(SLUG, module, title="Reported course").replace(
        'require_quizzes = "all"',
        'require_quizzes = "final"\nfinal_quiz = "final"\nevaluation = "evaluation"\ngated = false',
    )
    (folder / "course.toml").write_text(text)
    return folder


def _course() -> Course:
    return db.session.scalar(select(Course).where(Course.slug == SLUG))


def _quiz(key: str) -> Quiz:
    course = _course()
    version = db.session.scalar(
        select(CourseVersion).where(
            CourseVersion.course_id == course.id, CourseVersion.number == course.current_version_no
        )
    )
    return db.session.scalar(select(Quiz).where(Quiz.version_id == version.id, Quiz.key == key))


def enrol(app, user_id: int, at: datetime = START) -> None:
    with app.app_context():
        db.session.add(
            Enrolment(user_id=user_id, course_id=_course().id, enrolled_at=at, last_activity_at=at)
        )
        db.session.commit()


def read(app, user_id: int, keys=("l1", "l2"), at: datetime = START) -> None:
    with app.app_context():
        course = _course()
        for key in keys:
            record_completion(user_id, course.id, key, course.current_version_no, at, "")
        db.session.commit()


def answer(app, user_id: int, key: str, responses: dict, at: datetime) -> int:
    """Start and submit quiz ``key`` with a response per question key; returns the attempt id."""
    with app.app_context():
        registry = app.extensions["lms"].question_types
        attempt_id = quiz_services.start_attempt(user_id, _course(), _quiz(key), registry, now=at).id
        db.session.commit()
        attempt = quiz_services.own_attempt(user_id, attempt_id)
        by_answer = {a.id: responses.get(a.question.key) for a in attempt.answers}
        quiz_services.submit_attempt(attempt, by_answer, registry, now=at + timedelta(minutes=5))
        db.session.commit()
        return attempt_id


def add_staff(app, email: str, role: str) -> None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.add(CourseStaff(course_id=_course().id, user_id=user.id, role=role, added_at=START))
        db.session.commit()


def refresh(app) -> None:
    with app.app_context():
        svc.compute_statistics(_course(), START + timedelta(days=1))
        db.session.commit()


# The four learners' first attempts at the final, worked out by hand:
#
#         q1 (B)     q2 (true)   q3 (A+C, partial credit)     points  score
#   L1    B  → 1     true  → 1   A,C → 1                      3       1.000
#   L2    B  → 1     true  → 1   A   → 1/2                    2.5     0.833
#   L3    A  → 0     true  → 1   B   → 0                      1       0.333
#   L4    C  → 0     false → 0   (blank) → 0                  0       0.000
FIRST = [
    {"q1": "B", "q2": True, "q3": ["A", "C"]},
    {"q1": "B", "q2": True, "q3": ["A"]},
    {"q1": "A", "q2": True, "q3": ["B"]},
    {"q1": "C", "q2": False, "q3": None},
]
ALL_RIGHT = {"q1": "B", "q2": True, "q3": ["A", "C"]}


@pytest.fixture
def app_config():
    # Statistics computed at the fixed dates below must not look stale to the real clock.
    return {"REPORTS_STATS_MAX_AGE_MINUTES": 0}


@pytest.fixture
def course(app, tmp_path):
    sync(app, write_course(tmp_path))
    return SLUG


@pytest.fixture
def seeded(app, course, auth):
    """Four learners with the attempts above, staff noise that must not count, a fifth enrolled only."""
    ids = []
    for n, responses in enumerate(FIRST, 1):
        info = factories.create_user(app, email=f"l{n}@example.org", full_name=f"Learner {n}")
        enrol(app, info.id, START + timedelta(hours=n))
        read(app, info.id, ("l1", "l2") if n < 4 else ("l1",))
        answer(app, info.id, "final", responses, START + timedelta(days=1, hours=n))
        ids.append(info.id)
    # L4 tries again and passes: counted in attempts and "passed on any attempt", never in item analysis.
    answer(app, ids[3], "final", ALL_RIGHT, START + timedelta(days=2))
    # An educator (staff) enrolled and took the quiz: never counted as a learner.
    educator = auth.user("educator")
    enrol(app, educator.id)
    answer(app, educator.id, "final", {}, START + timedelta(days=1))
    enrolled_only = factories.create_user(app, email="l5@example.org", full_name="Learner 5")
    enrol(app, enrolled_only.id, START + timedelta(hours=5))
    return ids


# -- access: one table of role × URL × ownership -----------------------------------------------------------

COURSE_URLS = [
    "/reports/{slug}",
    "/reports/{slug}/funnel.csv",
    "/reports/{slug}/quizzes.csv",
    "/reports/{slug}/learners",
    "/reports/{slug}/learners.csv",
    "/reports/{slug}/quizzes/final",
    "/reports/{slug}/quizzes/final/items.csv",
    "/reports/{slug}/evaluation",
]
#: (who, staff row on the course) → expected status of the area page and of the course's pages
ACCESS = [
    ("learner", None, 403, 404),
    ("learner", "owner", 403, 404),  # a staff row is not enough without the educator role
    ("educator", None, 200, 404),
    ("educator", "coauthor", 200, 200),
    ("educator", "owner", 200, 200),
    ("admin", None, 200, 200),
]


@pytest.mark.parametrize("url", ["/reports", *COURSE_URLS])
def test_anonymous_is_sent_to_log_in(client, course, url):
    response = client.get(url.format(slug=SLUG))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(("role", "staff", "area", "pages"), ACCESS)
@pytest.mark.parametrize("url", COURSE_URLS)
def test_permission_table(app, client, auth, course, role, staff, area, pages, url):
    info = auth.login(role)
    if staff:
        add_staff(app, info.email, staff)
    assert client.get("/reports").status_code == area
    response = client.get(url.format(slug=SLUG))
    assert response.status_code == pages, (role, staff, url)
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_course_and_quiz_are_404_even_for_admins(client, auth, course):
    auth.login("admin")
    assert client.get("/reports/no-such-course").status_code == 404
    assert client.get(f"/reports/{SLUG}/quizzes/nope").status_code == 404
    # The evaluation is a survey, not a graded quiz: it has no item analysis.
    assert client.get(f"/reports/{SLUG}/quizzes/evaluation").status_code == 404


def test_area_page_lists_only_own_courses_and_nav_link(app, client, auth, course):
    info = auth.login("educator")
    page = client.get("/reports").get_data(as_text=True)
    assert "not the owner or a co-author of any course" in page
    assert 'href="/reports"' in page  # the nav link for educators
    add_staff(app, info.email, "owner")
    page = client.get("/reports").get_data(as_text=True)
    assert f'href="/reports/{SLUG}"' in page and "Owner" in page
    auth.logout()
    auth.login("learner")
    assert 'href="/reports"' not in client.get("/dashboard").get_data(as_text=True)


def test_refresh_needs_access_and_csrf(app, client, auth, course):
    auth.login("educator")
    assert client.post(f"/reports/{SLUG}/refresh").status_code == 404


# -- funnel, learners ----------------------------------------------------------------------------------


def test_funnel_counts_learners_only(app, client, auth, seeded):
    with app.app_context():
        course = _course()
        version = course.current_version_no
        l1, l2 = seeded[0], seeded[1]
        completion = CourseCompletion(
            user_id=l1, course_id=course.id, version_no=version, edition="2026.1", completed_at=START
        )
        other = CourseCompletion(
            user_id=l2, course_id=course.id, version_no=version, edition="2026.1", completed_at=START
        )
        db.session.add_all([completion, other])
        db.session.flush()
        claim = CertificateClaim(
            completion_id=completion.id,
            user_id=l1,
            course_id=course.id,
            version_no=version,
            hours=0.5,
            attested_at=START,
        )
        db.session.add(claim)
        db.session.flush()
        db.session.add(
            Certificate(
                serial="ABCD2345EFGH",
                claim_id=claim.id,
                user_id=l1,
                course_id=course.id,
                version_no=version,
                credential_id="urn:uuid:test",
                issued_at=START,
                completed_on=START.date(),
                hours=0.5,
                snapshot={},
            )
        )
        db.session.commit()
        steps = {s.key: s.count for s in svc.funnel(_course())}
    # 5 learners enrolled (the educator is staff); 4 started; 2 completed; 1 claimed; 1 certified.
    assert steps == {"enrolled": 5, "started": 4, "completed": 2, "claimed": 1, "certified": 1}
    # The page reads the funnel stored by the statistics refresh, and says when that was.
    refresh(app)
    auth.login("admin")
    page = client.get(f"/reports/{SLUG}").get_data(as_text=True)
    assert "4 · 80%" in page and "2 · 40%" in page
    assert "Statistics as of 21 Nov 2026, 09:00 UTC" in page
    csv_text = client.get(f"/reports/{SLUG}/funnel.csv").data.decode("utf-8")
    assert csv_text.startswith("\ufeffstep,learners,percent_of_enrolled")
    assert "certified,1,20" in csv_text


def test_overview_funnel_is_the_one_stored_by_the_last_refresh(app, client, auth, seeded):
    refresh(app)
    auth.login("admin")
    assert "5 · 100%" in client.get(f"/reports/{SLUG}").get_data(as_text=True)
    late = factories.create_user(app, email="late@example.org", full_name="Late Learner")
    enrol(app, late.id)
    read(app, late.id, ("l1",))
    # Until the next refresh the overview shows the funnel as of the last one (and says when that was) ...
    page = client.get(f"/reports/{SLUG}").get_data(as_text=True)
    assert "5 · 100%" in page and "4 · 80%" in page and "Statistics as of" in page
    refresh(app)
    # ... then six learners enrolled, five of them started.
    page = client.get(f"/reports/{SLUG}").get_data(as_text=True)
    assert "6 · 100%" in page and "5 · 83%" in page
    assert "started,5,83" in client.get(f"/reports/{SLUG}/funnel.csv").data.decode("utf-8")


def test_a_refresh_row_without_a_funnel_is_recounted_on_view(app, client, auth, seeded):
    # Rows written before migration 0015 have no funnel: the next view queues a refresh (run at once here).
    refresh(app)
    with app.app_context():
        db.session.execute(update(ReportRefresh).values(funnel=None))
        db.session.commit()
        assert svc.stored_funnel(db.session.get(ReportRefresh, _course().id)) is None
    auth.login("admin")
    page = client.get(f"/reports/{SLUG}").get_data(as_text=True)
    assert "5 · 100%" in page and "4 · 80%" in page
    with app.app_context():
        assert db.session.get(ReportRefresh, _course().id).funnel["started"] == 4


def test_learner_search_matches_name_and_for_admins_contact_details(app, client, auth, seeded):
    with app.app_context():
        db.session.execute(update(User).where(User.id == seeded[2]).values(licence_number="GMC-77_1"))
        db.session.commit()
    info = auth.login("educator")
    add_staff(app, info.email, "owner")

    def names(query: str) -> list[str]:
        page = client.get(f"/reports/{SLUG}/learners", query_string={"q": query}).get_data(as_text=True)
        return re.findall(r"<td>(Learner \d)</td>", page)

    assert names("EARNER 4") == ["Learner 4"]  # case-blind "contains"
    assert names("l2@example") == [] and names("77_1") == []  # educators cannot search contact details
    assert names("Learner_1") == []  # "_" and "%" are literal characters, not wildcards
    auth.logout()
    auth.login("admin")
    assert names("L2@EXAMPLE.ORG") == ["Learner 2"]
    assert names("gmc-77_1") == ["Learner 3"] and names("77%") == []


def test_learners_table_filters_sorts_and_hides_contact_details_from_educators(app, client, auth, seeded):
    info = auth.login("educator")
    add_staff(app, info.email, "owner")
    page = client.get(f"/reports/{SLUG}/learners?sort=progress&dir=desc").get_data(as_text=True)
    assert "5 learners" in page
    assert "l1@example.org" not in page  # educators see names, professions, progress and scores only
    names = re.findall(r"<td>(Learner \d)</td>", page)
    # Progress: L1–L3 read both lessons and passed or took the final; L4 one lesson; L5 nothing.
    assert names[-1] == "Learner 5"
    assert "Test educator" not in page
    page = client.get(f"/reports/{SLUG}/learners?q=Learner+2").get_data(as_text=True)
    assert re.findall(r"<td>(Learner \d)</td>", page) == ["Learner 2"]
    page = client.get(f"/reports/{SLUG}/learners?status=not_started").get_data(as_text=True)
    assert re.findall(r"<td>(Learner \d)</td>", page) == ["Learner 5"]
    page = client.get(f"/reports/{SLUG}/learners?q=nobody").get_data(as_text=True)
    assert "No learner matches these filters" in page
    response = client.get(f"/reports/{SLUG}/learners.csv")
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeffname,profession,enrolled_utc")
    assert "email" not in text.splitlines()[0]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("sort", svc.LEARNER_SORTS)
@pytest.mark.parametrize("direction", ["", "desc"])
def test_learner_pages_follow_the_csv_order_for_every_sort(
    app, client, auth, seeded, monkeypatch, sort, direction
):
    # The page picks its rows by a narrower query than the CSV's (services._learner_page_query): pages of
    # two, put end to end, must give the CSV's rows in the CSV's order.
    refresh(app)
    monkeypatch.setattr(svc, "LEARNERS_PER_PAGE", 2)
    auth.login("admin")
    args = {"sort": sort, "dir": direction}
    csv_names = [
        line.split(",")[0]
        for line in client.get(f"/reports/{SLUG}/learners.csv", query_string=args)
        .data.decode("utf-8")
        .splitlines()[1:]
    ]
    paged = []
    for page in (1, 2, 3):
        html = client.get(f"/reports/{SLUG}/learners", query_string={**args, "page": page}).get_data(
            as_text=True
        )
        paged += re.findall(r"<td>(Learner \d)</td>", html)
    assert len(csv_names) == 5 and paged == csv_names


def test_admins_see_email_and_licence_and_csv_is_formula_safe(app, client, auth, course):
    info = factories.create_user(app, email="formula@example.org", full_name="=HYPERLINK(1)")
    with app.app_context():
        db.session.execute(update(User).where(User.id == info.id).values(licence_number="+123"))
        db.session.commit()
    enrol(app, info.id)
    auth.login("admin")
    page = client.get(f"/reports/{SLUG}/learners").get_data(as_text=True)
    assert "formula@example.org" in page and "+123" in page
    text = client.get(f"/reports/{SLUG}/learners.csv").data.decode("utf-8")
    header, row = text.splitlines()[:2]
    assert "email" in header and "licence_number" in header
    assert row.startswith("'=HYPERLINK(1),")
    assert ",'+123," in row


# -- item analysis -------------------------------------------------------------------------------------


def test_item_statistics_over_first_attempts_by_hand(app, seeded):
    refresh(app)
    with app.app_context():
        quiz = _quiz("final")
        stat = db.session.get(QuizStatistic, quiz.id)
        # Four learners' first attempts: the educator's and L4's second attempt are left out.
        assert stat.attempts == 4
        assert stat.sum_points == pytest.approx(3 + 2.5 + 1 + 0)
        assert stat.sum_score == pytest.approx(1 + 2.5 / 3 + 1 / 3 + 0)
        assert (stat.first_passed, stat.ever_passed, stat.all_attempts) == (2, 3, 5)
        # Scores 1.0, 0.833, 0.333, 0 fall in the bins 90–100, 80–89, 30–39 and 0–9 %.
        assert stat.histogram == [1, 0, 0, 1, 0, 0, 0, 0, 1, 1]
        rows = {
            r.question_id: r
            for r in db.session.scalars(select(ItemStatistic).where(ItemStatistic.quiz_id == quiz.id))
        }
        by_key = {
            q.key: rows[q.id] for q in db.session.scalars(select(Question).where(Question.quiz_id == quiz.id))
        }
        q1 = by_key["q1"]
        # q1: x = 1,1,0,0; rest = points − x = 2, 1.5, 1, 0
        # Σx = 2, Σx² = 2, Σr = 4.5, Σr² = 4 + 2.25 + 1 = 7.25, Σxr = 2 + 1.5 = 3.5
        assert (q1.n, q1.sum_x, q1.sum_x2) == (4, 2, 2)
        assert (q1.sum_r, q1.sum_r2, q1.sum_xr) == (
            pytest.approx(4.5),
            pytest.approx(7.25),
            pytest.approx(3.5),
        )
        # Sxx = 1, Srr = 7.25 − 4.5²/4 = 2.1875, Sxr = 3.5 − 2·4.5/4 = 1.25 → r = 1.25/√2.1875 ≈ 0.845154
        assert point_biserial(
            ItemSums(q1.n, q1.sum_x, q1.sum_x2, q1.sum_r, q1.sum_r2, q1.sum_xr)
        ) == pytest.approx(0.845154, abs=1e-6)
        assert q1.option_counts == {"A": 1, "B": 2, "C": 1}
        assert by_key["q2"].option_counts == {"true": 3, "false": 1}
        # q3 partial credit: 1 + 0.5 + 0 + 0 = 1.5 of 4 → difficulty 0.375; one blank response.
        assert by_key["q3"].sum_x == pytest.approx(1.5)
        assert by_key["q3"].option_counts == {"A": 2, "B": 1, "C": 1}
        assert by_key["q3"].blank == 1


def test_quiz_page_shows_statistics_chart_and_explanations(app, client, auth, seeded):
    refresh(app)
    auth.login("admin")
    response = client.get(f"/reports/{SLUG}/quizzes/final")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "as of 21 Nov 2026, 09:00 UTC" in page
    assert "0.50" in page and "0.75" in page and "0.38" in page  # difficulties of q1, q2, q3
    assert "0.85" in page  # q1's discrimination, worked out above
    assert "Too few responses" in page  # 4 < 20: no flags
    assert "Cronbach" in page  # partial credit on q3: not KR-20
    assert '<svg class="chart"' in page and "<title" in page
    assert " style=" not in page and "<script>" not in page  # the CSP forbids inline style and script
    assert "What difficulty" not in page and "Higher means easier" in page
    text = client.get(f"/reports/{SLUG}/quizzes/final/items.csv").data.decode("utf-8")
    assert text.startswith("\ufeffnumber,question,type,points,responses,difficulty,discrimination")
    assert "q1,single_choice,1,4,0.500,0.845" in text
    assert "A:1 B*:2 C:1" in text
    quizzes = client.get(f"/reports/{SLUG}/quizzes.csv").data.decode("utf-8")
    assert "final,Final assessment,4,54.2,50,3,5" in quizzes


def test_flags_appear_from_twenty_responses(app, client, auth, course):
    # 20 learners all answer q2 right: too easy. q1 right for the top half only: discriminates well.
    for n in range(20):
        info = factories.create_user(app, email=f"m{n}@example.org", full_name=f"M {n}")
        enrol(app, info.id)
        good = n < 10
        answer(
            app,
            info.id,
            "final",
            {"q1": "B" if good else "A", "q2": True, "q3": ["A", "C"] if good else ["B"]},
            START + timedelta(minutes=n),
        )
    refresh(app)
    auth.login("admin")
    page = client.get(f"/reports/{SLUG}/quizzes/final").get_data(as_text=True)
    assert "Too easy" in page  # q2: difficulty 1.0 > 0.9
    assert "Too few responses" not in page
    flagged = client.get(f"/reports/{SLUG}/quizzes/final?flagged=1").get_data(as_text=True)
    assert "Fever is required" in flagged and "Which grade?" not in flagged
    # q1 and q3: difficulty 0.5; q2: 1.0 → q2 first when sorted by difficulty, highest first.
    ordered = client.get(f"/reports/{SLUG}/quizzes/final?sort=difficulty&dir=desc").get_data(as_text=True)
    assert (
        ordered.index("Fever is required")
        < ordered.index("Which grade?")
        < ordered.index("Which are vectors?")
    )


def test_first_view_computes_statistics_and_refresh_recomputes(app, client, auth, seeded):
    auth.login("admin")
    # No statistics yet: the page queues the job (run at once in tests) and shows the fresh figures.
    page = client.get(f"/reports/{SLUG}").get_data(as_text=True)
    assert "Statistics as of" in page
    with app.app_context():
        assert db.session.get(QuizStatistic, _quiz("final").id).attempts == 4
    extra = factories.create_user(app, email="late@example.org", full_name="Late Learner")
    enrol(app, extra.id)
    answer(app, extra.id, "final", ALL_RIGHT, START + timedelta(days=4))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/reports/{SLUG}/refresh", data={"csrf_token": token, "quiz": "final"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/quizzes/final")
    with app.app_context():
        assert db.session.get(QuizStatistic, _quiz("final").id).attempts == 5


@pytest.mark.parametrize(
    ("as_of", "max_age", "expected"),
    [
        (None, None, True),  # never computed
        (START, None, False),  # stale refresh turned off
        (START, timedelta(minutes=15), False),
        (START - timedelta(minutes=16), timedelta(minutes=15), True),
    ],
)
def test_needs_refresh(as_of, max_age, expected):
    assert svc.needs_refresh(as_of, START, max_age) is expected


def test_empty_states(app, client, auth, course):
    auth.login("admin")
    assert "No learner has enrolled yet" in client.get(f"/reports/{SLUG}").get_data(as_text=True)
    assert "No learner has enrolled yet" in client.get(f"/reports/{SLUG}/learners").get_data(as_text=True)
    assert "No learner has submitted this quiz yet" in client.get(f"/reports/{SLUG}/quizzes/final").get_data(
        as_text=True
    )
    assert "0 learners have answered" in client.get(f"/reports/{SLUG}/evaluation").get_data(as_text=True)


# -- evaluation ------------------------------------------------------------------------------------------


def test_evaluation_summary_needs_five_responses(app, client, auth, course):
    auth.login("admin")
    ids = []
    for n in range(5):
        info = factories.create_user(app, email=f"e{n}@example.org", full_name=f"E {n}")
        enrol(app, info.id)
        ids.append(info.id)
    for n, user_id in enumerate(ids[:4]):
        answer(app, user_id, "evaluation", {"useful": 4 if n else 3, "comments": f"Comment {n}"}, START)
    page = client.get(f"/reports/{SLUG}/evaluation").get_data(as_text=True)
    assert "4 learners have answered" in page and "Comment 0" not in page
    assert client.get(f"/reports/{SLUG}/evaluation.csv").status_code == 404
    answer(app, ids[4], "evaluation", {"useful": 4, "comments": "=cmd|x"}, START + timedelta(hours=1))
    page = client.get(f"/reports/{SLUG}/evaluation").get_data(as_text=True)
    assert "5 learners answered" in page
    # Strongly agree (4): 4 of 5 = 80 %; Agree (3): 1 = 20 %.
    assert "4 · 80%" in page and "1 · 20%" in page
    assert "Comment 3" in page and "E 1" not in page  # comments without names
    text = client.get(f"/reports/{SLUG}/evaluation.csv").data.decode("utf-8")
    assert "useful,likert,Strongly agree,4" in text
    assert "comments,comment,'=cmd|x," in text


# -- queries -------------------------------------------------------------------------------------------


def _count(count_queries, client, path: str) -> int:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count


def test_report_pages_constant_queries(app, client, auth, course, count_queries):
    auth.login("admin")
    paths = [
        f"/reports/{SLUG}",
        f"/reports/{SLUG}/learners",
        f"/reports/{SLUG}/quizzes/final",
        f"/reports/{SLUG}/evaluation",
        f"/reports/{SLUG}/learners.csv",
        f"/reports/{SLUG}/learners?q=Q&sort=progress&dir=desc",
        f"/reports/{SLUG}/learners?status=in_progress&profession=nurse&sort=score",
        f"/reports/{SLUG}/funnel.csv",
    ]

    def learners(start: int, count: int) -> None:
        for n in range(start, start + count):
            info = factories.create_user(app, email=f"q{n}@example.org", full_name=f"Q {n}")
            enrol(app, info.id)
            read(app, info.id)
            answer(app, info.id, "final", FIRST[n % 4], START + timedelta(minutes=n))
            answer(app, info.id, "evaluation", {"useful": n % 5, "comments": f"c{n}"}, START)
        refresh(app)

    learners(0, 6)
    few = [_count(count_queries, client, p) for p in paths]
    learners(6, 14)
    many = [_count(count_queries, client, p) for p in paths]
    assert few == many, list(zip(paths, few, many, strict=True))


# -- CLI and bench ---------------------------------------------------------------------------------------


def test_staff_cli(app, runner, auth, course):
    learner = auth.user("learner")
    educator = auth.user("educator")
    result = runner.invoke(args=["courses", "staff", "add", SLUG, learner.email, "--role", "owner"])
    assert result.exit_code == 1 and "not an educator" in result.output
    result = runner.invoke(args=["courses", "staff", "add", SLUG, educator.email, "--role", "owner"])
    assert result.exit_code == 0, result.output
    assert "owner" in runner.invoke(args=["courses", "staff", "list", SLUG]).output
    result = runner.invoke(args=["courses", "staff", "add", "nope", educator.email])
    assert result.exit_code == 1 and 'no course with slug "nope"' in result.output
    result = runner.invoke(args=["courses", "staff", "remove", SLUG, educator.email])
    assert result.exit_code == 0
    assert "no owner or co-author" in runner.invoke(args=["courses", "staff", "list", SLUG]).output


def test_reports_refresh_cli(app, runner, seeded):
    result = runner.invoke(args=["reports", "refresh", SLUG])
    assert result.exit_code == 0, result.output
    assert f"{SLUG}: 3 question(s) analysed." in result.output
    assert runner.invoke(args=["reports", "refresh", "nope"]).exit_code == 1


def test_reports_bench_smoke(capsys):
    path = Path(__file__).resolve().parents[2] / "bench" / "reports_bench.py"
    spec = importlib.util.spec_from_file_location("reports_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--learners", "12", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "12 learners" in out and "ms" in out
