"""GIFT import and export, checked against the meaning Moodle 4.5's GIFT parser gives each construct.

The table below is our own test data, written after the cases of Moodle's ``giftformat_test.php``, its
fixtures and the GIFT examples: each row is GIFT input and the meaning the imported question must have
(type, options, weights, feedback, formats, names). The export tests score every subset of options (and a
fixed set of typed responses) with a small Moodle-rule scorer written here, against Helix's own grading.
"""

from __future__ import annotations

import itertools
import re

import pytest

from lms.coursepacks.gift import (
    GiftEncodingError,
    decode,
    escape,
    extract_id_and_tags,
    parse_gift,
    render_text,
    to_gift,
    unescape,
)
from lms.plugins import build_registries
from lms.qtypes.base import GiftUnsupported, QuestionType


@pytest.fixture(scope="module")
def registry():
    return build_registries().question_types


def one(registry, gift):
    result = parse_gift(gift, registry)
    assert result.problems == [], [str(p) for p in result.problems]
    assert len(result.questions) == 1
    return result.questions[0].spec


def opts(*rows):
    """Options from (text, feedback, credit) rows; credit None means "no credit field"."""
    out = []
    for text, feedback, credit in rows:
        option = {"text": text}
        if feedback:
            option["feedback"] = feedback
        if credit is not None:
            option["credit"] = credit
        out.append(option)
    return out


