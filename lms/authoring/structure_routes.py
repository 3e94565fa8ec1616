"""Structured authoring pages: modules and items (add, reorder with up/down buttons), quizzes (settings,
questions reordered and edited with a form generated from the question-type plugin).

Every change rewrites one file of the draft through ``services.save_file`` with the hash of the file the page
was built from, so a change made meanwhile by someone else is reported, never overwritten.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from lms.auth.permissions import role_required
from lms.auth.services import get_user_by_email
from lms.authoring import manifest_form as mf
from lms.authoring import preview, questions, regrade
from lms.authoring import quiz_form as qf
from lms.authoring import schema_fields as sf
from lms.authoring import services as svc
from lms.authoring import structure as st
from lms.authoring.forms import ActionForm
from lms.authoring.routes import _registry, bp, course_or_404
from lms.extensions import db
from lms.forms import select_choices
from lms.plugins import UnknownQuestionType
from lms.quizzes import grading
from lms.quizzes import services as quiz_services
from lms.quizzes.services import GrantError, grant_attempt
from lms.templating import site_zone
from lms.timeutil import utcnow

MANIFEST = "course.toml"


class MoveForm(FlaskForm):
    base_hash = HiddenField()
    module = IntegerField(validators=[InputRequired()])
    index = IntegerField(validators=[Optional()])
    delta = IntegerField(validators=[InputRequired()])


class AddModuleForm(FlaskForm):
    base_hash = HiddenField()
    key = StringField(
        "Module id", validators=[DataRequired()], description="e.g. safety (letters, digits, -)"
    )
    title = StringField("Title", validators=[DataRequired()])


class AddItemForm(FlaskForm):
    base_hash = HiddenField()
    module = SelectField("Module", coerce=int, validate_choice=False)
    kind = SelectField(
        "Kind",
        choices=select_choices(
            [("lesson", "Lesson"), ("quiz", "Quiz"), ("final", "Final assessment"), ("survey", "Evaluation")]
        ),
    )
    key = StringField("File name (id)", validators=[DataRequired()], description="e.g. dosing")
    title = StringField("Title", validators=[DataRequired()])


class QuestionMoveForm(FlaskForm):
    base_hash = HiddenField()
    index = IntegerField(validators=[InputRequired()])
    delta = IntegerField(validators=[Optional()])


def _draft(course: Any) -> Any:
    draft = svc.get_draft(course)
    if draft is None:
        abort(404)
    return draft


def _save(draft: Any, path: str, data: bytes, base_hash: str) -> str | None:
    """Save and commit; the error message (conflict or refusal) if it did not happen."""
    try:
        svc.save_file(draft, path, data, base_hash, current_user, utcnow())
    except svc.EditConflict:
        db.session.rollback()
        return (
            f"Someone else changed {path} after you opened this page; nothing was saved. "
            "The page now shows their version: make your change again."
        )
    except svc.AuthoringError as exc:
        db.session.rollback()
        return str(exc)
    db.session.commit()
    return None


class Conflict:
    """Both versions after a refused save of a structured form: the form keeps what this educator typed;
    ``theirs`` is the file as the other educator saved it, and the form's base_hash now points at it, so
    saving again (after merging) deliberately replaces it."""

    def __init__(self, path: str, theirs: bytes | None) -> None:
        self.path = path
        self.theirs = theirs.decode("utf-8", "replace") if theirs is not None else ""

    MESSAGE = (
        "Someone else saved {path} after you opened this page, so nothing was saved. Your version is in the "
        "form; theirs is shown below. Merge what you need and save again."
    )


def _save_form(draft: Any, path: str, data: bytes, form: Any) -> tuple[str | None, Conflict | None]:
    """Save a structured form's file in one transaction: (refusal message, conflict) — both None if saved."""
    try:
        svc.save_file(draft, path, data, form.base_hash.data or "", current_user, utcnow())
    except svc.EditConflict as conflict:
        db.session.rollback()
        form.base_hash.data = svc.file_hash(conflict.theirs)
        return Conflict.MESSAGE.format(path=path), Conflict(path, conflict.theirs)
    except svc.AuthoringError as exc:
        db.session.rollback()
        return str(exc), None
    db.session.commit()
    return None, None


