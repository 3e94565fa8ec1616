"""Parse and validate a course package into frozen dataclasses.

One loader serves every source (bundled folder, installed distribution, zip upload). It never stops at the
first problem: it collects every problem with the file and the field or line, and returns no package at all
when there is any, so nothing half-valid is ever stored.

Field checks come from the declaration in ``schema.py`` (``check()`` walks each table against ``COURSE``,
``QUIZ`` and ``COMMON_QUESTION``); question types check their own fields. What is left here builds the frozen
dataclasses from the checked values and applies the rules a schema cannot express: honest time budgets,
references and media that exist, unique ids, every file listed once, draws and final pools, the completion
policy's quizzes, a final's review policy, a quiz closing after it opens.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lms.coursepacks.manifest import (
    VIGNETTE,
    CertificatePolicy,
    CompletionPolicy,
    CoursePackage,
    Credit,
    Dates,
    Faculty,
    Lesson,
    MediaFile,
    Module,
    Problem,
    QuestionDef,
    Quiz,
    QuizSettings,
    Reference,
)
from lms.coursepacks.markdown import render_markdown
from lms.coursepacks.reader import MEDIA_SUFFIXES, PackageFiles
from lms.coursepacks.schema import COMMON_QUESTION, COURSE, KEY_PATTERN, QUIZ, SLUG_PATTERN, F, Report, check
from lms.coursepacks.svg import svg_problems
from lms.coursepacks.timing import course_minutes, lesson_minutes, max_hours
from lms.plugins import QuestionTypeRegistry

SLUG = re.compile(SLUG_PATTERN)
KEY = re.compile(KEY_PATTERN)
FRONT_MATTER = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?)\r?\n\+\+\+[ \t]*(?:\r?\n|\Z)", re.S)
TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")
MANIFEST = "course.toml"


@dataclass
class LoadResult:
    package: CoursePackage | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.package is not None and not self.problems


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, message: str, where: str = "") -> None:
        self.problems.append(Problem(file, message, where))

    def reporter(self, file: str) -> Report:
        """What ``schema.check`` reports through: problems in ``file``."""
        return lambda message, where: self.add(file, message, where)


def media_url_for(slug: str) -> Any:
    return lambda path: f"/courses/{slug}/{path}"


def package_checksum(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()


def parse_toml(data: bytes, file: str, out: _Collector) -> dict[str, Any] | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.add(file, f"is not UTF-8 text (byte {exc.start})")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = TOML_LINE.search(message)
        where = f"line {line.group(1)}" if line else ""
        out.add(file, f"invalid TOML: {TOML_LINE.sub('', message).strip()}", where)
        return None


# -- the loader ----------------------------------------------------------------------------------------


def load_package(files: PackageFiles, registry: QuestionTypeRegistry) -> LoadResult:
    """Parse and validate every file of a package; return it only if there is no problem at all."""
    out = _Collector()
    for path, message in files.problems:
        out.add(path, message)
    if MANIFEST not in files.files:
        out.add(MANIFEST, "is missing: a course package needs a course.toml at its top level")
        return LoadResult(None, out.problems)
    manifest = parse_toml(files.files[MANIFEST], MANIFEST, out)
    if manifest is None:
        return LoadResult(None, out.problems)
    package = _build(manifest, files, registry, out)
    return LoadResult(package if not out.problems else None, out.problems)


def _build(
    m: dict[str, Any], files: PackageFiles, registry: QuestionTypeRegistry, out: _Collector
) -> CoursePackage | None:
    v = check(m, COURSE, out.reporter(MANIFEST))
    credit_t = v.get("credit", {})
    accredited = credit_t.get("accredited", False)
    # An accredited activity must say which credit it designates; a participation certificate need not.
    for name in ("type", "statement") if accredited else ():
        if not credit_t.get(name) and isinstance(m["credit"].get(name, ""), str):  # else reported as wrong
            out.add(MANIFEST, f'"{name}" is required when "accredited" is true', "credit")
    credit = Credit(
        hours=credit_t.get("hours", 0.0),
        type=credit_t.get("type", ""),
        statement=credit_t.get("statement", ""),
        accreditation=credit_t.get("accreditation", ""),
        accredited=accredited,
    )
    dates_t = v.get("dates", {})
    release, review, expiry = (dates_t.get(k) for k in ("release", "last_review", "expiry"))
    if release and expiry and expiry <= release:
        out.add(MANIFEST, '"expiry" must be after "release"', "dates")
    if release and review and review < release:
        out.add(MANIFEST, '"last_review" cannot be before "release"', "dates")
    faculty = [
        Faculty(e.get("name", ""), e.get("role", ""), e.get("credentials", ""), e.get("disclosure", ""))
        for e in v.get("faculty", [])
    ]
    references = _references(v.get("references", []), out)
    ref_numbers = {r.key: r.number for r in references}
    slug = v.get("slug", "")
    media = _media(files, out)
    media_paths = {mf.path for mf in media}
    media_url = media_url_for(slug or "course")
    modules = (
        _modules(v["modules"], files, registry, out, ref_numbers, media_paths, media_url)
        if "modules" in v
        else []  # reported; listing every file as unlisted would only repeat it
    )
    completion = _completion(v.get("completion", {}), modules, out)
    minutes = v.get("estimated_minutes", 0)
    _time_problems(modules, minutes, credit.hours, out)
    if out.problems or release is None or review is None or expiry is None:
        return None
    edition = v["edition"]
    return CoursePackage(
        slug=slug,
        title=v["title"],
        edition=edition if isinstance(edition, str) else str(edition),
        summary=v["summary"],
        audience=tuple(v["audience"]),
        specialties=tuple(v["specialties"]),
        objectives=tuple(v["objectives"]),
        estimated_minutes=minutes,
        status=v.get("status", "published"),
        how_to_participate=v.get("how_to_participate", ""),
        credit=credit,
        dates=Dates(release, review, expiry),
        faculty=tuple(faculty),
        references=tuple(references),
        completion=completion,
        modules=tuple(modules),
        media=tuple(media),
        checksum=package_checksum(files.files),
        certificate=CertificatePolicy(**v.get("certificate", {})),
        needs=v.get("needs", ""),
        commercial_support=v.get("commercial_support", ""),
    )


def _media(files: PackageFiles, out: _Collector) -> list[MediaFile]:
    """The package's media files (allowed types, safe SVG); any other file outside the format is reported."""
    media = []
    for path, data in sorted(files.files.items()):
        top = path.split("/", 1)[0]
        if path == MANIFEST:
            continue
        if top == "media":
            suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
            if suffix not in MEDIA_SUFFIXES:
                out.add(
                    path,
                    f"media type {suffix or '(none)'} is not allowed ({', '.join(sorted(MEDIA_SUFFIXES))})",
                )
                continue
            if suffix == ".svg" and (svg_issues := svg_problems(data)):
                for issue in svg_issues:
                    out.add(path, issue)
                continue
            media.append(MediaFile(path, MEDIA_SUFFIXES[suffix], data))
        elif top not in ("lessons", "quizzes") and not path.lower().startswith(("readme", "license")):
            out.add(path, "is not part of the package format (only course.toml, lessons/, quizzes/, media/)")
    return media


