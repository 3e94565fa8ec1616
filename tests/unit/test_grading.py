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


# Attempt sets with a lockout, and admin grants (issue 12).

from lms.quizzes.grading import stratified_counts, when_in_words  # noqa: E402

SETS = {"attempts_per_set": 3, "lockout_hours": 24}


def test_three_attempts_then_locked_for_24_hours_after_the_last_submission():
    times = [NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1)]
    assert can_start(SETS, times[:2], NOW).attempts_left == 1
    check = can_start(SETS, times, NOW)
    assert not check.allowed and check.wait_until == times[-1] + timedelta(hours=24)
    assert "Friday 27 November 2026 at 11:00 UTC" in check.reason
    again = can_start(SETS, times, times[-1] + timedelta(hours=24))
    assert again.allowed and again.attempts_left == 3


def test_second_set_locks_again_after_its_third_failure():
    first = [NOW, NOW + timedelta(minutes=10), NOW + timedelta(minutes=20)]
    second = [NOW + timedelta(days=2, minutes=m) for m in (0, 10, 20)]
    assert can_start(SETS, first + second[:2], NOW + timedelta(days=2, hours=1)).attempts_left == 1
    check = can_start(SETS, first + second, NOW + timedelta(days=2, hours=1))
    assert not check.allowed and check.wait_until == second[-1] + timedelta(hours=24)


def test_a_pass_does_not_lock_and_attempts_on_earlier_editions_are_not_passed_in():
    times = [NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1)]
    assert can_start(SETS, times, NOW, passed=True).allowed


def test_a_grant_opens_one_attempt_at_once_even_while_locked():
    times = [NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1)]
    granted = [NOW - timedelta(minutes=30)]
    check = can_start(SETS, times, NOW, grants=granted)
    assert check.allowed and check.attempts_left == 1
    used = [*times, NOW + timedelta(minutes=5)]
    later = can_start(SETS, used, NOW + timedelta(minutes=10), grants=granted)
    assert not later.allowed and later.wait_until == used[-1] + timedelta(hours=24)


def test_a_grant_is_used_by_the_next_submission_and_that_attempt_is_outside_the_set():
    times = [NOW - timedelta(hours=1)]
    assert can_start(SETS, [], NOW, grants=[NOW - timedelta(hours=2)]).attempts_left == 4
    assert can_start(SETS, times, NOW, grants=[NOW - timedelta(hours=2)]).attempts_left == 3


def test_when_in_words():
    assert when_in_words(datetime(2026, 12, 2, 14, 5)) == "Wednesday 2 December 2026 at 14:05 UTC"


# Stratified draw: at least half vignettes when the pool has enough.

POOL = [f"k{i}" for i in range(15)]
VIGNETTES = {f"k{i}" for i in range(0, 15, 2)}  # 8 of 15


@pytest.mark.parametrize(
    ("pool", "tagged", "draw", "expected"),
    [(15, 8, 10, 5), (15, 12, 10, 8), (15, 3, 10, 2), (15, 0, 10, 0), (10, 9, 8, 7), (10, 5, 9, 5)],
)
def test_stratified_counts(pool, tagged, draw, expected):
    assert stratified_counts(pool, tagged, draw) == expected


def test_stratified_draw_is_at_least_half_vignettes_and_deterministic():
    for seed in range(50):
        drawn = draw_questions(POOL, seed, draw=10, tagged=VIGNETTES)
        assert len(drawn) == 10 and len(set(drawn)) == 10
        assert sum(1 for k in drawn if k in VIGNETTES) >= 5
        assert drawn == draw_questions(POOL, seed, draw=10, tagged=VIGNETTES)
    assert len({tuple(draw_questions(POOL, s, draw=10, tagged=VIGNETTES)) for s in range(20)}) > 1


def test_untagged_pool_draws_as_before():
    assert draw_questions(POOL, 7, draw=5) == draw_questions(POOL, 7, draw=5, tagged=set())


def test_a_grant_adds_one_attempt_beyond_max_attempts():
    times = [NOW - timedelta(hours=3), NOW - timedelta(hours=2)]
    capped = {"max_attempts": 2}
    assert not can_start(capped, times, NOW).allowed
    granted = [NOW - timedelta(minutes=30)]
    check = can_start(capped, times, NOW, grants=granted)
    assert check.allowed and check.attempts_left == 1
    assert not can_start(
        capped, [*times, NOW + timedelta(minutes=1)], NOW + timedelta(minutes=2), grants=granted
    ).allowed


@pytest.mark.parametrize("method", ["highest", "latest", "first", "average"])
@pytest.mark.parametrize("earlier", [[], [0.4], [0.9, 0.2], [0.5, 0.5, 1.0]])
def test_final_score_after_matches_final_score_over_all_attempts(method, earlier):
    from lms.quizzes.grading import PriorScores, final_score, final_score_after

    prior = PriorScores(
        len(earlier), sum(earlier), max(earlier) if earlier else None, earlier[0] if earlier else None
    )
    assert final_score_after(method, prior, 0.7) == pytest.approx(final_score(method, [*earlier, 0.7]))
