"""axe-core on every HTML page a visitor, learner, educator and admin can reach, at 1280 and 360 px.

axe-core comes from the ``axe-playwright-python`` wheel (installed by ``make install-test``); nothing is
fetched at run time. One browser for the session, one context per role; each page is checked wide, then the
viewport is resized to a phone's width (no reload) and checked again. Violations of impact "serious" or
"critical" fail.

The page list is built from the URL map: ``A11Y_PAGES`` gives each GET HTML route the roles that visit it and
its sample arguments, ``A11Y_EXCLUDED`` names the GET routes that are not HTML pages, with the reason; a route
in neither fails ``test_every_get_html_route_is_swept_or_excluded``. (At merge, add the certificate routes.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import url_for

from tests.browser.site import PASSWORD, Site, build_site

pytestmark = pytest.mark.browser

ANON, LEARNER, EDUCATOR, ADMIN = "anonymous", "learner", "educator", "admin"
EVERYONE = (ANON, LEARNER, EDUCATOR, ADMIN)
SIGNED_IN = (LEARNER, EDUCATOR, ADMIN)
COURSE = {"slug": "a11y-course"}


@dataclass(frozen=True)
class PageSample:
    """Who visits a route in the sweep, and the URL arguments to build it with (from the seeded site)."""

    roles: tuple[str, ...]
    args: Callable[[Site], dict[str, Any]] = field(default=lambda site: {})


#: every GET route that renders an HTML page, with its visitors and sample arguments
A11Y_PAGES: dict[str, PageSample] = {
    "main.index": PageSample(EVERYONE),
    "catalog.index": PageSample(EVERYONE),
    "catalog.detail": PageSample(EVERYONE, lambda s: COURSE),
    "auth.login": PageSample((ANON,)),
    "auth.register": PageSample((ANON,)),
    "auth.forgot_password": PageSample((ANON,)),
    "auth.reset_password": PageSample((ANON,), lambda s: {"token": s.reset_token}),
    "auth.confirm_email": PageSample((ANON,), lambda s: {"token": "no-longer-valid"}),  # the 410 page
    "auth.login_with_link": PageSample((ANON,), lambda s: {"token": "no-longer-valid"}),  # the 410 page
    "auth.profile": PageSample(SIGNED_IN),
    "auth.change_password": PageSample(SIGNED_IN),
    "learning.dashboard": PageSample(SIGNED_IN),
    "learning.lesson": PageSample((LEARNER,), lambda s: {**COURSE, "key": "l1"}),
    "quizzes.start": PageSample((LEARNER,), lambda s: {**COURSE, "key": "check"}),
    "quizzes.attempt": PageSample((LEARNER,), lambda s: {"attempt_id": s.open_attempt}),
    "quizzes.review": PageSample((LEARNER,), lambda s: {"attempt_id": s.review_attempt}),
    "admin.users": PageSample((ADMIN,)),
    "admin.user_detail": PageSample((ADMIN,), lambda s: {"user_id": s.learner_id}),
    "admin.outbox": PageSample((ADMIN,)),
    "admin.outbox_message": PageSample((ADMIN,), lambda s: {"name": s.outbox_name}),
    "admin.settings": PageSample((ADMIN,)),
    "admin.regrade_flags": PageSample((ADMIN,)),
    "certificates.claim": PageSample((LEARNER,), lambda s: {"slug": "cert-course"}),
    "certificates.detail": PageSample((LEARNER, ADMIN), lambda s: {"serial": s.serial}),
    "certificates.transcript": PageSample(SIGNED_IN),
    "certificates.verify": PageSample(EVERYONE, lambda s: {"serial": s.serial}),
    "certificates.verify_form": PageSample(EVERYONE),
    "certificates_admin.queue": PageSample((ADMIN,)),
    "certificates_admin.audit_log": PageSample((ADMIN,)),
    "reports.index": PageSample((EDUCATOR, ADMIN)),
    "authoring.index": PageSample((EDUCATOR, ADMIN)),
    "authoring.new_course": PageSample((EDUCATOR, ADMIN)),
    "authoring.course": PageSample((ADMIN,), lambda s: COURSE),
    "authoring.details": PageSample((ADMIN,), lambda s: COURSE),
    "authoring.structure": PageSample((ADMIN,), lambda s: COURSE),
    "authoring.edit_file": PageSample((ADMIN,), lambda s: {**COURSE, "path": "lessons/l1.md"}),
    "authoring.quiz": PageSample((ADMIN,), lambda s: {**COURSE, "path": "quizzes/check.toml"}),
    "authoring.question": PageSample(
        (ADMIN,), lambda s: {**COURSE, "path": "quizzes/check.toml", "index": 0}
    ),
    "authoring.gift": PageSample((ADMIN,), lambda s: {**COURSE, "path": "quizzes/check.toml"}),
    "authoring.try_quiz": PageSample((ADMIN,), lambda s: {**COURSE, "path": "quizzes/check.toml"}),
    "authoring.preview_published": PageSample((ADMIN,), lambda s: {**COURSE, "key": "check"}),
    "authoring.regrade_quiz": PageSample((ADMIN,), lambda s: COURSE),
    "authoring.history": PageSample((ADMIN,), lambda s: COURSE),
    "authoring.diff": PageSample((ADMIN,), lambda s: {**COURSE, "number": 2}),
    # the co-author invitation link: its "invalid or withdrawn" page (404), signed out and signed in
    "authoring.invitation": PageSample((ANON, LEARNER), lambda s: {"token": "no-longer-valid"}),
    "reports.overview": PageSample((ADMIN,), lambda s: COURSE),
    "reports.learners": PageSample((ADMIN,), lambda s: COURSE),
    "reports.quiz": PageSample((ADMIN,), lambda s: {**COURSE, "key": "check"}),
    "reports.evaluation": PageSample((ADMIN,), lambda s: COURSE),
}

#: GET routes that are not HTML pages, or only redirect, with the reason
A11Y_EXCLUDED: dict[str, str] = {
    "static": "stylesheets, scripts and images",
    "catalog.media": "course media files (SVG, PNG…), served with their own sandboxing CSP",
    "learning.resume": "redirects to the learner's next lesson (swept as learning.lesson)",
    "admin.index": "redirects to admin.users",
    "authoring.flags": "redirects to admin.regrade_flags (the old address of the flags page)",
    "admin.users_csv": "a CSV download",
    "certificates.pdf": "a PDF download",
    "certificates.preview": "a PNG image (shown on certificates.detail)",
    "certificates.credential_json": "a JSON credential",
    "certificates.credential_jwt": "a signed JWT credential",
    "certificates.issuer": "the issuer profile as JSON",
    "certificates.jwks": "public keys as JSON",
    "certificates.revocations": "the revocation list as JSON",
    "certificates_admin.export_csv": "a CSV download",
    "certificates_admin.export_file": "a zip download",
    "reports.funnel_csv": "a CSV download",
    "authoring.export": "a zip download of the course package",
    "authoring.media": "a draft's media file",
    "reports.learners_csv": "a CSV download",
    "reports.quizzes_csv": "a CSV download",
    "reports.items_csv": "a CSV download",
    "reports.evaluation_csv": "a CSV download",
}

AXE = Path(__import__("axe_playwright_python").__file__).parent / "axe.min.js"
BLOCKING = {"serious", "critical"}


def test_every_get_html_route_is_swept_or_excluded(app):
    gets = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    missing = gets - A11Y_PAGES.keys() - A11Y_EXCLUDED.keys()
    assert not missing, (
        f"add to A11Y_PAGES (with roles and sample arguments) or A11Y_EXCLUDED: {sorted(missing)}"
    )
    stale = (A11Y_PAGES.keys() | A11Y_EXCLUDED.keys()) - gets
    assert not stale, f"no longer routes: {sorted(stale)}"


def _axe(page) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # through the driver: the page's CSP is not involved
    result = page.evaluate(
        "async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))"
    )
    return [v for v in json.loads(result)["violations"] if v.get("impact") in BLOCKING]


def _describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
    )


def _login(page, base: str, role: str) -> None:
    page.goto(base + "/login")
    page.locator("#email").fill(f"{role}@example.org")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/dashboard")


def test_axe_finds_no_serious_violations_at_desktop_and_phone_widths(app, tmp_path, browser, live_server):
    site = build_site(app, tmp_path)
    with app.test_request_context():
        urls = {endpoint: url_for(endpoint, **sample.args(site)) for endpoint, sample in A11Y_PAGES.items()}
    failures = []
    for role in EVERYONE:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            if role != ANON:
                _login(page, live_server, role)
            for endpoint, sample in A11Y_PAGES.items():
                if role not in sample.roles:
                    continue
                page.set_viewport_size({"width": 1280, "height": 900})
                page.goto(live_server + urls[endpoint])
                for width in (1280, 360):
                    page.set_viewport_size({"width": width, "height": 800})
                    found = _axe(page)
                    if found:
                        failures.append(f"{role} {urls[endpoint]} @{width}px: {_describe(found)}")
        finally:
            context.close()
    assert not failures, "\n".join(failures)