def _zone() -> Any:
    return site_zone(str(current_app.config.get("TIMEZONE") or "UTC"))


@bp.get("/<slug>/structure")
@login_required
def structure(slug: str) -> Any:
    course, _role = course_or_404(slug)
    return _structure_page(course, _draft(course))


def _structure_page(course: Any, draft: Any, status: int = 200, **forms: Any) -> Any:
    files = draft.files
    try:
        manifest = st.parse(files.get(MANIFEST), MANIFEST)
    except st.StructureError as exc:
        flash(str(exc), "error")
        return redirect(url_for("authoring.edit_file", slug=course.slug, path=MANIFEST))
    modules = st.modules_of(manifest)
    base = svc.file_hash(files.get(MANIFEST))
    add_item = forms.get("add_item") or AddItemForm(formdata=None)
    add_item.module.choices = select_choices(
        (i, m.get("title", m.get("id", ""))) for i, m in enumerate(modules)
    )
    return render_template(
        "authoring/structure.html",
        course=course,
        modules=modules,
        base=base,
        files=files,
        move_form=MoveForm(formdata=None),
        add_module=forms.get("add_module") or AddModuleForm(formdata=None),
        add_item=add_item,
    ), status


@bp.post("/<slug>/structure/move")
@login_required
def move(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = _draft(course)
    form = MoveForm()
    if not form.validate_on_submit() or form.delta.data not in (-1, 1):
        abort(400)
    try:
        manifest = st.parse(draft.files.get(MANIFEST), MANIFEST)
        if form.index.data is None:
            manifest = st.move_module(manifest, form.module.data, form.delta.data)
        else:
            manifest = st.move_item(manifest, form.module.data, form.index.data, form.delta.data)
    except st.StructureError as exc:
        flash(str(exc), "error")
        return redirect(url_for("authoring.structure", slug=slug))
    error = _save(draft, MANIFEST, st.dump(manifest), form.base_hash.data or "")
    flash(error or "Moved.", "error" if error else "success")
    return redirect(url_for("authoring.structure", slug=slug))


@bp.post("/<slug>/structure/module")
@login_required
def add_module(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = _draft(course)
    form = AddModuleForm()
    if form.validate_on_submit():
        try:
            manifest = st.add_module(
                st.parse(draft.files.get(MANIFEST), MANIFEST), form.key.data.strip(), form.title.data
            )
        except st.StructureError as exc:
            getattr(form, exc.field or "key").errors = [str(exc)]
        else:
            error = _save(draft, MANIFEST, st.dump(manifest), form.base_hash.data or "")
            if error is None:
                flash("Module added.", "success")
                return redirect(url_for("authoring.structure", slug=slug))
            form.key.errors = [error]
    return _structure_page(course, _draft(course), 400, add_module=form)


@bp.post("/<slug>/structure/item")
@login_required
def add_item(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = _draft(course)
    form = AddItemForm()
    files = draft.files
    if form.validate_on_submit():
        try:
            manifest, path, data = st.add_item(
                files,
                st.parse(files.get(MANIFEST), MANIFEST),
                form.module.data,
                form.kind.data,
                form.key.data.strip(),
                form.title.data,
            )
            # Both files in one transaction: the new file first, then the manifest that lists it.
            svc.save_file(draft, path, data, "", current_user, utcnow())
            svc.save_file(
                draft, MANIFEST, st.dump(manifest), form.base_hash.data or "", current_user, utcnow()
            )
        except st.StructureError as exc:
            db.session.rollback()
            getattr(form, exc.field or "key").errors = [str(exc)]
        except (svc.EditConflict, svc.AuthoringError) as exc:
            db.session.rollback()
            form.key.errors = [str(exc)]
        else:
            db.session.commit()
            flash(f"Added {path}.", "success")
            target = "authoring.edit_file" if path.startswith("lessons/") else "authoring.quiz"
            return redirect(url_for(target, slug=slug, path=path))
    return _structure_page(course, _draft(course), 400, add_item=form)


# -- quizzes --------------------------------------------------------------------------------------------


def _quiz_or_404(draft: Any, path: str) -> dict[str, Any]:
    if not (path.startswith("quizzes/") and path.endswith(".toml")) or path not in draft.files:
        abort(404)
    try:
        return st.parse(draft.files[path], path)
    except st.StructureError as exc:
        flash(str(exc), "error")
        abort(400)


@bp.get("/<slug>/quiz")
@login_required
def quiz(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = _draft(course)
    path = request.args.get("path", "")
    return _quiz_page(course, draft, path)


def _quiz_page(
    course: Any,
    draft: Any,
    path: str,
    status: int = 200,
    settings_form: Any = None,
    conflict: Conflict | None = None,
) -> Any:
    doc = _quiz_or_404(draft, path)
    base = svc.file_hash(draft.files[path])
    zone = _zone()
    problems = []
    if settings_form is None:
        settings_form = qf.QuizSettingsForm(
            formdata=None, data={**qf.form_data(doc, zone), "base_hash": base}
        )
        problems = _place_quiz_problems(course, draft, path, settings_form)
    return render_template(
        "authoring/quiz.html",
        course=course,
        path=path,
        questions=st.questions_of(doc),
        base=base,
        types=_registry().items(),
        settings_form=settings_form,
        settings_fields=[getattr(settings_form, n) for n in qf.field_names()],
        zone=zone.key,
        conflict=conflict,
        problems=problems,
        bank=[(r.key, r.category, r.type) for r in questions.bank_rows(course)],
        bank_form=BankPickForm(formdata=None),
        move_form=QuestionMoveForm(formdata=None),
    ), status


def _place_quiz_problems(course: Any, draft: Any, path: str, form: Any) -> list[Any]:
    """The package validator's problems with this quiz: next to the setting they name; the others are
    returned (listed at the top of the page)."""
    others = []
    for problem in svc.validate_draft(course, draft.files, _registry()).problems:
        if problem.file != path:
            continue
        if name := qf.field_of(problem.message, problem.where):
            getattr(form, name).errors = [*getattr(form, name).errors, problem.message]
        else:
            others.append(problem)
    return others


@bp.post("/<slug>/quiz/settings")
@login_required
def quiz_settings(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = _draft(course)
    path = request.args.get("path", "")
    doc = _quiz_or_404(draft, path)
    form = qf.QuizSettingsForm()
    conflict = None
    if form.validate_on_submit():
        new, errors = qf.apply(form, doc, _zone())
        if not errors:
            error, conflict = _save_form(draft, path, st.dump(new), form)
            if error is None:
                flash("Settings saved.", "success")
                return redirect(url_for("authoring.quiz", slug=slug, path=path))
            form.form_errors.append(error)
        for name, messages in errors.items():
            getattr(form, name).errors = messages
    status = 409 if conflict else 400
    return _quiz_page(course, _draft(course), path, status, settings_form=form, conflict=conflict)


@bp.post("/<slug>/quiz/question-order")
@login_required
def move_question(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = _draft(course)
    path = request.args.get("path", "")
    doc = _quiz_or_404(draft, path)
    form = QuestionMoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if request.form.get("delete"):
            new = st.delete_question(doc, form.index.data)
        elif form.delta.data in (-1, 1):
            new = st.move_question(doc, form.index.data, form.delta.data)
        else:
            abort(400)
    except st.StructureError as exc:
        flash(str(exc), "error")
        return redirect(url_for("authoring.quiz", slug=slug, path=path))
    error = _save(draft, path, st.dump(new), form.base_hash.data or "")
    flash(error or "Saved.", "error" if error else "success")
    return redirect(url_for("authoring.quiz", slug=slug, path=path))


@bp.route("/<slug>/question", methods=["GET", "POST"])
@login_required
def question(slug: str) -> Any:
    """Add (``type=``) or edit (``index=``) one question with the form generated from its type's plugin."""
    course, _role = course_or_404(slug)
    draft = _draft(course)
    path = request.args.get("path", "")
    doc = _quiz_or_404(draft, path)
    questions = st.questions_of(doc)
    index = request.args.get("index", type=int)
    if index is not None and not 0 <= index < len(questions):
        abort(404)
    existing = questions[index] if index is not None else {}
    type_name = existing.get("type") or request.args.get("type", "")
    try:
        qtype = _registry().get(type_name)
    except UnknownQuestionType:
        abort(404)
    form_cls = st.form_class(qtype)
    base = svc.file_hash(draft.files[path])
    if request.method == "GET":
        form = form_cls(formdata=None, data={**st.form_data(qtype, existing), "base_hash": base})
        return _question_page(course, path, index, qtype, form)
    form = form_cls()
    if not form.validate_on_submit():
        return _question_page(course, path, index, qtype, form, 400)
    result = st.spec_from_form(qtype, form, keep=existing)
    if result.ok:
        try:
            new = st.put_question(doc, index, result.spec)
        except st.StructureError as exc:
            result.errors[exc.field or "prompt"] = [str(exc)]
        else:
            error = _save(draft, path, st.dump(new), form.base_hash.data or "")
            if error is None:
                flash(f"Question {result.spec['id']} saved.", "success")
                return redirect(url_for("authoring.quiz", slug=slug, path=path))
            result.errors["prompt"] = [error]
    for name, messages in result.errors.items():
        getattr(form, name).errors = list(messages)
    return _question_page(course, path, index, qtype, form, 400)


def _question_page(
    course: Any, path: str, index: int | None, qtype: Any, form: Any, status: int = 200
) -> Any:
    type_fields = [getattr(form, f"f_{n}") for n in sorted(qtype.fields)]
    return render_template(
        "authoring/question.html",
        course=course,
        path=path,
        index=index,
        qtype=qtype,
        form=form,
        type_fields=type_fields,
    ), status


# -- GIFT and the question bank -------------------------------------------------------------------------


class GiftForm(FlaskForm):
    gift = FileField("GIFT file (.gift or .txt, UTF-8)", validators=[FileRequired()])
    target = SelectField("Import into", validate_choice=False)


class BankPickForm(FlaskForm):
    base_hash = HiddenField()
    key = SelectField("Question from the bank", validate_choice=False)


def _gift_targets(draft: Any) -> list[tuple[str, str]]:
    quizzes = sorted(p for p in draft.files if p.startswith("quizzes/") and p.endswith(".toml"))
    return [("bank", "The course's question bank"), *[(p, f"Quiz {p}") for p in quizzes]]


@bp.route("/<slug>/gift", methods=["GET", "POST"])
@login_required
def gift(slug: str) -> Any:
    """Upload a GIFT file into the bank or a draft quiz; every refused question is listed with its line."""
    course, _role = course_or_404(slug)
    draft = _draft(course)
    form = GiftForm()
    form.target.choices = select_choices(_gift_targets(draft))
    report = None
    status = 200
    if form.validate_on_submit():
        upload = form.gift.data
        data = upload.read()
        if form.target.data == "bank":
            if course.current_version_no == 0:
                form.target.errors = ["publish the course once before filling its bank"]
                return render_template("authoring/gift.html", course=course, form=form, report=None), 400
            report = questions.gift_into_bank(course, data, upload.filename or "upload.gift", _registry())
        elif form.target.data in dict(_gift_targets(draft)):
            try:
                report = questions.gift_into_quiz(
                    draft, form.target.data, data, _registry(), current_user, utcnow()
                )
            except (st.StructureError, svc.AuthoringError, svc.EditConflict) as exc:
                db.session.rollback()
                form.gift.errors = [str(exc)]
                return render_template("authoring/gift.html", course=course, form=form, report=None), 400
        else:
            abort(400)
        db.session.commit()
        status = 200 if report.added else 400
    elif request.method == "POST":
        status = 400
    return render_template("authoring/gift.html", course=course, form=form, report=report), status


@bp.post("/<slug>/quiz/from-bank")
@login_required
def from_bank(slug: str) -> Any:
    course, _role = course_or_404(slug)
    draft = _draft(course)
    path = request.args.get("path", "")
    _quiz_or_404(draft, path)
    form = BankPickForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        qid = questions.bank_into_quiz(
            course, draft, path, form.key.data or "", form.base_hash.data or "", current_user, utcnow()
        )
    except (svc.AuthoringError, st.StructureError) as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except svc.EditConflict:
        db.session.rollback()
        flash(f"Someone else changed {path} after you opened this page; nothing was saved.", "error")
    else:
        db.session.commit()
        flash(f"Added {qid} from the bank.", "success")
    return redirect(url_for("authoring.quiz", slug=slug, path=path))


# -- preview --------------------------------------------------------------------------------------------


@bp.route("/<slug>/try", methods=["GET", "POST"])
@login_required
def try_quiz(slug: str) -> Any:
    """The draft's quiz as a learner sees it; a submission is graded and shown, never recorded."""
    course, _role = course_or_404(slug)
    draft = _draft(course)
    path = request.args.get("path", "")
    _quiz_or_404(draft, path)
    loaded = svc.validate_draft(course, draft.files, _registry())
    if not loaded.ok:
        return render_template(
            "authoring/try.html", course=course, path=path, quiz=None, problems=loaded.problems, result=None
        ), 400
    quiz_def = preview.find_quiz(loaded.package, path)
    if quiz_def is None:  # a quiz file no module lists
        abort(404)
    form = ActionForm()
    result = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        result = preview.grade(quiz_def, request.form, _registry())
    return render_template(
        "authoring/try.html",
        course=course,
        path=path,
        quiz=quiz_def,
        questions=preview.questions(quiz_def, _registry()),
        form=form,
        result=result,
        problems=[],
    )


@bp.route("/<slug>/quizzes/<key>/preview", methods=["GET", "POST"])
@login_required
def preview_published(slug: str, key: str) -> Any:
    """The published version's quiz through the learner's own attempt and review pages; never recorded.

    A GET starts a fresh preview (a new draw); a POST moves between pages or questions (``go``, ``page``)
    or, without either, grades everything and shows the review.
    """
    course, _role = course_or_404(slug)
    found = quiz_services.current_quiz(course, key) if course.current_version_no else None
    if found is None:
        abort(404)
    quiz, _item, version = found
    questions = quiz_services.quiz_questions(quiz)
    now = utcnow()
    if request.method == "GET":
        attempt = preview.published_attempt(quiz, questions, preview.new_seed(), now, {})
        return _published_attempt_page(course, attempt, now)
    state = preview.load_state(request.form.get("state", ""), current_app.secret_key)
    if not ActionForm().validate_on_submit() or state is None:
        flash("The preview expired or its page was altered: here is a fresh one.", "info")
        return redirect(url_for("authoring.preview_published", slug=slug, key=key))
    attempt = preview.published_attempt(quiz, questions, *state)
    parsed = quiz_services.parse_responses(attempt, request.form, _registry(), only_present=True)
    for answer in attempt.answers:
        if answer.id in parsed:
            answer.response = parsed[answer.id]
    go, page = request.form.get("go", type=int), request.form.get("page", type=int)
    if go is not None or page is not None:
        return _published_attempt_page(course, attempt, now, go, page)
    preview.grade_published(attempt, _registry())
    learner_level = grading.review_level(
        quiz.settings.get("review", "answers"), passed_quiz=bool(attempt.passed)
    )
    rows = quiz_services.review_rows(attempt, _registry(), version.details.get("references", []))
    return render_template(
        "quizzes/review.html",
        attempt=attempt,
        course=course,
        quiz=quiz,
        rows=rows,
        level="answers",
        info=None,
        preview=_preview_links(course, quiz, learner_level=learner_level),
    )


def _preview_links(course: Any, quiz: Any, **extra: Any) -> dict[str, Any]:
    return {
        "url": url_for("authoring.preview_published", slug=course.slug, key=quiz.key),
        "back": url_for("authoring.course", slug=course.slug),
        **extra,
    }


def _published_attempt_page(
    course: Any, attempt: preview.PreviewAttempt, now: Any, go: int | None = None, page: int | None = None
) -> Any:
    """The learner's attempt page for a preview: the same paging and step rules as quizzes.attempt."""
    views = quiz_services.question_views(attempt, _registry())
    layout = quiz_services.page_layout(attempt.quiz.settings, len(views), go, page)
    state = preview.dump_state(attempt, current_app.secret_key)
    return render_template(
        "quizzes/attempt.html",
        attempt=attempt,
        course=course,
        views=views,
        step=layout.step,
        page=layout.page,
        pages=layout.pages,
        per_page=layout.per_page,
        registry=_registry(),
        form=ActionForm(),
        unanswered=sum(1 for v in views if not v.answered),
        seconds_left=max(0, int((attempt.deadline_at - now).total_seconds()))
        if attempt.deadline_at
        else None,
        preview=_preview_links(course, attempt.quiz, state=state),
    )


# -- corrections: regrade and per-learner extra attempts -------------------------------------------------


class RegradeForm(FlaskForm):
    quiz_key = SelectField("Quiz", validate_choice=False)
    reason = TextAreaField("Reason (for the audit trail)", validators=[Optional()])


class TimeForm(FlaskForm):
    email = StringField("Learner's email", validators=[DataRequired()])
    quiz_key = SelectField("Quiz", validate_choice=False)
    minutes = IntegerField("Extra minutes", validators=[InputRequired()])
    reason = TextAreaField("Reason (for example an accommodation)", validators=[DataRequired()])


class GrantForm(FlaskForm):
    email = StringField("Learner's email", validators=[DataRequired()])
    quiz_key = SelectField("Quiz", validate_choice=False)
    reason = TextAreaField("Reason (for example an accommodation)", validators=[DataRequired()])


@bp.route("/<slug>/regrade", methods=["GET", "POST"])
@login_required
def regrade_quiz(slug: str) -> Any:
    """Dry run (the default) or apply a regrade of a quiz after its key was corrected in a new version."""
    course, _role = course_or_404(slug)
    form = RegradeForm()
    form.quiz_key.choices = select_choices((k, k) for k in regrade.quiz_keys(course))
    grant_form = GrantForm(formdata=None)
    grant_form.quiz_key.choices = form.quiz_key.choices
    time_form = TimeForm(formdata=None)
    time_form.quiz_key.choices = form.quiz_key.choices
    result, applied, status = None, False, 200
    if form.validate_on_submit() and form.quiz_key.data in regrade.quiz_keys(course):
        if "apply" in request.form:
            try:
                result = regrade.apply(
                    course, form.quiz_key.data, _registry(), current_user, form.reason.data or "", utcnow()
                )
            except ValueError as exc:
                db.session.rollback()
                form.reason.errors = [str(exc)]
                status = 400
            else:
                db.session.commit()
                applied = True
        else:
            result = regrade.plan(course, form.quiz_key.data, _registry())
    elif request.method == "POST":
        status = 400
    return render_template(
        "authoring/regrade.html",
        course=course,
        form=form,
        grant_form=grant_form,
        time_form=time_form,
        result=result,
        applied=applied,
        flag_states=regrade.flag_states(course.id),
        published_quizzes=preview.published_quizzes(course),
    ), status


@bp.post("/<slug>/grant")
@login_required
def grant(slug: str) -> Any:
    """One extra attempt for one learner, with a reason, audited (the quizzes' own attempt grants)."""
    course, _role = course_or_404(slug)
    form = GrantForm()
    form.quiz_key.choices = select_choices((k, k) for k in regrade.quiz_keys(course))
    if form.validate_on_submit():
        learner = get_user_by_email(form.email.data)
        if learner is None:
            form.email.errors = ["no account uses this email"]
        else:
            try:
                grant_attempt(
                    learner.id, course, form.quiz_key.data, form.reason.data, current_user, utcnow()
                )
            except GrantError as exc:
                db.session.rollback()
                form.reason.errors = [str(exc)]
            else:
                db.session.commit()
                flash(f"{learner.email} may start one more attempt at {form.quiz_key.data}.", "success")
                return redirect(url_for("authoring.regrade_quiz", slug=slug))
    return _corrections_page(course, grant_form=form)


def _corrections_page(course: Any, **forms: Any) -> Any:
    choices = select_choices((k, k) for k in regrade.quiz_keys(course))
    built = {}
    for name, cls in (("form", RegradeForm), ("grant_form", GrantForm), ("time_form", TimeForm)):
        built[name] = forms.get(name) or cls(formdata=None)
        built[name].quiz_key.choices = choices
    return render_template(
        "authoring/regrade.html",
        course=course,
        result=None,
        applied=False,
        flag_states=regrade.flag_states(course.id),
        published_quizzes=preview.published_quizzes(course),
        **built,
    ), 400


@bp.post("/<slug>/extend-time")
@login_required
def extend_time(slug: str) -> Any:
    """Extra minutes on a timed quiz for one learner, with a reason, audited."""
    course, _role = course_or_404(slug)
    form = TimeForm()
    form.quiz_key.choices = select_choices((k, k) for k in regrade.quiz_keys(course))
    if form.validate_on_submit():
        learner = get_user_by_email(form.email.data)
        if learner is None:
            form.email.errors = ["no account uses this email"]
        else:
            try:
                regrade.extend_time(
                    learner,
                    course,
                    form.quiz_key.data,
                    form.minutes.data,
                    form.reason.data,
                    current_user,
                    utcnow(),
                )
            except ValueError as exc:
                db.session.rollback()
                form.minutes.errors = [str(exc)]
            else:
                db.session.commit()
                flash(
                    f"{learner.email} gets {form.minutes.data} more minutes on {form.quiz_key.data}.",
                    "success",
                )
                return redirect(url_for("authoring.regrade_quiz", slug=slug))
    return _corrections_page(course, time_form=form)


@bp.get("/flags")
@role_required("admin")
def flags() -> Any:
    """The flags regrades raise are reviewed and resolved in the administration area (kept for old links)."""
    return redirect(url_for("admin.regrade_flags"))


# -- the course description (course.toml's fields) -------------------------------------------------------


@bp.route("/<slug>/details", methods=["GET", "POST"])
@login_required
def details(slug: str) -> Any:
    """The course description. Besides "Save", the row buttons (add a row, move up/down) post the form and
    get it back re-arranged, with everything typed kept and nothing saved."""
    course, _role = course_or_404(slug)
    draft = _draft(course)
    files = draft.files
    try:
        manifest = st.parse(files.get(MANIFEST), MANIFEST)
    except st.StructureError as exc:
        flash(str(exc), "error")
        return redirect(url_for("authoring.edit_file", slug=slug, path=MANIFEST))
    quizzes = _course_quizzes(files)
    if request.method == "GET":
        form = mf.ManifestForm(formdata=None, data={**mf.form_data(manifest), "base_hash": _hash(files)})
        form.set_choices(quizzes, manifest)
        return _details_page(course, draft, form, validate=True)
    action = request.form.get("action", "save")
    if action != "save":
        form = mf.ManifestForm(formdata=sf.rearranged(request.form, action, mf.ROW_LISTS))
        form.set_choices(quizzes, manifest)
        return _details_page(course, draft, form)
    form = mf.ManifestForm()
    form.set_choices(quizzes, manifest)
    if not form.validate_on_submit():
        return _details_page(course, draft, form, status=400)
    new, errors = mf.apply(form, manifest)
    conflict = None
    if not errors:
        error, conflict = _save_form(draft, MANIFEST, st.dump(new), form)
        if error is None:
            flash("Course details saved to the draft.", "success")
            return redirect(url_for("authoring.details", slug=slug))
        form.form_errors.append(error)
    form.form_errors.extend(sf.set_errors(form, errors))
    return _details_page(course, _draft(course), form, status=409 if conflict else 400, conflict=conflict)


def _hash(files: dict[str, bytes]) -> str:
    return svc.file_hash(files.get(MANIFEST))


def _course_quizzes(files: dict[str, bytes]) -> list[tuple[str, str]]:
    """(id, label) of the draft's quizzes, for the completion policy's choices."""
    out = []
    for path in sorted(p for p in files if p.startswith("quizzes/") and p.endswith(".toml")):
        try:
            doc = st.parse(files[path], path)
        except st.StructureError:
            doc = {}
        key = doc.get("id") if isinstance(doc.get("id"), str) else path.rsplit("/", 1)[-1][: -len(".toml")]
        title = doc.get("title") if isinstance(doc.get("title"), str) else key
        kind = doc.get("kind") if isinstance(doc.get("kind"), str) else "quiz"
        out.append((key, f"{title} ({key}, {kind})"))
    return out


def _details_page(
    course: Any,
    draft: Any,
    form: Any,
    *,
    status: int = 200,
    validate: bool = False,
    conflict: Conflict | None = None,
) -> Any:
    """The form with the package validator's course.toml problems placed next to their fields."""
    others = []
    if validate:
        for problem in svc.validate_draft(course, draft.files, _registry()).problems:
            if problem.file != MANIFEST:
                continue
            name = mf.field_for(problem)
            if not name or sf.set_errors(form, {name: [problem.message]}):
                others.append(problem)
    return render_template(
        "authoring/details.html", course=course, form=form, problems=others, conflict=conflict
    ), status
