"""Administration forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
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


class GrantAttemptForm(FlaskForm):
    """One extra attempt on a quiz (usually the final) of the current edition, with an audited reason."""

    course = StringField(
        "Course (slug)", validators=[DataRequired(message="Give the course's slug."), Length(max=80)]
    )
    quiz = StringField(
        "Quiz (key)", default="final", validators=[DataRequired(message="Give the quiz key."), Length(max=80)]
    )
    reason = TextAreaField(
        "Reason (kept in the audit trail)",
        validators=[DataRequired(message="Give a reason."), Length(max=500)],
    )


class ResolveFlagForm(FlaskForm):
    """An administrator's decision on one regrade flag: an outcome fitting its kind and a required note.

    Each flag on the page has its own form, prefixed ``f<flag id>`` so field ids stay unique.
    """

    outcome = SelectField("Outcome", validate_choice=False)
    note = TextAreaField(
        "Note (kept in the audit trail)",
        validators=[DataRequired(message="Write a note: what was decided and why."), Length(max=2000)],
    )
