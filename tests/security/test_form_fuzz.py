"""Property-based: random values posted to every form (as form fields or JSON) never give a 5xx.

Hypothesis runs about 20 derandomised examples per form. Each example is rolled back: during the examples
``Session.commit`` only flushes, so a request's writes vanish when its session is removed at teardown, and
every example meets the same database (seeded once, for real, before the examples start).
"""

from __future__ import annotations

from typing import Any

import pytest
from flask_sqlalchemy.session import Session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.auth import services
from lms.auth.models import User
from lms.authoring import services as authoring
from lms.extensions import db
from lms.timeutil import utcnow
from tests import factories
from tests.packages import sync, write_package


def _zip(folder) -> bytes:
    from lms.coursepacks.reader import read_folder

    return authoring.export_zip(read_folder(folder).files, "test-course")


PROFILE = ["full_name", "profession", "specialty", "country", "licence_number"]
#: the authoring forms' field names (each form reads the ones it has)
AUTHORING_FIELDS = [
    "path",
    "content",
    "base_hash",
    "note",
    "email",
    "title",
    "key",
    "direction",
    "index",
    "type",
    "reason",
    "minutes",
    "quiz_key",
    "settings",
    "module",
    "action",
    "faculty-0-name",
    "faculty-0-remove",
    "references-0-key",
    "completion-require_quizzes",
    "completion-min_minutes",
    "pass_mark",
    "opens_at",
    "closes_at",
    "specialties",
    "prompt",
    "apply",
]

#: every POST endpoint: (role signed in, or None) and the form's field names; path values come from ``_seed``
FORMS: dict[str, tuple[str | None, list[str]]] = {
    "auth.register": (None, ["email", "password", "confirm_password", *PROFILE]),
    "auth.login": (None, ["email", "password", "remember"]),
    "auth.forgot_password": (None, ["email"]),
    "auth.reset_password": (None, ["new_password", "confirm_password"]),
    "auth.resend_confirmation": (None, ["email"]),
    "auth.request_login_link": (None, ["email"]),
    "auth.login_with_link": (None, []),
    "auth.profile": ("learner", PROFILE),
    "auth.change_password": ("learner", ["current_password", "new_password", "confirm_password"]),
    "auth.sign_out_everywhere": ("learner", []),
    "admin.change_role": ("admin", ["role", "action"]),
    "admin.disable": ("admin", ["reason"]),
    "admin.enable": ("admin", []),
    "catalog.enrol": ("learner", ["action"]),
    "learning.complete": ("learner", []),
    "quizzes.begin": ("learner", []),
    "quizzes.save": ("learner", ["q1", "q2", "go"]),
    "quizzes.submit": ("learner", ["q1", "q2"]),
    "admin.grant_attempt": ("admin", ["course", "quiz", "reason"]),
    "admin.resolve_flag": ("admin", ["f1-outcome", "f1-note", "course", "state"]),
    "admin.settings": (
        "admin",
        ["provider_name", "signatory_name", "signatory_title", "paper", "remove_logo"],
    ),
    "certificates.claim": ("learner", ["hours", "attest", "printed_name"]),
    "certificates.request_correction": ("learner", ["correction-printed_name", "correction-note"]),
    "certificates_admin.auto_issue": ("admin", ["auto_issue"]),
    "certificates_admin.decline": ("admin", ["reason"]),
    "certificates_admin.issue_bulk": ("admin", ["scope", "confirm", "claim_id", "course"]),
    "certificates_admin.issue_one": ("admin", []),
    "certificates_admin.reissue": ("admin", ["reissue-reason", "reissue-printed_name"]),
    "certificates_admin.revoke": ("admin", ["revoke-reason"]),
    "certificates_admin.zip_request": ("admin", []),
    "reports.refresh": ("admin", []),
    **{
        f"authoring.{name}": ("admin", AUTHORING_FIELDS)
        for name in (
            "add_item",
            "add_module",
            "delete_file",
            "details",
            "edit_file",
            "extend_time",
            "from_bank",
            "gift",
            "grant",
            "import_package",
            "invite",
            "move",
            "move_question",
            "preview",
            "publish",
            "question",
            "quiz_settings",
            "regrade_quiz",
            "revoke_invitation",
            "start_draft",
            "try_quiz",
            "upload_image",
        )
    },
    "authoring.new_course": ("educator", ["slug", "title"]),
    "authoring.invitation": ("learner", []),
    "authoring.preview_published": ("admin", ["state", "q1", "q2", "q3", "go", "page"]),
}
#: POST endpoints deliberately left out, with the reason
EXCLUDED = {
    "auth.logout": "takes no input; ending the session is covered by tests/security/test_sessions.py",
}

