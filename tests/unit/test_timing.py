"""Honest time, dated currency and search normalisation as pure rules (issue 12)."""

from __future__ import annotations

from datetime import date

import pytest

from lms.coursepacks.currency import months_before, review_overdue
from lms.coursepacks.timing import course_minutes, lesson_minutes, max_hours, quiz_minutes, word_count
from lms.textsearch import normalise_search


def _para(words: int) -> str:
    return "<p>" + " ".join(["word"] * words) + "</p>"


@pytest.mark.parametrize(("words", "minutes"), [(1, 1), (200, 1), (201, 2), (400, 2), (1000, 5), (1001, 6)])
def test_lesson_minutes_is_ceil_words_over_200(words, minutes):
    assert lesson_minutes(_para(words)) == minutes


def test_reference_list_and_markup_are_not_counted():
    html = (
        "<h2>Key points</h2>" + _para(10) + '<p>A <a href="#ref-x">1</a> &amp; b</p>'
        "<h2>References</h2><ol><li>" + " ".join(["cite"] * 500) + "</li></ol><h2>After</h2>" + _para(3)
    )
    # 2 + 10 + "A 1 b" (3) + "After" 1 + 3; the 500 reference words are left out
    assert word_count(html) == 19


def test_quiz_minutes_per_question_asked():
    assert quiz_minutes("final", 10) == 20
    assert quiz_minutes("quiz", 3) == 6
    assert quiz_minutes("pretest", 5) == 10
    assert quiz_minutes("survey", 7) == 7


def test_course_total_leaves_out_the_optional_pretest():
    parts = [("lesson", 5), ("lesson", 7), ("pretest", 10), ("quiz", 6), ("final", 20), ("survey", 7)]
    assert course_minutes(parts) == 45


@pytest.mark.parametrize(("minutes", "hours"), [(14, 0), (15, 0.25), (139, 2.25), (240, 4.0), (254, 4.0)])
def test_max_hours_rounds_down_to_a_quarter(minutes, hours):
    assert max_hours(minutes) == hours


def test_review_overdue_after_twelve_months():
    today = date(2026, 12, 1)
    assert not review_overdue(date(2025, 12, 1), today)
    assert review_overdue(date(2025, 11, 30), today)
    assert not review_overdue(date(2020, 1, 1), today, status="draft")
    assert months_before(date(2028, 2, 29), 12) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CAR-T", "car t"),
        ("Tocilizumab", "tocilizumab"),
        ("Müller–Ørsted  café", "muller ørsted cafe"),
        ("ﬁbrosis", "fibrosis"),
        ("Anti-CD19/CD3 ", "anti cd19 cd3"),
        ("STRASSE ß", "strasse ss"),
    ],
)
def test_normalise_search(text, expected):
    assert normalise_search(text) == expected
