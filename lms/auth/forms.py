"""Account forms. Field names are part of the public contract (tests, password managers, autofill)."""

from __future__ import annotations

from functools import cache

import pycountry
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from lms.auth.models import PROFESSIONS
from lms.auth.services import ProfileData, password_problem
from lms.forms import select_choices
from lms.i18n import collation_key
from lms.specialties import SPECIALTIES, normalise_specialty


@cache
def country_choices() -> list[SelectChoice]:
    named = [(c.alpha_2, getattr(c, "common_name", c.name)) for c in pycountry.countries]
    named.sort(key=lambda pair: collation_key(pair[1]))
    return select_choices([("", "Choose your country"), *named])


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _no_control_chars(form: FlaskForm, field: StringField) -> None:
    if field.data and any(ord(c) < 32 for c in field.data):
        raise ValidationError("Remove the control characters from this field.")


class ProfileFieldsMixin:
    full_name = StringField(
        "Full name (as it should appear on certificates)",
        validators=[DataRequired(), Length(min=2, max=200), _no_control_chars],
        filters=[_strip],
        render_kw={"autocomplete": "name"},
    )
    profession = SelectField(
        "Profession",
        choices=select_choices([("", "Choose your profession"), *PROFESSIONS.items()]),
        validators=[DataRequired(message="Choose your profession.")],
        render_kw={"autocomplete": "organization-title"},
    )
    specialty = SelectField(
        "Specialty",
        choices=select_choices([("", "Choose your specialty"), *((s, s) for s in SPECIALTIES)]),
        validators=[DataRequired(message="Choose your specialty.")],
        # an older free-text value ("Clinical Pharmacy") is shown as its controlled name
        filters=[lambda v: normalise_specialty(v) if isinstance(v, str) else v],
        render_kw={"autocomplete": "off"},
    )
    country = SelectField(
        "Country",
        choices=country_choices,
        validators=[DataRequired(message="Choose your country.")],
        render_kw={"autocomplete": "country"},
    )
    licence_number = StringField(
        "Licence or registration number (optional)",
        validators=[Optional(), Length(max=64), _no_control_chars],
        filters=[_strip],
        description="Printed on CME certificates when given.",
        render_kw={"autocomplete": "off"},
    )

    def profile_data(self) -> ProfileData:
        return ProfileData(
            full_name=self.full_name.data,
            profession=self.profession.data,
            specialty=self.specialty.data or "",
            country=self.country.data,
            licence_number=self.licence_number.data or None,
        )


class RegistrationForm(ProfileFieldsMixin, FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Email(message="Enter a valid email address."), Length(max=254)],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=256)],
        description="At least 10 characters. A passphrase of several words is easy to remember.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data or "", self.email.data)
        if problem:
            raise ValidationError(problem)


class ProfileForm(ProfileFieldsMixin, FlaskForm):
    pass


class LoginForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=254)],
        filters=[_strip],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField("Keep me signed in on this device")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=256)],
        description="At least 10 characters.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Email(message="Enter a valid email address.")],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=256)],
        description="At least 10 characters.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class SignOutEverywhereForm(FlaskForm):
    """Only the CSRF token: ending every session is one button."""


def _email_field(field_id: str, label: str) -> EmailField:
    # Several forms share the log-in page: each field keeps the name "email" but has its own id and label.
    return EmailField(
        label,
        id=field_id,
        validators=[DataRequired(), Email(message="Enter a valid email address."), Length(max=254)],
        filters=[_strip],
        render_kw={"autocomplete": "email"},
    )


class LoginLinkForm(FlaskForm):
    email = _email_field("link-email", "Address for the sign-in link")


class ResendConfirmationForm(FlaskForm):
    """The address whose confirmation link should be sent again."""

    email = _email_field("resend-email", "Address to confirm")


class LoginWithLinkForm(FlaskForm):
    """Only the CSRF token: opening the link shows a button, pressing it signs in."""
