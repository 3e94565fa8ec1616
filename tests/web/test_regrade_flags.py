"""Administrators resolve the flags a regrade raises: required note, an outcome fitting the flag, append-only
resolution rows, an audit event, and resolved flags leave the open list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from lms.auth.models import AuditEvent
from lms.authoring.models import RegradeFlag, RegradeFlagResolution
from lms.certificates.models import AppendOnlyViolation, Certificate, CertificateRevocation
from lms.extensions import db
from tests.web.test_authoring_regrade import _setup, _token
from tests.web.test_reports import SLUG, START

PAGE = "/admin/regrade-flags"


def _applied(app, client, auth, tmp_path) -> dict[str, int]:
    """The regrade test's course after the educator applied the corrected key: three flags for Ann."""
    _setup(app, auth, tmp_path)
    url = f"/author/{SLUG}/regrade"
    client.post(
        url, data={"csrf_token": _token(client, url), "quiz_key": "final", "apply": "1", "reason": "Key"}
    )
    auth.logout()
    with app.app_context():
        return {f.kind: f.id for f in db.session.scalars(select(RegradeFlag))}


def _resolve(client, flag_id: int, outcome: str, note: str, **query: str):
    token = _token(client, PAGE)
    return client.post(
        f"{PAGE}/{flag_id}/resolve",
        query_string=query,
        data={"csrf_token": token, f"f{flag_id}-outcome": outcome, f"f{flag_id}-note": note},
    )


def test_admin_sees_open_flags_with_what_changed(app, client, auth, tmp_path):
    flags = _applied(app, client, auth, tmp_path)
    assert sorted(flags) == ["certificate", "completion", "pass"]
    auth.login("admin")
    page = client.get(PAGE).get_data(as_text=True)
    assert page.count('class="card" id="flag-') == 3 and "3 open flags in all courses" in page
    assert "Ann" in page and "quiz final" in page
    assert "66.7% (passed) → 33.3% (not passed)" in page  # the learner's grade before and after
    assert "ABCD-2345-EFGH" in page and "(valid)" in page and "edition 2026.1" in page
    assert "UTC by Test educator" in page  # who applied the regrade
    # Filtered by course (an unknown one is 404); the certificate queue shows the count.
    assert client.get(PAGE, query_string={"course": SLUG}).get_data(as_text=True).count('id="flag-') == 3
    assert client.get(PAGE, query_string={"course": "no-such"}).status_code == 404
    queue = client.get("/admin/certificates/").get_data(as_text=True)
    assert "3 regrade flags to review" in queue and 'href="/admin/regrade-flags"' in queue


def test_resolution_needs_a_note_and_is_append_only_and_audited(app, client, auth, tmp_path):
    flags = _applied(app, client, auth, tmp_path)
    auth.login("admin")
    completion = flags["completion"]
    missing = _resolve(client, completion, "completion_stands", "  ")
    assert missing.status_code == 400 and b"Write a note" in missing.data
    wrong_kind = _resolve(client, completion, "certificate_revoked", "x")
    assert wrong_kind.status_code == 400 and b"Choose one of the outcomes" in wrong_kind.data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RegradeFlagResolution)) == 0

    done = _resolve(client, completion, "completion_stands", "Passed the final on the second attempt anyway.")
    assert done.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(RegradeFlagResolution))
        assert (row.flag_id, row.outcome) == (completion, "completion_stands")
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "regrade_flag.resolve"))
        assert event is not None and "Completion stands" in event.detail and "second attempt" in event.detail
        # The flag row itself never changes: resolutions are new rows, and the flag refuses updates.
        flag = db.session.get(RegradeFlag, completion)
        flag.detail = "edited"
        with pytest.raises(AppendOnlyViolation):
            db.session.flush()
        db.session.rollback()

    open_page = client.get(PAGE).get_data(as_text=True)
    assert f'id="flag-{completion}"' not in open_page and "2 open flags" in open_page
    resolved = client.get(PAGE, query_string={"state": "resolved"}).get_data(as_text=True)
    assert f'id="flag-{completion}"' in resolved and "Completion stands" in resolved
    assert "second attempt anyway" in resolved and "UTC by Test admin" in resolved
    again = _resolve(client, completion, "no_action", "again")  # the first decision stands
    assert again.status_code == 302 and "state=resolved" in again.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RegradeFlagResolution)) == 1


def test_certificate_outcomes_follow_the_certificate_flows(app, client, auth, tmp_path):
    flags = _applied(app, client, auth, tmp_path)
    auth.login("admin")
    cert_flag = flags["certificate"]
    page = client.get(PAGE).get_data(as_text=True)
    assert re.search(r'href="/certificates/ABCD-2345-EFGH"', page)  # the revoke and reissue flows live there
    early = _resolve(client, cert_flag, "certificate_revoked", "Failed after the key fix.")
    assert early.status_code == 400 and b"Revoke the certificate on its page first" in early.data
    with app.app_context():  # what the certificate page's revoke form writes
        cert = db.session.scalar(select(Certificate))
        db.session.add(CertificateRevocation(certificate_id=cert.id, reason="Regrade", at=START))
        db.session.commit()
    ok = _resolve(client, cert_flag, "certificate_revoked", "Failed after the key fix.", course=SLUG)
    assert ok.status_code == 302 and f"course={SLUG}" in ok.headers["Location"]
    resolved = client.get(PAGE, query_string={"state": "all"}).get_data(as_text=True)
    assert "Certificate revoked" in resolved and "(revoked)" in resolved


@pytest.mark.parametrize("role", ["educator", "learner"])
def test_only_admins_review_flags(app, client, auth, tmp_path, role):
    flags = _applied(app, client, auth, tmp_path)
    auth.login(role)
    assert client.get(PAGE).status_code == 403
    token = _token(client, "/account")
    response = client.post(
        f"{PAGE}/{flags['pass']}/resolve",
        data={"csrf_token": token, f"f{flags['pass']}-outcome": "no_action", f"f{flags['pass']}-note": "x"},
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RegradeFlagResolution)) == 0


def test_unknown_flag_is_404(client, auth):
    auth.login("admin")
    token = _token(client, PAGE)
    assert client.post(f"{PAGE}/999/resolve", data={"csrf_token": token}).status_code == 404


def test_educator_sees_flag_states_on_the_regrade_page(app, client, auth, tmp_path):
    flags = _applied(app, client, auth, tmp_path)
    auth.login("admin")
    assert _resolve(client, flags["pass"], "no_action", "Completion handled separately.").status_code == 302
    auth.logout()
    auth.login("educator")
    page = client.get(f"/author/{SLUG}/regrade").get_data(as_text=True)
    assert "2 open (waiting for an administrator), 1 resolved." in page
    assert "regrade flags page" not in page  # the link is for administrators
