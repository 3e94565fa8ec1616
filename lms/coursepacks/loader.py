"""Parse and validate a course package into frozen dataclasses.

One loader serves every source (bundled folder, installed distribution, zip upload). It never stops at the
first problem: it collects every problem with the file and the field or line, and returns no package at all
when there is any, so nothing half-valid is ever stored.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from lms.coursepacks.manifest import (
    GRADING_METHODS,
    NAVIGATION,
    PROFESSION_KEYS,
    QUIZ_KINDS,
    REVIEW_POLICIES,
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
from lms.coursepacks.svg import svg_problems
from lms.coursepacks.timing import course_minutes, lesson_minutes, max_hours
from lms.plugins import QuestionTypeRegistry

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$")
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


# -- small typed field readers -------------------------------------------------------------------------


def _str(
    d: Mapping[str, Any],
    key: str,
    file: str,
    out: _Collector,
    where: str = "",
    *,
    required: bool = True,
    default: str = "",
) -> str:
    value = d.get(key)
    if value is None:
        if required:
            out.add(file, f'"{key}" is required', where)
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        out.add(file, f'"{key}" must be non-empty text', where)
        return default
    return value.strip()


def _str_list(
    d: Mapping[str, Any], key: str, file: str, out: _Collector, *, required: bool = True
) -> list[str]:
    value = d.get(key)
    if value is None:
        if required:
            out.add(file, f'"{key}" is required (a list of texts)')
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        out.add(file, f'"{key}" must be a list of non-empty texts')
        return []
    if required and not value:
        out.add(file, f'"{key}" must not be empty')
    return [v.strip() for v in value]


def _int(
    d: Mapping[str, Any],
    key: str,
    file: str,
    out: _Collector,
    where: str = "",
    *,
    default: int = 0,
    minimum: int = 0,
    required: bool = False,
) -> int:
    value = d.get(key, None)
    if value is None:
        if required:
            out.add(file, f'"{key}" is required', where)
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        out.add(file, f'"{key}" must be a whole number ≥ {minimum}, not {value!r}', where)
        return default
    return value


def _number(
    d: Mapping[str, Any],
    key: str,
    file: str,
    out: _Collector,
    where: str = "",
    *,
    default: float = 0.0,
    low: float = 0.0,
    high: float = float("inf"),
    required: bool = False,
) -> float:
    value = d.get(key)
    if value is None:
        if required:
            out.add(file, f'"{key}" is required', where)
        return default
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        bound = f"from {low:g} to {high:g}" if high != float("inf") else f"≥ {low:g}"
        out.add(file, f'"{key}" must be a number {bound}, not {value!r}', where)
        return default
    return float(value)


def _bool(
    d: Mapping[str, Any], key: str, file: str, out: _Collector, where: str = "", *, default: bool
) -> bool:
    value = d.get(key, default)
    if not isinstance(value, bool):
        out.add(file, f'"{key}" must be true or false', where)
        return default
    return value


def _choice(
    d: Mapping[str, Any],
    key: str,
    choices: tuple[str, ...],
    file: str,
    out: _Collector,
    where: str = "",
    *,
    default: str,
) -> str:
    value = d.get(key, default)
    if value not in choices:
        out.add(file, f'"{key}" must be one of {", ".join(choices)}, not {value!r}', where)
        return default
    return value


def _date(d: Mapping[str, Any], key: str, file: str, out: _Collector, where: str) -> date | None:
    value = d.get(key)
    if value is None:
        out.add(file, f'"{key}" is required (a date such as 2026-11-01)', where)
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    out.add(file, f'"{key}" must be a date such as 2026-11-01, not {value!r}', where)
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
    f = MANIFEST
    known = {
        "slug",
        "title",
        "edition",
        "summary",
        "audience",
        "specialties",
        "objectives",
        "estimated_minutes",
        "status",
        "how_to_participate",
        "credit",
        "dates",
        "faculty",
        "references",
        "completion",
        "certificate",
        "needs",
        "commercial_support",
        "modules",
    }
    for extra in sorted(set(m) - known):
        out.add(f, f'unknown field "{extra}"')
    slug = _str(m, "slug", f, out)
    if slug and not SLUG.match(slug):
        out.add(f, f'"slug" must use lower-case letters, digits and single hyphens, not "{slug}"')
    title = _str(m, "title", f, out)
    edition = (
        _str(m, "edition", f, out) if not isinstance(m.get("edition"), (int, float)) else str(m["edition"])
    )
    summary = _str(m, "summary", f, out)
    audience = _str_list(m, "audience", f, out)
    for who in audience:
        if who not in PROFESSION_KEYS:
            out.add(f, f'audience "{who}" is not one of {", ".join(PROFESSION_KEYS)}')
    specialties = _str_list(m, "specialties", f, out)
    objectives = _str_list(m, "objectives", f, out)
    minutes = _int(m, "estimated_minutes", f, out, minimum=1, required=True)
    status = _choice(m, "status", ("published", "draft"), f, out, default="published")
    how = _str(m, "how_to_participate", f, out, required=False)

    credit_t = m.get("credit")
    if not isinstance(credit_t, dict):
        out.add(f, "[credit] table is required (hours, type, statement)")
        credit_t = {}
    accredited = _bool(credit_t, "accredited", f, out, "credit", default=False)
    credit = Credit(
        hours=_number(credit_t, "hours", f, out, "credit", high=100, required=True),
        # An accredited activity must say which credit it designates; a participation certificate need not.
        type=_str(credit_t, "type", f, out, "credit", required=accredited),
        statement=_str(credit_t, "statement", f, out, "credit", required=accredited),
        accreditation=_str(credit_t, "accreditation", f, out, "credit", required=False),
        accredited=accredited,
    )
    for extra in sorted(set(credit_t) - {"hours", "type", "statement", "accreditation", "accredited"}):
        out.add(f, f'unknown field "{extra}"', "credit")
    certificate = _certificate(m.get("certificate"), out)
    dates_t = m.get("dates")
    if not isinstance(dates_t, dict):
        out.add(f, "[dates] table is required (release, last_review, expiry)")
        dates_t = {}
    release = _date(dates_t, "release", f, out, "dates")
    review = _date(dates_t, "last_review", f, out, "dates")
    expiry = _date(dates_t, "expiry", f, out, "dates")
    if release and expiry and expiry <= release:
        out.add(f, '"expiry" must be after "release"', "dates")
    if release and review and review < release:
        out.add(f, '"last_review" cannot be before "release"', "dates")

    faculty = _faculty(m.get("faculty"), out)
    references = _references(m.get("references"), out)
    ref_numbers = {r.key: r.number for r in references}

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
    media_paths = {mf.path for mf in media}
    media_url = media_url_for(slug or "course")

    modules = _modules(m.get("modules"), files, registry, out, ref_numbers, media_paths, media_url)
    completion = _completion(m.get("completion"), modules, out)
    _time_problems(modules, minutes, credit.hours, out)
    if out.problems or release is None or review is None or expiry is None:
        return None
    return CoursePackage(
        slug=slug,
        title=title,
        edition=edition,
        summary=summary,
        audience=tuple(audience),
        specialties=tuple(specialties),
        objectives=tuple(objectives),
        estimated_minutes=minutes,
        status=status,
        how_to_participate=how,
        credit=credit,
        dates=Dates(release, review, expiry),
        faculty=tuple(faculty),
        references=tuple(references),
        completion=completion,
        modules=tuple(modules),
        media=tuple(media),
        checksum=package_checksum(files.files),
        certificate=certificate,
        needs=_str(m, "needs", f, out, required=False),
        commercial_support=_str(m, "commercial_support", f, out, required=False),
    )


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


def _certificate(value: Any, out: _Collector) -> CertificatePolicy:
    if value is None:
        return CertificatePolicy()
    if not isinstance(value, dict):
        out.add(MANIFEST, "[certificate] must be a table (validity_months)")
        return CertificatePolicy()
    for extra in sorted(set(value) - {"validity_months"}):
        out.add(MANIFEST, f'unknown field "{extra}"', "certificate")
    return CertificatePolicy(validity_months=_int(value, "validity_months", MANIFEST, out, "certificate"))


def _faculty(value: Any, out: _Collector) -> list[Faculty]:
    if not isinstance(value, list) or not value:
        out.add(MANIFEST, "[[faculty]] must list at least one faculty member with a disclosure")
        return []
    result = []
    for i, entry in enumerate(value, 1):
        where = f"faculty {i}"
        if not isinstance(entry, dict):
            out.add(MANIFEST, "must be a table", where)
            continue
        result.append(
            Faculty(
                name=_str(entry, "name", MANIFEST, out, where),
                role=_str(entry, "role", MANIFEST, out, where, required=False),
                credentials=_str(entry, "credentials", MANIFEST, out, where, required=False),
                disclosure=_str(entry, "disclosure", MANIFEST, out, where),
            )
        )
    return result


def _references(value: Any, out: _Collector) -> list[Reference]:
    if value is None:
        return []
    if not isinstance(value, list):
        out.add(MANIFEST, "[[references]] must be a list of tables")
        return []
    result: list[Reference] = []
    seen: set[str] = set()
    for i, entry in enumerate(value, 1):
        where = f"references {i}"
        if not isinstance(entry, dict):
            out.add(MANIFEST, "must be a table", where)
            continue
        key = _str(entry, "key", MANIFEST, out, where)
        if key and not KEY.match(key):
            out.add(MANIFEST, f'"key" may use letters, digits, "_" and "-" only, not "{key}"', where)
        if key in seen:
            out.add(MANIFEST, f'duplicate reference key "{key}"', where)
        seen.add(key)
        doi = _str(entry, "doi", MANIFEST, out, where, required=False)
        if doi and not re.match(r"^10\.\d{4,9}/\S+$", doi):
            out.add(MANIFEST, f'"doi" does not look like a DOI (10.xxxx/...): "{doi}"', where)
        pmid = entry.get("pmid", "")
        pmid = str(pmid) if isinstance(pmid, int) else pmid
        if pmid and not (isinstance(pmid, str) and pmid.isdigit()):
            out.add(MANIFEST, f'"pmid" must be digits only: "{pmid}"', where)
        url = _str(entry, "url", MANIFEST, out, where, required=False)
        if url and not url.startswith("https://"):
            out.add(MANIFEST, f'"url" must start with https://: "{url}"', where)
        for extra in sorted(set(entry) - {"key", "citation", "doi", "pmid", "url"}):
            out.add(MANIFEST, f'unknown field "{extra}"', where)
        result.append(
            Reference(
                key, len(result) + 1, _str(entry, "citation", MANIFEST, out, where), doi, pmid or "", url
            )
        )
    return result


def _modules(
    value: Any,
    files: PackageFiles,
    registry: QuestionTypeRegistry,
    out: _Collector,
    refs: dict[str, int],
    media_paths: set[str],
    media_url: Any,
) -> list[Module]:
    if not isinstance(value, list) or not value:
        out.add(MANIFEST, "[[modules]] must list at least one module")
        return []
    modules: list[Module] = []
    item_keys: dict[str, str] = {}
    module_keys: set[str] = set()
    used_files: set[str] = set()
    for i, entry in enumerate(value, 1):
        where = f"modules {i}"
        if not isinstance(entry, dict):
            out.add(MANIFEST, "must be a table", where)
            continue
        key = _str(entry, "id", MANIFEST, out, where)
        if key and not KEY.match(key):
            out.add(MANIFEST, f'"id" may use letters, digits, "_" and "-" only, not "{key}"', where)
        if key in module_keys:
            out.add(MANIFEST, f'duplicate module id "{key}"', where)
        module_keys.add(key)
        title = _str(entry, "title", MANIFEST, out, where)
        items_raw = entry.get("items")
        if not isinstance(items_raw, list) or not items_raw or not all(isinstance(p, str) for p in items_raw):
            out.add(MANIFEST, '"items" must list the module\'s lesson and quiz files', where)
            continue
        items: list[Lesson | Quiz] = []
        for path in items_raw:
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
        modules.append(
            Module(key, title, _str(entry, "summary", MANIFEST, out, where, required=False), tuple(items))
        )
    for path in sorted(files.files):
        if path.startswith(("lessons/", "quizzes/")) and path not in used_files:
            out.add(path, "is not listed in any module's items")
    return modules


def _completion(value: Any, modules: list[Module], out: _Collector) -> CompletionPolicy:
    if value is None:
        return CompletionPolicy()
    if not isinstance(value, dict):
        out.add(MANIFEST, "[completion] must be a table")
        return CompletionPolicy()
    quizzes = {i.key: i for mod in modules for i in mod.items if isinstance(i, Quiz)}
    policy = CompletionPolicy(
        require_all_lessons=_bool(value, "require_all_lessons", MANIFEST, out, "completion", default=True),
        require_quizzes=_choice(
            value, "require_quizzes", ("all", "final", "none"), MANIFEST, out, "completion", default="all"
        ),
        final_quiz=_str(value, "final_quiz", MANIFEST, out, "completion", required=False),
        evaluation=_str(value, "evaluation", MANIFEST, out, "completion", required=False),
        gated=_bool(value, "gated", MANIFEST, out, "completion", default=True),
        min_minutes=_int(value, "min_minutes", MANIFEST, out, "completion"),
    )
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
    known = {"require_all_lessons", "require_quizzes", "final_quiz", "evaluation", "gated", "min_minutes"}
    extra = sorted(set(value) - known)
    for name in extra:
        out.add(MANIFEST, f'unknown field "{name}"', "completion")
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


QUIZ_FIELDS = {
    "id",
    "title",
    "kind",
    "intro",
    "pass_mark",
    "max_attempts",
    "attempts_per_set",
    "lockout_hours",
    "cooldown_minutes",
    "time_limit_minutes",
    "shuffle_questions",
    "shuffle_options",
    "draw",
    "grading_method",
    "review",
    "navigation",
    "questions_per_page",
    "opens_at",
    "closes_at",
    "questions",
}


def quiz_settings(q: Mapping[str, Any], file: str, out: _Collector) -> QuizSettings:
    """Validate quiz settings (shared with the authoring and GIFT import paths)."""
    return QuizSettings(
        pass_mark=_number(q, "pass_mark", file, out, default=80.0, high=100),
        max_attempts=_int(q, "max_attempts", file, out),
        attempts_per_set=_int(q, "attempts_per_set", file, out),
        lockout_hours=_int(q, "lockout_hours", file, out),
        cooldown_minutes=_int(q, "cooldown_minutes", file, out),
        time_limit_minutes=_int(q, "time_limit_minutes", file, out),
        shuffle_questions=_bool(q, "shuffle_questions", file, out, default=False),
        shuffle_options=_bool(q, "shuffle_options", file, out, default=True),
        draw=_int(q, "draw", file, out),
        grading_method=_choice(q, "grading_method", GRADING_METHODS, file, out, default="highest"),
        review=_choice(q, "review", REVIEW_POLICIES, file, out, default="answers"),
        navigation=_choice(q, "navigation", NAVIGATION, file, out, default="one_page"),
        questions_per_page=_int(q, "questions_per_page", file, out),
        opens_at=_moment(q, "opens_at", file, out),
        closes_at=_moment(q, "closes_at", file, out),
    )


def _moment(d: Mapping[str, Any], key: str, file: str, out: _Collector) -> datetime | None:
    """A TOML date-time (minimal: accepted and kept; the schema-driven loader gives it its full rules)."""
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, datetime):
        out.add(file, f'"{key}" must be a TOML date-time such as 2027-03-01T09:00:00+01:00, not {value!r}')
        return None
    return value


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
    for extra in sorted(set(q) - QUIZ_FIELDS):
        out.add(path, f'unknown field "{extra}"')
    key = q.get("id") or path.rsplit("/", 1)[-1].removesuffix(".toml")
    if not isinstance(key, str) or not KEY.match(key):
        out.add(path, f'"id" may use letters, digits, "_" and "-" only, not {key!r}')
        return None
    title = _str(q, "title", path, out)
    kind = _choice(q, "kind", QUIZ_KINDS, path, out, default="quiz")
    settings = quiz_settings(q, path, out)
    if kind == "final":
        settings = _final_review(q, settings, path, out)
    intro = render_markdown(
        q.get("intro", "") if isinstance(q.get("intro"), str) else "",
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
    return Quiz(key, path, title, kind, intro.html, settings, tuple(questions))


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
        qkey = spec.get("id", f"q{n}")
        if not isinstance(qkey, str) or not KEY.match(qkey):
            out.add(path, f'"id" may use letters, digits, "_" and "-" only, not {qkey!r}', where)
            continue
        if qkey in seen:
            out.add(path, f'duplicate question id "{qkey}"', where)
        seen.add(qkey)
        qtype_name = spec.get("type")
        if not isinstance(qtype_name, str):
            out.add(path, '"type" is required (e.g. "single_choice")', where)
            continue
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
        prompt = spec.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            out.add(path, '"prompt" is required', where)
            continue
        points = _number(spec, "points", path, out, where, default=1.0, low=0.01, high=1000)
        tags = spec.get("tags", [])
        if not isinstance(tags, list) or not all(
            isinstance(t, str) and t.strip() and len(t) <= 50 for t in tags
        ):
            out.add(path, '"tags" must be a list of non-empty texts of at most 50 characters', where)
        reference = spec.get("reference", "")
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
        prompt_r = render_markdown(prompt, **render)
        explanation = spec.get("explanation", "")
        if not isinstance(explanation, str):
            out.add(path, '"explanation" must be text', where)
            explanation = ""
        expl_r = render_markdown(explanation, **render)
        for problem in prompt_r.problems + expl_r.problems:
            out.add(path, problem, where)
        result.append(
            QuestionDef(
                qkey, qtype_name, n, points, prompt_r.html, expl_r.html, reference, {**spec, "id": qkey}
            )
        )
    return result