MEANINGS = [
    pytest.param(
        "// essay\n::Q8:: How are you? {}",
        {"id": "Q8", "type": "free_text", "prompt": "How are you?", "format": "moodle"},
        id="essay",
    ),
    pytest.param(
        "::Moodle activities::[html]Match the <b>activity</b> to the description.{\n"
        "    =[html]An activity supporting asynchronous discussions. -> Forum\n"
        "    =[moodle]A teacher asks a question and specifies a choice of multiple responses. -> Choice\n"
        "    =[plain]A bank of record entries which participants can add to. -> Database\n"
        "    =[markdown]A collection of web pages that anyone can add to or edit. -> Wiki\n"
        "    = -> Chat\n}",
        {
            "id": "moodle-activities",
            "title": "Moodle activities",
            "type": "matching",
            "prompt": "Match the <b>activity</b> to the description.",
            "format": "html",
            "pairs": [
                {"prompt": "An activity supporting asynchronous discussions.", "match": "Forum"},
                {
                    "prompt": "A teacher asks a question and specifies a choice of multiple responses.",
                    "match": "Choice",
                },
                {"prompt": "A bank of record entries which participants can add to.", "match": "Database"},
                {"prompt": "A collection of web pages that anyone can add to or edit.", "match": "Wiki"},
            ],
            "distractors": ["Chat"],
            "formats": {"pairs.1.prompt": "moodle", "pairs.2.prompt": "plain", "pairs.3.prompt": "markdown"},
        },
        id="matching-with-formats",
    ),
    pytest.param(
        "::Q2:: What's between orange and green in the spectrum?\n{\n    =yellow # right; good!\n"
        "    ~red # [html]wrong, it's yellow\n    ~[plain]blue # wrong, it's yellow\n}",
        {
            "type": "single_choice",
            "answer": "A",
            "options": opts(
                ("yellow", "right; good!", None),
                ("red", "wrong, it's yellow", None),
                ("blue", "wrong, it's yellow", None),
            ),
            "format": "moodle",
            "formats": {"options.1.feedback": "html", "options.2.text": "plain"},
        },
        id="multichoice-formats-per-answer-and-feedback",
    ),
    pytest.param(
        "::colours:: What's between orange and green in the spectrum?\n{\n    ~%50%yellow # right; good!\n"
        "    ~%-100%red # [html]wrong\n    ~%50%off-beige # right; good!\n    ~%-100%[plain]blue # wrong\n}",
        {
            "type": "multiple_response",
            "answers": ["A", "C"],
            "options": opts(
                ("yellow", "right; good!", 0.5),
                ("red", "wrong", -1.0),
                ("off-beige", "right; good!", 0.5),
                ("blue", "wrong", -1.0),
            ),
            "formats": {"options.1.feedback": "html", "options.3.text": "plain"},
        },
        id="multiple-response-negative-weights",
    ),
    pytest.param(
        "::colours:: What's between orange and green in the spectrum?\n{\n    ~%100%yellow # right; good!\n"
        "    ~%-50%red # wrong\n    ~%-50%blue # wrong\n}",
        {
            "type": "multiple_response",
            "answers": ["A"],
            "options": opts(("yellow", "right; good!", 1.0), ("red", "wrong", -0.5), ("blue", "wrong", -0.5)),
        },
        id="no-equals-sign-is-multiple-response-even-with-one-100%",
    ),
    pytest.param(
        "::Q5:: What is a number from 1 to 5? {#3:2~#Completely wrong}",
        {
            "type": "numeric",
            "prompt": "What is a number from 1 to 5?",
            "answer": 3.0,
            "tolerance": 2.0,
            "feedback_incorrect": "Completely wrong",
        },
        id="numeric-wrong-answer-feedback",
    ),
    pytest.param(
        "::Shortanswer::Which is the best animal?{\n    =Frog#Good!\n"
        "    =%50%Cat#What is it with Moodlers and cats?\n    =%0%*#Completely wrong\n"
        "    ####[html]Here is some general feedback!\n}",
        {
            "type": "short_answer",
            "accepted": [
                {"answer": "Frog", "feedback": "Good!"},
                {"answer": "Cat", "credit": 0.5, "feedback": "What is it with Moodlers and cats?"},
                {"answer": "*", "credit": 0.0, "feedback": "Completely wrong"},
            ],
            "explanation": "Here is some general feedback!",
            "format": "moodle",
            "formats": {"explanation": "html"},
        },
        id="short-answer-feedback-per-answer-0%-kept-general-feedback-format",
    ),
    pytest.param(
        "::Q1:: 42 is the Absolute Answer to everything.{\n"
        "FALSE#42 is the Ultimate Answer.#You gave the right answer.}",
        {
            "type": "true_false",
            "answer": False,
            "feedback_true": "42 is the Ultimate Answer.",
            "feedback_false": "You gave the right answer.",
        },
        id="true-false-feedback",
    ),
    pytest.param(
        "// name 0-11\n::2-08 TSL::TSL is blablabla.{T}",
        {"id": "2-08-tsl", "title": "2-08 TSL", "type": "true_false", "answer": True},
        id="name-with-spaces-and-T",
    ),
    pytest.param(
        "::2-08 TSL::TSL is blablabla.{TRUE}####General.",
        {"type": "true_false", "answer": True, "prompt": "TSL is blablabla._____####General."},
        id="text-after-the-block-is-a-missing-word",
    ),
    pytest.param(
        "::double backslash:: A \\\\ B \\\\\\\\ C{}",
        {"type": "free_text", "prompt": "A \\ B \\\\ C"},
        id="backslashes",
    ),
    pytest.param(
        "::Q001::[html]<p>What would running the test method print?</p>\n<pre>\n"
        "    public void test() \\{\n        method1();\n    \\}\n</pre>\n{}",
        {
            "type": "free_text",
            "format": "html",
            "prompt": "<p>What would running the test method print?</p>\n<pre>\n    public void test() {\n"
            "        method1();\n    }\n</pre>",
        },
        id="line-breaks-and-pre-survive",
    ),
    pytest.param(
        "// This question is to test importing tags: [tag:tag] [tag:other-tag].\n"
        "// And an idnumber: [id:myid].\n::Question name:: How are you? {}",
        {"title": "Question name", "id": "question-name", "idnumber": "myid", "tags": ["tag", "other-tag"]},
        id="id-number-and-tags",
    ),
    pytest.param(
        "::Jesus' hometown::Jesus Christ was from {\n"
        "    ~Jerusalem#This was an important city, but the wrong answer.\n"
        "    ~%25%Bethlehem#He was born here, but not raised here.\n"
        "    ~%50%Galilee#You need to be more specific.\n    =Nazareth#Yes! That's right!}.",
        {
            "id": "jesus-hometown",
            "title": "Jesus' hometown",
            "type": "single_choice",
            "prompt": "Jesus Christ was from _____.",
            "answer": "D",
            "options": opts(
                ("Jerusalem", "This was an important city, but the wrong answer.", None),
                ("Bethlehem", "He was born here, but not raised here.", 0.25),
                ("Galilee", "You need to be more specific.", 0.5),
                ("Nazareth", "Yes! That's right!", None),
            ),
        },
        id="single-choice-partial-credit",
    ),
    pytest.param(
        "Which are primary colours? {=red =blue ~green}",
        {
            "type": "single_choice",
            "answer": "A",
            "options": opts(("red", "", None), ("blue", "", 1.0), ("green", "", None)),
        },
        id="two-fully-correct-options",
    ),
    pytest.param(
        "Difficult question.{~wrong answer ~%50%half credit answer =full credit answer}",
        {
            "type": "single_choice",
            "answer": "C",
            "options": opts(
                ("wrong answer", "", None), ("half credit answer", "", 0.5), ("full credit answer", "", None)
            ),
        },
        id="half-credit-answer",
    ),
    pytest.param(
        "Grant is {~buried =entombed ~living} in Grant's tomb.",
        {"type": "single_choice", "prompt": "Grant is _____ in Grant's tomb.", "answer": "B"},
        id="missing-word",
    ),
    pytest.param(
        "::Jesus' hometown:: Jesus Christ was from {\n    =Nazareth#Yes! That's right!\n"
        "    =%75%Nazereth#Right, but misspelled.\n"
        "    =%25%Bethlehem#He was born here, but not raised here.}",
        {
            "type": "short_answer",
            "accepted": [
                {"answer": "Nazareth", "feedback": "Yes! That's right!"},
                {"answer": "Nazereth", "credit": 0.75, "feedback": "Right, but misspelled."},
                {"answer": "Bethlehem", "credit": 0.25, "feedback": "He was born here, but not raised here."},
            ],
        },
        id="short-answer-weights",
    ),
    pytest.param(
        "Two plus two equals {=four =4}.",
        {"type": "short_answer", "accepted": ["four", "4"], "prompt": "Two plus two equals _____."},
        id="short-answer-missing-word",
    ),
    pytest.param(
        "::Numerical example::\nWhen was Ulysses S. Grant born? {#\n     =1822:0      #Correct! 100% credit\n"
        "     =%50%1822:2  #He was born in 1822.\n                  You get 50% credit for being close.\n}",
        {
            "type": "numeric",
            "answers": [
                {"answer": 1822.0, "tolerance": 0.0, "feedback": "Correct! 100% credit"},
                {
                    "answer": 1822.0,
                    "tolerance": 2.0,
                    "credit": 0.5,
                    "feedback": "He was born in 1822.\n                  You get 50% credit for being close.",
                },
            ],
        },
        id="numeric-answers-with-feedback",
    ),
    pytest.param(
        "What is the value of pi (to 3 decimal places)? {#3.141..3.142}.",
        {"type": "numeric", "range": [3.141, 3.142]},
        id="numeric-range",
    ),
    pytest.param(
        "Big? {#1234567}  ",
        {"type": "numeric", "answer": 1234567.0},
        id="numeric-large",
    ),
    pytest.param(
        "Pi? {#3.1415927:0.00000005}",
        {"type": "numeric", "answer": 3.1415927, "tolerance": 0.00000005},
        id="numeric-precise",
    ),
    pytest.param(
        "Which answer equals 5? {\n     ~ \\= 2 + 2\n     = \\= 2 + 3\n     ~ \\= 2 + 4  }",
        {
            "type": "single_choice",
            "answer": "B",
            "options": opts(("= 2 + 2", "", None), ("= 2 + 3", "", None), ("= 2 + 4", "", None)),
        },
        id="escaped-equals",
    ),
    pytest.param(
        "::GIFT Control Characters::\nWhich is NOT a control character? {\n"
        "   ~ \\~     # \\~ is a control character.\n"
        "   ~ \\{     # \\{ is one.\n   = \\\\     # Correct! \\\\ (backslash) is not.\n}",
        {
            "type": "single_choice",
            "answer": "C",
            "options": opts(
                ("~", "~ is a control character.", None),
                ("{", "{ is one.", None),
                ("\\", "Correct! \\ (backslash) is not.", None),
            ),
        },
        id="control-characters",
    ),
    pytest.param(
        "Pick one. {~a -> b =c}",
        {"type": "single_choice", "answer": "B", "options": opts(("a -> b", "", None), ("c", "", None))},
        id="tilde-wins-over-arrow",
    ),
    pytest.param(
        "Pairs. {=a -> 1 =b -> 2}",
        {"type": "matching", "pairs": [{"prompt": "a", "match": "1"}, {"prompt": "b", "match": "2"}]},
        id="two-pair-matching",
    ),
    pytest.param(
        "Is it? {true}",
        {"type": "short_answer", "accepted": ["true"]},
        id="lower-case-true-is-a-short-answer",
    ),
    pytest.param(
        "Which cat? {=%50%Cat* =Catfish}",
        {
            "type": "short_answer",
            "accepted": [{"answer": "Cat*", "credit": 0.5}, "Catfish"],
            "first_match": True,
        },
        id="first-match-order-kept",
    ),
    pytest.param(
        "What two people are entombed in Grant's tomb? {\n    ~No one\n    ~%50%Grant\n"
        "    ~%50%Grant's wife\n    ~Grant's father }",
        {
            "type": "multiple_response",
            "answers": ["B", "C"],
            "options": opts(
                ("No one", "", None),
                ("Grant", "", 0.5),
                ("Grant's wife", "", 0.5),
                ("Grant's father", "", None),
            ),
        },
        id="multiple-answers",
    ),
    pytest.param(
        "[markdown]Who's buried in **Grant's tomb**?{\n=no one#excellent answer!\n=nobody#excellent answer!}",
        {
            "type": "short_answer",
            "prompt": "Who's buried in **Grant's tomb**?",
            "accepted": [
                {"answer": "no one", "feedback": "excellent answer!"},
                {"answer": "nobody", "feedback": "excellent answer!"},
            ],
        },
        id="markdown-is-helix-native",
    ),
    pytest.param(
        "1. step one\n2. step two\n\\n\nWhich list? {T}",
        {"type": "true_false", "prompt": "1. step one\n2. step two\n\n\nWhich list?"},
        id="markdown-list-line-breaks",
    ),
    pytest.param(
        '::Greeting::[html]<a href\\="http\\://x.org/a.mp3">Listen\\:</a> What language?{\n'
        "\t~English#Sorry, listen again.\n\t=French#Yes, well done!\n}",
        {
            "type": "single_choice",
            "format": "html",
            "prompt": '<a href="http://x.org/a.mp3">Listen:</a> What language?',
            "options": opts(("English", "Sorry, listen again.", None), ("French", "Yes, well done!", None)),
        },
        id="escaped-html",
    ),
    pytest.param(
        "::Moodle user::[html]Anyone who uses Moodle is a ...{\n\t=%100%Moodler#\n}",
        {"type": "short_answer", "accepted": ["Moodler"], "format": "html"},
        id="explicit-100%-and-empty-feedback",
    ),
    pytest.param(
        "::Long, punctuated: name? (v2)::Q? {T}",
        {"id": "long-punctuated-name-v2", "title": "Long, punctuated: name? (v2)"},
        id="title-with-punctuation",
    ),
]


