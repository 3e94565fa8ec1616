"""Certificate pages: the learner's claim and certificates, public verification, Open Badges endpoints,
and the administrators' issuance queue."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from lms import jobs
from lms.auth.models import AuditEvent, User
from lms.auth.permissions import has_role, role_required
from lms.catalog.models import Course
from lms.catalog.routes import published_or_404
from lms.certificates import serials
from lms.certificates import services as svc
from lms.certificates.credentials import base_url, credential_payload, key_store
from lms.certificates.forms import (
    ActionForm,
    AutoIssueForm,
    BulkIssueForm,
    ClaimForm,
    ReasonForm,
    ReissueForm,
    ReissueRequestForm,
)
from lms.certificates.models import Certificate, CertificateClaim
from lms.extensions import db, limiter
from lms.timeutil import utcnow

bp = Blueprint("certificates", __name__)
admin_bp = Blueprint("certificates_admin", __name__)


def issuer_settings() -> svc.IssuerSettings:
    """Configuration overridden by the administrators' settings page (copied onto each certificate)."""
    from lms import sitesettings

    values = sitesettings.effective(current_app.config)
    return svc.IssuerSettings(
        base_url=base_url(),
        site_name=current_app.config["SITE_NAME"],
        provider_name=values["provider_name"],
        signatory_name=values["signatory_name"],
        signatory_title=values["signatory_title"],
        paper=values["paper"] or "A4",
        signature_image=values["signature_image"],
        logo_image=values["logo_image"],
    )


def today() -> date:
    return utcnow().date()


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _attempt(action: Callable[[], object], done: str) -> bool:
    """Run one service call: commit and flash ``done``, or roll back and flash the rule that stopped it."""
    try:
        action()
    except svc.CertificateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    db.session.commit()
    flash(done, "success")
    return True


