"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from lms.auth.models import GRANTABLE_ROLES
from lms.forms import select_choices


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=select_choices((r, r.title()) for r in GRANTABLE_ROLES))
    action = HiddenField(validators=[AnyOf(["grant", "revoke"])])


class DisableForm(FlaskForm):
    reason = TextAreaField(
        "Reason (kept in the audit trail)",
        validators=[DataRequired(message="Give a reason."), Length(max=500)],
    )


class EnableForm(FlaskForm):
    pass