TRICKY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a" * 3000,
        "' OR '1'='1",
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "-1",
        "99999999999999999999",
        "nan",
        "true",
        "grant",
        "admin",
        "B",
        "Zoë",
        "\u202e",
        "%00",
        "y",
    ]
)
TEXT = st.one_of(TRICKY, st.text(max_size=40), st.text(min_size=200, max_size=400))
JSON_VALUE = st.one_of(TEXT, st.integers(), st.none(), st.booleans(), st.lists(TEXT, max_size=3), st.floats())


def test_every_post_route_is_fuzzed_or_excluded(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    missing = posts - FORMS.keys() - EXCLUDED.keys()
    assert not missing, f"add these POST endpoints to FORMS (or EXCLUDED with a reason): {sorted(missing)}"


def _seed(app, tmp_path) -> dict[str, Any]:
    folder = write_package(tmp_path)
    sync(app, folder)
    learner = factories.create_user(app, email="learner@example.org", password="correct horse battery")
    factories.create_user(app, email="admin@example.org", password="correct horse battery", roles=("admin",))
    with app.app_context():
        user = db.session.get(User, learner.id)
        reset = services.create_reset_token(user, utcnow())
        link = services.issue_login_link(user, utcnow())
        # a draft, so the authoring forms (details, quiz settings…) get past their 404
        course = authoring.get_course("test-course")
        authoring.import_package(
            course, _zip(folder), "test-course.zip", app.extensions["lms"].question_types, None, utcnow()
        )
        db.session.commit()
    return {"user": learner, "reset": reset, "link": link}


def _path(app, endpoint: str, seed: dict[str, Any], attempt_id: int | None) -> str:
    values: dict[str, Any] = {
        "auth.reset_password": {"token": seed["reset"]},
        "auth.login_with_link": {"token": seed["link"]},
        "admin.change_role": {"user_id": seed["user"].id},
        "admin.disable": {"user_id": seed["user"].id},
        "admin.enable": {"user_id": seed["user"].id},
        "catalog.enrol": {"slug": "test-course"},
        "learning.complete": {"slug": "test-course", "key": "l1"},
        "quizzes.begin": {"slug": "test-course", "key": "check"},
        "quizzes.save": {"attempt_id": attempt_id},
        "quizzes.submit": {"attempt_id": attempt_id},
        "admin.grant_attempt": {"user_id": seed["user"].id},
        "admin.resolve_flag": {"flag_id": 1},
        "certificates.claim": {"slug": "test-course"},
        "certificates.request_correction": {"serial": "7KQ2-M9XD-4HTB-W0RC"},
        "certificates_admin.auto_issue": {"course": "test-course"},
        "certificates_admin.decline": {"claim_id": 1},
        "certificates_admin.issue_bulk": {"course": "test-course"},
        "certificates_admin.issue_one": {"claim_id": 1},
        "certificates_admin.reissue": {"serial": "7KQ2-M9XD-4HTB-W0RC"},
        "certificates_admin.revoke": {"serial": "7KQ2-M9XD-4HTB-W0RC"},
        "certificates_admin.zip_request": {"course": "test-course"},
        "reports.refresh": {"slug": "test-course"},
        **{
            name: {"slug": "test-course"}
            for name in FORMS
            if name.startswith("authoring.") and name != "authoring.new_course"
        },
        "authoring.revoke_invitation": {"slug": "test-course", "invitation_id": 1},
        **{
            f"authoring.{name}": {"slug": "test-course", "path": "quizzes/check.toml"}
            for name in ("quiz_settings", "question", "move_question", "from_bank", "try_quiz")
        },
        "authoring.invitation": {"token": "no-such-token"},
        "authoring.preview_published": {"slug": "test-course", "key": "check"},
    }.get(endpoint, {})
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


@pytest.mark.parametrize("endpoint", sorted(FORMS))
def test_random_values_never_give_a_server_error(app, client, tmp_path, monkeypatch, endpoint):
    role, fields = FORMS[endpoint]
    seed = _seed(app, tmp_path)
    attempt_id = None
    if role:
        client.post("/login", data={"email": f"{role}@example.org", "password": "correct horse battery"})
        if role == "learner":
            client.post("/courses/test-course/enrol")
            started = client.post("/courses/test-course/quizzes/check/start")
            attempt_id = int(started.headers["Location"].rsplit("/", 1)[1])
    path = _path(app, endpoint, seed, attempt_id)
    cookie = client.get_cookie("session")
    monkeypatch.setattr(Session, "commit", Session.flush)  # every example is rolled back

    @settings(
        max_examples=20,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        values=st.fixed_dictionaries({}, optional={name: TEXT for name in fields}),
        json_values=st.fixed_dictionaries({}, optional={name: JSON_VALUE for name in fields}),
        as_json=st.booleans(),
    )
    def post(values: dict[str, str], json_values: dict[str, Any], as_json: bool) -> None:
        if cookie is not None:
            client.set_cookie("session", cookie.value)
        response = client.post(path, json=json_values) if as_json else client.post(path, data=values)
        assert response.status_code < 500, (endpoint, values if not as_json else json_values)

    post()