def _download(body: str | bytes, mimetype: str, filename: str) -> Response:
    """A personal file to save: attachment, never cached."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)


# -- learner ------------------------------------------------------------------------------------------


@bp.route("/courses/<slug>/certificate", methods=["GET", "POST"])
@login_required
def claim(slug: str) -> Any:
    course = published_or_404(slug)
    if svc.record_edition_completion(current_user.id, course.id, utcnow(), backfill=True) is not None:
        db.session.commit()  # idempotent: finished before completions were recorded, or just now
    page = svc.claim_page(current_user, course, today())
    form = ClaimForm()
    if request.method == "GET" and form.hours.data is None:
        form.hours.data = Decimal(str(page.max_hours))
    if request.method == "POST" and page.can_claim and form.validate_on_submit():
        data = svc.ClaimInput(float(form.hours.data), bool(form.attest.data), form.printed_name.data or "")
        try:
            svc.submit_claim(current_user, course, data, issuer_settings(), utcnow())
        except svc.CertificateError as exc:
            db.session.rollback()
            form.hours.errors = [*form.hours.errors, str(exc)]
        else:
            db.session.commit()
            flash(
                "Your claim has been recorded. You will be emailed when the certificate is issued.", "success"
            )
            return redirect(url_for("certificates.claim", slug=slug))
    status = 400 if request.method == "POST" else 200
    return render_template("certificates/claim.html", page=page, form=form), status


def _own_or_404(serial_text: str) -> Certificate:
    """The certificate if the viewer owns it or is an admin; anyone else gets 404 (existence not leaked)."""
    parsed = serials.parse(serial_text)
    cert = svc.get_certificate(parsed.canonical) if parsed.valid else None
    if cert is None or not (cert.user_id == current_user.id or has_role(current_user, "admin")):
        abort(404)
    return cert


@bp.get("/certificates/<serial>")
@login_required
def detail(serial: str) -> Any:
    cert = _own_or_404(serial)
    history = svc.certificate_views(svc.chain(cert), today())
    view = next(v for v in history if v.certificate.id == cert.id)
    return _no_store(
        Response(
            render_template(
                "certificates/detail.html",
                view=view,
                history=history,
                # Prefixed: three forms on one page must not share field ids.
                request_form=ReissueRequestForm(prefix="correction"),
                reissue_form=ReissueForm(prefix="reissue"),
                revoke_form=ReasonForm(prefix="revoke"),
            )
        )
    )


def _render(cert: Certificate) -> bytes:
    from lms.certificates.pdf import render_certificate_pdf

    state = svc.certificate_views([cert], today())[0].state
    status = state if state in ("revoked", "superseded") else "valid"
    return render_certificate_pdf(dict(cert.snapshot, status=status))


@bp.get("/certificates/<serial>.pdf")
@login_required
def pdf(serial: str) -> Response:
    cert = _own_or_404(serial)
    return _download(_render(cert), "application/pdf", f"certificate-{cert.snapshot['serial']}.pdf")


@bp.get("/certificates/<serial>.png")
@login_required
def preview(serial: str) -> Response:
    from lms.certificates.pdf import render_preview_png

    cert = _own_or_404(serial)
    return _no_store(Response(render_preview_png(_render(cert), 1000), mimetype="image/png"))


@bp.get("/certificates/<serial>/credential.json")
@login_required
def credential_json(serial: str) -> Response:
    cert = _own_or_404(serial)
    return _no_store(
        Response(
            json.dumps(credential_payload(cert), indent=2, ensure_ascii=False), mimetype="application/json"
        )
    )


@bp.get("/certificates/<serial>/credential.jwt")
@login_required
def credential_jwt(serial: str) -> Response:
    from lms.certificates.credentials import signed_token

    cert = _own_or_404(serial)
    stored = svc.stored_credential(cert)
    token = stored.token if stored else signed_token(cert)[1]
    return _download(token, "application/jwt", f"credential-{cert.snapshot['serial']}.jwt")


@bp.post("/certificates/<serial>/name-correction")
@login_required
def request_correction(serial: str) -> Any:
    cert = _own_or_404(serial)
    form = ReissueRequestForm(prefix="correction")
    if form.validate_on_submit():
        _attempt(
            lambda: svc.request_reissue(
                cert, current_user, form.printed_name.data, form.note.data or "", utcnow()
            ),
            "Your request has been sent to the administrators.",
        )
    else:
        flash("Give the name as it should be printed.", "error")
    return redirect(url_for("certificates.detail", serial=cert.snapshot["serial"]))


@bp.get("/transcript")
@bp.get("/transcript.<fmt>")
@login_required
def transcript(fmt: str = "html") -> Any:
    if fmt not in ("html", "csv", "pdf"):
        abort(404)
    start, end = _date_arg("from"), _date_arg("to")
    data = svc.transcript(current_user, today(), start, end)
    if fmt == "csv":
        body = svc.certificates_csv(data.rows, {current_user.id: current_user})
        return _download(body, "text/csv; charset=utf-8", "transcript.csv")
    if fmt == "pdf":
        from lms.certificates.pdf import render_transcript_pdf

        payload = {
            "holder_name": current_user.full_name,
            "generated_on": today().isoformat(),
            "rows": [
                {
                    "serial": v.certificate.snapshot["serial"],
                    "course_title": v.certificate.snapshot["course_title"],
                    "edition": v.certificate.snapshot["edition"],
                    "completion_date": v.certificate.completed_on.isoformat(),
                    "hours": v.certificate.hours,
                    "credit_type": v.certificate.credit_type,
                    "state": v.state,
                }
                for v in data.rows
            ],
            "totals_by_type": data.by_type,
            "totals_by_year": data.by_year,
            "range": {
                "from": start.isoformat() if start else "",
                "to": end.isoformat() if end else "",
                "hours": data.range_hours,
            },
            "paper": issuer_settings().paper,
        }
        return _download(render_transcript_pdf(payload), "application/pdf", "transcript.pdf")
    return _no_store(Response(render_template("certificates/transcript.html", t=data)))


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "")[:10])
    except ValueError:
        return None


# -- public -------------------------------------------------------------------------------------------


def _public(response: Response) -> Response:
    response.headers["X-Robots-Tag"] = "noindex"
    return _no_store(response)


@bp.get("/verify")
@limiter.limit("60 per minute", scope="verify")
def verify_form() -> Any:
    text = request.args.get("serial", "")[:64].strip()
    if text:
        parsed = serials.parse(text)
        if parsed.valid:
            return redirect(url_for("certificates.verify", serial=serials.display(parsed.canonical)))
        message = (
            "This serial has a typo: check it against the certificate."
            if parsed.typo
            else ("That is not a certificate serial: it has 16 letters and digits, e.g. 7KQ2-M9XD-4HTB-W0RC.")
        )
        return _public(
            Response(render_template("certificates/verify_form.html", text=text, message=message), 400)
        )
    return _public(Response(render_template("certificates/verify_form.html", text="", message="")))


@bp.get("/verify/<serial>")
@limiter.limit("60 per minute", scope="verify")
def verify(serial: str) -> Any:
    parsed = serials.parse(serial[:64])
    if not parsed.valid:
        message = (
            "This serial has a typo: check it against the certificate."
            if parsed.typo
            else ("No certificate has this serial.")
        )
        return _public(
            Response(
                render_template("certificates/verify_missing.html", serial=serial[:64], message=message), 404
            )
        )
    canonical = serials.display(parsed.canonical)
    if serial != canonical:
        return redirect(url_for("certificates.verify", serial=canonical), 301)
    result = svc.verify(parsed.canonical, today())
    if result is None:
        return _public(
            Response(
                render_template(
                    "certificates/verify_missing.html",
                    serial=canonical,
                    message="No certificate has this serial.",
                ),
                404,
            )
        )
    return _public(Response(render_template("certificates/verify.html", v=result)))


@bp.get("/issuer")
def issuer() -> Response:
    from lms.certificates.credential import issuer_profile

    return jsonify(issuer_profile(base_url=base_url(), issuer_name=current_app.config["PROVIDER_NAME"]))


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(key_store().jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/issuer/revocations")
def revocations() -> Response:
    from lms.certificates.credential import revocation_list

    response = jsonify(revocation_list(base_url=base_url(), revoked_ids=svc.revoked_credential_ids()))
    response.headers["Cache-Control"] = "no-store"
    return response


# -- administrators -----------------------------------------------------------------------------------

STATES = ("pending", "issued", "declined", "")


def _course_filter() -> Course | None:
    slug = request.values.get("course", "")[:80]
    return db.session.scalar(select(Course).where(Course.slug == slug)) if slug else None


@admin_bp.get("/")
@role_required("admin")
def queue() -> Any:
    course = _course_filter()
    state = request.args.get("state", "pending")
    state = state if state in STATES else "pending"
    rows = svc.queue(course.id if course else None, state)
    courses = list(db.session.scalars(select(Course).order_by(Course.title)))
    pending_count = len(svc.pending_claims(course.id)) if course else 0
    return _no_store(
        Response(
            render_template(
                "certificates/admin_queue.html",
                rows=rows,
                course=course,
                state=state,
                courses=courses,
                bulk_form=BulkIssueForm(course=course.slug if course else ""),
                auto_form=AutoIssueForm(auto_issue=svc.auto_issue_enabled(course.id) if course else False),
                action_form=ActionForm(),
                decline_form=ReasonForm(),
                pending_count=pending_count,
                requests=svc.reissue_requests(),
                exports=_exports(course),
            )
        )
    )


def _exports(course: Course | None) -> list[str]:
    from lms.certificates.jobs import export_dir

    if course is None:
        return []
    return sorted((p.name for p in export_dir().glob(f"certificates-{course.slug}-*.zip")), reverse=True)[:5]


def _back(course: Course | None = None, state: str = "pending") -> Response:
    return redirect(url_for("certificates_admin.queue", course=course.slug if course else None, state=state))


@admin_bp.post("/claims/<int(max=2147483647):claim_id>/issue")
@role_required("admin")
def issue_one(claim_id: int) -> Response:
    claim = db.session.get(CertificateClaim, claim_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        cert = svc.issue_claim(claim, current_user, issuer_settings(), utcnow())
    except svc.CertificateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Certificate {cert.snapshot['serial']} issued.", "success")
    return _back()


@admin_bp.post("/issue")
@role_required("admin")
def issue_bulk() -> Response:
    form = BulkIssueForm()
    course = _course_filter()
    if not form.validate_on_submit():
        flash("Tick the confirmation to issue.", "error")
        return _back(course)
    if form.scope.data == "all":
        if course is None:
            flash("Choose a course to issue all its pending claims.", "error")
            return _back()
        ids = [c.id for c in svc.pending_claims(course.id)]
    else:
        ids = [int(x) for x in request.form.getlist("claim_id") if x.isdigit() and len(x) < 10]
    if not ids:
        flash("No claims selected.", "info")
        return _back(course)
    result = svc.issue_many(ids, current_user, issuer_settings(), utcnow())
    flash(
        f"{result.issued} certificate(s) issued."
        + (
            f" {len(result.failed)} could not be issued: "
            + "; ".join(f"claim {i}: {why}" for i, why in result.failed[:5])
            if result.failed
            else ""
        ),
        "success" if not result.failed else "error",
    )
    return _back(course)


@admin_bp.post("/claims/<int(max=2147483647):claim_id>/decline")
@role_required("admin")
def decline(claim_id: int) -> Response:
    claim = db.session.get(CertificateClaim, claim_id) or abort(404)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give a reason to decline a claim.", "error")
        return _back()
    _attempt(
        lambda: svc.decline_claim(claim, current_user, form.reason.data, utcnow()),
        "Claim declined; the learner has been told why.",
    )
    return _back()


@admin_bp.post("/auto-issue")
@role_required("admin")
def auto_issue() -> Response:
    course = _course_filter() or abort(404)
    form = AutoIssueForm()
    if not form.validate_on_submit():
        abort(400)
    svc.set_auto_issue(course, bool(form.auto_issue.data), current_user, utcnow())
    db.session.commit()
    flash(f"Auto-issue is {'on' if form.auto_issue.data else 'off'} for {course.title}.", "success")
    return _back(course)


@admin_bp.post("/<serial>/revoke")
@role_required("admin")
def revoke(serial: str) -> Response:
    cert = _own_or_404(serial)
    form = ReasonForm(prefix="revoke")
    if form.validate_on_submit():
        _attempt(lambda: svc.revoke(cert, current_user, form.reason.data, utcnow()), "Certificate revoked.")
    else:
        flash("Give a reason to revoke: it is shown on the verification page.", "error")
    return redirect(url_for("certificates.detail", serial=cert.snapshot["serial"]))


@admin_bp.post("/<serial>/reissue")
@role_required("admin")
def reissue(serial: str) -> Response:
    cert = _own_or_404(serial)
    form = ReissueForm(prefix="reissue")
    if form.validate_on_submit():
        try:
            new = svc.reissue(
                cert,
                current_user,
                form.reason.data,
                form.printed_name.data or "",
                issuer_settings(),
                utcnow(),
            )
        except svc.CertificateError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"Reissued as {new.snapshot['serial']}.", "success")
            return redirect(url_for("certificates.detail", serial=new.snapshot["serial"]))
    else:
        flash("Give a reason for the reissue.", "error")
    return redirect(url_for("certificates.detail", serial=cert.snapshot["serial"]))


@admin_bp.get("/export.csv")
@role_required("admin")
def export_csv() -> Response:
    course = _course_filter()
    views = svc.all_certificates(course.id if course else None, request.args.get("status", "")[:20])
    body = svc.certificates_csv(views, svc.users_by_id(v.certificate.user_id for v in views))
    return _download(body, "text/csv; charset=utf-8", f"certificates-{course.slug if course else 'all'}.csv")


@admin_bp.post("/zip")
@role_required("admin")
def zip_request() -> Response:
    from lms.certificates.jobs import zip_course_certificates

    course = _course_filter() or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    jobs.enqueue(zip_course_certificates, course_id=course.id, slug=course.slug, token=secrets.token_hex(6))
    db.session.commit()
    flash("The zip of PDFs is being prepared; it appears below when ready (refresh the page).", "info")
    return _back(course, "issued")


@admin_bp.get("/exports/<name>")
@role_required("admin")
def export_file(name: str) -> Response:
    from lms.certificates.jobs import export_dir

    if not name.startswith("certificates-") or not name.endswith(".zip") or "/" in name or ".." in name:
        abort(404)
    path = export_dir() / name
    if not path.is_file():
        abort(404)
    return _no_store(send_file(path, mimetype="application/zip", as_attachment=True, download_name=name))


@admin_bp.get("/audit")
@role_required("admin")
def audit_log() -> Any:
    action = request.args.get("action", "")[:64]
    target = request.args.get("target", "")[:32]
    stmt = select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if target:
        stmt = stmt.where(AuditEvent.target_type == target)
    start, end = _date_arg("from"), _date_arg("to")
    if start:
        stmt = stmt.where(AuditEvent.at >= start)
    if end:
        from datetime import timedelta

        stmt = stmt.where(AuditEvent.at < end + timedelta(days=1))
    rows = db.session.execute(stmt.order_by(AuditEvent.id.desc()).limit(500)).all()
    actions = sorted(set(db.session.scalars(select(AuditEvent.action).distinct())))
    return _no_store(
        Response(
            render_template(
                "certificates/admin_audit.html",
                rows=rows,
                actions=actions,
                action=action,
                target=target,
                start=start,
                end=end,
            )
        )
    )


def init_app(app: Flask) -> None:
    """Subscribe to completions and guard the append-only records (called by the app factory)."""
    from lms.certificates.models import APPEND_ONLY, guard_append_only
    from lms.keys import KeyStore
    from lms.signals import item_completed

    # Built at start-up (no database involved): production refuses to start on an unusable key file.
    app.extensions["lms_keystore"] = KeyStore.from_config(app.config, Path(app.instance_path))
    guard_append_only(*APPEND_ONLY, AuditEvent)

    def statuses(course_ids: list[int]) -> dict[int, svc.CourseCertificateStatus]:
        if not getattr(current_user, "is_authenticated", False):
            return {}
        return svc.status_for(current_user.id, course_ids, today())

    app.jinja_env.globals["certificate_statuses"] = statuses
    app.jinja_env.globals["certificate_status"] = lambda course_id: statuses([course_id]).get(course_id)
    app.jinja_env.globals["today"] = today
    item_completed.connect(svc.on_item_completed, weak=False)
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp, url_prefix="/admin/certificates")
