"""The Alembic migrations and the models describe the same schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lms.extensions import db


# SQLite cannot reflect expression indexes (ix_user_account_lower_full_name, PostgreSQL only): Alembic skips
# them there with this warning; the PostgreSQL pass compares them.
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index:UserWarning"
)
def test_models_match_migrations(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


OLD_ROWS = [
    "INSERT INTO course (id, slug, source, created_at, current_version_no, title, summary, status,"
    " credit_hours, estimated_minutes, specialties) VALUES (1, 'c', 'bundled', '2026-11-01', 1,"
    " 'CAR-T Café', 'Summary', 'published', 1, 60, '|Haematology|')",
    "INSERT INTO course_version (id, course_id, number, edition, checksum, title, summary, status,"
    " estimated_minutes, credit_hours, details, created_at) VALUES (1, 1, 1, '1', 'x', 't', 's', 'published',"
    " 60, 1, '{}', '2026-11-01')",
    "INSERT INTO course_module (id, version_id, key, position, title, summary)"
    " VALUES (1, 1, 'm', 1, 'M', '')",
    "INSERT INTO course_item (id, version_id, module_id, key, kind, position, title, minutes, content_hash,"
    " html, citations) VALUES (1, 1, 1, 'l1', 'lesson', 1, 'Lesson', 5, '',"
    " '<p>Give <strong>Tocilizumab</strong> &amp; steroids</p>', '[]')",
]


def test_0009_fills_search_text_of_existing_courses_and_lessons(tmp_path):
    """Courses stored before 0009 are found by search at once, without waiting for a changed package."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from lms import create_app
    from lms.config import TestingConfig

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(
        {"CONFIG_CLASS": TestingConfig, "SQLALCHEMY_DATABASE_URI": url, "MAIL_OUTBOX": str(tmp_path)}
    )
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            for statement in OLD_ROWS:
                conn.execute(sa.text(statement))
        upgrade()
        with db.engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT search_text FROM course")).scalar()
                == "car t cafe summary haematology"
            )
            assert conn.execute(sa.text("SELECT search_text FROM course_item")).scalar() == (
                "lesson give tocilizumab & steroids"
            )
        db.engine.dispose()


def test_0011_fills_search_text_of_existing_accounts(tmp_path):
    """Accounts made before 0011 are found by the normalised admin search straight after the upgrade."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from lms import create_app
    from lms.config import TestingConfig

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(
        {"CONFIG_CLASS": TestingConfig, "SQLALCHEMY_DATABASE_URI": url, "MAIL_OUTBOX": str(tmp_path)}
    )
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO user_account (id, email, password_hash, full_name, profession, specialty,"
                    " country, created_at, session_version) VALUES (1, 'jl-m@example.org', 'x',"
                    " 'Jean-Luc NÚÑEZ', 'physician', '', 'FR', '2026-11-01', 0)"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT search_text FROM user_account")).scalar() == (
                "jean luc nunez jl m@example.org"
            )
        db.engine.dispose()