def _time_problems(modules: list[Module], estimated: int, hours: float, out: _Collector) -> None:
    """Honest time: neither the estimate nor the hours offered may exceed what the content takes."""
    parts = [
        ("lesson", i.minutes) if isinstance(i, Lesson) else (i.kind, i.minutes)
        for m in modules
        for i in m.items
    ]
    if not parts:
        return
    total = course_minutes(parts)
    if estimated and estimated > total:
        out.add(
            MANIFEST,
            f'"estimated_minutes" is {estimated} but the content takes {total} minutes '
            "(lessons at 200 words a minute, 2 minutes per question asked, 1 per survey item)",
        )
    limit = max_hours(total)
    if hours > limit:
        out.add(
            MANIFEST,
            f'"hours" is {hours:g} but the content takes {total} minutes: at most {limit:g} hours '
            "(the total rounded down to a quarter hour)",
            "credit",
        )


def _references(entries: list[dict[str, Any]], out: _Collector) -> list[Reference]:
    """References numbered in the manifest's order (lessons cite them by key); keys are unique."""
    result: list[Reference] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        key = entry.get("key", "")
        if key and key in seen:
            out.add(MANIFEST, f'duplicate reference key "{key}"', f"references {i}")
        seen.add(key)
        pmid = entry.get("pmid", "")
        result.append(
            Reference(
                key,
                len(result) + 1,
                entry.get("citation", ""),
                entry.get("doi", ""),
                pmid if isinstance(pmid, str) else str(pmid),
                entry.get("url", ""),
            )
        )
    return result


