"""Forms of the authoring pages (CSRF on every one)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length


class NewCourseForm(FlaskForm):
    slug = StringField(
        "Address (slug)",
        validators=[DataRequired(), Length(max=80)],
        description="Lower-case letters, digits and hyphens, e.g. aav-safety. It cannot change.",
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])


class FileForm(FlaskForm):
    path = StringField("File", validators=[DataRequired(), Length(max=300)])
    content = TextAreaField("Content")
    base_hash = HiddenField()


class DeleteFileForm(FlaskForm):
    path = HiddenField(validators=[DataRequired()])


class PublishForm(FlaskForm):
    note = TextAreaField(
        "What changed (shown in the version history)", validators=[DataRequired(), Length(max=2000)]
    )


class ImageForm(FlaskForm):
    image = FileField("Image (PNG, JPEG, GIF, WebP or SVG; at most 1 MiB)", validators=[FileRequired()])


class ImportForm(FlaskForm):
    package = FileField("Course package (.zip)", validators=[FileRequired()])


class InviteForm(FlaskForm):
    email = EmailField("Co-author's email", validators=[DataRequired(), Email(check_deliverability=False)])


class ActionForm(FlaskForm):
    """A button with nothing to fill in (CSRF only)."""
