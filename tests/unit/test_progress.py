"""Completion rules in isolation."""

from __future__ import annotations

from lms.learning.progress import (
    Policy,
    SyllabusItem,
    course_progress,
    neighbours,
    next_item,
    percent,
    required_keys,
)

ITEMS = [
    SyllabusItem("l1", "lesson"),
    SyllabusItem("l2", "lesson"),
    SyllabusItem("m1", "quiz"),
    SyllabusItem("l3", "lesson"),
    SyllabusItem("final", "final"),
    SyllabusItem("evaluation", "survey"),
]
POLICY = Policy(require_all_lessons=True, require_quizzes="all", final_quiz="final", evaluation="evaluation")


def test_percent_rounds_down_and_handles_empty():
    assert percent(0, 0) == 0
    assert percent(1, 3) == 33
    assert percent(199, 200) == 99
    assert percent(3, 3) == 100


def test_required_items_follow_policy():
    assert required_keys(ITEMS, POLICY) == ["l1", "l2", "m1", "l3", "final", "evaluation"]
    assert required_keys(ITEMS, Policy(require_quizzes="final", final_quiz="final")) == [
        "l1",
        "l2",
        "l3",
        "final",
    ]
    assert required_keys(ITEMS, Policy(require_all_lessons=False, require_quizzes="none")) == []


def test_progress_counts_and_next_item():
    p = course_progress(ITEMS, {"l1", "m1"}, POLICY)
    assert (p.done, p.total, p.percent) == (2, 6, 33)
    assert (p.lessons_done, p.lessons_total) == (1, 3)
    assert p.next_item.key == "l2"  # the first unfinished item, even after a later one was done
    assert not p.complete


def test_complete_when_every_required_item_is_done():
    p = course_progress(ITEMS, {i.key for i in ITEMS}, POLICY)
    assert p.complete and p.percent == 100 and p.next_item is None


def test_records_for_removed_items_are_ignored_not_counted():
    p = course_progress(ITEMS, {"l1", "old-lesson"}, POLICY)
    assert p.done == 1


def test_nothing_required_is_not_complete():
    assert not course_progress([], set(), POLICY).complete


def test_next_item_and_neighbours():
    assert next_item(ITEMS, set()).key == "l1"
    assert next_item(ITEMS, {i.key for i in ITEMS}) is None
    prev, nxt = neighbours(ITEMS, "m1")
    assert (prev.key, nxt.key) == ("l2", "l3")
    assert neighbours(ITEMS, "l1")[0] is None
    assert neighbours(ITEMS, "evaluation")[1] is None
    assert neighbours(ITEMS, "missing") == (None, None)


# Gating: the final and the evaluation open only when every other required item is done (issue 12).

from lms.learning.progress import blocking_items, gate_open  # noqa: E402


def test_final_is_blocked_until_every_other_required_item_is_done():
    assert [i.key for i in blocking_items(ITEMS, {"l1"}, POLICY, "final")] == ["l2", "m1", "l3"]
    assert not gate_open(ITEMS, {"l1", "l2", "m1"}, POLICY, "final")
    # the evaluation is not required before the final (it is gated behind the final itself)
    assert gate_open(ITEMS, {"l1", "l2", "m1", "l3"}, POLICY, "final")


def test_evaluation_needs_the_final_too():
    assert [i.key for i in blocking_items(ITEMS, {"l1", "l2", "m1", "l3"}, POLICY, "evaluation")] == ["final"]
    assert gate_open(ITEMS, {"l1", "l2", "m1", "l3", "final"}, POLICY, "evaluation")


def test_ungated_policy_and_ungated_items_are_never_blocked():
    open_policy = Policy(
        require_all_lessons=True,
        require_quizzes="all",
        final_quiz="final",
        evaluation="evaluation",
        gated=False,
    )
    assert blocking_items(ITEMS, set(), open_policy, "final") == []
    assert gate_open(ITEMS, set(), POLICY, "m1")  # a module quiz is never gated


def test_gate_follows_the_policy_requirements():
    final_only = Policy(require_all_lessons=False, require_quizzes="final", final_quiz="final")
    assert gate_open(ITEMS, set(), final_only, "final")  # nothing else is required
    lessons_only = Policy(require_all_lessons=True, require_quizzes="final", final_quiz="final")
    assert [i.key for i in blocking_items(ITEMS, {"l2"}, lessons_only, "final")] == ["l1", "l3"]


def test_pretest_never_blocks_the_final():
    items = [SyllabusItem("pre", "pretest"), *ITEMS]
    assert gate_open(items, {"l1", "l2", "m1", "l3"}, POLICY, "final")
