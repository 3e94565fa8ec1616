"""``flask quizzes import-gift`` and ``export-gift``."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.extensions import db
from lms.quizzes.models import BankQuestion
from tests.packages import sync, write_package

GIFT = """$CATEGORY: imported
::q1::Fever is required for CRS. {T}

::q2::Pick B. {~A =B ~C}

A description only.

::q3::Broken {~x ~y}
"""


def _bank(app) -> list[BankQuestion]:
    with app.app_context():
        rows = db.session.scalars(select(BankQuestion).order_by(BankQuestion.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_import_reports_every_refused_question(app, runner, tmp_path):
    sync(app, write_package(tmp_path))
    path = tmp_path / "bank.gift"
    path.write_text(GIFT, encoding="utf-8")
    result = runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "test-course"])
    assert result.exit_code == 1
    assert "Imported 2 question(s)" in result.output
    assert f"{path}: line 6: not imported: no answer block in braces" in result.output
    assert f"{path}: line 8: not imported: no option has a positive weight" in result.output
    rows = _bank(app)
    assert [(r.key, r.type, r.category) for r in rows] == [
        ("q1", "true_false", "imported"),
        ("q2", "single_choice", "imported"),
    ]
    # Importing again adds copies under new keys, never overwriting.
    runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "test-course"])
    assert [r.key for r in _bank(app)][2:] == ["q1-2", "q2-2"]


def test_non_utf8_file_is_refused_whole(app, runner, tmp_path):
    sync(app, write_package(tmp_path))
    path = tmp_path / "latin1.gift"
    path.write_bytes("::q::Réponse? {T}".encode("latin-1"))
    result = runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "test-course"])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BankQuestion)) == 0


def test_unknown_course(runner, tmp_path):
    path = tmp_path / "x.gift"
    path.write_text("Q? {T}")
    result = runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "nope"])
    assert result.exit_code == 1 and "no course with slug" in result.output


def test_export_then_import_gives_same_bank(app, runner, tmp_path):
    sync(app, write_package(tmp_path))
    path = tmp_path / "bank.gift"
    path.write_text(
        GIFT.replace("::q3::Broken {~x ~y}", "").replace("A description only.", ""), encoding="utf-8"
    )
    assert runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "test-course"]).exit_code == 0
    out = tmp_path / "out.gift"
    result = runner.invoke(args=["quizzes", "export-gift", "--course", "test-course", "-o", str(out)])
    assert result.exit_code == 0 and "Wrote 2 question(s)" in result.output
    before = [r.spec for r in _bank(app)]
    sync(app, write_package(tmp_path / "other", slug="other-course"))
    assert runner.invoke(args=["quizzes", "import-gift", str(out), "--course", "other-course"]).exit_code == 0
    after = [r.spec for r in _bank(app)][2:]
    assert after == before


def test_export_a_course_quiz(app, runner, tmp_path):
    sync(app, write_package(tmp_path))
    result = runner.invoke(args=["quizzes", "export-gift", "--course", "test-course", "--quiz", "check"])
    assert result.exit_code == 0
    assert "::q1::[markdown]Which grade? {" in result.output
    assert "=Two #Yes." in result.output
    missing = runner.invoke(args=["quizzes", "export-gift", "--course", "test-course", "--quiz", "nope"])
    assert missing.exit_code == 1


def test_long_names_and_categories_never_overflow_a_column(app, runner, tmp_path):
    """Moodle allows 255-character names and deep category paths; the bank's columns are shorter."""
    sync(app, write_package(tmp_path))
    long_category = "$course$/top/" + "/".join(["Gene therapy module"] * 20)  # ~410 characters
    fine_category = "$course$/top/" + "x" * 280
    name = "A very long Moodle question name, with punctuation: " * 5
    path = tmp_path / ("bank-" + "n" * 200 + ".gift")
    path.write_text(
        f"$CATEGORY: {fine_category}\n\n::{name}::Kept? {{T}}\n\n::{name}::Kept too? {{F}}\n\n"
        f"$CATEGORY: {long_category}\n\n::Too deep::Refused? {{T}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "test-course"])
    assert result.exit_code == 1
    assert "Imported 2 question(s)" in result.output
    assert (
        f"{path}: line 9: not imported: its category is {len(long_category)} characters long" in result.output
    )
    rows = _bank(app)
    assert [len(r.key) <= 80 for r in rows] == [True, True]
    assert rows[0].key != rows[1].key
    assert rows[0].spec["title"] == name.strip() and rows[0].category == fine_category
    assert all(len(r.source) <= 300 and r.source.endswith((":3", ":5")) for r in rows)
    # importing again gives new keys that still fit
    runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "test-course"])
    assert all(len(r.key) <= 80 for r in _bank(app)) and len({r.key for r in _bank(app)}) == 4


def test_warnings_and_export_report(app, runner, tmp_path):
    sync(app, write_package(tmp_path))
    path = tmp_path / "moodle.gift"
    path.write_text(
        "$CATEGORY: Moodle/Weights\n\n"
        "::neg::Pick b. {~%-50%a =b ~%50%c}\n\n"
        "$CATEGORY: Moodle/Typed\n\n"
        "::sa::Which cat? {=%50%Cat* =Catfish#Exactly.}\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["quizzes", "import-gift", str(path), "--course", "test-course"])
    assert result.exit_code == 0, result.output
    assert f"{path}: line 3: warning: a negative weight" in result.output
    out = tmp_path / "out.gift"
    result = runner.invoke(args=["quizzes", "export-gift", "--course", "test-course", "-o", str(out)])
    assert result.exit_code == 0
    assert "Moodle grades differently: neg: choosing A scores -0.5 in Moodle, 0 in Helix" in result.output
    text = out.read_text(encoding="utf-8")
    assert "$CATEGORY: Moodle/Weights\n" in text and "$CATEGORY: Moodle/Typed\n" in text
    assert "=%50%Cat*\n\t=Catfish #Exactly." in text  # Moodle's first-match order kept
