"""Certificate forms (CSRF through Flask-WTF on every POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.forms import select_choices


class ClaimForm(FlaskForm):
    hours = DecimalField(
        "Hours of participation",
        places=2,
        validators=[InputRequired(message="Enter the hours you took part."), NumberRange(min=0.25)],
    )
    attest = BooleanField(
        "I attest that I took part in this activity for the hours claimed.",
        validators=[DataRequired(message="Tick the attestation to claim.")],
    )
    printed_name = StringField("Name as printed on the certificate", validators=[Optional(), Length(max=200)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        "Reason (kept in the record)", validators=[DataRequired(message="Give a reason."), Length(max=2000)]
    )


class ReissueForm(ReasonForm):
    printed_name = StringField(
        "Name as printed (leave empty to keep it)", validators=[Optional(), Length(max=200)]
    )


class ReissueRequestForm(FlaskForm):
    printed_name = StringField(
        "Correct name as it should be printed",
        validators=[DataRequired(message="Give the name as it should be printed."), Length(max=200)],
    )
    note = TextAreaField("Note for the administrators (optional)", validators=[Optional(), Length(max=1000)])


class BulkIssueForm(FlaskForm):
    course = HiddenField()
    scope = SelectField(
        "Issue",
        choices=select_choices([("selected", "Selected claims"), ("all", "All pending for this course")]),
    )
    confirm = BooleanField(
        "I have checked the evidence of every claim I am issuing.",
        validators=[DataRequired(message="Confirm before issuing.")],
    )


class AutoIssueForm(FlaskForm):
    auto_issue = BooleanField("Issue certificates automatically when a learner claims")


class ActionForm(FlaskForm):
    """An empty form: a POST button with its CSRF token."""