@pytest.mark.parametrize(("gift", "meaning"), MEANINGS)
def test_imported_meaning_follows_moodle(registry, gift, meaning):
    spec = one(registry, gift)
    for key, value in meaning.items():
        assert spec.get(key) == value, key
    if "format" not in meaning:
        assert spec.get("format", "moodle") == "moodle" or spec.get("format") is None
    if "formats" not in meaning:
        assert "formats" not in spec


@pytest.mark.parametrize(
    ("gift", "warning"),
    [
        ("Q? {~%-100%a =b}", "negative mark"),
        ("Q? {true}", 'short answer accepting the word "true"'),
        ("Q? {}", "ungraded free-text"),
        ("Q? {~%50%a ~%25%b ~c}", "add up to 75%"),
    ],
)
def test_deviations_are_warned_per_question(registry, gift, warning):
    result = parse_gift("\n\n" + gift, registry)
    assert len(result.questions) == 1
    assert [w.line for w in result.warnings] == [3]
    assert warning in result.warnings[0].message


def test_negative_single_choice_keeps_its_weight(registry):
    spec = one(registry, "Q? {~%-100%a =b ~%50%c}")
    assert spec["options"][0]["credit"] == -1.0
    sc = registry.get("single_choice")
    assert [sc.grade(spec, k).score for k in "ABC"] == [0.0, 1.0, 0.5]  # floored at 0: documented


