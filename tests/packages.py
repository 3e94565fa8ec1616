"""Builders of small course packages for tests (folders and zips written to a temporary directory)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img">'
    b'<title>Dot</title><circle cx="5" cy="5" r="4"/></svg>'
)


def manifest(
    slug: str,
    modules: str,
    title: str = "Test course",
    specialties: str = '["Haematology"]',
    extra: str = "",
    minutes: int = 30,
    hours: float = 0.5,
) -> str:
    return f'''slug = "{slug}"
title = "{title}"
edition = "2026.1"
summary = "A course used by the test suite."
audience = ["physician", "nurse"]
specialties = {specialties}
objectives = ["Pass the tests"]
estimated_minutes = {minutes}
status = "published"
{extra}
[credit]
hours = {hours}
accredited = true
type = "AMA PRA Category 1 Credit™"
statement = "{{provider}} designates this enduring material for a maximum of {{credits}} credits."
accreditation = "{{provider}} is accredited to provide continuing medical education for physicians."

[dates]
release = 2026-11-01
last_review = 2026-11-01
expiry = 2028-10-31

[[faculty]]
name = "Test Faculty"
role = "Author"
disclosure = "Nothing to disclose."

[[references]]
key = "lee2019"
citation = "Lee DW, et al. ASTCT consensus grading. Biol Blood Marrow Transplant 2019;25:625-638."
doi = "10.1016/j.bbmt.2018.12.758"

[completion]
require_all_lessons = true
require_quizzes = "all"

{modules}'''


QUIZ = """title = "Check"
kind = "quiz"
pass_mark = 50

[[questions]]
id = "q1"
type = "single_choice"
prompt = "Which grade?"
answer = "B"
explanation = "Because."
reference = "lee2019"
options = [
  { text = "One", feedback = "No." },
  { text = "Two", feedback = "Yes." },
  { text = "Three", feedback = "No." },
]

[[questions]]
id = "q2"
type = "true_false"
prompt = "Fever is required for CRS."
answer = true
feedback_true = "Right."
feedback_false = "Fever is required."
"""


def filler(minutes: int) -> str:
    """Reading text that takes ``minutes`` at the loader's 200 words a minute, so packages are honest."""
    return " ".join(["reading"] * (200 * minutes))


def lesson(title: str, body: str = "Some text [@lee2019].", key: str | None = None, minutes: int = 0) -> str:
    """A lesson file; ``minutes`` (if set) is written in the front matter and must not exceed the text's."""
    front = f'id = "{key}"\n' if key else ""
    front += f"minutes = {minutes}\n" if minutes else ""
    return f'+++\n{front}title = "{title}"\n+++\n\n## Learning objectives\n\n- Learn\n\n{body}\n'


def write_package(
    root: Path,
    slug: str = "test-course",
    lessons: int = 2,
    quiz: bool = True,
    title: str = "Test course",
    lesson_titles: dict[int, str] | None = None,
    specialties: str = '["Haematology"]',
    extra_files: dict[str, bytes | str] | None = None,
    skip: tuple[int, ...] = (),
) -> Path:
    """A valid package with ``lessons`` lessons (l1…lN) in one module, plus a quiz and a figure.

    Lesson 1 holds 30 minutes of reading, so the manifest's 30 minutes and 0.5 h are honest.
    """
    folder = root / slug
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "quizzes").mkdir(exist_ok=True)
    (folder / "media").mkdir(exist_ok=True)
    (folder / "media" / "dot.svg").write_bytes(SVG)
    items = []
    for n in range(1, lessons + 1):
        if n in skip:
            continue
        name = f"lessons/l{n}.md"
        text = (lesson_titles or {}).get(n, f"Lesson {n}")
        body = (
            f'Some text [@lee2019].\n\n![A dot](../media/dot.svg "A dot figure")\n\n{filler(30)}'
            if n == 1
            else "Text."
        )
        (folder / name).write_text(lesson(text, body, key=f"l{n}"))
        items.append(name)
    if quiz:
        (folder / "quizzes" / "check.toml").write_text(QUIZ)
        items.append("quizzes/check.toml")
    module = (
        '[[modules]]\nid = "m1"\ntitle = "Module one"\nitems = [' + ", ".join(f'"{i}"' for i in items) + "]\n"
    )
    honest = lessons >= 1 and 1 not in skip
    (folder / "course.toml").write_text(
        manifest(slug, module, title, specialties, minutes=30 if honest else 1, hours=0.5 if honest else 0)
    )
    for rel, content in (extra_files or {}).items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
    return folder


def zip_folder(folder: Path, extra: dict[str, bytes] | None = None, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def sync(app, folder: Path) -> None:
    """Store a package through the real CLI command."""
    result = app.test_cli_runner().invoke(args=["courses", "sync", str(folder)])
    assert result.exit_code == 0, result.output
