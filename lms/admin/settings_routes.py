"""/admin/settings: provider, signatory, paper size and images printed on new certificates (audited)."""

from __future__ import annotations

import base64

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from lms import sitesettings
from lms.admin.routes import bp
from lms.auth.permissions import role_required
from lms.auth.services import audit
from lms.extensions import db
from lms.forms import select_choices
from lms.timeutil import utcnow


class SettingsForm(FlaskForm):
    provider_name = StringField("Provider name", validators=[DataRequired(), Length(max=200)])
    signatory_name = StringField("Signatory name", validators=[DataRequired(), Length(max=200)])
    signatory_title = StringField("Signatory title", validators=[Length(max=200)])
    paper = SelectField(
        "Paper size", choices=select_choices([("A4", "A4 (landscape)"), ("Letter", "US Letter (landscape)")])
    )
    signature_image = FileField("Signature image (PNG or JPEG)")
    remove_signature = BooleanField("Remove the signature image")
    logo_image = FileField("Provider logo (PNG or JPEG)")
    remove_logo = BooleanField("Remove the logo")


def _image(field, remove: bool) -> str | bool | None:
    """The sanitised image as base64, None to remove it, False to leave it as it is."""
    from lms.certificates.pdf import sanitise_image

    if remove:
        return None
    data = field.data.read() if field.data else b""
    if not data:
        return False
    try:
        return base64.b64encode(sanitise_image(data)).decode()
    except ValueError as exc:
        field.errors = [*field.errors, str(exc)]
        raise


@bp.route("/settings", methods=["GET", "POST"])
@role_required("admin")
def settings():
    values = sitesettings.effective(current_app.config)
    form = SettingsForm(
        data={k: values[k] for k in ("provider_name", "signatory_name", "signatory_title", "paper")}
    )
    if form.validate_on_submit():
        changes: dict[str, str | None] = {
            "provider_name": form.provider_name.data.strip(),
            "signatory_name": form.signatory_name.data.strip(),
            "signatory_title": (form.signatory_title.data or "").strip(),
            "paper": form.paper.data,
        }
        try:
            for key, field, remove in (
                ("signature_image", form.signature_image, form.remove_signature.data),
                ("logo_image", form.logo_image, form.remove_logo.data),
            ):
                image = _image(field, bool(remove))
                if image is not False:
                    changes[key] = image  # type: ignore[assignment]
        except ValueError:
            return render_template("admin/settings.html", form=form, values=values), 400
        now = utcnow()
        changed = sitesettings.save(changes, current_user.id, now)
        if changed:
            audit(current_user, "settings.change", "settings", "site", ", ".join(changed))
        db.session.commit()
        flash(
            "Settings saved. They apply to certificates issued from now on."
            if changed
            else "Nothing changed.",
            "success",
        )
        return redirect(url_for("admin.settings"))
    status = 400 if form.errors else 200
    return render_template("admin/settings.html", form=form, values=values), status