@pytest.mark.parametrize(
    ("comment", "idnumber", "tags"),
    [
        ("", "", []),
        ("// A basic comment.", "", []),
        ("// A comment with [id:frog] <-- an idnumber.", "frog", []),
        ("// Look tags: [tag:frog] [tag:toad].", "", ["frog", "toad"]),
        ("// [tag:add] [tag:basic] [id:four]", "four", ["add", "basic"]),
        ("// [tag:  basic] Here is  \n// a [id:   four   ] que[tag:add   ]stion.", "four", ["basic", "add"]),
        ("// Ceci n'est pas une [tag:\n// frog].", "", []),
        ("// [id:i\\]d].", "i]d", []),
        ("// [tag:t\\]ag].", "", ["t]ag"]),
    ],
)
def test_id_number_and_tags_from_comments(comment, idnumber, tags):
    assert extract_id_and_tags(comment) == (idnumber, tags)


def test_bad_questions_are_reported_and_the_rest_still_imports(registry):
    text = (
        "::ok::Fine? {T}\n\n"
        "Just a description with no answers.\n\n"
        "::open::Unclosed {=a ~b\n\n"
        "::after::Still imported? {FALSE}\n\n"
        "Stray close =a}\n\n"
        "::last::And this one? {=yes}\n"
    )
    result = parse_gift(text, registry)
    assert [q.key for q in result.questions] == ["ok", "after", "last"]
    assert [str(p) for p in result.problems] == [
        "line 3: not imported: no answer block in braces: a description, "
        "which Helix does not import as a question",
        'line 5: not imported: the answer block is not closed with "}"',
        'line 9: not imported: a "}" closes an answer block that was never opened with "{"',
    ]


def test_no_question_disappears_without_a_line(registry):
    blocks = [m.values[0] for m in MEANINGS] + ["Q? {~a ~b}", "{=a}", "Q? {#abc}", "Q? {=a} and {=b}"]
    result = parse_gift("\n\n".join(blocks), registry)
    assert len(result.questions) + len(result.problems) == len(blocks)


