"""GIFT import and export: every construct of the format note, errors with line numbers, round trips."""

from __future__ import annotations

import pytest

from lms.coursepacks.gift import GiftEncodingError, decode, escape, parse_gift, to_gift, unescape
from lms.plugins import build_registries
from lms.qtypes.base import GiftUnsupported, QuestionType

SAMPLE = r"""// A comment line
$CATEGORY: car-t/crs

::crs-grade::What is the lowest CRS grade with hypotension? {
	~Grade 1 # Fever only.
	=Grade 2 # Right: no vasopressor needed.
	~Grade 3 # Needs a vasopressor.
	####Hypotension without vasopressors is grade 2.
}

::mr::[html]Which are CAR-T targets? {
	~%50%CD19 # Yes.
	~%50%BCMA # Yes.
	~%-100%CD20 # No.
}

::tf::Fever is required to diagnose CRS. {T#Wrong: fever is required.#Right.}

::tf2::ICANS is treated first with tocilizumab. {FALSE}

::sa::Name the IL-6 receptor antibody. {=tocilizumab =Actemra =%50%IL-6* # Close.}

::num::Tocilizumab dose in mg/kg for adults? {#8:0}

::range::Vein-to-vein days, roughly? {#21..35}

::multi::Pi? {# =%100%3.14:0.01 =%50%3:0.5}

::match::Match the product to its costimulatory domain. {
	=tisa-cel -> 4-1BB
	=axi-cel -> CD28
	=ide-cel -> 4-1BB too
	= -> CD20
}

::essay::Describe your CRS pathway. {}

::blank::Tocilizumab blocks the {=IL-6 ~IL-1 ~TNF} receptor.

::esc::What does \{braces\} mean, and 1\:2? {=a\=b ~c\~d ~e\#f}
"""


@pytest.fixture(scope="module")
def registry():
    return build_registries().question_types


def by_key(result):
    return {q.key: q for q in result.questions}


def test_every_construct_is_imported(registry):
    result = parse_gift(SAMPLE, registry)
    assert result.problems == []
    q = by_key(result)
    assert set(q) == {
        "crs-grade",
        "mr",
        "tf",
        "tf2",
        "sa",
        "num",
        "range",
        "multi",
        "match",
        "essay",
        "blank",
        "esc",
    }
    sc = q["crs-grade"].spec
    assert sc["type"] == "single_choice" and sc["answer"] == "B"
    assert sc["options"][1] == {"text": "Grade 2", "feedback": "Right: no vasopressor needed."}
    assert sc["explanation"] == "Hypotension without vasopressors is grade 2."
    assert q["crs-grade"].category == "car-t/crs"
    assert q["crs-grade"].line == 4
    mr = q["mr"].spec
    assert (mr["type"], mr["answers"], mr["negative_marking"]) == ("multiple_response", ["A", "B"], True)
    assert mr["prompt"] == "Which are CAR-T targets?"  # the [html] prefix is consumed
    tf = q["tf"].spec
    assert tf == {
        "id": "tf",
        "type": "true_false",
        "prompt": "Fever is required to diagnose CRS.",
        "answer": True,
        "feedback_false": "Wrong: fever is required.",
        "feedback_true": "Right.",
    }
    assert q["tf2"].spec["answer"] is False
    sa = q["sa"].spec
    assert sa["accepted"] == ["tocilizumab", "Actemra", {"answer": "IL-6*", "credit": 0.5}]
    assert q["num"].spec["answer"] == 8 and q["num"].spec["tolerance"] == 0
    assert q["range"].spec["range"] == [21, 35]
    assert q["multi"].spec["answers"] == [
        {"answer": 3.14, "tolerance": 0.01},
        {"answer": 3.0, "tolerance": 0.5, "credit": 0.5},
    ]
    match = q["match"].spec
    assert match["pairs"][1] == {"prompt": "axi-cel", "match": "CD28"} and match["distractors"] == ["CD20"]
    assert q["essay"].spec["type"] == "free_text"
    blank = q["blank"].spec
    assert blank["prompt"] == "Tocilizumab blocks the _____ receptor." and blank["answer"] == "A"
    esc = q["esc"].spec
    assert esc["prompt"] == "What does {braces} mean, and 1:2?"
    assert [o["text"] for o in esc["options"]] == ["a=b", "c~d", "e#f"]


