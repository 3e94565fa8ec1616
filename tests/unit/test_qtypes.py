"""Grading tables for every built-in question type, including edge cases."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from lms.qtypes.arrange import Matching, Ordering, token
from lms.qtypes.base import Grade
from lms.qtypes.choice import MultipleResponse, SingleChoice, TrueFalse
from lms.qtypes.survey import FreeText, Likert
from lms.qtypes.text import Numeric, ShortAnswer, parse_number

OPTIONS = [{"text": t, "feedback": f"fb {t}"} for t in ("w", "x", "y", "z")]
SC = {"id": "q1", "type": "single_choice", "prompt": "?", "answer": "B", "options": OPTIONS}
MR = {"id": "q2", "type": "multiple_response", "prompt": "?", "answers": ["A", "C"], "options": OPTIONS}
MR_NEG = {**MR, "negative_marking": True}


@pytest.mark.parametrize(
    ("response", "score", "correct", "feedback"),
    [
        ("B", 1.0, True, ("fb x",)),
        ("A", 0.0, False, ("fb w",)),
        (None, 0.0, False, ("No answer was given.",)),
        ("", 0.0, False, ("No answer was given.",)),
        ("Q", 0.0, False, ()),
    ],
)
def test_single_choice(response, score, correct, feedback):
    grade = SingleChoice().grade(SC, response)
    assert (grade.score, grade.correct, grade.feedback) == (score, correct, feedback)


@pytest.mark.parametrize(
    ("spec", "response", "score"),
    [
        (MR, ["A", "C"], 1.0),
        (MR, ["A"], 0.5),
        (MR, ["A", "B"], 0.5),
        (MR, ["A", "B", "C", "D"], 0.5),  # ticking everything never earns full credit
        (MR, ["B", "D"], 0.0),
        (MR, [], 0.0),
        (MR, None, 0.0),
        (MR, ["A", "C", "Z"], 1.0),  # unknown letters are ignored
        (MR_NEG, ["A", "C"], 1.0),
        (MR_NEG, ["A", "B"], 0.0),
        (MR_NEG, ["A", "C", "B"], 0.5),
        (MR_NEG, ["B", "D"], 0.0),  # never below zero
        (MR_NEG, ["A", "B", "C", "D"], 0.0),
    ],
)
def test_multiple_response_partial_credit(spec, response, score):
    grade = MultipleResponse().grade(spec, response)
    assert grade.score == pytest.approx(score)
    assert grade.correct is (score == 1.0)


def test_true_false():
    spec = {"answer": False, "feedback_true": "wrong", "feedback_false": "right"}
    assert TrueFalse().grade(spec, False) == Grade(1.0, True, ("right",))
    assert TrueFalse().grade(spec, True) == Grade(0.0, False, ("wrong",))
    assert TrueFalse().grade(spec, None).score == 0.0
    assert TrueFalse().parse_response(MultiDict({"q": "true"}), "q") is True
    assert TrueFalse().parse_response(MultiDict({"q": "maybe"}), "q") is None


NUM = {"answer": 8.0, "tolerance": 0.5, "unit": "mg/kg", "feedback_correct": "ok", "feedback_incorrect": "no"}


@pytest.mark.parametrize(
    ("response", "score"),
    [
        ("8", 1.0),
        (" 8.4 ", 1.0),
        ("7,5", 1.0),
        ("8.6", 0.0),
        ("-8", 0.0),
        ("", 0.0),
        (None, 0.0),
        ("eight", 0.0),
        ("1e1", 0.0),
        ("8 mg/kg", 0.0),
        ("nan", 0.0),
        ("inf", 0.0),
    ],
)
def test_numeric_tolerance(response, score):
    assert Numeric().grade(NUM, response).score == score


def test_numeric_range_and_partial_answers():
    assert Numeric().grade({"range": [1, 5]}, "5").score == 1.0
    assert Numeric().grade({"range": [1, 5]}, "5.01").score == 0.0
    multi = {"answers": [{"answer": 3.14, "tolerance": 0.01}, {"answer": 3, "tolerance": 0.5, "credit": 0.5}]}
    assert Numeric().grade(multi, "3.141").score == 1.0
    assert Numeric().grade(multi, "2.8").score == 0.5
    assert Numeric().grade(NUM, "abc").feedback == ('"abc" is not a number.',)
    assert Numeric().review(NUM, "8")["correct_answer"] == "7.5–8.5 mg/kg (e.g. 8)"


def test_parse_number():
    assert parse_number("1 000") == 1000
    assert parse_number("−2,5") == -2.5
    assert parse_number("1e309") is None
    assert parse_number(True) is None


SA = {"accepted": ["tocilizumab", "Actemra", {"answer": "IL-6*", "credit": 0.5}, "anti il*6 receptor*"]}


@pytest.mark.parametrize(
    ("response", "score"),
    [
        ("Tocilizumab", 1.0),
        ("  TOCILIZUMAB  ", 1.0),
        ("actemra", 1.0),
        ("IL-6 blocker", 0.5),
        ("anti IL 6 receptor antibody", 1.0),
        ("anti   il-6 receptor mab", 1.0),
        ("steroids", 0.0),
        ("", 0.0),
        (None, 0.0),
        ("tocilizumabx", 0.0),
    ],
)
def test_short_answer(response, score):
    assert ShortAnswer().grade(SA, response).score == score


ORD = {"id": "o1", "items": ["a", "b", "c", "d"]}


def test_ordering_scores_positions():
    assert Ordering().grade(ORD, [0, 1, 2, 3]).score == 1.0
    assert Ordering().grade(ORD, [1, 0, 2, 3]).score == 0.5
    assert Ordering().grade(ORD, [None, None, 2, None]).score == 0.25
    assert Ordering().grade(ORD, [0, 1]).score == 0.5  # short responses count missing places as wrong
    assert Ordering().grade(ORD, None).score == 0.0
    assert Ordering().grade(ORD, [None, None, None, None]).score == 0.0


def test_ordering_round_trip_through_form_tokens():
    seed = 42
    view = Ordering().learner_view(ORD, seed)
    texts = [i["text"] for i in view["items"]]
    assert sorted(texts) == ["a", "b", "c", "d"]
    by_text = {i["text"]: i["value"] for i in view["items"]}
    form = MultiDict({f"q-{pos}": by_text[t] for pos, t in enumerate(["a", "b", "d", "c"])})
    response = Ordering().parse_response(form, "q", ORD, seed)
    assert response == [0, 1, 3, 2]
    assert Ordering().grade(ORD, response).score == 0.5
    assert Ordering().shown_response(ORD, seed, response) == [by_text[t] for t in ["a", "b", "d", "c"]]
    # Tokens do not reveal the order, and a token from another attempt is worthless.
    assert "0" not in by_text.values()
    assert Ordering().parse_response(MultiDict({"q-0": token(7, "o1", "item", 0)}), "q", ORD, seed) is None


MATCH = {
    "id": "m1",
    "pairs": [
        {"prompt": "tisa-cel", "match": "4-1BB"},
        {"prompt": "axi-cel", "match": "CD28"},
        {"prompt": "ide-cel", "match": "BCMA"},
    ],
    "distractors": ["CD20"],
}


def test_matching():
    assert Matching().grade(MATCH, {"0": 0, "1": 1, "2": 2}).score == 1.0
    assert Matching().grade(MATCH, {"0": 1, "1": 0, "2": 2}).score == pytest.approx(1 / 3)
    assert Matching().grade(MATCH, {"0": 3}).score == 0.0  # the distractor
    assert Matching().grade(MATCH, {}).score == 0.0
    assert Matching().grade(MATCH, {"0": 99}).score == 0.0
    seed = 5
    view = Matching().learner_view(MATCH, seed)
    choice = {c["text"]: c["value"] for c in view["choices"]}
    prompt = {p["text"]: p["value"] for p in view["prompts"]}
    assert set(choice) == {"4-1BB", "CD28", "BCMA", "CD20"}
    form = MultiDict({f"q-{prompt['tisa-cel']}": choice["4-1BB"], f"q-{prompt['axi-cel']}": choice["BCMA"]})
    response = Matching().parse_response(form, "q", MATCH, seed)
    assert response == {"0": 0, "1": 2}
    assert Matching().grade(MATCH, response).score == pytest.approx(1 / 3)


def test_survey_items_are_ungraded():
    assert Likert().grade({}, 3) == Grade(0.0, None)
    assert FreeText().grade({}, "great") == Grade(0.0, None)
    assert Likert().parse_response(MultiDict({"q": "4"}), "q", {}) == 4
    assert Likert().parse_response(MultiDict({"q": "9"}), "q", {}) is None
    assert FreeText().parse_response(MultiDict({"q": "x" * 50}), "q", {"max_length": 10}) == "x" * 10


def test_grade_rejects_out_of_range_scores():
    with pytest.raises(ValueError, match="outside"):
        Grade(1.5, True)


@pytest.mark.parametrize(
    ("qtype", "spec", "expected"),
    [
        (SingleChoice(), {"options": OPTIONS, "answer": "E"}, 'answer "E" is not one of the options A-D'),
        (
            SingleChoice(),
            {"options": [{"text": "only"}], "answer": "A"},
            '"options" must list at least 2 options',
        ),
        (SingleChoice(), {"options": OPTIONS}, '"answer" is missing (the letter of the correct option)'),
        (SingleChoice(), {"options": OPTIONS, "answer": "A", "colour": "red"}, 'unknown field "colour"'),
        (
            MultipleResponse(),
            {"options": OPTIONS, "answers": []},
            '"answers" must list the letters of the correct options',
        ),
        (
            MultipleResponse(),
            {"options": OPTIONS, "answers": ["A", "A"]},
            '"answers" lists the same option twice',
        ),
        (TrueFalse(), {"answer": "yes"}, '"answer" must be true or false'),
        (Numeric(), {"answer": "8"}, "\"answer\" must be a number, not '8'"),
        (Numeric(), {"range": [5, 1]}, '"range" must be [minimum, maximum] with minimum ≤ maximum'),
        (Numeric(), {"answer": 1, "tolerance": -1}, '"tolerance" must be a number ≥ 0'),
        (
            ShortAnswer(),
            {"accepted": ["*"]},
            "accepted 1: an empty or match-anything answer would accept everything",
        ),
        (Ordering(), {"items": ["a"]}, '"items" must list at least 2 entries'),
        (
            Matching(),
            {"pairs": [{"prompt": "a", "match": "b"}, {"prompt": "c", "match": "d"}], "distractors": ["b"]},
            "a distractor is also a correct match",
        ),
        (Likert(), {"scale": ["only"]}, '"scale" must list at least 2 labels'),
        (FreeText(), {"max_length": 0}, '"max_length" must be a whole number from 1 to 20000'),
    ],
)
def test_spec_validation_messages(qtype, spec, expected):
    assert expected in qtype.validate(spec)


def test_learner_views_hold_no_keys():
    views = [
        SingleChoice().learner_view(SC, 1),
        MultipleResponse().learner_view(MR, 1),
        Numeric().learner_view(NUM, 1),
        ShortAnswer().learner_view(SA, 1),
        Ordering().learner_view(ORD, 1),
        Matching().learner_view(MATCH, 1),
    ]
    text = repr(views)
    for secret in ("answer", "fb ", "feedback", "correct", "accepted", "tocilizumab", "tolerance"):
        assert secret not in text, secret


def test_shuffle_is_deterministic_per_seed():
    a = SingleChoice().learner_view(SC, 123)["options"]
    assert a == SingleChoice().learner_view(SC, 123)["options"]
    orders = {tuple(o["text"] for o in SingleChoice().learner_view(SC, s)["options"]) for s in range(20)}
    assert len(orders) > 1
    assert [o["text"] for o in SingleChoice().learner_view(SC, 1, shuffle=False)["options"]] == list("wxyz")


def test_choice_values_are_opaque_tokens():
    seed = 2**61 + 12345
    view = SingleChoice().learner_view(SC, seed, shuffle=False)
    values = [o["value"] for o in view["options"]]
    assert not set(values) & set("ABCD")  # the authored order is not on the page
    assert SingleChoice().parse_response(MultiDict({"q": values[1]}), "q", SC, seed) == "B"
    assert SingleChoice().parse_response(MultiDict({"q": "B"}), "q", SC, seed) is None
    other_attempt = SingleChoice().learner_view(SC, seed + 1, shuffle=False)["options"][1]["value"]
    assert SingleChoice().parse_response(MultiDict({"q": other_attempt}), "q", SC, seed) is None
    assert SingleChoice().shown_response(SC, seed, "B") == values[1]
    mr_values = [o["value"] for o in MultipleResponse().learner_view(MR, seed, shuffle=False)["options"]]
    form = MultiDict([("q", mr_values[0]), ("q", mr_values[2]), ("q", "x" * 10_000)] + [("q", "junk")] * 500)
    assert MultipleResponse().parse_response(form, "q", MR, seed) == ["A", "C"]
    assert MultipleResponse().shown_response(MR, seed, ["A", "C"]) == [mr_values[0], mr_values[2]]


def test_likert_ignores_non_ascii_digits():
    assert Likert().parse_response(MultiDict({"q": "²"}), "q", {}) is None
    assert Likert().parse_response(MultiDict({"q": "٣"}), "q", {}) is None


SC_CREDIT = {
    **SC,
    "options": [
        {**OPTIONS[0], "credit": 0.5},
        OPTIONS[1],
        {**OPTIONS[2], "credit": 1},
        {**OPTIONS[3], "credit": -0.5},
    ],
}


@pytest.mark.parametrize(
    ("response", "score", "correct"),
    [("B", 1.0, True), ("A", 0.5, False), ("C", 1.0, True), ("D", 0.0, False)],
)
def test_single_choice_option_credit(response, score, correct):
    grade = SingleChoice().grade(SC_CREDIT, response)
    assert (grade.score, grade.correct) == (score, correct)
    assert {
        row["key"] for row in SingleChoice().review(SC_CREDIT, response)["options"] if row["correct"]
    } == {"B", "C"}


@pytest.mark.parametrize("credit", [1.5, -2, "half", True])
def test_single_choice_credit_is_a_fraction(credit):
    spec = {**SC, "options": [{**OPTIONS[0], "credit": credit}, *OPTIONS[1:]]}
    assert SingleChoice().validate(spec) == ['option A: "credit" must be a fraction from -1 to 1']


MR_WEIGHTS = {
    **MR,
    "options": [
        {"text": "w", "credit": 0.5},
        {"text": "x", "credit": -1},
        {"text": "y", "credit": 0.5},
        {"text": "z"},
    ],
}


@pytest.mark.parametrize(
    ("response", "score"),
    [(["A", "C"], 1.0), (["A"], 0.5), (["A", "B"], 0.0), (["A", "C", "D"], 1.0), (["B", "D"], 0.0)],
)
def test_multiple_response_moodle_weights_sum(response, score):
    assert MultipleResponse().validate(MR_WEIGHTS) == []
    assert MultipleResponse().grade(MR_WEIGHTS, response).score == score


def test_multiple_response_weights_must_agree_with_answers():
    spec = {**MR_WEIGHTS, "answers": ["A"]}
    assert MultipleResponse().validate(spec) == [
        '"answers" must list exactly the options with a positive "credit"'
    ]
    both = {**MR_WEIGHTS, "negative_marking": True}
    assert (
        'give either option "credit" weights or "negative_marking", not both'
        in MultipleResponse().validate(both)
    )


def test_typed_answers_have_their_own_feedback_and_moodles_first_match():
    sa = {
        "accepted": [
            {"answer": "cat*", "credit": 0.5, "feedback": "close"},
            {"answer": "catfish", "feedback": "yes"},
        ],
        "feedback_incorrect": "no",
    }
    assert ShortAnswer().validate(sa) == []
    assert ShortAnswer().grade(sa, "Catfish") == Grade(1.0, True, ("yes",))  # best match (Helix default)
    assert ShortAnswer().grade({**sa, "first_match": True}, "Catfish") == Grade(0.5, False, ("close",))
    assert ShortAnswer().grade(sa, "dog") == Grade(0.0, False, ("no",))
    zero = {"accepted": ["frog", {"answer": "*", "credit": 0, "feedback": "Completely wrong"}]}
    assert ShortAnswer().validate(zero) == []
    assert ShortAnswer().grade(zero, "toad") == Grade(0.0, False, ("Completely wrong",))
    num = {
        "answers": [
            {"answer": 3.0, "tolerance": 0.5, "credit": 0.5, "feedback": "near"},
            {"answer": 3.14, "feedback": "pi"},
        ],
        "feedback_incorrect": "far",
    }
    assert Numeric().validate(num) == []
    assert Numeric().grade(num, "3.14") == Grade(1.0, True, ("pi",))
    assert Numeric().grade({**num, "first_match": True}, "3.14") == Grade(0.5, False, ("near",))
    assert Numeric().grade(num, "9") == Grade(0.0, False, ("far",))


def test_gift_formats_are_not_course_file_fields():
    assert SingleChoice().validate({**SC, "format": "html"}) == ['unknown field "format"']


def test_single_choice_key_scores_one():
    spec = {**SC, "options": [OPTIONS[0], {**OPTIONS[1], "credit": 0.5}, *OPTIONS[2:]]}
    assert SingleChoice().validate(spec) == ['option B is the answer: its "credit" must be 1 or left out']