@pytest.mark.parametrize(
    ("gift", "reason"),
    [
        ("Q? {~a ~b}", "no option has a positive weight"),
        ("Q? {#abc}", '"abc" is not a number'),
        ("Q? {=a} and {=b}", "more than one answer block"),
        ("{=a}", "the question has no text"),
        ("::t::Q? {=}", "accepted answer 1 is empty"),
        ("Q? {=*}", "match-anything answer would accept everything"),
        ("Q? {~%150%a =b}", '"credit" must be a fraction from -1 to 1'),
        ("Q? {=a -> 1 =a -> 2}", "repeats a prompt"),
        ("Q? {~only}", "at least two answers"),
    ],
)
def test_reasons(registry, gift, reason):
    result = parse_gift(gift, registry)
    assert result.questions == []
    assert len(result.problems) == 1 and reason in result.problems[0].message
    assert result.problems[0].line == 1


def test_categories_and_keys(registry):
    text = "$CATEGORY: $course$/top/Gene therapy\n\n::Same name::A? {T}\n\n::Same name::B? {T}\n\nC? {T}\n"
    result = parse_gift(text, registry)
    assert [(q.key, q.category) for q in result.questions] == [
        ("same-name", "$course$/top/Gene therapy"),
        ("same-name-2", "$course$/top/Gene therapy"),
        ("gift-3", "$course$/top/Gene therapy"),
    ]
    glued = parse_gift("$CATEGORY: a\n// note\n::q::Q? {T}\n", registry)
    assert [(q.key, q.category) for q in glued.questions] == [("q", "a")]
    assert [(w.line, w.message[:30]) for w in glued.warnings] == [(3, "no blank line after $CATEGORY:")]
    long = parse_gift("::" + "Very long name " * 20 + "::Q? {T}", registry).questions[0]
    assert len(long.key) <= 80 and long.spec["title"].startswith("Very long name")


def test_formats_render_as_moodle_shows_them():
    assert render_text("<p>Hi <script>alert(1)</script><b>there</b></p>", "html") == "<p>Hi <b>there</b></p>"
    assert render_text("a <b>\nb", "plain") == "a &lt;b&gt;<br>\nb"
    assert render_text("line one\nline <em>two</em> *not md*", "moodle") == (
        "line one<br>\nline <em>two</em> *not md*"
    )
    assert "<li>one</li>" in render_text("- one\n- two", "markdown")


def test_non_utf8_is_refused():
    with pytest.raises(GiftEncodingError, match="not UTF-8"):
        decode("Question? {=réponse}".encode("latin-1"))
    assert decode("\ufeffQ? {T}".encode()) == "Q? {T}"


def test_escape_round_trip():
    text = "a{b}c=d~e#f:g\\h\nnew line"
    assert unescape(escape(text)) == text


# -- round trips ---------------------------------------------------------------------------------------


def test_gift_to_helix_to_gift_to_helix_keeps_every_question(registry):
    text = "\n\n".join(m.values[0] for m in MEANINGS)
    first = parse_gift(text, registry)
    assert first.problems == []
    specs = [q.spec for q in first.questions]
    export = to_gift(specs, registry, "round/trip")
    assert export.skipped == []
    second = parse_gift(export.text, registry)
    assert second.problems == []
    assert [q.spec for q in second.questions] == specs
    assert {q.category for q in second.questions} == {"round/trip"}


def test_numbers_keep_full_precision(registry):
    specs = [
        {"id": "big", "type": "numeric", "prompt": "?", "answer": 1234567.0},
        {"id": "pi", "type": "numeric", "prompt": "?", "answer": 3.1415927, "tolerance": 0.00000005},
        {"id": "tiny", "type": "numeric", "prompt": "?", "range": [1e-9, 2.5e-9]},
    ]
    text = to_gift(specs, registry).text
    assert "{#1234567}" in text and "{#3.1415927:0.00000005}" in text and "0.000000001..0.0000000025" in text
    assert [q.spec for q in parse_gift(text, registry).questions] == specs


