"""The course package parser and validator, without an app."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from lms.coursepacks.loader import load_package
from lms.coursepacks.manifest import Lesson, Quiz
from lms.coursepacks.reader import MAX_FILE_BYTES, read_folder, read_zip
from lms.plugins import build_registries
from tests.packages import QUIZ, filler, lesson, write_package, zip_folder


@pytest.fixture(scope="module")
def registry():
    return build_registries().question_types


def problems_of(folder: Path, registry) -> list[str]:
    result = load_package(read_folder(folder), registry)
    assert (result.package is None) == bool(result.problems), "a package with problems must not be returned"
    return [str(p) for p in result.problems]


def test_good_package_parses_to_frozen_dataclasses(tmp_path, registry):
    folder = write_package(tmp_path, lessons=2)
    result = load_package(read_folder(folder), registry)
    assert result.problems == []
    pkg = result.package
    assert pkg.slug == "test-course"
    assert [type(i) for i in pkg.modules[0].items] == [Lesson, Lesson, Quiz]
    first = pkg.modules[0].items[0]
    assert first.key == "l1" and first.title == "Lesson 1" and first.minutes == 31
    assert '<figure><img src="/courses/test-course/media/dot.svg"' in first.html
    assert "<figcaption>A dot figure</figcaption>" in first.html
    assert 'href="#ref-lee2019"' in first.html
    assert first.citations == ("lee2019",)
    quiz = pkg.modules[0].items[2]
    assert quiz.settings.pass_mark == 50
    assert [q.type for q in quiz.questions] == ["single_choice", "true_false"]
    assert pkg.references[0].number == 1
    with pytest.raises(AttributeError):
        pkg.slug = "other"  # frozen
    # The checksum is stable and content-sensitive.
    again = load_package(read_folder(folder), registry).package
    assert again.checksum == pkg.checksum
    (folder / "lessons" / "l2.md").write_text(lesson("Lesson 2", "Changed.", key="l2"))
    assert load_package(read_folder(folder), registry).package.checksum != pkg.checksum


def test_title_from_first_heading(tmp_path, registry):
    folder = write_package(tmp_path, lessons=1)
    (folder / "lessons" / "l1.md").write_text(f"# A heading title\n\nBody text here. {filler(30)}\n")
    pkg = load_package(read_folder(folder), registry).package
    assert pkg.lessons()[0].title == "A heading title"
    assert pkg.lessons()[0].key == "l1"
    assert "A heading title" not in pkg.lessons()[0].html


def test_broken_toml_names_file_and_line(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "quizzes" / "check.toml").write_text('title = "x"\nkind = \n')
    problems = problems_of(folder, registry)
    assert any(p.startswith("quizzes/check.toml: line 2: invalid TOML") for p in problems), problems


def test_broken_manifest_toml(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "course.toml").write_text('slug = "x"\ntitle = "unterminated\n')
    problems = problems_of(folder, registry)
    assert problems[0].startswith("course.toml: line 2: invalid TOML"), problems


def test_missing_manifest(tmp_path, registry):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert problems_of(folder, registry) == [
        "course.toml: is missing: a course package needs a course.toml at its top level"
    ]


def test_missing_item_file_and_unlisted_file(tmp_path, registry):
    folder = write_package(tmp_path, lessons=2)
    (folder / "lessons" / "l2.md").rename(folder / "lessons" / "other.md")
    problems = problems_of(folder, registry)
    assert 'course.toml: modules 1: item "lessons/l2.md" does not exist in the package' in problems
    assert "lessons/other.md: is not listed in any module's items" in problems


def test_answer_not_among_options(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "quizzes" / "check.toml").write_text(QUIZ.replace('answer = "B"', 'answer = "E"'))
    assert 'quizzes/check.toml: question 1: answer "E" is not one of the options A-C' in problems_of(
        folder, registry
    )


def test_unknown_question_type(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "quizzes" / "check.toml").write_text(QUIZ.replace('type = "true_false"', 'type = "essay_v2"'))
    problems = problems_of(folder, registry)
    assert any(
        p.startswith('quizzes/check.toml: question 2: unknown question type "essay_v2"') for p in problems
    )


def test_missing_media_and_missing_alt(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "lessons" / "l2.md").write_text(
        lesson("Two", '![Chart](../media/nope.svg "Caption")\n\n![](../media/dot.svg)', key="l2")
    )
    problems = problems_of(folder, registry)
    assert 'lessons/l2.md: image "../media/nope.svg" links to missing media file media/nope.svg' in problems
    assert any(p.startswith("lessons/l2.md: an image has no alt text") for p in problems)


def test_unknown_citation_and_reference(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "lessons" / "l2.md").write_text(lesson("Two", "Claim [@nobody2020].", key="l2"))
    (folder / "quizzes" / "check.toml").write_text(QUIZ.replace('reference = "lee2019"', 'reference = "x1"'))
    problems = problems_of(folder, registry)
    assert "lessons/l2.md: citation [@nobody2020] is not a reference in course.toml" in problems
    assert 'quizzes/check.toml: question 1: reference "x1" is not a reference key in course.toml' in problems


def test_manifest_field_errors_are_all_reported(tmp_path, registry):
    folder = write_package(tmp_path)
    text = (folder / "course.toml").read_text()
    text = text.replace('slug = "test-course"', 'slug = "Bad Slug"').replace("hours = 0.5", 'hours = "lots"')
    text = text.replace("expiry = 2028-10-31", "expiry = 2020-01-01").replace(
        'audience = ["physician", "nurse"]', 'audience = ["wizard"]'
    )
    (folder / "course.toml").write_text(text)
    problems = problems_of(folder, registry)
    assert any('"slug" must use lower-case letters' in p for p in problems)
    assert any(p.startswith("course.toml: credit:") and '"hours" must be a number' in p for p in problems)
    assert 'course.toml: dates: "expiry" must be after "release"' in problems
    assert any('audience "wizard"' in p for p in problems)


def test_duplicate_item_ids(tmp_path, registry):
    folder = write_package(tmp_path, lessons=2)
    (folder / "lessons" / "l2.md").write_text(lesson("Two", "Text.", key="l1"))
    assert 'lessons/l2.md: id "l1" is already used by lessons/l1.md' in problems_of(folder, registry)


def test_survey_rules(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "quizzes" / "check.toml").write_text(QUIZ.replace('kind = "quiz"', 'kind = "survey"'))
    problems = problems_of(folder, registry)
    assert any("a survey may only hold ungraded items" in p for p in problems)


def test_oversized_file(tmp_path, registry):
    folder = write_package(tmp_path, extra_files={"media/huge.png": b"\0" * (MAX_FILE_BYTES + 1)})
    problems = problems_of(folder, registry)
    assert any(p.startswith("media/huge.png: file is too large") for p in problems)


NS = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.mark.parametrize(
    ("svg", "reason"),
    [
        (f'<svg {NS} onload="alert(1)"></svg>', "event handler attribute onload"),
        (f"<svg {NS}><script>alert(1)</script></svg>", "<script> is not allowed"),
        (
            '<svg:svg xmlns:svg="http://www.w3.org/2000/svg"><svg:script>x()</svg:script></svg:svg>',
            "<script>",
        ),
        (
            f'<svg {NS}><foreignObject><form xmlns="http://www.w3.org/1999/xhtml" action="https://evil"/>'
            "</foreignObject></svg>",
            "<foreignObject> is not allowed",
        ),
        (
            f'<svg {NS} xmlns:x="http://www.w3.org/1999/xlink">'
            '<a x:href="jav&#x61;script:x()"><text>t</text></a></svg>',
            "<a> is not allowed",
        ),
        (
            f'<svg {NS} xmlns:x="http://www.w3.org/1999/xlink"><use x:href="https://evil.example/x.svg#a"/></svg>',
            "must point inside the figure",
        ),
        (f'<svg {NS}><rect style="fill: url(https://evil.example/x)"/></svg>', "external reference"),
        (f"<svg {NS}><style>@import url(https://evil.example/x.css);</style></svg>", "must not import"),
        ('<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>', "DOCTYPE"),
        ("<svg><circle r='1'/></svg>", "root element must be"),
        ("<svg", "not well-formed"),
    ],
)
def test_unsafe_svg_is_refused(tmp_path, registry, svg, reason):
    folder = write_package(tmp_path, extra_files={"media/evil.svg": svg.encode()})
    problems = [p for p in problems_of(folder, registry) if p.startswith("media/evil.svg: ")]
    assert any(reason in p for p in problems), problems


def test_plain_svg_with_internal_references_is_accepted(tmp_path, registry):
    svg = (
        f'<svg {NS} viewBox="0 0 10 10" role="img" aria-labelledby="t"><title id="t">Arrow</title>'
        '<defs><marker id="m"><path d="M0 0L1 1"/></marker></defs>'
        '<line x1="0" y1="0" x2="5" y2="5" marker-end="url(#m)" style="stroke: #000"/></svg>'
    )
    folder = write_package(tmp_path, extra_files={"media/ok.svg": svg.encode()})
    assert problems_of(folder, registry) == []


def test_symlink_is_refused(tmp_path, registry):
    folder = write_package(tmp_path)
    (folder / "media" / "link.svg").symlink_to("/etc/passwd")
    assert "media/link.svg: symbolic links are not allowed in a course package" in problems_of(
        folder, registry
    )


def test_zip_round_trip_and_top_folder(tmp_path, registry):
    folder = write_package(tmp_path)
    for prefix in ("", "test-course/"):
        result = load_package(read_zip(zip_folder(folder, prefix=prefix)), registry)
        assert result.problems == []
        assert result.package.slug == "test-course"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.md", '".." in path is not allowed'),
        ("lessons/../../evil.md", '".." in path is not allowed'),
        ("/etc/passwd", "absolute path is not allowed"),
        ("C:/windows/x.md", "absolute path is not allowed"),
        ("lessons\\x.md", "backslash in path is not allowed"),
    ],
)
def test_zip_with_unsafe_paths_imports_nothing(tmp_path, registry, name, reason):
    folder = write_package(tmp_path)
    data = zip_folder(folder, extra={name: b"x"})
    files = read_zip(data)
    assert files.files == {}, "nothing from an unsafe archive is read"
    result = load_package(files, registry)
    assert result.package is None
    assert f"{name}: {reason}" in [str(p) for p in result.problems]


def test_not_a_zip(registry):
    result = load_package(read_zip(b"not a zip", "x.zip"), registry)
    assert str(result.problems[0]) == "x.zip: is not a valid zip file"


def test_zip_bomb_header_sizes_are_not_trusted(tmp_path, registry):
    folder = write_package(tmp_path)
    data = zip_folder(folder, extra={"media/big.png": b"\0" * (MAX_FILE_BYTES + 10)})
    result = load_package(read_zip(data), registry)
    assert any("file is too large" in str(p) for p in result.problems)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.getinfo("media/big.png").compress_size < MAX_FILE_BYTES  # it was small on the wire


def test_bundled_courses_are_valid(registry):
    root = Path(__file__).resolve().parents[2] / "courses"
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    assert len(folders) >= 4
    slugs = set()
    for folder in folders:
        result = load_package(read_folder(folder), registry)
        assert result.problems == [], (folder.name, [str(p) for p in result.problems][:5])
        assert result.package.slug not in slugs
        slugs.add(result.package.slug)


# Honest time and final pools (issue 12).


def _tf(n: int, tags: str = "") -> str:
    return (
        f'[[questions]]\nid = "t{n}"\ntype = "true_false"\nprompt = "Statement {n}."\nanswer = true\n'
        f'feedback_true = "Yes."\nfeedback_false = "No."\n{tags}\n'
    )


def test_lesson_minutes_are_computed_and_authored_minutes_may_not_exceed_them(tmp_path, registry):
    folder = write_package(tmp_path, lessons=2)
    pkg = load_package(read_folder(folder), registry).package
    assert [lsn.minutes for lsn in pkg.lessons()] == [31, 1]  # 6000 filler words + a few; "Text."
    assert pkg.quizzes()[0].minutes == 4  # two questions at 2 minutes
    assert pkg.total_minutes == 36
    (folder / "lessons" / "l2.md").write_text(lesson("Lesson 2", "Short text.", key="l2", minutes=5))
    problems = problems_of(folder, registry)
    assert problems == [
        'lessons/l2.md: front matter: "minutes" is 5 but the lesson reads in 1 (ceil(words / 200) over its '
        "text); give at most 1 or leave it out"
    ]


def test_estimated_minutes_and_hours_may_not_exceed_the_computed_total(tmp_path, registry):
    folder = write_package(tmp_path, lessons=2)  # 31 + 1 + 4 = 36 minutes
    text = (folder / "course.toml").read_text()
    (folder / "course.toml").write_text(
        text.replace("estimated_minutes = 30", "estimated_minutes = 37").replace(
            "hours = 0.5", "hours = 0.75"
        )
    )
    problems = problems_of(folder, registry)
    assert any(
        p.startswith('course.toml: "estimated_minutes" is 37 but the content takes 36') for p in problems
    )
    assert any(
        p.startswith('course.toml: credit: "hours" is 0.75') and "at most 0.5 hours" in p for p in problems
    )
    (folder / "course.toml").write_text(text.replace("estimated_minutes = 30", "estimated_minutes = 36"))
    assert problems_of(folder, registry) == []


def test_pretest_is_not_part_of_the_course_total(tmp_path, registry):
    pretest = 'title = "Pre-test"\nkind = "pretest"\n' + "".join(_tf(n) for n in range(1, 11))
    folder = write_package(tmp_path, lessons=1, quiz=False, extra_files={"quizzes/pre.toml": pretest})
    text = (
        (folder / "course.toml")
        .read_text()
        .replace('items = ["lessons/l1.md"]', 'items = ["quizzes/pre.toml", "lessons/l1.md"]')
    )
    # 31 minutes of lesson; the pre-test's 20 minutes do not count
    (folder / "course.toml").write_text(text.replace("estimated_minutes = 30", "estimated_minutes = 32"))
    assert any(
        '"estimated_minutes" is 32 but the content takes 31' in p for p in problems_of(folder, registry)
    )


def _final_package(tmp_path, questions: str, draw: int, extra: str = "") -> Path:
    final = f'title = "Final"\nkind = "final"\ndraw = {draw}\n{extra}\n' + questions
    return write_package(tmp_path, lessons=1, extra_files={"quizzes/final.toml": final}, quiz=False)


def _with_final(folder: Path) -> Path:
    text = (folder / "course.toml").read_text()
    (folder / "course.toml").write_text(
        text.replace('items = ["lessons/l1.md"]', 'items = ["lessons/l1.md", "quizzes/final.toml"]')
    )
    return folder


def test_final_draw_needs_a_pool_of_one_and_a_half_times_and_half_vignettes(tmp_path, registry):
    vignette = 'tags = ["vignette"]'
    small = "".join(_tf(n, vignette if n <= 3 else "") for n in range(1, 6))  # 5 questions, 3 vignettes
    problems = problems_of(_with_final(_final_package(tmp_path / "a", small, draw=4)), registry)
    assert (
        "quizzes/final.toml: draw: a final drawing 4 questions needs a pool of at least 6 (1.5 × draw); "
        "it has 5" in problems
    )
    few = "".join(_tf(n, vignette if n <= 2 else "") for n in range(1, 10))  # 9 questions, 2 vignettes
    problems = problems_of(_with_final(_final_package(tmp_path / "b", few, draw=6)), registry)
    assert problems == [
        'quizzes/final.toml: draw: a final drawing 6 questions needs at least 3 tagged "vignette" '
        "(half the draw); it has 2"
    ]
    good = "".join(_tf(n, vignette if n <= 3 else "") for n in range(1, 10))
    assert problems_of(_with_final(_final_package(tmp_path / "c", good, draw=6)), registry) == []


def test_lockout_hours_needs_attempts_per_set(tmp_path, registry):
    questions = "".join(_tf(n) for n in range(1, 3))
    folder = _with_final(_final_package(tmp_path, questions, draw=0, extra="lockout_hours = 24"))
    assert problems_of(folder, registry) == [
        'quizzes/final.toml: lockout_hours: "lockout_hours" needs "attempts_per_set" '
        "(the size of a set of attempts)"
    ]


def test_finals_show_answers_only_after_a_pass(tmp_path, registry):
    questions = "".join(_tf(n) for n in range(1, 3))
    folder = _with_final(_final_package(tmp_path / "a", questions, draw=0))
    final = next(q for q in load_package(read_folder(folder), registry).package.quizzes() if q.key == "final")
    assert final.settings.review == "after_pass"  # the default for a final
    for policy in ("answers", "correctness"):
        folder = _with_final(
            _final_package(tmp_path / policy, questions, draw=0, extra=f'review = "{policy}"')
        )
        assert problems_of(folder, registry) == [
            f"quizzes/final.toml: review: a final may not show {policy} to a learner who has not passed: "
            'use "after_pass" (or "score" or "never")'
        ]


# Quiz open and close dates.


def _quiz_with(tmp_path, settings: str):
    folder = write_package(tmp_path)
    (folder / "quizzes" / "check.toml").write_text(
        QUIZ.replace('kind = "quiz"', f'kind = "quiz"\n{settings}')
    )
    return folder


def _check_settings(folder, registry):
    pkg = load_package(read_folder(folder), registry).package
    return next(q for q in pkg.quizzes() if q.key == "check").settings


def test_open_and_close_dates_with_an_offset_are_kept_as_that_instant(tmp_path, registry):
    folder = _quiz_with(tmp_path, "opens_at = 2026-12-01T09:00:00+01:00\ncloses_at = 2026-12-08T17:00:00Z")
    settings = _check_settings(folder, registry)
    assert (settings.opens_at, settings.closes_at) == (
        "2026-12-01T09:00:00+01:00",
        "2026-12-08T17:00:00+00:00",
    )
    assert settings.as_dict()["opens_at"] == "2026-12-01T09:00:00+01:00"  # JSON-safe in the item's details


def test_open_and_close_dates_without_an_offset_stay_wall_clock_times(tmp_path, registry):
    folder = _quiz_with(tmp_path, "opens_at = 2026-12-01T09:00:00\ncloses_at = 2026-12-08T17:30:00")
    settings = _check_settings(folder, registry)
    assert (settings.opens_at, settings.closes_at) == ("2026-12-01T09:00:00", "2026-12-08T17:30:00")


def test_open_and_close_dates_may_be_iso_text_as_json_and_exports_write_them(tmp_path, registry):
    folder = _quiz_with(tmp_path, 'opens_at = "2026-12-01T09:00:00"\ncloses_at = "2026-12-08T17:00:00"')
    settings = _check_settings(folder, registry)
    assert (settings.opens_at, settings.closes_at) == ("2026-12-01T09:00:00", "2026-12-08T17:00:00")


def test_unset_dates_leave_the_quiz_settings_and_hash_as_before(tmp_path, registry):
    settings = _check_settings(write_package(tmp_path), registry)
    assert settings.opens_at == settings.closes_at == ""
    assert "opens_at" not in settings.as_dict() and "closes_at" not in settings.as_dict()


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (
            'opens_at = "2026-12-01 09:00"',
            'quizzes/check.toml: "opens_at" must be a date and time such as 2026-12-01T09:00:00 '
            "(in the site's time zone) or 2026-12-01T09:00:00+01:00, not '2026-12-01 09:00'",
        ),
        (
            "closes_at = 2026-12-08",
            'quizzes/check.toml: "closes_at" must be a date and time such as 2026-12-01T09:00:00 '
            "(in the site's time zone) or 2026-12-01T09:00:00+01:00, not 2026-12-08",
        ),
        (
            "opens_at = 2026-12-08T09:00:00\ncloses_at = 2026-12-01T09:00:00",
            'quizzes/check.toml: closes_at: "closes_at" (2026-12-01T09:00:00) must be after "opens_at" '
            "(2026-12-08T09:00:00)",
        ),
        (
            "opens_at = 2026-12-01T10:00:00+02:00\ncloses_at = 2026-12-01T08:00:00Z",
            'quizzes/check.toml: closes_at: "closes_at" (2026-12-01T08:00:00+00:00) must be after "opens_at" '
            "(2026-12-01T10:00:00+02:00)",
        ),
        (
            "opens_at = 2026-12-01T09:00:00\ncloses_at = 2026-12-08T09:00:00Z",
            'quizzes/check.toml: closes_at: "opens_at" and "closes_at" must both have an offset (+01:00) or '
            "both none",
        ),
    ],
    ids=["text", "date-only", "close-before-open", "equal-instants", "mixed-forms"],
)
def test_bad_open_and_close_dates_name_the_file_and_field(tmp_path, registry, settings, problem):
    assert problems_of(_quiz_with(tmp_path, settings), registry) == [problem]


def test_every_table_is_checked_against_the_declaration(tmp_path, registry):
    """Tables the hand-written checks used to let through: unknown keys in [[faculty]] and [[modules]], a
    quiz intro that is not text, a question title that is not text."""
    folder = write_package(tmp_path)
    text = (folder / "course.toml").read_text()
    text = text.replace('role = "Author"', 'role = "Author"\nemail = "x@example.org"')
    text = text.replace('title = "Module one"', 'title = "Module one"\nhidden = true')
    (folder / "course.toml").write_text(text)
    quiz = QUIZ.replace("pass_mark = 50", "pass_mark = 50\nintro = 5").replace(
        'id = "q2"', 'id = "q2"\ntitle = 3'
    )
    (folder / "quizzes" / "check.toml").write_text(quiz)
    assert problems_of(folder, registry) == [
        'course.toml: faculty 1: unknown field "email"',
        'course.toml: modules 1: unknown field "hidden"',
        'quizzes/check.toml: "intro" must be text, not 5',
        'quizzes/check.toml: question 2: "title" must be text, not 3',
    ]
