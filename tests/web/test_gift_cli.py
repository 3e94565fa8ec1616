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
    assert f"{path}: line 8: not imported: no option is marked correct" in result.output
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