def test_bundled_quiz_questions_survive_a_round_trip(registry):
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "courses"
    representable = {
        "single_choice",
        "multiple_response",
        "true_false",
        "numeric",
        "matching",
        "short_answer",
    }
    checked = 0
    for path in sorted(root.glob("*/quizzes/*.toml")):
        for q in tomllib.loads(path.read_text())["questions"]:
            if q["type"] not in representable:
                continue
            spec = {k: v for k, v in q.items() if k not in ("reference", "points")}
            spec.pop("unit", None)
            export = to_gift([spec], registry)
            assert export.skipped == []
            again = parse_gift(export.text, registry)
            assert again.problems == [], (path, q["id"], [str(p) for p in again.problems])
            got = again.questions[0].spec
            for key in ("id", "type", "prompt", "answer", "pairs", "explanation", "title"):
                if key in spec:
                    assert got.get(key) == spec[key], (path.name, q["id"], key)
            if "options" in spec:
                assert [o["text"] for o in got["options"]] == [o["text"] for o in spec["options"]]
            if export.differences:
                # Helix's default multiple-response rule has no Moodle weights: listed, and imported back
                # with Moodle's meaning (the sum of the weights), not compared here.
                assert spec["type"] == "multiple_response" and not spec.get("negative_marking")
                continue
            for response in _responses(spec):
                want = registry.get(spec["type"]).grade(spec, response).score
                assert registry.get(got["type"]).grade(got, response).score == pytest.approx(want)
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
    export = to_gift(
        [{"id": "c1", "type": "custom", "prompt": "Q?"}, {"id": "n1", "type": "nogift", "prompt": "Q?"}], reg
    )
    assert "::c1::[markdown]Q? {=custom answer}" in export.text
    assert export.skipped == ["n1"]
    with pytest.raises(GiftUnsupported):
        NoGift().to_gift({})


def test_texts_that_look_like_gift_syntax_survive_export(registry):
    specs = [
        {
            "id": "a",
            "type": "single_choice",
            "prompt": "[html] is a prefix",
            "answer": "B",
            "options": [{"text": "%50% of patients"}, {"text": "[plain] text"}, {"text": "a -> b"}],
        },
        {
            "id": "b",
            "type": "multiple_response",
            "prompt": "?",
            "answers": ["A"],
            "options": [{"text": "%25% yes"}, {"text": "%10% no"}],
        },
        {
            "id": "c",
            "type": "short_answer",
            "prompt": "?",
            "accepted": ["%5", {"answer": "%6", "credit": 0.5}],
        },
    ]
    back = parse_gift(to_gift(specs, registry).text, registry)
    assert back.problems == []
    got = {q.key: q.spec for q in back.questions}
    assert got["a"] == specs[0]
    assert [o["text"] for o in got["b"]["options"]] == ["%25% yes", "%10% no"]
    assert got["c"] == specs[2]


def test_names_categories_ids_and_tags_are_exported(registry):
    spec = {
        "id": "crs-1",
        "type": "true_false",
        "title": "CRS: grade 2?",
        "idnumber": "CRS]1",
        "tags": ["car t", "crs"],
        "prompt": "Hypotension without pressors is grade 2.",
        "answer": True,
        "format": "plain",
    }
    text = to_gift([spec], registry, categories=["Gene therapy/CRS"]).text
    assert "$CATEGORY: Gene therapy/CRS\n" in text
    assert "// [id:CRS\\]1] [tag:car t] [tag:crs]\n::CRS\\: grade 2?::[plain]Hypotension" in text
    back = parse_gift(text, registry).questions[0]
    assert back.category == "Gene therapy/CRS"
    assert back.spec == {**spec, "id": "crs-grade-2"}


# -- exports grade in Moodle as in Helix -------------------------------------------------------------------

_WEIGHT = re.compile(r"^%(-?[0-9.]+)%")


def _moodle_block(text):
    """The answer block of the only question in an exported GIFT text (export writes one answer a line)."""
    body = text[text.index("{") + 1 : text.rindex("}")]
    return [line.strip() for line in body.split("\n") if line.strip() and not line.strip().startswith("####")]


def _split(answer):
    """(weight or None, text, feedback) of one exported answer line, after its = or ~."""
    found = _WEIGHT.match(answer)
    weight = float(found.group(1)) / 100 if found else None
    rest = answer[found.end() :] if found else answer
    text, _, feedback = rest.partition(" #")
    return weight, unescape(text.strip()), unescape(feedback.strip())


def moodle_choice_score(block, chosen):
    """Moodle's rule for multichoice: single-answer questions (an "=" present) score the chosen answer's
    fraction (which may be negative); multiple-answer ones the sum of the chosen fractions, clamped to
    [0, 1]."""
    single = any(line.startswith("=") for line in block)
    fractions = []
    for line in block:
        weight, _text, _fb = _split(line[1:])
        fractions.append(1.0 if line.startswith("=") else (weight or 0.0))
    if single:
        (index,) = chosen
        return fractions[index]
    return min(1.0, max(0.0, sum(fractions[i] for i in chosen)))


def _wildcard(pattern, response):
    parts = [re.escape(p) for p in pattern.split("*")]
    return re.fullmatch(".*".join(parts), response.strip(), re.I | re.S) is not None


