"""Certificates through the app: completion per edition, claims, issuance, verification, records."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from lms.auth.models import AuditEvent, User
from lms.catalog.models import Course
from lms.certificates import serials
from lms.certificates import services as svc
from lms.certificates.models import (
    AppendOnlyViolation,
    Certificate,
    CertificateClaim,
    CourseCompletion,
    ExpiryReminder,
)
from lms.extensions import db
from tests.certs import complete, read_lessons, sync_cert_course, take_quiz

START = datetime(2026, 11, 20, 9, 0)


def settings() -> svc.IssuerSettings:
    return svc.IssuerSettings(
        base_url="https://lms.example.org",
        site_name="Helix LMS",
        provider_name="Helix Medical Education",
        signatory_name="Dr Ada Lovelace",
        signatory_title="Course Director",
    )


def _course(slug="certified") -> Course:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def _claim(app, user_id, slug="certified", hours=2.0, now=START + timedelta(hours=2), name=""):
    with app.app_context():
        claim = svc.submit_claim(
            _user(user_id), _course(slug), svc.ClaimInput(hours, True, name), settings(), now
        )
        db.session.commit()
        return claim.id


def _issue(app, claim_id, now=START + timedelta(days=1)) -> str:
    with app.app_context():
        cert = svc.issue_claim(db.session.get(CertificateClaim, claim_id), None, settings(), now)
        db.session.commit()
        return cert.serial


@pytest.fixture
def learner(app):
    from tests import factories

    return factories.create_user(app, email="nunez@example.org", full_name="María Núñez")


@pytest.fixture
def course(app, tmp_path):
    return sync_cert_course(app, tmp_path)


# -- completion per edition ---------------------------------------------------------------------------


def test_completion_recorded_once_with_score_and_time(app, course, learner):
    complete(app, learner.id, course, START)
    with app.app_context():
        rows = list(db.session.scalars(select(CourseCompletion)))
        assert len(rows) == 1
        c = rows[0]
        assert c.version_no == 1 and c.edition == "2026.1" and c.final_score == 1.0
        # The evaluation's submission (START + 45 min) completes the course.
        assert c.completed_at == START + timedelta(minutes=45)
        # enrol 9:00, l1 9:00, l2 9:10, final 9:30/9:35, evaluation 9:40/9:45 (and autosaves at submit)
        assert c.minutes_spent == 45
    # A retake on the same edition never changes the frozen completion date.
    take_quiz(app, learner.id, course, "final", True, START + timedelta(days=3))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CourseCompletion)) == 1
        assert db.session.scalar(select(CourseCompletion.completed_at)) == START + timedelta(minutes=45)


def test_incomplete_learner_sees_what_is_missing(app, client, auth, course):
    auth.login()
    client.post(f"/courses/{course}/enrol", data={"action": "enrol"})
    html = client.get(f"/courses/{course}/certificate").get_data(as_text=True)
    assert "What is missing" in html and "Still to do: Lesson one." in html and "Final assessment" in html
    assert 'name="hours"' not in html


def test_new_edition_needs_its_own_final_and_rereads_changed_lessons(app, tmp_path, course, learner):
    complete(app, learner.id, course, START)
    # Edition 2026.2 changes lesson two; lesson one is unchanged.
    sync_cert_course(app, tmp_path, edition="2026.2", l2_body="Second lesson, rewritten.")
    with app.app_context():
        progress = svc.edition_progress(learner.id, _course())
        assert progress.version.number == 2
        assert not progress.complete
        assert progress.missing == ["Lesson two", "Final assessment", "Evaluation"]
    read_lessons(app, learner.id, course, START + timedelta(days=30), keys=("l2",))
    with app.app_context():
        assert svc.edition_progress(learner.id, _course()).missing == ["Final assessment", "Evaluation"]
    take_quiz(app, learner.id, course, "final", True, START + timedelta(days=30, hours=1))
    take_quiz(app, learner.id, course, "evaluation", 5, START + timedelta(days=30, hours=2))
    with app.app_context():
        editions = [
            c.edition for c in db.session.scalars(select(CourseCompletion).order_by(CourseCompletion.id))
        ]
        assert editions == ["2026.1", "2026.2"]


def test_attempt_limits_count_per_edition(app, tmp_path, learner):
    extra_final = "max_attempts = 1\n"
    folder_kwargs = dict(slug="limited")
    sync_cert_course(app, tmp_path, **folder_kwargs)
    from lms.quizzes import services as quiz_services
    from lms.quizzes.models import Quiz

    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.key == "final"))
        db.session.execute(
            update(Quiz).where(Quiz.id == quiz.id).values(settings={**quiz.settings, "max_attempts": 1})
        )
        db.session.commit()
    assert extra_final
    complete(app, learner.id, "limited", START)
    with app.app_context():
        quiz = db.session.scalar(select(Quiz).where(Quiz.key == "final"))
        with pytest.raises(quiz_services.QuizError):
            quiz_services.start_attempt(
                learner.id,
                _course("limited"),
                quiz,
                app.extensions["lms"].question_types,
                now=START + timedelta(days=1),
            )
    sync_cert_course(app, tmp_path, slug="limited", edition="2026.2")
    # The new edition's final has its own attempts.
    assert take_quiz(app, learner.id, "limited", "final", True, START + timedelta(days=2))


# -- claims ---------------------------------------------------------------------------------------------


def test_claim_through_the_page_and_status_everywhere(app, client, auth, course):
    info = auth.login()
    complete(app, info.id, course, START)
    page = client.get(f"/courses/{course}/certificate").get_data(as_text=True)
    assert 'name="hours"' in page and 'name="attest"' in page
    assert "publicly verifiable" in page
    assert "Certificate of participation: up to 2 hours" in page
    response = client.post(f"/courses/{course}/certificate", data={"hours": "1.5", "attest": "y"})
    assert response.status_code == 302
    assert "Claim pending" in client.get(f"/courses/{course}/certificate").get_data(as_text=True)
    assert "Claim pending" in client.get("/dashboard").get_data(as_text=True)
    assert "Claim pending" in client.get(f"/courses/{course}").get_data(as_text=True)
    with app.app_context():
        claim = db.session.scalar(select(CertificateClaim))
        assert claim.hours == 1.5 and claim.over_time  # 90 min claimed, 45 recorded: flagged
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "claim.create"))
    # A second claim for the same edition is refused while the first is pending.
    again = client.get(f"/courses/{course}/certificate").get_data(as_text=True)
    assert "already claimed" in again and 'name="hours"' not in again


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "3", "attest": "y"}, "at most 2 hours"),
        ({"hours": "1.1", "attest": "y"}, "steps of a quarter hour"),
        ({"hours": "1"}, "Tick the attestation"),
        ({"hours": "", "attest": "y"}, "Enter the hours"),
    ],
)
def test_claim_form_errors(app, client, auth, course, data, message):
    info = auth.login()
    complete(app, info.id, course, START)
    response = client.post(f"/courses/{course}/certificate", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CertificateClaim)) == 0


def test_claim_above_recorded_time_is_flagged_not_refused(app, course, learner):
    complete(app, learner.id, course, START)  # 45 minutes recorded
    claim_id = _claim(app, learner.id, hours=2.0)
    with app.app_context():
        assert db.session.get(CertificateClaim, claim_id).over_time
        rows = svc.queue(None, "pending")
        assert rows[0].flags == ["claims 2 h; 45 min recorded"]


def test_unconfirmed_email_cannot_claim(app, course, learner):
    complete(app, learner.id, course, START)
    with app.app_context():
        db.session.get(User, learner.id).email_confirmed_at = None
        db.session.commit()
        page = svc.claim_page(_user(learner.id), _course(), START.date())
        assert any("Confirm your email" in b for b in page.blockers)
        with pytest.raises(svc.CertificateError):
            svc.submit_claim(_user(learner.id), _course(), svc.ClaimInput(1, True), settings(), START)


def test_claim_window_release_and_termination(app, tmp_path, learner):
    sync_cert_course(app, tmp_path, slug="windowed", release="2026-01-01", expiry="2026-12-31")
    complete(app, learner.id, "windowed", START)
    with app.app_context():
        user, course = _user(learner.id), _course("windowed")
        assert svc.claim_page(user, course, date(2026, 12, 1)).can_claim
        # Completed before termination: still claimable afterwards.
        assert svc.claim_page(user, course, date(2027, 2, 1)).can_claim
        before = svc.claim_page(user, course, date(2025, 6, 1))
        assert "opens for credit" in before.blockers[0]


def test_catalog_marks_closed_for_credit(app, client, tmp_path):
    sync_cert_course(app, tmp_path, slug="closedcourse", release="2020-01-01", expiry="2021-01-01")
    html = client.get("/courses").get_data(as_text=True)
    assert "Closed for credit" in html


def test_name_that_cannot_be_printed_needs_a_printed_name(app, course):
    from tests import factories

    info = factories.create_user(app, email="bidi@example.org", full_name="Eve \u202eevil")
    complete(app, info.id, course, START)
    with app.app_context():
        page = svc.claim_page(_user(info.id), _course(), START.date())
        assert page.name_problems
        with pytest.raises(svc.CertificateError, match="name as printed"):
            svc.submit_claim(_user(info.id), _course(), svc.ClaimInput(1, True), settings(), START)
    claim_id = _claim(app, info.id, hours=1, name="Eve Evil")
    serial = _issue(app, claim_id)
    with app.app_context():
        assert svc.get_certificate(serial).snapshot["holder_name"] == "Eve Evil"


# -- issuance, states and records ----------------------------------------------------------------------


def test_issue_snapshot_and_participation_wording(app, course, learner):
    complete(app, learner.id, course, START)
    serial = _issue(app, _claim(app, learner.id, hours=1.75))
    with app.app_context():
        cert = svc.get_certificate(serial)
        s = cert.snapshot
        assert s["holder_name"] == "María Núñez" and s["profession"] == "Physician"
        assert s["hours"] == 1.75 and s["accredited"] is False and s["credit_type"] == ""
        assert s["designation_statement"] == "" and s["accreditation_statement"] == ""
        assert s["completion_date"] == "2026-11-20" and s["issued_on"] == "2026-11-21"
        assert s["expires_on"] == "2028-11-20"  # 24 months from completion
        assert s["verify_url"] == f"https://lms.example.org/verify/{serials.display(serial)}"
        assert s["signatory_name"] == "Dr Ada Lovelace"


def test_accredited_course_prints_credit_statements(app, tmp_path, learner):
    sync_cert_course(app, tmp_path, slug="accredited", accredited=True)
    complete(app, learner.id, "accredited", START)
    serial = _issue(app, _claim(app, learner.id, slug="accredited", hours=1.5))
    with app.app_context():
        s = svc.get_certificate(serial).snapshot
        assert s["credit_type"] == "AMA PRA Category 1 Credit™"
        assert s["designation_statement"] == (
            "Helix Medical Education designates this enduring material for a maximum of 1.5 "
            "AMA PRA Category 1 Credits™."
        )
        assert s["accreditation_statement"] == "Helix Medical Education is accredited by the ACCME."


def test_snapshot_never_changes_with_later_settings_or_course_changes(app, tmp_path, course, learner):
    complete(app, learner.id, course, START)
    serial = _issue(app, _claim(app, learner.id))
    with app.app_context():
        before = dict(svc.get_certificate(serial).snapshot)
        db.session.get(User, learner.id).full_name = "Someone Else"
        db.session.commit()
    sync_cert_course(app, tmp_path, edition="2026.2", hours=3.0)
    with app.app_context():
        assert svc.get_certificate(serial).snapshot == before


def test_no_certificate_without_completion_and_claim(app, course, learner):
    with app.app_context():
        with pytest.raises(svc.CertificateError):
            svc.submit_claim(_user(learner.id), _course(), svc.ClaimInput(1, True), settings(), START)
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_decline_revoke_reissue_history_and_mail(app, course, learner):
    complete(app, learner.id, course, START)
    claim_id = _claim(app, learner.id)
    with app.app_context():
        admin = _user(learner.id)  # any account can act in a service test; routes check the role
        svc.decline_claim(
            db.session.get(CertificateClaim, claim_id), admin, "Hours exceed the activity", START
        )
        db.session.commit()
        assert svc.claim_state(db.session.get(CertificateClaim, claim_id)) == "declined"
    claim_id = _claim(app, learner.id, hours=0.75)
    serial = _issue(app, claim_id)
    with app.app_context():
        cert = svc.get_certificate(serial)
        new = svc.reissue(cert, _user(learner.id), "Name corrected", "María José Núñez", settings(), START)
        db.session.commit()
        views = {v.certificate.serial: v.state for v in svc.certificate_views(svc.chain(new), START.date())}
        assert views == {serial: "superseded", new.serial: "valid"}
        with pytest.raises(svc.CertificateError):
            svc.reissue(svc.get_certificate(serial), _user(learner.id), "again", "", settings(), START)
        svc.revoke(new, None, "Issued in error", START)
        db.session.commit()
        assert svc.verify(new.serial, START.date()).state == "revoked"
        actions = set(db.session.scalars(select(AuditEvent.action)))
        assert {
            "claim.create",
            "claim.decline",
            "certificate.issue",
            "certificate.reissue",
            "certificate.revoke",
        } <= actions
    from lms.mail import read_outbox

    with app.app_context():
        subjects = [m.subject for m in read_outbox()]
    assert "Your certificate claim was declined" in subjects
    assert sum("was revoked" in s for s in subjects) == 1
    assert sum(s.startswith("Your certificate for") for s in subjects) == 2  # issue + reissue


def test_records_are_append_only(app, course, learner):
    complete(app, learner.id, course, START)
    serial = _issue(app, _claim(app, learner.id))
    with app.app_context():
        cert = svc.get_certificate(serial)
        cert.hours = 99
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()
        event = db.session.scalar(select(AuditEvent))
        db.session.delete(event)
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()


def test_whole_flow_never_updates_or_deletes_records(app, client, auth, course, count_queries):
    info = auth.login("admin")
    complete(app, info.id, course, START)
    with count_queries() as counter:
        client.post(f"/courses/{course}/certificate", data={"hours": "1", "attest": "y"})
        with app.app_context():
            claim_id = db.session.scalar(select(CertificateClaim.id))
        client.post(f"/admin/certificates/claims/{claim_id}/issue")
        with app.app_context():
            serial = serials.display(db.session.scalar(select(Certificate.serial)))
        client.post(
            f"/admin/certificates/{serial}/reissue",
            data={"reissue-reason": "typo", "reissue-printed_name": "Test A"},
        )
        client.post(f"/admin/certificates/{serial}/revoke", data={"revoke-reason": "error"})
    with app.app_context():
        from lms.certificates.models import CertificateRevocation

        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 2  # issued, then reissued
        assert db.session.scalar(select(func.count()).select_from(CertificateRevocation)) == 1
    assert any(s.lstrip().upper().startswith("INSERT INTO CERTIFICATE ") for s in counter.statements)
    tables = (
        "audit_event",
        "certificate",
        "certificate_claim",
        "claim_decline",
        "certificate_revocation",
        "course_completion",
    )
    for statement in counter.statements:
        head = statement.lstrip().upper()
        if head.startswith(("UPDATE", "DELETE")):
            assert not any(re.search(rf"\b{t.upper()}\b", head.split(" SET ")[0]) for t in tables), statement


# -- admin pages and permissions ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "learner", "educator"])
def test_admin_certificate_pages_need_admin(client, auth, role, course):
    if role:
        auth.login(role)
    for url in ("/admin/certificates/", "/admin/certificates/audit", "/admin/certificates/export.csv"):
        response = client.get(url)
        assert response.status_code == (302 if role is None else 403), url


def test_admin_queue_issue_many_with_confirmation(app, client, auth, course):
    from tests import factories

    ids = []
    for n in range(3):
        u = factories.create_user(app, email=f"l{n}@example.org", full_name=f"Learner {n}")
        complete(app, u.id, course, START)
        ids.append(_claim(app, u.id))
    auth.login("admin")
    html = client.get(f"/admin/certificates/?course={course}").get_data(as_text=True)
    assert "3 claim(s) pending" in html and "3 pending for this course" in html
    # Without the confirmation nothing is issued.
    client.post(f"/admin/certificates/issue?course={course}", data={"scope": "all"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    client.post(
        f"/admin/certificates/issue?course={course}",
        data={"scope": "selected", "claim_id": [ids[0]], "confirm": "y"},
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1
    response = client.post(
        f"/admin/certificates/issue?course={course}",
        data={"scope": "all", "confirm": "y"},
        follow_redirects=True,
    )
    assert "2 certificate(s) issued." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 3


def test_auto_issue_setting_is_audited_and_issues_on_claim(app, client, auth, course):
    auth.login("admin")
    client.post(f"/admin/certificates/auto-issue?course={course}", data={"auto_issue": "y"})
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent.detail).where(AuditEvent.action == "course.auto_issue")
        ) == (f"{course}: on")
    from tests import factories

    u = factories.create_user(app, email="auto@example.org")
    complete(app, u.id, course, START)
    _claim(app, u.id)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_certificate_pages_are_owner_or_admin_only(app, client, auth, course, learner):
    complete(app, learner.id, course, START)
    serial = serials.display(_issue(app, _claim(app, learner.id)))
    auth.login("learner")  # another learner
    for url in (
        f"/certificates/{serial}",
        f"/certificates/{serial}.pdf",
        f"/certificates/{serial}/credential.json",
        f"/certificates/{serial}/credential.jwt",
        f"/certificates/{serial}.png",
    ):
        assert client.get(url).status_code == 404, url


def test_csv_export_is_bom_iso_and_formula_safe(app, client, auth, tmp_path):
    from tests import factories

    sync_cert_course(app, tmp_path, slug="csvcourse")
    u = factories.create_user(app, email="formula@example.org", full_name="=HYPERLINK(1)")
    complete(app, u.id, "csvcourse", START)
    _issue(app, _claim(app, u.id, slug="csvcourse"))
    auth.login("admin")
    response = client.get("/admin/certificates/export.csv?course=csvcourse")
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffname,profession,licence_number,course,edition,hours")
    assert "'=HYPERLINK(1)" in body and "2026-11-20" in body
    assert response.headers["Cache-Control"] == "no-store"


# -- verification ---------------------------------------------------------------------------------------


def test_public_verify_states_and_headers(app, client, course, learner):
    complete(app, learner.id, course, START)
    serial = _issue(app, _claim(app, learner.id))
    shown = serials.display(serial)
    response = client.get(f"/verify/{shown}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Valid certificate" in html and "María Núñez" in html
    assert "nunez@example.org" not in html
    assert response.headers["X-Robots-Tag"] == "noindex" and response.headers["Cache-Control"] == "no-store"
    # Other spellings redirect to the canonical URL.
    lower = client.get(f"/verify/{serial.lower()}")
    assert lower.status_code == 301 and lower.headers["Location"].endswith(f"/verify/{shown}")
    # A typo is told apart from an unknown serial.
    typo = serial[:-1] + ("0" if serial[-1] != "0" else "1")
    assert "has a typo" in client.get(f"/verify/{typo}").get_data(as_text=True)
    unknown = serials.new_serial()
    missing = client.get(f"/verify/{serials.display(unknown)}")
    assert missing.status_code == 404 and "No certificate has this serial" in missing.get_data(as_text=True)
    # The lookup form sends to the canonical page.
    assert client.get(f"/verify?serial={serial.lower()}").headers["Location"].endswith(f"/verify/{shown}")


def test_verify_superseded_links_to_current(app, client, course, learner):
    complete(app, learner.id, course, START)
    serial = _issue(app, _claim(app, learner.id))
    with app.app_context():
        new = svc.reissue(
            svc.get_certificate(serial), _user(learner.id), "typo", "Maria Nunez", settings(), START
        )
        db.session.commit()
        new_serial = serials.display(new.serial)
    html = client.get(f"/verify/{serials.display(serial)}").get_data(as_text=True)
    assert "Superseded" in html and new_serial in html


def test_verify_runs_at_most_three_queries(app, client, course, learner, count_queries):
    complete(app, learner.id, course, START)
    shown = serials.display(_issue(app, _claim(app, learner.id)))
    with count_queries() as counter:
        assert client.get(f"/verify/{shown}").status_code == 200
    assert counter.count <= 3, counter.statements


# -- CLI ------------------------------------------------------------------------------------------------


def test_cli_list_issue_revoke_export_import(app, runner, course, learner, tmp_path):
    complete(app, learner.id, course, START)
    _claim(app, learner.id)
    listed = runner.invoke(args=["certificates", "list", "--course", course, "--status", "pending"])
    assert listed.exit_code == 0 and listed.output.startswith("-\tpending\tnunez@example.org")
    issued = runner.invoke(args=["certificates", "issue", "--course", course, "--all-pending"])
    assert issued.exit_code == 0 and "1 certificate(s) issued." in issued.output
    line = runner.invoke(args=["certificates", "list", "--course", course]).output.strip().splitlines()[-1]
    serial = line.split("\t")[0]
    assert serials.parse(serial).valid and line.split("\t")[1] == "valid"
    out = tmp_path / "export.csv"
    assert runner.invoke(args=["certificates", "export", "--course", course, "-o", str(out)]).exit_code == 0
    assert out.read_text("utf-8").startswith("\ufeffname")
    revoked = runner.invoke(args=["certificates", "revoke", serial.lower(), "--reason", "Issued in error"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in runner.invoke(args=["certificates", "list", "--status", "revoked"]).output
    # Import: every problem with its line, nothing half-imported.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,course,edition,completion_date,hours,issued_on,expires_on,serial\n"
        f"nunez@example.org,{course},2019.1,2019-05-01,2,2019-05-02,2021-05-01,\n"
        "nobody@example.org,certified,2019.1,2019-05-01,2,2019-05-02,,\n"
    )
    result = runner.invoke(args=["certificates", "import", str(bad)])
    assert result.exit_code != 0 and "line 3: no account" in result.output
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Certificate).where(Certificate.imported)) == 0
        )
    good = tmp_path / "good.csv"
    good.write_text(
        "email,course,edition,completion_date,hours,issued_on,expires_on,serial\n"
        f"nunez@example.org,{course},2019.1,2019-05-01,2,2019-05-02,2021-05-01,\n"
    )
    result = runner.invoke(args=["certificates", "import", str(good)])
    assert result.exit_code == 0 and "1 certificate(s) imported." in result.output
    with app.app_context():
        cert = db.session.scalar(select(Certificate).where(Certificate.imported))
        assert cert.snapshot["edition"] == "2019.1" and cert.expires_on == date(2021, 5, 1)
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "certificate.import"))


def test_reminders_sent_once_per_threshold(app, runner, course, learner):
    complete(app, learner.id, course, START)
    _issue(app, _claim(app, learner.id))  # expires 2028-11-20
    from lms.mail import read_outbox

    def reminders():
        with app.app_context():
            return [m for m in read_outbox() if "expires on" in m.subject]

    assert "0 reminder(s)" in runner.invoke(args=["certificates", "remind", "--today", "2028-09-20"]).output
    assert "1 reminder(s)" in runner.invoke(args=["certificates", "remind", "--today", "2028-09-21"]).output
    assert "0 reminder(s)" in runner.invoke(args=["certificates", "remind", "--today", "2028-09-22"]).output
    assert "1 reminder(s)" in runner.invoke(args=["certificates", "remind", "--today", "2028-11-06"]).output
    assert "0 reminder(s)" in runner.invoke(args=["certificates", "remind", "--today", "2028-11-07"]).output
    assert len(reminders()) == 2
    with app.app_context():
        assert sorted(db.session.scalars(select(ExpiryReminder.days))) == [14, 60]
    bad = runner.invoke(args=["certificates", "remind", "--today", "tomorrow"])
    assert bad.exit_code != 0 and "--today must be a date" in bad.output


def test_dashboard_warns_before_expiry(app, course, learner):
    complete(app, learner.id, course, START)
    _issue(app, _claim(app, learner.id))
    with app.app_context():
        course_id = _course().id
        assert (
            svc.status_for(learner.id, [course_id], date(2028, 9, 1))[course_id].label == "Certificate valid"
        )
        assert svc.status_for(learner.id, [course_id], date(2028, 10, 1))[course_id].label == (
            "Certificate expiring soon"
        )
        assert (
            svc.status_for(learner.id, [course_id], date(2028, 11, 20))[course_id].label
            == "Certificate expired"
        )


def test_transcript_totals(app, client, auth, tmp_path, course):
    info = auth.login()
    sync_cert_course(app, tmp_path, slug="second", accredited=True)
    complete(app, info.id, course, START)
    complete(app, info.id, "second", START + timedelta(days=400))
    _issue(app, _claim(app, info.id, hours=1.5))
    _issue(
        app,
        _claim(app, info.id, slug="second", hours=2.0, now=START + timedelta(days=401)),
        now=START + timedelta(days=402),
    )
    html = client.get("/transcript").get_data(as_text=True)
    assert "Participation hours" in html and "AMA PRA Category 1 Credit™" in html
    assert "Completed in 2026" in html and "Completed in 2027" in html
    ranged = client.get("/transcript?from=2027-01-01&to=2027-12-31").get_data(as_text=True)
    assert 'data-range-hours="2"' in ranged
    csv_body = client.get("/transcript.csv").get_data(as_text=True)
    assert csv_body.startswith("\ufeffname") and csv_body.count("\n") == 3


# -- concurrency --------------------------------------------------------------------------------------


@pytest.mark.postgres_only
def test_parallel_issue_makes_one_certificate(app, course, learner):
    from tests.concurrency import run_together

    complete(app, learner.id, course, START)
    claim_id = _claim(app, learner.id)

    def worker(_n, wait):
        with app.app_context():
            claim = db.session.get(CertificateClaim, claim_id)
            wait()
            try:
                svc.issue_claim(claim, None, settings(), START)
                db.session.commit()
                return "issued"
            except svc.CertificateError:
                db.session.rollback()
                return "refused"

    results, errors = run_together(worker, range(4))
    assert errors == []
    assert sorted(results) == ["issued", "refused", "refused", "refused"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_index_allows_one_original_per_learner_and_version(app, course, learner):
    from sqlalchemy.exc import IntegrityError

    complete(app, learner.id, course, START)
    serial = _issue(app, _claim(app, learner.id))
    with app.app_context():
        cert = svc.get_certificate(serial)
        twin = Certificate(
            serial=serials.new_serial(),
            claim_id=cert.claim_id,
            user_id=cert.user_id,
            course_id=cert.course_id,
            version_no=cert.version_no,
            credential_id="urn:uuid:twin",
            issued_at=START,
            completed_on=cert.completed_on,
            hours=1,
            snapshot={},
        )
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_learner_who_finished_before_completions_existed_can_claim(app, client, auth, course):
    info = auth.login()
    complete(app, info.id, course, START)
    with app.app_context():  # as if the work predates completion records
        db.session.execute(CourseCompletion.__table__.delete())
        db.session.commit()
    html = client.get(f"/courses/{course}/certificate").get_data(as_text=True)
    assert 'name="hours"' in html
    with app.app_context():
        assert db.session.scalar(select(CourseCompletion.completed_at)) == START + timedelta(minutes=45)