def _modules(
    entries: list[dict[str, Any]],
    files: PackageFiles,
    registry: QuestionTypeRegistry,
    out: _Collector,
    refs: dict[str, int],
    media_paths: set[str],
    media_url: Any,
) -> list[Module]:
    """Modules with their items parsed; every lesson and quiz file is listed exactly once, ids are unique."""
    modules: list[Module] = []
    item_keys: dict[str, str] = {}
    module_keys: set[str] = set()
    used_files: set[str] = set()
    for i, entry in enumerate(entries, 1):
        where = f"modules {i}"
        key = entry.get("id", "")
        if key and key in module_keys:
            out.add(MANIFEST, f'duplicate module id "{key}"', where)
        module_keys.add(key)
        items: list[Lesson | Quiz] = []
        for path in entry.get("items", []):
            if path in used_files:
                out.add(MANIFEST, f'"{path}" is listed twice', where)
                continue
            used_files.add(path)
            if path not in files.files:
                out.add(MANIFEST, f'item "{path}" does not exist in the package', where)
                continue
            if path.startswith("lessons/") and path.endswith(".md"):
                item: Lesson | Quiz | None = _lesson(
                    path, files.files[path], out, refs, media_paths, media_url
                )
            elif path.startswith("quizzes/") and path.endswith(".toml"):
                item = _quiz(path, files.files[path], registry, out, refs, media_paths, media_url)
            else:
                out.add(MANIFEST, f'item "{path}" must be lessons/*.md or quizzes/*.toml', where)
                continue
            if item is None:
                continue
            if item.key in item_keys:
                out.add(path, f'id "{item.key}" is already used by {item_keys[item.key]}')
                continue
            item_keys[item.key] = path
            items.append(item)
        modules.append(Module(key, entry.get("title", ""), entry.get("summary", ""), tuple(items)))
    for path in sorted(files.files):
        if path.startswith(("lessons/", "quizzes/")) and path not in used_files:
            out.add(path, "is not listed in any module's items")
    return modules


def _completion(values: dict[str, Any], modules: list[Module], out: _Collector) -> CompletionPolicy:
    """The completion policy; the final and the evaluation it names must be quizzes of the right kind."""
    policy = CompletionPolicy(**values)
    quizzes = {i.key: i for mod in modules for i in mod.items if isinstance(i, Quiz)}
    if policy.final_quiz and policy.final_quiz not in quizzes:
        out.add(
            MANIFEST,
            f'"final_quiz" names "{policy.final_quiz}", which is not a quiz in this package',
            "completion",
        )
    elif policy.final_quiz and quizzes[policy.final_quiz].kind != "final":
        out.add(MANIFEST, f'"final_quiz" "{policy.final_quiz}" must have kind = "final"', "completion")
    if policy.require_quizzes == "final" and not policy.final_quiz:
        out.add(MANIFEST, 'require_quizzes = "final" needs "final_quiz"', "completion")
    if policy.evaluation and policy.evaluation not in quizzes:
        out.add(
            MANIFEST,
            f'"evaluation" names "{policy.evaluation}", which is not a quiz in this package',
            "completion",
        )
    elif policy.evaluation and quizzes[policy.evaluation].kind != "survey":
        out.add(MANIFEST, f'"evaluation" "{policy.evaluation}" must have kind = "survey"', "completion")
    return policy