def moodle_typed_score(block, response):
    """Moodle's rule for short answer and numerical: the first answer that matches decides."""
    numeric = block[0] == "#" or block[0].startswith("#")
    lines = block[1:] if block[0] == "#" else block
    if numeric and block[0] != "#":
        lines = ["=" + block[0][1:]]
    for line in lines:
        if line.startswith("~"):
            return 0.0  # the catch-all wrong answer
        weight, text, _fb = _split(line[1:])
        credit = 1.0 if weight is None else weight
        if numeric:
            value = float(response)
            if ".." in text:
                low, high = (float(v) for v in text.split(".."))
            else:
                answer, _, tol = text.partition(":")
                low, high = float(answer) - float(tol or 0), float(answer) + float(tol or 0)
            if low - 1e-12 <= value <= high + 1e-12:
                return credit
        elif _wildcard(text, response):
            return credit
    return 0.0


CHOICE_SPECS = [
    {
        "id": "sc",
        "type": "single_choice",
        "prompt": "?",
        "answer": "B",
        "options": opts(("a", "", None), ("b", "x", None), ("c", "", None)),
    },
    {
        "id": "sc-credit",
        "type": "single_choice",
        "prompt": "?",
        "answer": "D",
        "options": opts(("a", "", None), ("b", "", 0.25), ("c", "", 0.5), ("d", "", None), ("e", "", 1.0)),
    },
    {
        "id": "mr-weights",
        "type": "multiple_response",
        "prompt": "?",
        "answers": ["A", "C"],
        "options": opts(("a", "", 0.5), ("b", "", -1.0), ("c", "", 0.5), ("d", "", -1.0)),
    },
    *[
        {
            "id": f"mr-neg-{k}",
            "type": "multiple_response",
            "prompt": "?",
            "answers": [chr(65 + i) for i in range(k)],
            "options": opts(*[(f"o{i}", "", None) for i in range(k + 2)]),
            "negative_marking": True,
        }
        for k in (1, 2, 3, 4, 6, 7)
    ],
]


@pytest.mark.parametrize("spec", CHOICE_SPECS, ids=[s["id"] for s in CHOICE_SPECS])
def test_choice_exports_grade_the_same_in_moodle_for_every_subset(registry, spec):
    qtype = registry.get(spec["type"])
    assert qtype.validate(spec) == []
    export = to_gift([spec], registry)
    assert export.differences == []
    block = _moodle_block(export.text)
    n = len(spec["options"])
    letters = [chr(65 + i) for i in range(n)]
    sizes = [1] if spec["type"] == "single_choice" else range(1, n + 1)
    for size in sizes:
        for chosen in itertools.combinations(range(n), size):
            response = letters[chosen[0]] if spec["type"] == "single_choice" else [letters[i] for i in chosen]
            helix = qtype.grade(spec, response).score
            assert moodle_choice_score(block, chosen) == pytest.approx(helix, abs=1e-6), chosen


def test_negative_marking_weights_come_from_moodles_menu_and_sum_to_100(registry):
    spec = next(s for s in CHOICE_SPECS if s["id"] == "mr-neg-3")
    block = _moodle_block(to_gift([spec], registry).text)
    weights = [_split(line[1:])[0] for line in block]
    assert weights == pytest.approx([0.3333333, 0.3333333, 0.3333333, -0.3333333, -0.3333333], abs=1e-12)
    assert round(sum(w for w in weights if w > 0), 2) == 1.0  # Moodle's own check when it saves the question


def test_default_multiple_response_lists_every_differing_question(registry):
    specs = [
        {
            "id": "mr-default",
            "type": "multiple_response",
            "prompt": "?",
            "answers": ["A", "C"],
            "options": opts(("a", "", None), ("b", "", None), ("c", "", None)),
        },
        {
            "id": "mr-all-right",
            "type": "multiple_response",
            "prompt": "?",
            "answers": ["A", "B"],
            "options": opts(("a", "", None), ("b", "", None)),
        },
        {
            "id": "sc-negative",
            "type": "single_choice",
            "prompt": "?",
            "answer": "A",
            "options": opts(("a", "", None), ("b", "", -0.5)),
        },
    ]
    export = to_gift(specs, registry)
    assert export.differences == [
        "mr-default: choosing A, B scores 0 in Moodle, 0.5 in Helix",
        "sc-negative: choosing B scores -0.5 in Moodle, 0 in Helix",
    ]
    # the example given is real: Moodle's rule and Helix's grading disagree on it
    block = _moodle_block(to_gift([specs[0]], registry).text)
    assert moodle_choice_score(block, (0, 1)) == 0.0
    assert registry.get("multiple_response").grade(specs[0], ["A", "B"]).score == 0.5


