"""Quiz rules in isolation: drawing, limits, scoring, grading methods, review policy."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from lms.qtypes.base import Grade
from lms.quizzes.grading import (
    can_start,
    draw_questions,
    final_score,
    is_late,
    passes,
    review_level,
    score_attempt,
)

NOW = datetime(2026, 11, 26, 12, 0)
KEYS = [f"q{i}" for i in range(1, 11)]


def test_draw_all_in_order_by_default():
    assert draw_questions(KEYS, 1) == KEYS


def test_draw_pool_is_deterministic_and_sized():
    first = draw_questions(KEYS, 99, draw=4)
    assert len(first) == 4 and set(first) <= set(KEYS)
    assert first == draw_questions(KEYS, 99, draw=4)
    assert first == [k for k in KEYS if k in first]  # keeps authored order unless shuffled
    assert len({tuple(draw_questions(KEYS, s, draw=4)) for s in range(30)}) > 1


def test_shuffle_keeps_all_questions():
    shuffled = draw_questions(KEYS, 7, shuffle=True)
    assert sorted(shuffled) == sorted(KEYS) and shuffled != KEYS


def test_attempt_limits_and_cooldown():
    settings = {"max_attempts": 2, "cooldown_minutes": 30}
    assert can_start(settings, [], NOW).allowed
    check = can_start(settings, [NOW - timedelta(minutes=10)], NOW)
    assert not check.allowed and check.wait_until == NOW + timedelta(minutes=20)
    assert check.attempts_left == 1
    assert can_start(settings, [NOW - timedelta(minutes=31)], NOW).allowed
    done = can_start(settings, [NOW - timedelta(days=2), NOW - timedelta(days=1)], NOW)
    assert not done.allowed and "all 2 attempts" in done.reason
    assert can_start({"max_attempts": 0}, [NOW] * 50, NOW).attempts_left is None


def test_score_is_weighted_by_points():
    result = score_attempt([(Grade(1.0, True), 1), (Grade(0.5, False), 2), (Grade(0.0, False), 1)])
    assert (result.points, result.max_points) == (2.0, 4.0)
    assert result.score == 0.5
    assert score_attempt([]).score == 0.0


@pytest.mark.parametrize(
    ("method", "expected"),
    [("highest", 0.9), ("latest", 0.6), ("first", 0.5), ("average", pytest.approx(2 / 3))],
)
def test_grading_methods(method, expected):
    assert final_score(method, [0.5, 0.9, 0.6]) == expected


def test_grading_methods_edge_cases():
    assert final_score("highest", []) is None
    with pytest.raises(ValueError):
        final_score("median", [1.0])


def test_pass_mark_boundary():
    assert passes(0.8, 80)
    assert passes(12 / 15, 80)  # 0.8000000000000002 and friends
    assert not passes(0.7999, 80)


@pytest.mark.parametrize(
    ("policy", "passed", "level"),
    [
        ("score", False, "score"),
        ("correctness", False, "correctness"),
        ("answers", False, "answers"),
        ("after_pass", False, "score"),
        ("after_pass", True, "answers"),
        ("never", True, "score"),
    ],
)
def test_review_levels(policy, passed, level):
    assert review_level(policy, passed_quiz=passed) == level


def test_is_late():
    assert not is_late(None, NOW)
    assert not is_late(NOW, NOW)
    assert is_late(NOW, NOW + timedelta(seconds=1))
    assert not is_late(NOW, NOW + timedelta(seconds=4), grace_seconds=5)