def _lesson(
    path: str, data: bytes, out: _Collector, refs: dict[str, int], media_paths: set[str], media_url: Any
) -> Lesson | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.add(path, f"is not UTF-8 text (byte {exc.start})")
        return None
    front: dict[str, Any] = {}
    match = FRONT_MATTER.match(text)
    body = text
    if match:
        body = text[match.end() :]
        try:
            front = tomllib.loads(match.group(1))
        except tomllib.TOMLDecodeError as exc:
            line = TOML_LINE.search(str(exc))
            where = f"line {int(line.group(1)) + 1}" if line else "front matter"
            out.add(path, f"invalid front matter: {TOML_LINE.sub('', str(exc)).strip()}", where)
            return None
    elif text.startswith("+++"):
        out.add(path, "front matter starts with +++ but has no closing +++ line", "line 1")
        return None
    for extra in sorted(set(front) - {"id", "title", "minutes"}):
        out.add(path, f'unknown front matter field "{extra}"')
    key = front.get("id") or path.rsplit("/", 1)[-1].removesuffix(".md")
    if not isinstance(key, str) or not KEY.match(key):
        out.add(path, f'"id" may use letters, digits, "_" and "-" only, not {key!r}', "front matter")
        return None
    title = front.get("title")
    if title is None:
        heading = re.search(r"^# +(.+?)\s*#*\s*$", body, re.M)
        if heading:
            title = heading.group(1)
            body = body[: heading.start()] + body[heading.end() :]
    if not isinstance(title, str) or not title.strip():
        out.add(path, 'no title: give "title" in the front matter or start with a "# Heading"')
        return None
    if not body.strip():
        out.add(path, "the lesson has no content")
    rendered = render_markdown(
        body, references=refs, base_dir="lessons", media_exists=media_paths.__contains__, media_url=media_url
    )
    for problem in rendered.problems:
        out.add(path, problem)
    computed = lesson_minutes(rendered.html)
    minutes = front.get("minutes", computed)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        out.add(path, '"minutes" must be a whole number ≥ 1', "front matter")
        minutes = computed
    elif minutes > computed:
        authored, minutes = minutes, computed
        out.add(
            path,
            f'"minutes" is {authored} but the lesson reads in {computed} '
            f"(ceil(words / 200) over its text); give at most {computed} or leave it out",
            "front matter",
        )
    return Lesson(key, path, title.strip(), minutes, rendered.html, tuple(rendered.citations))


#: every field a quiz file may have (the declaration's)
QUIZ_FIELDS = frozenset(QUIZ)
#: the quiz fields that are settings (QuizSettings), shared with the authoring and GIFT import paths
SETTINGS: dict[str, F] = {name: f for name, f in QUIZ.items() if name in QuizSettings.__dataclass_fields__}


def quiz_settings(q: Mapping[str, Any], file: str, out: _Collector) -> QuizSettings:
    """Validate quiz settings (shared with the authoring and GIFT import paths); other keys are ignored.

    ``opens_at`` and ``closes_at`` are kept as ISO text (JSON-safe in the item's details): with an offset
    they are that instant, without one a wall-clock time in the site's time zone, resolved when the rule
    runs (``lms.quizzes.window``), so the package format itself needs no time zone.
    """
    # only ``out.add`` is asked of ``out``, so callers with their own collector keep working
    values = check(q, SETTINGS, lambda message, where: out.add(file, message, where), open_=True)
    opens, closes = values.pop("opens_at", None), values.pop("closes_at", None)
    if opens is not None and closes is not None:
        if (opens.tzinfo is None) != (closes.tzinfo is None):
            out.add(
                file, '"opens_at" and "closes_at" must both have an offset (+01:00) or both none', "closes_at"
            )
        elif closes <= opens:
            out.add(
                file,
                f'"closes_at" ({closes.isoformat()}) must be after "opens_at" ({opens.isoformat()})',
                "closes_at",
            )
    return QuizSettings(
        **values,
        opens_at=opens.isoformat() if opens is not None else "",
        closes_at=closes.isoformat() if closes is not None else "",
    )


def _quiz(
    path: str,
    data: bytes,
    registry: QuestionTypeRegistry,
    out: _Collector,
    refs: dict[str, int],
    media_paths: set[str],
    media_url: Any,
) -> Quiz | None:
    q = parse_toml(data, path, out)
    if q is None:
        return None
    own = {name: f for name, f in QUIZ.items() if name not in SETTINGS and name != "questions"}
    v = check(q, own, out.reporter(path), others={*SETTINGS, "questions"})
    if "id" in q and "id" not in v:
        return None  # reported: other files may not refer to a quiz without a usable id
    key = v.get("id") or path.rsplit("/", 1)[-1].removesuffix(".toml")
    if not KEY.match(key):
        out.add(
            path, f'the file name must be a valid id (letters, digits, "_" and "-") or give "id", not {key!r}'
        )
        return None
    kind = v.get("kind", "quiz")
    settings = quiz_settings(q, path, out)
    if kind == "final":
        settings = _final_review(q, settings, path, out)
    intro = render_markdown(
        v.get("intro", ""),
        references=refs,
        base_dir="quizzes",
        media_exists=media_paths.__contains__,
        media_url=media_url,
    )
    for problem in intro.problems:
        out.add(path, problem, "intro")
    questions = _questions(q.get("questions"), path, kind, registry, out, refs, media_paths, media_url)
    if settings.draw and questions and settings.draw > len(questions):
        out.add(path, f'"draw" is {settings.draw} but the quiz has only {len(questions)} questions')
    elif kind == "final" and settings.draw and questions:
        _final_pool_problems(path, settings.draw, questions, out)
    if settings.lockout_hours and not settings.attempts_per_set:
        out.add(
            path, '"lockout_hours" needs "attempts_per_set" (the size of a set of attempts)', "lockout_hours"
        )
    return Quiz(key, path, v.get("title", ""), kind, intro.html, settings, tuple(questions))