TYPED_SPECS = [
    (
        {
            "id": "sa",
            "type": "short_answer",
            "prompt": "?",
            "accepted": ["tocilizumab", {"answer": "toci*", "credit": 0.5}, "Actemra"],
            "feedback_correct": "Yes.",
            "feedback_incorrect": "No.",
        },
        ["Tocilizumab", "tocilizumabs", "Actemra", "toc", "siltuximab", "TOCI"],
    ),
    (
        {
            "id": "sa-first",
            "type": "short_answer",
            "prompt": "?",
            "accepted": [
                {"answer": "Cat*", "credit": 0.5},
                "Catfish",
                {"answer": "*", "credit": 0, "feedback": "No"},
            ],
            "first_match": True,
        },
        ["catfish", "cat", "dog", "Catfish"],
    ),
    (
        {
            "id": "num",
            "type": "numeric",
            "prompt": "?",
            "answer": 8.0,
            "tolerance": 0.5,
            "feedback_incorrect": "No.",
        },
        ["8", "8.4", "8.6", "7.4", "-8"],
    ),
    (
        {
            "id": "num-multi",
            "type": "numeric",
            "prompt": "?",
            "answers": [
                {"answer": 3.0, "tolerance": 0.5, "credit": 0.5},
                {"answer": 3.14, "tolerance": 0.01},
            ],
        },
        ["3.14", "3.2", "2.6", "4", "3.149"],
    ),
    (
        {"id": "num-range", "type": "numeric", "prompt": "?", "range": [21.0, 35.0]},
        ["21", "28", "35", "36", "20.9"],
    ),
    (
        {"id": "num-precise", "type": "numeric", "prompt": "?", "answer": 3.1415927, "tolerance": 0.00000005},
        ["3.1415927", "3.14159274", "3.1415928", "3.14159"],
    ),
]


@pytest.mark.parametrize(("spec", "responses"), TYPED_SPECS, ids=[s["id"] for s, _ in TYPED_SPECS])
def test_typed_exports_grade_the_same_in_moodle(registry, spec, responses):
    qtype = registry.get(spec["type"])
    assert qtype.validate(spec) == []
    export = to_gift([spec], registry)
    assert export.differences == []
    block = _moodle_block(export.text)
    for response in responses:
        assert moodle_typed_score(block, response) == pytest.approx(qtype.grade(spec, response).score), (
            response
        )


def test_true_false_and_matching_exports_grade_the_same(registry):
    tf = {
        "id": "tf",
        "type": "true_false",
        "prompt": "?",
        "answer": False,
        "feedback_true": "w",
        "feedback_false": "r",
    }
    text = to_gift([tf], registry).text
    assert "{FALSE#w#r}" in text
    for response in (True, False):
        moodle = 1.0 if response is False else 0.0  # Moodle: the keyed value scores 1
        assert registry.get("true_false").grade(tf, response).score == moodle
    match = {
        "id": "m",
        "type": "matching",
        "prompt": "?",
        "pairs": [
            {"prompt": "a", "match": "1"},
            {"prompt": "b", "match": "2"},
            {"prompt": "c", "match": "3"},
        ],
        "distractors": ["4"],
    }
    block = _moodle_block(to_gift([match], registry).text)
    subquestions = [(line[1:].split(" -> ")[0], line.split(" -> ")[1]) for line in block]
    choices = ["1", "2", "3", "4"]
    for picks in itertools.product(range(4), repeat=3):
        # Moodle's rule: the share of (non-empty) sub-questions given their own answer
        right = sum(choices[p] == subquestions[i][1] for i, p in enumerate(picks))
        helix = registry.get("matching").grade(match, {str(i): p for i, p in enumerate(picks)}).score
        assert helix == pytest.approx(right / 3)


def _responses(spec):
    """A fixed set of responses for any bundled question: every option, subset, pair choice or typed value."""
    if spec["type"] == "single_choice":
        return [chr(65 + i) for i in range(len(spec["options"]))]
    if spec["type"] == "multiple_response":
        keys = [chr(65 + i) for i in range(len(spec["options"]))]
        return [list(c) for n in range(1, len(keys) + 1) for c in itertools.combinations(keys, n)]
    if spec["type"] == "true_false":
        return [True, False]
    if spec["type"] == "numeric":
        low, high, _c = registry_numeric_range(spec)
        return [str(low), str(high), str((low + high) / 2), str(high + 1), str(low - 1)]
    if spec["type"] == "short_answer":
        accepted = [a if isinstance(a, str) else a["answer"] for a in spec["accepted"]]
        return [a.replace("*", "x") for a in accepted] + ["nothing like it"]
    if spec["type"] == "matching":
        return [
            {str(i): i for i in range(len(spec["pairs"]))},
            {str(i): 0 for i in range(len(spec["pairs"]))},
        ]
    return []


def registry_numeric_range(spec):
    from lms.qtypes.text import numeric_ranges

    return numeric_ranges(spec)[0]
