"""The four bundled courses meet the content standard (structure, assessment, figures, references)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lms.coursepacks.loader import load_package
from lms.coursepacks.manifest import CoursePackage, Lesson, Quiz
from lms.coursepacks.reader import read_folder
from lms.plugins import build_registries

ROOT = Path(__file__).resolve().parents[2] / "courses"
SLUGS = ["car-t-cell-therapy", "retinal-gene-delivery", "cancer-gene-delivery", "gene-therapy-foundations"]
PROGRAMME_REFERENCES = ["Ginn", "Ross", "Bashir Yahya", "Kupatt"]


@pytest.fixture(scope="module")
def packages() -> dict[str, CoursePackage]:
    registry = build_registries().question_types
    out = {}
    for slug in SLUGS:
        result = load_package(read_folder(ROOT / slug), registry)
        assert result.problems == [], (slug, [str(p) for p in result.problems][:5])
        out[slug] = result.package
    return out


@pytest.mark.parametrize("slug", SLUGS)
def test_structure_and_cme_facts(packages, slug):
    pkg = packages[slug]
    assert len(pkg.modules) >= 3
    assert len(pkg.lessons()) >= 8
    assert pkg.audience and pkg.estimated_minutes > 0 and pkg.credit.hours > 0
    assert pkg.faculty and all(f.disclosure for f in pkg.faculty)
    assert pkg.dates.release <= pkg.dates.last_review < pkg.dates.expiry
    # Not accredited: a certificate of participation, no designation statement or credit type claimed.
    assert pkg.credit.accredited is False and not pkg.credit.statement and not pkg.credit.type
    assert pkg.certificate.validity_months == 24
    citations = " ".join(r.citation for r in pkg.references)
    for author in PROGRAMME_REFERENCES:
        assert author in citations, (slug, author)


@pytest.mark.parametrize("slug", SLUGS)
def test_lessons_open_with_objectives_and_end_with_key_points(slug):
    for path in sorted((ROOT / slug / "lessons").glob("*.md")):
        text = path.read_text()
        body = re.sub(r"\A\+\+\+.*?\+\+\+\s*", "", text, flags=re.S)
        assert body.lstrip().startswith("## Learning objectives"), path.name
        last_block = body.strip().split("\n\n")[-3:]
        assert any("**Key points**" in block for block in last_block), path.name
        words = len(re.findall(r"\w+", body))
        assert 350 <= words <= 1200, (path.name, words)


@pytest.mark.parametrize("slug", SLUGS)
def test_figures_are_accessible(packages, slug):
    pkg = packages[slug]
    figures = [m for m in pkg.media if m.path.endswith(".svg")]
    assert figures, slug
    used = " ".join(lesson.html for lesson in pkg.lessons())
    for svg in figures:
        text = svg.data.decode()
        assert "<title" in text and "<desc" in text, svg.path
        assert 'role="img"' in text, svg.path
    assert used.count("<figure>") >= 1
    for fig in re.findall(r"<figure>.*?</figure>", used, re.S):
        assert re.search(r'alt="[^"]{10,}"', fig), fig[:120]
        assert "<figcaption>" in fig


@pytest.mark.parametrize("slug", SLUGS)
def test_assessment(packages, slug):
    pkg = packages[slug]
    quizzes = pkg.quizzes()
    finals = [q for q in quizzes if q.kind == "final"]
    surveys = [q for q in quizzes if q.kind == "survey"]
    assert len(finals) == 1 and len(finals[0].questions) >= 12 and finals[0].settings.pass_mark == 80
    assert pkg.completion.final_quiz == finals[0].key
    assert surveys and pkg.completion.evaluation == surveys[0].key
    assert {q.type for q in surveys[0].questions} <= {"likert", "free_text"}
    for module in pkg.modules:
        module_quizzes = [i for i in module.items if isinstance(i, Quiz) and i.kind == "quiz"]
        lessons = [i for i in module.items if isinstance(i, Lesson)]
        if lessons:
            assert module_quizzes and len(module_quizzes[0].questions) >= 5, (slug, module.key)
    graded = [q for quiz in quizzes if quiz.graded for q in quiz.questions]
    assert len({q.type for q in graded}) >= 4, slug
    vignettes = [q for q in graded if re.search(r"\b\d{1,2}-year-old\b", q.spec["prompt"])]
    assert len(vignettes) >= 2, slug


@pytest.mark.parametrize("slug", SLUGS)
def test_every_graded_question_teaches(packages, slug):
    pkg = packages[slug]
    refs = {r.key for r in pkg.references}
    for quiz in pkg.quizzes():
        if not quiz.graded:
            continue
        for q in quiz.questions:
            where = f"{slug}/{quiz.key}/{q.key}"
            spec = q.spec
            assert spec.get("explanation", "").strip(), where
            assert spec.get("reference") in refs, where
            if "options" in spec:
                assert all(o.get("feedback", "").strip() for o in spec["options"]), where
                letters = [chr(ord("A") + i) for i in range(len(spec["options"]))]
                keys = [spec["answer"]] if "answer" in spec else spec["answers"]
                assert set(keys) <= set(letters), where
            elif spec["type"] == "true_false":
                assert spec.get("feedback_true") and spec.get("feedback_false"), where
            else:
                assert spec.get("feedback_correct") and spec.get("feedback_incorrect"), where


# Statements the fact base lists as classic errors; none may appear as a claim in any lesson.
FORBIDDEN = [
    r"Luxturna was the first (FDA-approved|US) gene therapy",
    r"voretigene[^|.;,]{0,40}\bAAV8\b",
    r"voretigene[^|.;,]{0,40}intravitreal(ly)? (injected|given|delivered)",
    r"tisa(genlecleucel|-cel)[^|.;,]{0,40}\bCD28\b",
    r"axi(cabtagene ciloleucel|-cel)[^|.;,]{0,40}\b4-1BB\b",
    r"(?<!not )all (approved )?CAR-T(s| cells| products)? (are|use) lentivir",
    r"Gendicine[^.|]{0,60}(?<!not )FDA[- ]approved",
    r"eteplirsen[^|.;,)]{0,30}exon 53",
    r"rAAV routinely integrates",
    r"tocilizumab is (the )?first[- ]line (treatment )?for (isolated )?ICANS",
]


@pytest.mark.parametrize("slug", SLUGS)
def test_known_errors_do_not_appear_in_lessons(slug):
    text = " ".join(p.read_text() for p in (ROOT / slug / "lessons").glob("*.md"))
    for pattern in FORBIDDEN:
        assert not re.search(pattern, text, re.I), (slug, pattern)


@pytest.mark.parametrize(
    "claim",
    [
        "Luxturna was the first FDA-approved gene therapy",
        "voretigene neparvovec uses AAV8",
        "tisa-cel uses CD28",
        "axi-cel uses 4-1BB",
        "All CAR-T products are lentiviral",
        "Gendicine is FDA-approved",
        "eteplirsen skips exon 53",
        "rAAV routinely integrates",
        "Tocilizumab is first-line for isolated ICANS",
    ],
)
def test_forbidden_patterns_catch_the_errors_they_name(claim):
    assert any(re.search(p, claim, re.I) for p in FORBIDDEN)