def _final_review(q: Mapping[str, Any], settings: QuizSettings, path: str, out: _Collector) -> QuizSettings:
    """A final shows correct answers only after a pass, so a failed attempt cannot be copied into the next:
    it defaults to ``after_pass`` and may not ask for "answers" or "correctness"."""
    if "review" not in q:
        return replace(settings, review="after_pass")
    if settings.review in ("answers", "correctness"):
        out.add(
            path,
            f'a final may not show {settings.review} to a learner who has not passed: use "after_pass" '
            '(or "score" or "never")',
            "review",
        )
    return settings


def _final_pool_problems(path: str, draw: int, questions: list[QuestionDef], out: _Collector) -> None:
    """A final that draws must draw from a pool of at least 1.5 × draw, at least half vignettes per draw."""
    needed_pool = -(-3 * draw // 2)
    if len(questions) < needed_pool:
        out.add(
            path,
            f"a final drawing {draw} questions needs a pool of at least {needed_pool} (1.5 × draw); "
            f"it has {len(questions)}",
            "draw",
        )
    vignettes = sum(1 for q in questions if VIGNETTE in (q.spec.get("tags") or []))
    needed_vignettes = -(-draw // 2)
    if vignettes < needed_vignettes:
        out.add(
            path,
            f'a final drawing {draw} questions needs at least {needed_vignettes} tagged "{VIGNETTE}" '
            f"(half the draw); it has {vignettes}",
            "draw",
        )


def _questions(
    value: Any,
    path: str,
    kind: str,
    registry: QuestionTypeRegistry,
    out: _Collector,
    refs: dict[str, int],
    media_paths: set[str],
    media_url: Any,
) -> list[QuestionDef]:
    if not isinstance(value, list) or not value:
        out.add(path, "[[questions]] must list at least one question")
        return []
    result = []
    seen: set[str] = set()
    for n, spec in enumerate(value, 1):
        where = f"question {n}"
        if not isinstance(spec, dict):
            out.add(path, "must be a table", where)
            continue
        # the common fields; the question type checks its own (and reports unknown ones)
        v = check(spec, COMMON_QUESTION, out.reporter(path), where, open_=True)
        if ("id" in spec and "id" not in v) or "type" not in v or "prompt" not in v:
            continue  # reported
        qkey = v.get("id", f"q{n}")
        if qkey in seen:
            out.add(path, f'duplicate question id "{qkey}"', where)
        seen.add(qkey)
        qtype_name = spec["type"]
        if qtype_name not in registry:
            out.add(
                path,
                f'unknown question type "{qtype_name}" (installed: {", ".join(registry.names())})',
                where,
            )
            continue
        qtype = registry.get(qtype_name)
        if kind == "survey" and qtype.graded:
            out.add(
                path, f'a survey may only hold ungraded items (likert, free_text), not "{qtype_name}"', where
            )
        if kind != "survey" and not qtype.graded:
            out.add(path, f'"{qtype_name}" is a survey item; it cannot be used in a graded quiz', where)
        reference = spec["reference"] if "reference" in v else ""
        if reference and reference not in refs:
            out.add(path, f'reference "{reference}" is not a reference key in course.toml', where)
        for message in qtype.validate({**spec, "id": qkey}):
            out.add(path, message, where)
        render = {
            "references": refs,
            "base_dir": "quizzes",
            "media_exists": media_paths.__contains__,
            "media_url": media_url,
        }
        # rendered as written (not stripped): the stored HTML and spec stay exactly the author's
        prompt_r = render_markdown(spec["prompt"], **render)
        expl_r = render_markdown(spec["explanation"] if "explanation" in v else "", **render)
        for problem in prompt_r.problems + expl_r.problems:
            out.add(path, problem, where)
        result.append(
            QuestionDef(
                qkey,
                qtype_name,
                n,
                v.get("points", 1.0),
                prompt_r.html,
                expl_r.html,
                reference,
                {**spec, "id": qkey},
            )
        )
    return result