def test_imported_questions_grade_like_authored_ones(registry):
    q = by_key(parse_gift(SAMPLE, registry))
    assert registry.get("short_answer").grade(q["sa"].spec, "IL-6 antibody").score == 0.5
    assert registry.get("numeric").grade(q["multi"].spec, "3.2").score == 0.5
    assert registry.get("multiple_response").grade(q["mr"].spec, ["A", "C"]).score == 0.0


def test_bad_questions_are_reported_with_line_numbers(registry):
    text = (
        "::ok::Fine? {T}\n\n"
        "Just a description with no answers.\n\n"
        "::open::Unclosed {=a ~b\n\n"  # the block runs to the end: reported, not dropped
    )
    result = parse_gift(text, registry)
    assert [q.key for q in result.questions] == ["ok"]
    assert [str(p) for p in result.problems] == [
        "line 3: not imported: no answer block in braces: a description, not a question",
        'line 5: not imported: the answer block is not closed with "}"',
    ]


@pytest.mark.parametrize(
    ("gift", "reason"),
    [
        ("Q? {~a ~b}", "no option is marked correct"),
        ("Q? {=a -> b =c -> d}", "matching needs at least three pairs, this one has 2"),
        ("Q? {#abc}", '"abc" is not a number'),
        ("Q? {=a} and {=b}", "more than one answer block"),
        ("{=a}", "the question has no text"),
        ("::t::Q? {=}", "an accepted answer is empty"),
    ],
)
def test_reasons(registry, gift, reason):
    result = parse_gift(gift, registry)
    assert result.questions == []
    assert len(result.problems) == 1 and reason in result.problems[0].message
    assert result.problems[0].line == 1


def test_non_utf8_is_refused():
    with pytest.raises(GiftEncodingError, match="not UTF-8"):
        decode("Question? {=réponse}".encode("latin-1"))
    assert decode("\ufeffQ? {T}".encode()) == "Q? {T}"


def test_escape_round_trip():
    text = "a{b}c=d~e#f:g\\h\nnew line"
    assert unescape(escape(text)) == text


def test_export_then_import_gives_the_same_questions(registry):
    first = parse_gift(SAMPLE, registry)
    specs = [q.spec for q in first.questions]
    text, skipped = to_gift(specs, registry, "round/trip")
    assert skipped == []
    second = parse_gift(text, registry)
    assert second.problems == []
    # Multiple-response weights are normalised; everything a question needs to be the same question is kept.
    assert [q.spec for q in second.questions] == specs
    assert {q.category for q in second.questions} == {"round/trip"}


def test_bundled_quiz_questions_survive_a_round_trip(registry):
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "courses"
    representable = {"single_choice", "multiple_response", "true_false", "numeric", "matching"}
    checked = 0
    for path in sorted(root.glob("*/quizzes/*.toml")):
        for q in tomllib.loads(path.read_text())["questions"]:
            if q["type"] not in representable:
                continue
            spec = {k: v for k, v in q.items() if k not in ("reference", "points", "feedback_incorrect")}
            if q["type"] == "numeric":
                spec.pop("unit", None)
            text, skipped = to_gift([spec], registry)
            assert skipped == []
            again = parse_gift(text, registry)
            assert again.problems == [], (path, q["id"], [str(p) for p in again.problems])
            got = again.questions[0].spec
            for key in ("type", "prompt", "answer", "answers", "options", "pairs", "explanation"):
                if key in spec:
                    assert got.get(key) == spec[key], (path.name, q["id"], key)
            checked += 1
    assert checked > 50


def test_types_export_through_their_own_hook(registry):
    class Custom(QuestionType):
        name = "custom"
        label = "Custom"

        def to_gift(self, spec):
            return ["=custom answer"]

    class NoGift(QuestionType):
        name = "nogift"
        label = "No GIFT"

    from lms.plugins import QuestionTypeRegistry

    reg = QuestionTypeRegistry.build([Custom, NoGift])
    text, skipped = to_gift(
        [{"id": "c1", "type": "custom", "prompt": "Q?"}, {"id": "n1", "type": "nogift", "prompt": "Q?"}], reg
    )
    assert "::c1::[markdown]Q? {=custom answer}" in text
    assert skipped == ["n1"]
    with pytest.raises(GiftUnsupported):
        NoGift().to_gift({})
